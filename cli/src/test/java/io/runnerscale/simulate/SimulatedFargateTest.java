package io.runnerscale.simulate;

import io.runnerscale.compute.FargateTasks;
import io.runnerscale.compute.FargateTasks.Capacity;
import io.runnerscale.compute.TaskEvent;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.compute.TaskState;
import io.runnerscale.job.JobKey;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.testing.MutableClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The simulated ECS: start times, the client token, the events it tells (in version order) and its task list. */
class SimulatedFargateTest {
    private static final Instant T0 = Instant.parse("2024-03-04T10:00:00Z");
    private static final PoolConfig.Fargate BACKEND = new PoolConfig.Fargate("ci", "runner", List.of("subnet-a"),
            List.of(), true);

    private static TaskKey key(long job, int attempt) {
        return new TaskKey(new JobKey(7, job), attempt);
    }

    @Test
    void startTimesAreDrawnUniformlyWithinTheConfiguredRange() {
        PoolConfig.StartTime range = new PoolConfig.StartTime(Duration.ofSeconds(40), Duration.ofSeconds(60));
        Random random = new Random(3);
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        double sum = 0;
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            long millis = SimulatedFargate.uniformStartTime(range, random).toMillis();
            assertTrue(millis >= 40_000 && millis <= 60_000, "draw " + millis + " ms outside 40s-60s");
            min = Math.min(min, millis);
            max = Math.max(max, millis);
            sum += millis;
        }
        assertTrue(min < 40_100 && max > 59_900, "the whole range is used: " + min + ".." + max);
        assertEquals(50_000, sum / n, 200, "uniform: the mean is the middle");
        // a single duration is that duration, every time
        PoolConfig.StartTime fixed = new PoolConfig.StartTime(Duration.ofSeconds(45), Duration.ofSeconds(45));
        assertEquals(Duration.ofSeconds(45), SimulatedFargate.uniformStartTime(fixed, random));
    }

    @Test
    void aTaskStartsRunsItsJobAndStopsTellingEachChangeWithARisingVersion() {
        MutableClock clock = new MutableClock(T0);
        List<TaskEvent> events = new ArrayList<>();
        SimulatedFargate fargate = new SimulatedFargate(clock, b -> Duration.ofSeconds(45), events::add, null);

        var outcome = fargate.run("tasks", BACKEND, key(1, 1), Capacity.FARGATE_SPOT);
        String arn = assertInstanceOf(FargateTasks.RunOutcome.Started.class, outcome).taskArn();
        SimulatedFargate.Task task = fargate.task(arn).orElseThrow();
        assertEquals(T0.plusSeconds(45), task.readyAt());
        assertFalse(task.waitingForJob(), "starting: its runner does not poll yet");
        assertFalse(fargate.take(arn, new JobKey(7, 1)), "no job before it runs");

        clock.advance(Duration.ofSeconds(45));
        assertTrue(fargate.ready(arn));
        assertTrue(task.waitingForJob());
        assertTrue(fargate.take(arn, new JobKey(7, 1)));
        assertFalse(fargate.take(arn, new JobKey(7, 2)), "one job per task (run-single --max-builds 1)");
        clock.advance(Duration.ofSeconds(120));
        assertTrue(fargate.end(arn, SimulatedFargate.EXITED, "Essential container in task exited", 0));
        assertFalse(fargate.end(arn, SimulatedFargate.EXITED, "again", 0), "a stopped task stops once");

        assertEquals(List.of(TaskState.STARTING, TaskState.RUNNING, TaskState.STOPPED),
                events.stream().map(TaskEvent::state).toList());
        assertEquals(List.of(1L, 2L, 3L), events.stream().map(TaskEvent::version).toList());
        TaskEvent stopped = events.getLast();
        assertEquals(key(1, 1), stopped.key());
        assertEquals(arn, stopped.taskArn());
        assertEquals("FARGATE_SPOT", stopped.capacityProvider());
        assertEquals(Integer.valueOf(0), stopped.exitCode());
        assertFalse(stopped.failed(), "a runner that ran its job exits 0: not a failed attempt");
        assertEquals(T0.plusSeconds(165), task.stoppedAt());
    }

    @Test
    void theSameKeyAndCapacityReturnTheSameTaskAsEcsClientTokenDoes() {
        MutableClock clock = new MutableClock(T0);
        List<TaskEvent> events = new ArrayList<>();
        SimulatedFargate fargate = new SimulatedFargate(clock, b -> Duration.ofSeconds(45), events::add, null);

        var first = fargate.run("tasks", BACKEND, key(1, 1), Capacity.FARGATE_SPOT);
        var again = fargate.run("tasks", BACKEND, key(1, 1), Capacity.FARGATE_SPOT);
        var onDemand = fargate.run("tasks", BACKEND, key(1, 1), Capacity.FARGATE);
        var nextAttempt = fargate.run("tasks", BACKEND, key(1, 2), Capacity.FARGATE_SPOT);

        assertEquals(first, again);
        assertEquals(1, events.stream().filter(e -> e.taskArn().equals(
                ((FargateTasks.RunOutcome.Started) first).taskArn())).count(), "no second task, no second event");
        assertNotEquals(first, onDemand, "another capacity provider has its own token");
        assertNotEquals(first, nextAttempt);
        assertEquals(3, fargate.list(BACKEND).size());
        assertEquals(0, fargate.list(new PoolConfig.Fargate("other", "runner", List.of("subnet-a"), List.of(), true))
                .size(), "list names the backend's cluster only");
    }

    @Test
    void aSpotInterruptionStopsTheTaskWithItsStopCodeAndItIsNotAFailure() {
        MutableClock clock = new MutableClock(T0);
        List<TaskEvent> events = new ArrayList<>();
        SimulatedFargate fargate = new SimulatedFargate(clock, b -> Duration.ofSeconds(45), events::add, null);
        String arn = ((FargateTasks.RunOutcome.Started) fargate.run("tasks", BACKEND, key(1, 1),
                Capacity.FARGATE_SPOT)).taskArn();
        clock.advance(Duration.ofSeconds(45));
        fargate.ready(arn);
        fargate.take(arn, new JobKey(7, 1));

        assertTrue(fargate.interrupt(arn));
        assertFalse(fargate.interrupt(arn), "interrupted once");
        assertFalse(fargate.task(arn).orElseThrow().waitingForJob());
        clock.advance(Duration.ofSeconds(30));
        fargate.end(arn, TaskEvent.SPOT_INTERRUPTION, null, null);

        TaskEvent warning = events.get(2);
        assertEquals(TaskState.STOPPING, warning.state());
        assertTrue(warning.spotInterruption());
        TaskEvent stopped = events.get(3);
        assertEquals(TaskState.STOPPED, stopped.state());
        assertTrue(stopped.spotInterruption(), "the stop keeps the interruption's stop code");
        assertFalse(stopped.failed());
        assertTrue(fargate.list(BACKEND).isEmpty());
    }

    @Test
    void everyTaskGetsItsOwnRunnerSystemId() {
        Set<String> ids = new HashSet<>();
        for (long i = 1; i <= 50_000; i++) {
            String arn = "arn:aws:ecs:us-east-1:000000000000:task/ci/" + SimulatedFargate.taskId(i);
            assertTrue(ids.add(TaskKey.systemId(arn).orElseThrow()), "system id of task " + i + " seen before");
        }
    }
}
