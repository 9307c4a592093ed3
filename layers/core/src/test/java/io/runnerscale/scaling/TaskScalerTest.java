package io.runnerscale.scaling;

import io.runnerscale.compute.FargateTasks;
import io.runnerscale.compute.FargateTasks.Capacity;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.compute.TaskState;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.TestPools;
import io.runnerscale.store.InMemoryJobStore;
import io.runnerscale.store.TaskRecord;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TaskScalerTest {
    static final Instant NOW = Instant.parse("2026-01-07T12:00:00Z");

    /** Records every RunTask and answers from a script (Started when the script is empty). */
    static class ScriptedTasks implements FargateTasks {
        final List<String> calls = new ArrayList<>();
        final Deque<RunOutcome> script = new ArrayDeque<>();

        @Override
        public RunOutcome run(String pool, PoolConfig.Fargate backend, TaskKey key, Capacity capacity) {
            calls.add(key + " " + capacity);
            RunOutcome next = script.poll();
            return next != null ? next : new RunOutcome.Started("arn:aws:ecs:r:1:task/ci/abcdef0123456789" + key.attempt(),
                    capacity);
        }

        @Override
        public void stop(PoolConfig.Fargate backend, String taskArn, String reason) {
            throw new AssertionError("the scaler never stops a task");
        }

        @Override
        public List<StartedTask> list(PoolConfig.Fargate backend) {
            return List.of();
        }
    }

    static JobRecord pendingJob(long id) {
        return new JobRecord(new JobKey(1, id), JobStatus.PENDING, "f", List.of("fargate"), null, null, null,
                NOW.minusSeconds(100 - id), null, null, null, null, NOW);
    }

    final InMemoryJobStore store = new InMemoryJobStore();
    final ScriptedTasks ecs = new ScriptedTasks();
    final TaskScaler scaler = new TaskScaler(store, ecs);

    @Test
    void startsATaskPerPendingJobAndRecordsIt() {
        PoolConfig pool = TestPools.fargate("f", 10, 3, false);
        ScalingDecision d = scaler.scale(pool, NOW, List.of(pendingJob(1), pendingJob(2)));
        assertEquals(List.of("1/1#1 FARGATE", "1/2#1 FARGATE"), ecs.calls);
        assertEquals(2, d.neededSlots());
        assertEquals(2, d.targetInstances());
        assertEquals(2, d.actions().size());
        assertTrue(d.actions().stream().allMatch(a -> a instanceof ScalingAction.LaunchTask));
        List<TaskRecord> tasks = store.tasks("f");
        assertEquals(2, tasks.size());
        assertTrue(tasks.stream().allMatch(t -> t.state() == TaskState.STARTING && t.taskArn() != null
                && "FARGATE".equals(t.capacityProvider())));
        // the same jobs decided again: their tasks serve, nothing new
        scaler.scale(pool, NOW, List.of(pendingJob(1), pendingJob(2)));
        assertEquals(2, ecs.calls.size());
        // a third job now runs on one of those tasks (any task takes any job): one pending job has no task left
        JobRecord running = new JobRecord(new JobKey(1, 3), JobStatus.RUNNING, "f", List.of("fargate"), null, null, null,
                NOW, NOW, null, 5L, null, NOW);
        ScalingDecision again = scaler.scale(pool, NOW, List.of(pendingJob(1), pendingJob(2), running));
        assertEquals(List.of("1/1#1 FARGATE", "1/2#1 FARGATE", "1/1#2 FARGATE"), ecs.calls);
        assertEquals(3, again.neededSlots());
        assertEquals(3, again.targetInstances());
    }

    @Test
    void spotFallsBackToOnDemandUnderItsOwnToken() {
        PoolConfig pool = TestPools.fargate("f", 10, 3, true);
        ecs.script.add(new FargateTasks.RunOutcome.Failed("Capacity is unavailable at this time"));
        scaler.scale(pool, NOW, List.of(pendingJob(1)));
        assertEquals(List.of("1/1#1 FARGATE_SPOT", "1/1#1 FARGATE"), ecs.calls);
        assertEquals("FARGATE", store.tasks("f").getFirst().capacityProvider());
        TaskKey key = new TaskKey(new JobKey(1, 1), 1);
        assertTrue(!key.clientToken(Capacity.FARGATE_SPOT.name()).equals(key.clientToken(Capacity.FARGATE.name())));
    }

    @Test
    void spotThatStartsIsKept() {
        PoolConfig pool = TestPools.fargate("f", 10, 3, true);
        scaler.scale(pool, NOW, List.of(pendingJob(1)));
        assertEquals(List.of("1/1#1 FARGATE_SPOT"), ecs.calls);
        assertEquals("FARGATE_SPOT", store.tasks("f").getFirst().capacityProvider());
    }

    @Test
    void noCapacityAnywhereIsAFailedAttemptAndTheNextDecisionTriesAgainUnderANewKey() {
        PoolConfig pool = TestPools.fargate("f", 10, 2, true);
        ecs.script.add(new FargateTasks.RunOutcome.Failed("no spot"));
        ecs.script.add(new FargateTasks.RunOutcome.Failed("no on-demand"));
        scaler.scale(pool, NOW, List.of(pendingJob(1)));
        TaskRecord first = store.task(new TaskKey(new JobKey(1, 1), 1)).orElseThrow();
        assertEquals(TaskState.STOPPED, first.state());
        assertTrue(first.failed());
        assertEquals("no on-demand", first.reason());
        scaler.scale(pool, NOW, List.of(pendingJob(1)));
        assertEquals("1/1#2 FARGATE_SPOT", ecs.calls.get(2));
        // two failed attempts with max_task_attempts 2: given up
        ecs.calls.clear();
        store.taskNotStarted(new TaskKey(new JobKey(1, 1), 2), "x", NOW);
        store.applyTaskEvent(new io.runnerscale.compute.TaskEvent(new TaskKey(new JobKey(1, 1), 2), "arn", "STOPPED",
                "STOPPED", "TaskFailedToStart", "CannotPullContainerError", null, null, "FARGATE", 5, NOW), NOW);
        scaler.scale(pool, NOW, List.of(pendingJob(1)));
        assertEquals(List.of(), ecs.calls);
    }

    @Test
    void throttledRunTaskKeepsTheClaimAndTheNextDecisionResumesTheSameKey() {
        PoolConfig pool = TestPools.fargate("f", 10, 3, false);
        ecs.script.add(new FargateTasks.RunOutcome.Retry("ThrottlingException"));
        scaler.scale(pool, NOW, List.of(pendingJob(1)));
        TaskRecord claimed = store.tasks("f").getFirst();
        assertEquals(TaskState.CLAIMED, claimed.state());
        assertNull(claimed.taskArn());
        // within a minute the claim may be another decision's call in flight: left alone
        scaler.scale(pool, NOW.plusSeconds(30), List.of(pendingJob(1)));
        assertEquals(List.of("1/1#1 FARGATE"), ecs.calls);
        scaler.scale(pool, NOW.plusSeconds(61), List.of(pendingJob(1)));
        // the same key, so the same client token: ECS returns the task if the first call had started it
        assertEquals(List.of("1/1#1 FARGATE", "1/1#1 FARGATE"), ecs.calls);
        assertEquals(TaskState.STARTING, store.tasks("f").getFirst().state());
    }

    @Test
    void anExceptionFromEcsLeavesTheClaimForTheNextDecision() {
        PoolConfig pool = TestPools.fargate("f", 10, 3, false);
        FargateTasks failing = new ScriptedTasks() {
            @Override
            public RunOutcome run(String p, PoolConfig.Fargate b, TaskKey key, Capacity capacity) {
                throw new IllegalStateException("boom");
            }
        };
        new TaskScaler(store, failing).scale(pool, NOW, List.of(pendingJob(1)));
        assertEquals(TaskState.CLAIMED, store.tasks("f").getFirst().state());
        scaler.scale(pool, NOW.plusSeconds(61), List.of(pendingJob(1)));
        assertEquals(List.of("1/1#1 FARGATE"), ecs.calls);
    }

    @Test
    void aKeyClaimedElsewhereIsNotStartedAgain() {
        PoolConfig pool = TestPools.fargate("f", 10, 3, false);
        // another decision claimed it after this one read the tasks: the claim fails, no RunTask
        InMemoryJobStore racing = new InMemoryJobStore();
        TaskScaler raced = new TaskScaler(new io.runnerscale.store.TaskStore() {
            @Override public List<TaskRecord> tasks(String p) { return List.of(); }
            @Override public java.util.Optional<TaskRecord> task(TaskKey key) { return racing.task(key); }
            @Override public boolean claimTask(String p, TaskKey key, Instant now) { return false; }
            @Override public void taskStarted(TaskKey key, String arn, String provider) { throw new AssertionError(); }
            @Override public void taskNotStarted(TaskKey key, String reason, Instant now) { throw new AssertionError(); }
            @Override public TaskUpdate applyTaskEvent(io.runnerscale.compute.TaskEvent e, Instant now) { throw new AssertionError(); }
            @Override public void forgetTask(TaskKey key) { }
            @Override public Interruption interruption(TaskKey key) { throw new AssertionError(); }
            @Override public void recordInterruption(TaskKey key, List<JobKey> jobs, boolean handled) { throw new AssertionError(); }
            @Override public void taskGone(TaskKey key, String reason, Instant now) { throw new AssertionError(); }
        }, ecs);
        ScalingDecision d = raced.scale(pool, NOW, List.of(pendingJob(1)));
        assertEquals(List.of(), ecs.calls);
        assertEquals(List.of(), d.actions());
    }

    @Test
    void aLostAnswerIsLookedUpBeforeRunningAgainSoSpotThenOnDemandStartsNoSecondTask() {
        PoolConfig pool = TestPools.fargate("f", 10, 3, true);
        List<String> found = new ArrayList<>();
        ScriptedTasks lookingUp = new ScriptedTasks() {
            @Override
            public java.util.Optional<String> find(PoolConfig.Fargate b, TaskKey key) {
                found.add(key.toString());
                return java.util.Optional.of("arn:aws:ecs:r:1:task/ci/lostanswer0000");
            }
        };
        lookingUp.script.add(new FargateTasks.RunOutcome.Retry("read timed out"));
        TaskScaler withLookup = new TaskScaler(store, lookingUp);
        withLookup.scale(pool, NOW, List.of(pendingJob(1)));
        withLookup.scale(pool, NOW.plusSeconds(61), List.of(pendingJob(1)));
        assertEquals(List.of("1/1#1 FARGATE_SPOT"), lookingUp.calls, "no second RunTask");
        assertEquals(List.of("1/1#1"), found);
        assertEquals("arn:aws:ecs:r:1:task/ci/lostanswer0000", store.tasks("f").getFirst().taskArn());
    }

    @Test
    void stoppedTasksOfJobsThatNoLongerWaitAreForgotten() {
        PoolConfig pool = TestPools.fargate("f", 10, 3, false);
        scaler.scale(pool, NOW, List.of(pendingJob(1)));
        TaskKey key = new TaskKey(new JobKey(1, 1), 1);
        store.applyTaskEvent(new io.runnerscale.compute.TaskEvent(key, "arn", "STOPPED", "STOPPED",
                "EssentialContainerExited", null, null, 0, "FARGATE", 9, NOW), NOW);
        scaler.scale(pool, NOW, List.of(pendingJob(1)));
        assertEquals(1, store.tasks("f").stream().filter(t -> t.key().equals(key)).count(), "kept while its job waits");
        scaler.scale(pool, NOW, List.of());
        assertEquals(0, store.tasks("f").stream().filter(t -> t.key().equals(key)).count());
    }
}
