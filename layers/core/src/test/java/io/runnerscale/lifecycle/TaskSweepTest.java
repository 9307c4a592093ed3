package io.runnerscale.lifecycle;

import io.runnerscale.compute.FargateTasks;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.compute.TaskState;
import io.runnerscale.store.TaskRecord;
import io.runnerscale.gitlab.CreatedRunner;
import io.runnerscale.gitlab.GitLabRejectedException;
import io.runnerscale.gitlab.GitLabRunners;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.gitlab.RunnerInfo;
import io.runnerscale.gitlab.RunnerOwner;
import io.runnerscale.gitlab.RunnerSpec;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.ForecastConfig;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.TestPools;
import io.runnerscale.store.InMemoryJobStore;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TaskSweepTest {
    static final Instant NOW = Instant.parse("2026-03-02T12:00:00Z");
    /** start_time.max 60 s + wait_timeout 2 min + grace 5 min */
    static final Duration MAX_IDLE = Duration.ofMinutes(8);
    static final Instant OLD = NOW.minus(MAX_IDLE).minusSeconds(1);
    static final Instant YOUNG = NOW.minus(MAX_IDLE).plusSeconds(1);
    static final long RUNNER = 77;

    final PoolConfig small = fargate("small", "ci");
    final PoolConfig large = fargate("large", "ci", 88);     // shares the cluster, and the tasks' listing
    final PoolConfig docker = TestPools.tagged("docker", List.of("docker"), true);
    PoolsConfig pools = new PoolsConfig(List.of(docker, small, large));
    final InMemoryJobStore store = new InMemoryJobStore();
    final Ecs ecs = new Ecs();
    final Gitlab gitlab = new Gitlab();
    TaskSweep.Settings settings = TaskSweep.Settings.DEFAULT;

    static PoolConfig fargate(String name, String cluster) {
        return fargate(name, cluster, RUNNER);
    }

    static PoolConfig fargate(String name, String cluster, long runnerId) {
        PoolConfig.Fargate backend = new PoolConfig.Fargate(cluster, "runner-td", "runner", List.of("subnet-a"),
                List.of("sg-1"), false, true, PoolConfig.Fargate.Platform.X86_64, 1, 2, Duration.ofMinutes(2), 3,
                new PoolConfig.StartTime(Duration.ofSeconds(40), Duration.ofSeconds(60)), runnerId);
        return new PoolConfig(name, new PoolConfig.Match(List.of(name), false), backend, 1, 10, 0, null, List.of(),
                ForecastConfig.OFF);
    }

    TaskSweep sweep() {
        return new TaskSweep(() -> pools, ecs, gitlab, store, settings, Clock.fixed(NOW, ZoneOffset.UTC));
    }

    /** A task claimed for {@code pool}'s job {@code job}, running in ECS since {@code startedAt}; returns its ARN. */
    String task(String pool, long job, Instant startedAt) {
        TaskKey key = new TaskKey(new JobKey(5, job), 1);
        String arn = "arn:aws:ecs:us-east-1:123456789012:task/ci/" + String.format("%012d", job) + "0123456789abcdef0123";
        store.claimTask(pool, key, startedAt.minusSeconds(5));
        store.taskStarted(key, arn, "FARGATE_SPOT");
        ecs.running("ci", new FargateTasks.StartedTask(arn, key, "RUNNING", startedAt));
        return arn;
    }

    static String systemId(long job) {
        return "s_" + String.format("%012d", job);
    }

    /** A running job of the pool on runner {@code runnerId} (the pool's runner, as GitLab's job events name it). */
    void runningJob(String pool, long job, long runnerId) {
        store.apply(new JobEvent(new JobKey(5, 900 + job), JobStatus.RUNNING, 1L, "build", "test", NOW, NOW, null, null,
                runnerId, "runnerscale " + pool, null, List.of(pool)), pool, NOW);
    }

    @Test
    void anOldTaskWhoseRunnerManagerRunsNoJobIsStoppedWithAReason() {
        runningJob("small", 1, RUNNER);
        String arn = task("small", 1, OLD);

        TaskSweep.Report report = sweep().run();

        assertEquals(List.of(arn), ecs.stopped);
        String reason = ecs.reasons.getFirst();
        assertTrue(reason.contains(systemId(1)) && reason.contains("8 min"), reason);
        assertEquals(1, report.stopped().count());
        assertEquals(List.of("5/1#1 " + arn.substring(arn.lastIndexOf('/') + 1)), report.stopped().ids());
        assertEquals(List.of("jobs " + RUNNER + " " + systemId(1)), gitlab.calls);
        assertEquals(1, report.seen());
        assertFalse(report.cutShort());
    }

    @Test
    void aYoungTaskIsKeptWithoutAskingGitLab() {
        runningJob("small", 1, RUNNER);
        task("small", 1, YOUNG);

        TaskSweep.Report report = sweep().run();

        assertEquals(List.of(), ecs.stopped);
        assertEquals(List.of(), gitlab.calls);
        assertEquals(1, report.seen());
        assertEquals(0, report.stopped().count() + report.busy().count() + report.unchecked().count());
    }

    @Test
    void aTaskGitLabListsAJobForUnderThePoolsRunnerIsKeptAndNoOtherRunnerIsAsked() {
        runningJob("small", 2, 78);          // another runner with the pool's tags runs a job of the pool
        task("small", 1, OLD);
        gitlab.running.put(RUNNER + " " + systemId(1), List.of(new JobKey(5, 42)));

        TaskSweep.Report report = sweep().run();

        assertEquals(List.of(), ecs.stopped);
        assertEquals(1, report.busy().count());
        assertEquals(List.of("jobs 77 " + systemId(1)), gitlab.calls);
    }

    @Test
    void everyTaskIsKeptWhileGitLabIsDown() {
        runningJob("small", 1, RUNNER);
        task("small", 1, OLD);
        task("small", 2, OLD);
        gitlab.unavailable = true;

        TaskSweep.Report report = sweep().run();

        assertEquals(List.of(), ecs.stopped);
        assertTrue(report.cutShort());
        assertEquals(List.of("jobs 77 " + systemId(1)), gitlab.calls, "the run ends at the first unavailable answer");
    }

    @Test
    void aTaskIsKeptWhenGitLabRefusesItsListing() {
        runningJob("small", 1, RUNNER);
        task("small", 1, OLD);
        gitlab.refused = true;

        TaskSweep.Report report = sweep().run();

        assertEquals(List.of(), ecs.stopped);
        assertEquals(1, report.unchecked().count());
        assertFalse(report.cutShort());
    }

    @Test
    void nothingIsStoppedWhenThePoolNamesNoRunnerId() {
        PoolConfig unnamed = new PoolConfig("small", fargate("small", "ci").match(), new PoolConfig.Fargate("ci",
                "runner-td", List.of("subnet-a"), List.of(), true), 1, 10, 0, null, List.of(), ForecastConfig.OFF);
        pools = new PoolsConfig(List.of(unnamed));
        runningJob("small", 1, RUNNER);      // a runner id the jobs name may be another runner's: not asked
        task("small", 1, OLD);

        TaskSweep.Report report = sweep().run();

        assertEquals(List.of(), ecs.stopped);
        assertEquals(List.of(), gitlab.calls);
        assertEquals(1, report.unchecked().count());
    }

    @Test
    void aRecordThatStillServesThoughEcsNoLongerRunsItsTaskIsMarkedStopped() {
        TaskKey ghost = new TaskKey(new JobKey(5, 7), 1);
        store.claimTask("small", ghost, OLD.minusSeconds(600));
        store.taskStarted(ghost, "arn:aws:ecs:us-east-1:123456789012:task/ci/000000000007aaaa", "FARGATE");
        TaskKey young = new TaskKey(new JobKey(5, 8), 1);
        store.claimTask("small", young, NOW.minusSeconds(30));
        store.taskStarted(young, "arn:aws:ecs:us-east-1:123456789012:task/ci/000000000008aaaa", "FARGATE");
        String listed = task("small", 1, OLD);

        TaskSweep.Report report = sweep().run();

        assertEquals(TaskState.STOPPED, store.task(ghost).orElseThrow().state());
        assertFalse(store.task(ghost).orElseThrow().failed());
        assertEquals(1, report.gone().count());
        assertTrue(store.task(young).orElseThrow().serving(), "too young to be in ECS's list yet");
        assertTrue(store.tasks("small").stream().filter(t -> t.taskArn().equals(listed)).allMatch(TaskRecord::serving));
    }

    @Test
    void tasksThisStackDidNotClaimForThePoolAreNeverTouched() {
        runningJob("small", 1, RUNNER);
        // runnerscale's startedBy, but no claim here: another stack sharing the cluster
        TaskKey foreign = new TaskKey(new JobKey(5, 3), 1);
        String foreignArn = "arn:aws:ecs:us-east-1:123456789012:task/ci/000000000003ffffffffffffffffffff";
        ecs.running("ci", new FargateTasks.StartedTask(foreignArn, foreign, "RUNNING", OLD.minus(Duration.ofHours(5))));
        // the other pool's task in the shared cluster: judged against the other pool's runner only
        String largeTask = task("large", 2, OLD);
        runningJob("large", 2, 88);
        gitlab.running.put("88 " + systemId(2), List.of(new JobKey(5, 2)));

        TaskSweep.Report report = sweep().run();

        assertEquals(List.of(), ecs.stopped);
        assertEquals(List.of("jobs 88 " + systemId(2)), gitlab.calls, "never asked about the foreign task");
        assertEquals(1, report.seen(), "the large pool's task, once, although both pools list the cluster");
        assertEquals(1, ecs.lists, "the shared cluster is listed once a run");
        assertTrue(ecs.running.get("ci").stream().anyMatch(t -> t.taskArn().equals(largeTask)));
    }

    @Test
    void aTaskWithoutStartTimeOrSystemIdIsKept() {
        runningJob("small", 1, RUNNER);
        TaskKey noStart = new TaskKey(new JobKey(5, 1), 1);
        store.claimTask("small", noStart, OLD);
        ecs.running("ci", new FargateTasks.StartedTask("arn:aws:ecs:us-east-1:123456789012:task/ci/0000000000010123456789abcdef0123",
                noStart, "RUNNING", null));
        TaskKey uuid = new TaskKey(new JobKey(5, 2), 1);
        store.claimTask("small", uuid, OLD);
        ecs.running("ci", new FargateTasks.StartedTask("arn:aws:ecs:us-east-1:123456789012:task/ci/a272d35f-66b5-4c23-80ce-570f8a432c94",
                uuid, "RUNNING", OLD));

        TaskSweep.Report report = sweep().run();

        assertEquals(List.of(), ecs.stopped);
        assertEquals(List.of(), gitlab.calls);
        assertEquals(2, report.seen());
        assertEquals(1, report.unchecked().count(), "the task without a system id; the one without a start is young");
    }

    @Test
    void aRunStopsAtItsBudgetAndTheNextContinues() {
        runningJob("small", 1, RUNNER);
        task("small", 1, OLD);
        task("small", 2, OLD);
        task("small", 3, OLD);
        settings = new TaskSweep.Settings(Duration.ofMinutes(5), 3, Duration.ofSeconds(5));

        TaskSweep.Report first = sweep().run();
        assertEquals(1, first.stopped().count(), "ask + stop, then ask: the next stop is over the budget");
        assertTrue(first.cutShort());

        TaskSweep.Report second = sweep().run();
        assertEquals(1, second.stopped().count());
        TaskSweep.Report third = sweep().run();
        assertEquals(1, third.stopped().count());
        assertFalse(third.cutShort());
        assertEquals(3, ecs.stopped.size());
    }

    @Test
    void aTaskThatCannotBeStoppedDoesNotHoldUpTheOthers() {
        runningJob("small", 1, RUNNER);
        String failing = task("small", 1, OLD);
        String other = task("small", 2, OLD);
        ecs.failStop = failing;

        TaskSweep.Report report = sweep().run();

        assertEquals(List.of(other), ecs.stopped);
        assertEquals(1, report.unchecked().count());
    }

    @Test
    void anEc2OnlyConfigurationListsNothing() {
        TaskSweep.Report report = new TaskSweep(() -> new PoolsConfig(List.of(docker)), ecs, gitlab, store,
                settings, Clock.fixed(NOW, ZoneOffset.UTC)).run();
        assertEquals(0, ecs.lists);
        assertEquals(0, report.seen());
    }

    // ------------------------------------------------------------------ fakes

    static final class Ecs implements FargateTasks {
        final Map<String, List<StartedTask>> running = new HashMap<>();
        final List<String> stopped = new ArrayList<>();
        final List<String> reasons = new ArrayList<>();
        int lists;
        String failStop;

        void running(String cluster, StartedTask task) {
            running.computeIfAbsent(cluster, c -> new ArrayList<>()).add(task);
        }

        @Override
        public RunOutcome run(String pool, PoolConfig.Fargate backend, TaskKey key, Capacity capacity) {
            throw new AssertionError("the sweep starts no task");
        }

        @Override
        public void stop(PoolConfig.Fargate backend, String taskArn, String reason) {
            if (taskArn.equals(failStop)) {
                throw new IllegalStateException("ECS answered 500");
            }
            stopped.add(taskArn);
            reasons.add(reason);
            running.get(backend.cluster()).removeIf(t -> t.taskArn().equals(taskArn));
        }

        @Override
        public List<StartedTask> list(PoolConfig.Fargate backend) {
            lists++;
            return List.copyOf(running.getOrDefault(backend.cluster(), List.of()));
        }
    }

    static final class Gitlab implements GitLabRunners {
        final Map<String, List<JobKey>> running = new HashMap<>();
        final List<String> calls = new ArrayList<>();
        boolean unavailable;
        boolean refused;

        @Override
        public List<JobKey> runningJobs(long runnerId, String systemId) {
            calls.add("jobs " + runnerId + " " + systemId);
            if (unavailable) {
                throw new GitLabUnavailableException("GitLab answered 503", null);
            }
            if (refused) {
                throw new GitLabRejectedException("GET /runners/" + runnerId + "/jobs: 403", 403);
            }
            return running.getOrDefault(runnerId + " " + systemId, List.of());
        }

        @Override
        public List<JobKey> runningJobs(long runnerId) {
            throw new AssertionError("the task sweep asks by runner manager");
        }

        @Override
        public CreatedRunner createRunner(RunnerSpec spec) {
            throw new AssertionError();
        }

        @Override
        public void setPaused(long runnerId, boolean paused) {
            throw new AssertionError();
        }

        @Override
        public void deleteRunner(long runnerId) {
            throw new AssertionError("the task sweep deletes no runner");
        }

        @Override
        public void cancelJob(JobKey job) {
            throw new AssertionError("the task sweep cancels no job");
        }

        @Override
        public Optional<JobKey> retryJob(JobKey job) {
            throw new AssertionError();
        }

        @Override
        public List<RunnerInfo> runnersOf(RunnerOwner owner) {
            throw new AssertionError();
        }
    }
}
