package io.runnerscale.compute;

import io.runnerscale.job.JobKey;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TaskKeyTest {

    @Property(tries = 300)
    void startedByRoundTripsAndFitsEcsLimits(@ForAll @LongRange(min = 1) long project, @ForAll @LongRange(min = 1) long job,
                                             @ForAll @IntRange(min = 1, max = 9999) int attempt) {
        TaskKey key = new TaskKey(new JobKey(project, job), attempt);
        assertEquals(Optional.of(key), TaskKey.fromStartedBy(key.startedBy()));
        // ECS: startedBy up to 128 letters, digits, hyphens, underscores and slashes; clientToken up to 64
        assertTrue(key.startedBy().matches("[A-Za-z0-9_/-]{1,128}"), key.startedBy());
        for (FargateTasks.Capacity capacity : FargateTasks.Capacity.values()) {
            assertTrue(key.clientToken(capacity.name()).length() <= 64, key.clientToken(capacity.name()));
        }
        assertTrue(!key.clientToken("FARGATE").equals(key.clientToken("FARGATE_SPOT")));
    }

    @Test
    void foreignStartedByNamesNoKey() {
        for (String foreign : new String[]{null, "", "ecs-svc/123", "runnerscale/1/2", "runnerscale/0/2/1",
                "runnerscale/1/2/0", "runnerscale/1/2/1/extra", "runnerscale/a/2/1", "xrunnerscale/1/2/1"}) {
            assertEquals(Optional.empty(), TaskKey.fromStartedBy(foreign), String.valueOf(foreign));
        }
    }

    @Test
    void systemIdIsTheFirstTwelveCharactersOfTheTaskId() {
        assertEquals(Optional.of("s_c13b4cb40f1f"),
                TaskKey.systemId("arn:aws:ecs:us-west-2:111122223333:task/FargateCluster/c13b4cb40f1f4fe4a2971f76ae5a47ad"));
        assertEquals(Optional.empty(), TaskKey.systemId("arn:aws:ecs:r:1:task/short"));
        assertEquals(Optional.of("s_0123456789ab"), TaskKey.systemId("arn:aws:ecs:r:1:task/ci/0123456789ab"));
        assertEquals(Optional.empty(), TaskKey.systemId("arn:aws:ecs:r:1:task/ci/0123456789a"));
        assertEquals(Optional.empty(), TaskKey.systemId("arn:aws:ecs:r:1:task/ci/0123-456789abcdef"));
        assertEquals(Optional.empty(), TaskKey.systemId(null));
    }

    @Test
    void attemptsCountFromOne() {
        assertThrows(IllegalArgumentException.class, () -> new TaskKey(new JobKey(1, 1), 0));
    }

    @Test
    void ecsStatusesFoldIntoStates() {
        assertEquals(TaskState.STARTING, TaskState.of("PROVISIONING", "RUNNING"));
        assertEquals(TaskState.STARTING, TaskState.of("PENDING", "RUNNING"));
        assertEquals(TaskState.STARTING, TaskState.of("ACTIVATING", "RUNNING"));
        assertEquals(TaskState.RUNNING, TaskState.of("RUNNING", "RUNNING"));
        assertEquals(TaskState.STOPPING, TaskState.of("RUNNING", "STOPPED"));
        assertEquals(TaskState.STOPPING, TaskState.of("DEACTIVATING", "STOPPED"));
        assertEquals(TaskState.STOPPING, TaskState.of("DEPROVISIONING", "STOPPED"));
        assertEquals(TaskState.STOPPED, TaskState.of("STOPPED", "STOPPED"));
        assertEquals(TaskState.STOPPED, TaskState.of("DELETED", "STOPPED"));
        assertTrue(TaskState.CLAIMED.serving() && TaskState.STARTING.serving() && TaskState.RUNNING.serving());
        assertTrue(!TaskState.STOPPING.serving() && !TaskState.STOPPED.serving());
    }
}
