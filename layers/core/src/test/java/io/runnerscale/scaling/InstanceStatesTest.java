package io.runnerscale.scaling;

import io.runnerscale.compute.TaskKey;
import io.runnerscale.compute.TaskState;
import io.runnerscale.job.JobKey;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.store.TaskRecord;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static io.runnerscale.pool.TestPools.always;
import static io.runnerscale.pool.TestPools.asg;
import static org.junit.jupiter.api.Assertions.assertEquals;

class InstanceStatesTest {
    static final Instant NOW = Instant.parse("2026-01-07T12:00:00Z");
    static final PoolConfig DOCKER = asg("docker", 2, 10, 0, Duration.ofMinutes(5), always(0, Duration.ofMinutes(10), 0, 0));

    static InstanceView view(String id, boolean ready, int running, boolean draining) {
        return new InstanceView(id, ready, NOW.minusSeconds(600), running, null, 0, true, draining);
    }

    @Test
    void asgInstancesFromTheScalersViewWithTheDecisionsDrainsAsDraining() {
        PoolSnapshot snapshot = new PoolSnapshot(DOCKER, NOW, 0, 3, List.of(
                view("i-booting", false, 0, false),
                view("i-idle", true, 0, false),
                view("i-busy1", true, 1, false),
                view("i-busy2", true, 2, false),
                view("i-draining", true, 1, true),
                view("i-drained-now", true, 0, false)), 6, null);
        ScalingDecision decision = new ScalingDecision("docker", 3, 2, 5, List.of(new ScalingAction.SetDesiredCapacity(6),
                new ScalingAction.DrainInstance("i-drained-now", ScalingAction.Reason.IDLE)));

        assertEquals(Map.of("booting", 1, "idle", 1, "busy", 2, "draining", 2), InstanceStates.of(snapshot, decision));
        assertEquals(List.of("booting", "idle", "busy", "draining"),
                List.copyOf(InstanceStates.of(snapshot, decision).keySet()), "every state, in a fixed order");
    }

    @Test
    void anEmptyPoolGivesZerosForEveryState() {
        PoolSnapshot empty = new PoolSnapshot(DOCKER, NOW, 0, 0, List.of(), 0, null);
        assertEquals(Map.of("booting", 0, "idle", 0, "busy", 0, "draining", 0),
                InstanceStates.of(empty, new ScalingDecision("docker", 0, 0, 0, List.of())));
    }

    static TaskRecord task(long job, TaskState state) {
        return new TaskRecord(new TaskKey(new JobKey(7, job), 1), "fargate", state, null, null, NOW, null, null, false,
                false, 0);
    }

    @Test
    void fargateTasksByStateWithTheLaunchesStartingAndStoppedOnesLeftOut() {
        List<TaskRecord> tasks = List.of(task(1, TaskState.CLAIMED), task(2, TaskState.STARTING),
                task(3, TaskState.RUNNING), task(4, TaskState.RUNNING), task(5, TaskState.RUNNING),
                task(6, TaskState.STOPPING), task(7, TaskState.STOPPED));

        assertEquals(Map.of("starting", 5, "running", 3, "stopping", 1), InstanceStates.ofTasks(tasks, 3));
    }
}
