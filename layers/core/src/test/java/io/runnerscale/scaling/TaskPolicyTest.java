package io.runnerscale.scaling;

import io.runnerscale.compute.TaskKey;
import io.runnerscale.compute.TaskState;
import io.runnerscale.job.JobKey;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.TestPools;
import io.runnerscale.scaling.TaskPolicy.PendingJob;
import io.runnerscale.store.TaskRecord;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TaskPolicyTest {
    static final Instant NOW = Instant.parse("2026-01-07T12:00:00Z");
    static final PoolConfig POOL = TestPools.fargate("f", 10, 3, false);

    static JobKey job(long id) {
        return new JobKey(1, id);
    }

    static PendingJob pending(long id, int secondsAgo) {
        return new PendingJob(job(id), NOW.minusSeconds(secondsAgo));
    }

    static TaskRecord task(long jobId, int attempt, TaskState state, boolean failed) {
        return new TaskRecord(new TaskKey(job(jobId), attempt), "f", state,
                state == TaskState.CLAIMED ? null : "arn:aws:ecs:r:1:task/ci/0123456789abcdef" + jobId + attempt,
                null, NOW.minusSeconds(60), state == TaskState.STOPPED ? NOW : null, null, failed, false, 1);
    }

    static TaskPolicy.Decision decide(PoolConfig pool, List<PendingJob> pending, int running, List<TaskRecord> tasks) {
        return TaskPolicy.decide(new TaskPolicy.Snapshot(pool, NOW, pending, running, tasks));
    }

    @Test
    void startsOneTaskPerPendingJobOldestFirst() {
        TaskPolicy.Decision d = decide(POOL, List.of(pending(2, 10), pending(1, 30), pending(3, 20)), 0, List.of());
        assertEquals(List.of(new TaskKey(job(1), 1), new TaskKey(job(3), 1), new TaskKey(job(2), 1)), d.launches());
        assertEquals(0, d.serving());
    }

    @Test
    void jobsPendingSinceTheSameMomentGoInProjectThenJobOrder() {
        Instant same = NOW.minusSeconds(30);
        List<PendingJob> pending = List.of(new PendingJob(new JobKey(2, 1), same), new PendingJob(new JobKey(1, 9), same),
                new PendingJob(new JobKey(1, 3), same), new PendingJob(new JobKey(3, 1), null));
        assertEquals(List.of(new TaskKey(new JobKey(1, 3), 1), new TaskKey(new JobKey(1, 9), 1),
                new TaskKey(new JobKey(2, 1), 1), new TaskKey(new JobKey(3, 1), 1)), decide(POOL, pending, 0, List.of()).launches());
    }

    @Test
    void aDecisionChangesNothingOnlyWithoutLaunchesResumesAndForgets() {
        TaskKey key = new TaskKey(job(1), 1);
        assertTrue(new TaskPolicy.Decision("f", 0, 0, List.of(), List.of(), List.of(), List.of(job(1))).changesNothing());
        assertTrue(!new TaskPolicy.Decision("f", 0, 0, List.of(key), List.of(), List.of(), List.of()).changesNothing());
        assertTrue(!new TaskPolicy.Decision("f", 0, 0, List.of(), List.of(key), List.of(), List.of()).changesNothing());
        assertTrue(!new TaskPolicy.Decision("f", 0, 0, List.of(), List.of(), List.of(key), List.of()).changesNothing());
    }

    @Test
    void waitingTasksCoverPendingJobs() {
        // two tasks serve, one of them runs a job: one waits, so of two pending jobs one needs a task
        TaskPolicy.Decision d = decide(POOL, List.of(pending(1, 30), pending(2, 10)), 1,
                List.of(task(9, 1, TaskState.RUNNING, false), task(1, 1, TaskState.STARTING, false)));
        assertEquals(2, d.serving());
        assertEquals(1, d.waiting());
        // job 1 has a starting task of its own: job 2, without one, gets the new task
        assertEquals(List.of(new TaskKey(job(2), 1)), d.launches());
    }

    @Test
    void aJobWhoseTaskTookAnotherJobGetsItsNextAttempt() {
        // job 1's task runs job 9; job 1 still waits and no task is free: attempt 2
        TaskPolicy.Decision d = decide(POOL, List.of(pending(1, 30)), 1, List.of(task(1, 1, TaskState.RUNNING, false)));
        assertEquals(List.of(new TaskKey(job(1), 2)), d.launches());
    }

    @Test
    void maxInstancesCapsTasksStartingOrRunning() {
        PoolConfig small = TestPools.fargate("f", 3, 3, false);
        TaskPolicy.Decision d = decide(small, List.of(pending(1, 5), pending(2, 4), pending(3, 3), pending(4, 2)), 2,
                List.of(task(7, 1, TaskState.RUNNING, false), task(8, 1, TaskState.RUNNING, false)));
        assertEquals(List.of(new TaskKey(job(1), 1)), d.launches());
        TaskPolicy.Decision full = decide(small, List.of(pending(1, 5)), 3, List.of(task(7, 1, TaskState.RUNNING, false),
                task(8, 1, TaskState.RUNNING, false), task(6, 1, TaskState.STARTING, false)));
        assertEquals(List.of(), full.launches());
    }

    @Test
    void stoppingTasksGiveNoSlot() {
        TaskPolicy.Decision d = decide(POOL, List.of(pending(1, 5)), 0, List.of(task(7, 1, TaskState.STOPPING, false)));
        assertEquals(0, d.serving());
        assertEquals(List.of(new TaskKey(job(1), 1)), d.launches());
    }

    @Test
    void failedAttemptsCountAndTheJobIsGivenUpAtTheLimit() {
        List<TaskRecord> twoFailed = List.of(task(1, 1, TaskState.STOPPED, true), task(1, 2, TaskState.STOPPED, true));
        TaskPolicy.Decision third = decide(POOL, List.of(pending(1, 60)), 0, twoFailed);
        assertEquals(List.of(new TaskKey(job(1), 3)), third.launches());
        List<TaskRecord> threeFailed = new ArrayList<>(twoFailed);
        threeFailed.add(task(1, 3, TaskState.STOPPED, true));
        TaskPolicy.Decision done = decide(POOL, List.of(pending(1, 60)), 0, threeFailed);
        assertEquals(List.of(), done.launches());
        assertEquals(List.of(job(1)), done.givenUp());
        // a task that ended normally (its job went elsewhere) is no failure
        TaskPolicy.Decision normal = decide(POOL, List.of(pending(1, 60)), 0, List.of(task(1, 1, TaskState.STOPPED, false),
                task(1, 2, TaskState.STOPPED, false), task(1, 3, TaskState.STOPPED, false)));
        assertEquals(List.of(new TaskKey(job(1), 4)), normal.launches());
    }

    @Test
    void aJobThatHadTenTasksInAllGetsNoMore() {
        List<TaskRecord> nine = new ArrayList<>();
        for (int attempt = 1; attempt < TaskPolicy.MAX_TASKS_PER_JOB; attempt++) {
            nine.add(task(1, attempt, TaskState.STOPPED, false));
        }
        assertEquals(List.of(new TaskKey(job(1), TaskPolicy.MAX_TASKS_PER_JOB)),
                decide(POOL, List.of(pending(1, 60)), 0, nine).launches());
        List<TaskRecord> ten = new ArrayList<>(nine);
        ten.add(task(1, TaskPolicy.MAX_TASKS_PER_JOB, TaskState.STOPPED, false));
        TaskPolicy.Decision d = decide(POOL, List.of(pending(1, 60)), 0, ten);
        assertEquals(List.of(), d.launches());
        assertEquals(List.of(job(1)), d.givenUp());
    }

    @Test
    void anUnansweredClaimIsResumedWhileItsJobWaitsAndForgottenAfter() {
        TaskRecord claimed = task(1, 1, TaskState.CLAIMED, false);
        TaskPolicy.Decision waits = decide(POOL, List.of(pending(1, 60)), 0, List.of(claimed));
        assertEquals(List.of(claimed.key()), waits.resumes());
        assertEquals(List.of(), waits.launches());
        TaskPolicy.Decision gone = decide(POOL, List.of(), 0, List.of(claimed));
        assertEquals(List.of(claimed.key()), gone.forget());
        assertEquals(List.of(), gone.resumes());
    }

    @Test
    void aYoungClaimWithoutAnswerMayBeAnotherDecisionsCallInFlight() {
        TaskRecord young = new TaskRecord(new TaskKey(job(1), 1), "f", TaskState.CLAIMED, null, null,
                NOW.minusSeconds(59), null, null, false, false, 0);
        TaskPolicy.Decision waits = decide(POOL, List.of(pending(1, 60)), 0, List.of(young));
        assertEquals(List.of(), waits.resumes());
        assertEquals(List.of(), waits.launches(), "it counts as the job's task");
        assertEquals(1, waits.serving());
        TaskPolicy.Decision taken = decide(POOL, List.of(), 0, List.of(young));
        assertEquals(List.of(), taken.forget(), "not forgotten while its call may still answer");
        assertEquals(1, taken.serving());
    }

    @Test
    void stoppedTasksAreForgottenOnlyOnceTheirJobNoLongerWaits() {
        TaskRecord stopped = task(1, 1, TaskState.STOPPED, true);
        assertEquals(List.of(), decide(POOL, List.of(pending(1, 60)), 0, List.of(stopped)).forget());
        assertEquals(List.of(stopped.key()), decide(POOL, List.of(), 0, List.of(stopped)).forget());
        // a stopping one is not forgotten yet: its stop event still comes
        assertEquals(List.of(), decide(POOL, List.of(), 0, List.of(task(2, 1, TaskState.STOPPING, false))).forget());
    }

    // ---- properties over random pools, jobs and tasks --------------------------------------------

    record Scene(int maxTasks, int maxAttempts, List<PendingJob> pending, int running, List<TaskRecord> tasks) {
    }

    @Provide
    Arbitrary<Scene> scenes() {
        Arbitrary<Integer> max = Arbitraries.integers().between(0, 8);
        Arbitrary<Integer> attempts = Arbitraries.integers().between(1, 3);
        Arbitrary<List<Integer>> pendingIds = Arbitraries.integers().between(1, 12).set().ofMaxSize(8)
                .map(ArrayList::new);
        Arbitrary<TaskRecord> tasks = Combinators.combine(Arbitraries.integers().between(1, 14),
                Arbitraries.integers().between(1, 4), Arbitraries.of(TaskState.class), Arbitraries.of(true, false))
                .as((jobId, attempt, state, failed) -> task(jobId, attempt, state, failed && state == TaskState.STOPPED));
        return Combinators.combine(max, attempts, pendingIds, Arbitraries.integers().between(0, 8),
                tasks.list().ofMaxSize(10)).as((m, a, ids, running, list) -> {
            // one record per key, as the store keeps them
            Map<TaskKey, TaskRecord> unique = new HashMap<>();
            list.forEach(t -> unique.putIfAbsent(t.key(), t));
            List<PendingJob> pending = ids.stream().map(id -> pending(id, id * 7 % 50)).toList();
            return new Scene(m, a, pending, running, new ArrayList<>(unique.values()));
        });
    }

    @Property(tries = 500)
    void neverMoreTasksThanJobsNeedNorThanTheCap(@ForAll("scenes") Scene scene) {
        PoolConfig pool = TestPools.fargate("f", scene.maxTasks(), scene.maxAttempts(), false);
        TaskPolicy.Decision d = decide(pool, scene.pending(), scene.running(), scene.tasks());
        Set<JobKey> waits = new HashSet<>();
        scene.pending().forEach(p -> waits.add(p.key()));
        // a claim RunTask never answered counts only while its job waits (it is resumed, else forgotten)
        long serving = scene.tasks().stream().filter(TaskRecord::serving)
                .filter(t -> t.taskArn() != null || waits.contains(t.key().job())).count();
        assertEquals(serving, d.serving());
        // the cap: never more serving tasks after the decision than max_instances (unless there were already)
        assertTrue(d.launches().isEmpty() || serving + d.launches().size() <= scene.maxTasks());
        // no more launches than pending jobs left without a waiting task
        assertTrue(d.launches().size() <= Math.max(0, scene.pending().size() - d.waiting()));
        // at most one new task per job, each for a pending job not given up, under a key never used
        Set<JobKey> launchedFor = new HashSet<>();
        Set<TaskKey> used = new HashSet<>();
        scene.tasks().forEach(t -> used.add(t.key()));
        Set<JobKey> pendingKeys = new HashSet<>();
        scene.pending().forEach(p -> pendingKeys.add(p.key()));
        for (TaskKey key : d.launches()) {
            assertTrue(launchedFor.add(key.job()), "two tasks for job " + key.job());
            assertTrue(pendingKeys.contains(key.job()));
            assertTrue(!used.contains(key), "key " + key + " used again");
            assertTrue(!d.givenUp().contains(key.job()));
        }
    }

    @Property(tries = 500)
    void everyEligiblePendingJobHasASlotUnlessTheCapIsReached(@ForAll("scenes") Scene scene) {
        PoolConfig pool = TestPools.fargate("f", scene.maxTasks(), scene.maxAttempts(), false);
        TaskPolicy.Decision d = decide(pool, scene.pending(), scene.running(), scene.tasks());
        int eligible = scene.pending().size() - d.givenUp().size();
        int slotsAfter = d.waiting() + d.launches().size();
        int servingAfter = d.serving() + d.launches().size();
        assertTrue(slotsAfter >= eligible || servingAfter >= scene.maxTasks(),
                "eligible " + eligible + ", slots " + slotsAfter + ", serving " + servingAfter);
    }

    @Property(tries = 200)
    void givenUpExactlyAtMaxTaskAttemptsFailures(@ForAll @IntRange(min = 1, max = 4) int maxAttempts,
                                                  @ForAll @IntRange(min = 0, max = 5) int failures) {
        PoolConfig pool = TestPools.fargate("f", 10, maxAttempts, false);
        List<TaskRecord> tasks = new ArrayList<>();
        for (int i = 1; i <= failures; i++) {
            tasks.add(task(1, i, TaskState.STOPPED, true));
        }
        TaskPolicy.Decision d = decide(pool, List.of(pending(1, 10)), 0, tasks);
        assertEquals(failures >= maxAttempts, d.givenUp().contains(job(1)));
        assertEquals(failures >= maxAttempts ? List.of() : List.of(new TaskKey(job(1), failures + 1)), d.launches());
    }
}
