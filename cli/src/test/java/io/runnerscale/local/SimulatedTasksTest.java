package io.runnerscale.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.compute.TaskEvent;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.job.JobKey;
import io.runnerscale.lifecycle.LifecycleEvents;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ECS events serve's simulated tasks send read back as the lifecycle function reads AWS's. */
class SimulatedTasksTest {
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void aStoppedTaskEventReadsBackAsItWasTold() {
        TaskEvent stopped = new TaskEvent(new TaskKey(new JobKey(380, 1977), 2),
                "arn:aws:ecs:us-east-1:000000000000:task/ci/0123456789abcdef0123456789abcdef", "STOPPED", "STOPPED",
                "SpotInterruption", "Your Spot Task was interrupted.", "OutOfMemoryError", 137, "FARGATE_SPOT", 4,
                Instant.parse("2026-01-05T10:00:00Z"));
        ObjectNode event = SimulatedTasks.ecsEvent(json, stopped, "arn:aws:ecs:us-east-1:000000000000:cluster/ci",
                "gitlab-runner-fargate", "runner");

        assertEquals(LifecycleEvents.TASK_STATE_CHANGE, event.get("detail-type").asText());
        assertEquals("aws.ecs", event.get("source").asText());
        assertEquals("runnerscale/380/1977/2", event.at("/detail/startedBy").asText());
        assertEquals("arn:aws:ecs:us-east-1:000000000000:cluster/ci", event.at("/detail/clusterArn").asText());
        assertEquals("runner", event.at("/detail/containers/0/name").asText());
        TaskEvent read = LifecycleEvents.taskEvent(event).orElseThrow();
        assertEquals(stopped, read);
    }

    @Test
    void aStartingTaskEventHasNoStopFieldsAndReadsBackToo() {
        TaskEvent starting = new TaskEvent(new TaskKey(new JobKey(7, 1), 1),
                "arn:aws:ecs:us-east-1:000000000000:task/ci/fedcba9876543210fedcba9876543210", "PROVISIONING", "RUNNING",
                null, null, null, null, "FARGATE", 1, Instant.parse("2026-01-05T10:00:00Z"));
        ObjectNode event = SimulatedTasks.ecsEvent(json, starting, "ci", "gitlab-runner-fargate:3", "runner");

        assertTrue(event.at("/detail/stopCode").isMissingNode());
        assertTrue(event.at("/detail/containers/0/exitCode").isMissingNode());
        assertTrue(event.at("/detail/taskDefinitionArn").asText().endsWith(":task-definition/gitlab-runner-fargate:3"));
        assertEquals(starting, LifecycleEvents.taskEvent(event).orElseThrow());
    }
}
