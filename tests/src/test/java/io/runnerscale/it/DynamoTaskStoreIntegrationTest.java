package io.runnerscale.it;

import io.runnerscale.compute.TaskEvent;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.compute.TaskState;
import io.runnerscale.job.JobKey;
import io.runnerscale.store.DynamoJobStore;
import io.runnerscale.store.TaskRecord;
import io.runnerscale.store.TaskStore.TaskUpdate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The task half of the DynamoDB store ({@code TASK#} items), on DynamoDB Local: what it says it did is what it did. */
class DynamoTaskStoreIntegrationTest {
    static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z");
    static final String POOL = "fargate-small";
    static final TaskKey KEY = new TaskKey(new JobKey(42, 1001), 1);
    static final String ARN = "arn:aws:ecs:us-east-1:123456789012:task/ci/c13b4cb40f1f4fe4a2971f76ae5a47ad";

    final String table = SharedDynamo.newTable("tasks");
    final DynamoJobStore store = new DynamoJobStore(SharedDynamo.client(), table, Duration.ofDays(7));

    @AfterEach
    void drop() {
        SharedDynamo.dropTable(table);
    }

    static TaskEvent event(TaskKey key, long version, String lastStatus, String desiredStatus, String stopCode,
                           String stoppedReason, Integer exitCode) {
        return new TaskEvent(key, ARN, lastStatus, desiredStatus, stopCode, stoppedReason, null, exitCode, "FARGATE",
                version, T0.plusSeconds(version));
    }

    static TaskEvent running(TaskKey key, long version) {
        return event(key, version, "RUNNING", "RUNNING", null, null, null);
    }

    @Test
    void aClaimIsExclusive() {
        assertTrue(store.claimTask(POOL, KEY, T0));
        assertFalse(store.claimTask(POOL, KEY, T0.plusSeconds(1)), "the same key again");
        assertFalse(store.claimTask("other-pool", KEY, T0.plusSeconds(2)), "the same key from another pool");
        assertTrue(store.claimTask(POOL, new TaskKey(KEY.job(), 2), T0), "the job's next attempt is another key");

        TaskRecord claimed = store.task(KEY).orElseThrow();
        assertEquals(TaskRecord.claimed(KEY, POOL, T0), claimed, "the first claim's record, untouched by the others");
    }

    @Test
    void twoClaimsAtOnceOneWins() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            for (int job = 1; job <= 25; job++) {
                TaskKey key = new TaskKey(new JobKey(42, job), 1);
                CyclicBarrier together = new CyclicBarrier(2);
                Callable<Boolean> claim = () -> {
                    together.await();
                    return store.claimTask(POOL, key, T0);
                };
                Future<Boolean> a = threads.submit(claim);
                Future<Boolean> b = threads.submit(claim);
                assertTrue(a.get() ^ b.get(), "exactly one claim of " + key + " wins");
            }
        } finally {
            threads.shutdownNow();
        }
        assertEquals(25, store.tasks(POOL).size());
    }

    @Test
    void startedKeepsWhatAnEarlierEventWrote() {
        store.claimTask(POOL, KEY, T0);
        store.taskStarted(KEY, ARN, "FARGATE_SPOT");
        TaskRecord started = store.task(KEY).orElseThrow();
        assertEquals(TaskState.STARTING, started.state());
        assertEquals(ARN, started.taskArn());
        assertEquals("FARGATE_SPOT", started.capacityProvider());

        // an ECS event came before RunTask's answer: the answer moves nothing back
        TaskKey second = new TaskKey(new JobKey(42, 1002), 1);
        store.claimTask(POOL, second, T0);
        assertInstanceOf(TaskUpdate.Applied.class, store.applyTaskEvent(running(second, 2), T0));
        store.taskStarted(second, "arn:aws:ecs:us-east-1:123456789012:task/ci/ffffffffffffffffffffffffffffffff", "FARGATE_SPOT");
        TaskRecord afterEvent = store.task(second).orElseThrow();
        assertEquals(TaskState.RUNNING, afterEvent.state());
        assertEquals(ARN, afterEvent.taskArn(), "the event's ARN stays");
        assertEquals("FARGATE", afterEvent.capacityProvider(), "the event's capacity provider stays");
    }

    @Test
    void notStartedStopsOnlyAClaimThatNeverStarted() {
        store.claimTask(POOL, KEY, T0);
        store.taskNotStarted(KEY, "RESOURCE:ENI (subnet-a)", T0.plusSeconds(3));
        TaskRecord record = store.task(KEY).orElseThrow();
        assertEquals(TaskState.STOPPED, record.state());
        assertTrue(record.failed(), "counts as a failed attempt");
        assertEquals("RESOURCE:ENI (subnet-a)", record.reason());
        assertEquals(T0.plusSeconds(3), record.stoppedAt());
        assertFalse(record.serving());

        TaskKey started = new TaskKey(new JobKey(42, 1002), 1);
        store.claimTask(POOL, started, T0);
        store.taskStarted(started, ARN, "FARGATE");
        store.taskNotStarted(started, "late", T0.plusSeconds(3));
        assertEquals(TaskState.STARTING, store.task(started).orElseThrow().state(), "a started task is not stopped by it");
        assertFalse(store.task(started).orElseThrow().failed());
    }

    @Test
    void eventsApplyOnlyWhenNewerThanWhatTheRecordHolds() {
        store.claimTask(POOL, KEY, T0);
        store.taskStarted(KEY, ARN, "FARGATE");

        TaskUpdate.Applied v3 = assertInstanceOf(TaskUpdate.Applied.class, store.applyTaskEvent(running(KEY, 3), T0));
        assertEquals(TaskState.STARTING, v3.previous().state());
        assertEquals(TaskState.RUNNING, v3.current().state());
        assertEquals(v3.current(), store.task(KEY).orElseThrow(), "what it says it wrote is what is stored");

        // ECS's PENDING event (version 2) arrives after the RUNNING one (version 3)
        TaskUpdate.Stale v2 = assertInstanceOf(TaskUpdate.Stale.class,
                store.applyTaskEvent(event(KEY, 2, "PENDING", "RUNNING", null, null, null), T0));
        assertEquals(TaskState.RUNNING, v2.current().state());
        assertInstanceOf(TaskUpdate.Stale.class, store.applyTaskEvent(running(KEY, 3), T0), "a duplicate");
        assertEquals(3, store.task(KEY).orElseThrow().eventVersion());
        assertEquals(TaskState.RUNNING, store.task(KEY).orElseThrow().state());

        TaskUpdate.Applied stopped = assertInstanceOf(TaskUpdate.Applied.class, store.applyTaskEvent(
                event(KEY, 6, "STOPPED", "STOPPED", "EssentialContainerExited", "Essential container in task exited", 1),
                T0.plusSeconds(600)));
        TaskRecord record = store.task(KEY).orElseThrow();
        assertEquals(stopped.current(), record);
        assertEquals(TaskState.STOPPED, record.state());
        assertTrue(record.failed(), "exit code 1");
        assertEquals("EssentialContainerExited: Essential container in task exited; exit code 1", record.reason());
        assertEquals(T0.plusSeconds(600), record.stoppedAt());
        assertEquals(6, record.eventVersion());
    }

    @Test
    void aNewerEventRacingAnOlderOneIsNeverLost() throws Exception {
        // EventBridge may hand two events of one task to two invocations at once: whichever write lands
        // first, the record ends at the newer event
        ExecutorService threads = Executors.newFixedThreadPool(2);
        List<TaskKey> keys = new ArrayList<>();
        try {
            for (int job = 1; job <= 25; job++) {
                TaskKey key = new TaskKey(new JobKey(42, job), 1);
                keys.add(key);
                store.claimTask(POOL, key, T0);
                CyclicBarrier together = new CyclicBarrier(2);
                Future<TaskUpdate> older = threads.submit(() -> {
                    together.await();
                    return store.applyTaskEvent(running(key, 4), T0);
                });
                Future<TaskUpdate> newer = threads.submit(() -> {
                    together.await();
                    return store.applyTaskEvent(event(key, 5, "STOPPED", "STOPPED", "EssentialContainerExited",
                            "Essential container in task exited", 0), T0);
                });
                older.get();
                assertInstanceOf(TaskUpdate.Applied.class, newer.get(), key + ": the newest event is applied");
            }
        } finally {
            threads.shutdownNow();
        }
        for (TaskKey key : keys) {
            TaskRecord record = store.task(key).orElseThrow();
            assertEquals(5, record.eventVersion(), record.toString());
            assertEquals(TaskState.STOPPED, record.state(), record.toString());
        }
    }

    @Test
    void anEventForAKeyNeverClaimedHereIsUnknownAndWritesNothing() {
        assertInstanceOf(TaskUpdate.Unknown.class, store.applyTaskEvent(running(KEY, 3), T0));
        assertEquals(Optional.empty(), store.task(KEY), "no item made for another stack's task");
        assertEquals(List.of(), store.tasks(POOL));
        store.taskStarted(KEY, ARN, "FARGATE");
        store.taskNotStarted(KEY, "x", T0);
        assertEquals(Optional.empty(), store.task(KEY), "nor by RunTask's answers");
    }

    @Test
    void aPoolListsItsTasksClaimedAndStoppedUntilForgotten() {
        TaskKey claimed = new TaskKey(new JobKey(42, 1), 1);
        TaskKey stopped = new TaskKey(new JobKey(42, 2), 1);
        TaskKey otherPool = new TaskKey(new JobKey(42, 3), 1);
        store.claimTask(POOL, claimed, T0);
        store.claimTask(POOL, stopped, T0);
        store.taskNotStarted(stopped, "CannotPullContainerError", T0);
        store.claimTask("gpu", otherPool, T0);

        assertEquals(List.of(claimed, stopped), keys(store.tasks(POOL)));
        assertEquals(List.of(otherPool), keys(store.tasks("gpu")));

        store.forgetTask(stopped);
        assertEquals(List.of(claimed), keys(store.tasks(POOL)));
        assertTrue(store.task(stopped).isPresent(), "kept (until its TTL) for late events");
        assertInstanceOf(TaskUpdate.Stale.class, store.applyTaskEvent(running(stopped, 0), T0));
        store.forgetTask(new TaskKey(new JobKey(42, 99), 1));   // never claimed: nothing to forget, no error
        assertEquals(List.of(claimed), keys(store.tasks(POOL)));
        assertEquals(Optional.empty(), store.task(new TaskKey(new JobKey(42, 99), 1)));
    }

    static List<TaskKey> keys(List<TaskRecord> records) {
        return records.stream().map(TaskRecord::key).sorted(java.util.Comparator.comparing(TaskKey::toString)).toList();
    }

    @Test
    void theJobsOfATaskTakenBackAreNotedThenMarkedHandled() {
        store.claimTask(POOL, KEY, T0);
        assertEquals(io.runnerscale.store.TaskStore.Interruption.NONE, store.interruption(KEY));
        java.util.List<io.runnerscale.job.JobKey> jobs = java.util.List.of(new io.runnerscale.job.JobKey(42, 7),
                new io.runnerscale.job.JobKey(43, 8));
        store.recordInterruption(KEY, jobs, false);
        assertEquals(new io.runnerscale.store.TaskStore.Interruption(jobs, false), store.interruption(KEY));
        store.recordInterruption(KEY, jobs, true);
        assertEquals(new io.runnerscale.store.TaskStore.Interruption(jobs, true), store.interruption(KEY));
        TaskKey never = new TaskKey(KEY.job(), 9);
        store.recordInterruption(never, jobs, true);
        assertTrue(store.task(never).isEmpty(), "noting on a key never claimed writes no item");
    }

    @Test
    void aGoneTaskStopsServingButNeverUndoesAStop() {
        store.claimTask(POOL, KEY, T0);
        store.taskStarted(KEY, ARN, "FARGATE");
        store.taskGone(KEY, "ECS no longer runs it", T0.plusSeconds(900));
        TaskRecord gone = store.task(KEY).orElseThrow();
        assertEquals(io.runnerscale.compute.TaskState.STOPPED, gone.state());
        assertEquals("ECS no longer runs it", gone.reason());
        assertFalse(gone.failed());
        TaskKey failed = new TaskKey(KEY.job(), 2);
        store.claimTask(POOL, failed, T0);
        store.taskNotStarted(failed, "no capacity", T0.plusSeconds(1));
        store.taskGone(failed, "ECS no longer runs it", T0.plusSeconds(900));
        assertEquals("no capacity", store.task(failed).orElseThrow().reason(), "a stopped record keeps its reason");
    }
}
