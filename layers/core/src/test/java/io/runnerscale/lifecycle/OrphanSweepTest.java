package io.runnerscale.lifecycle;

import io.runnerscale.gitlab.CreatedRunner;
import io.runnerscale.gitlab.GitLabRejectedException;
import io.runnerscale.gitlab.GitLabRunners;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.gitlab.RunnerInfo;
import io.runnerscale.gitlab.RunnerOwner;
import io.runnerscale.gitlab.RunnerSpec;
import io.runnerscale.gitlab.RunnerType;
import io.runnerscale.job.JobKey;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.TestPools;
import io.runnerscale.store.InMemoryJobStore;
import io.runnerscale.store.InstanceLifecycle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OrphanSweepTest {
    static final Instant NOW = Instant.parse("2025-03-01T10:00:00Z");
    static final Instant LONG_AGO = NOW.minus(Duration.ofHours(1));
    static final String A = "i-0aaaaaaaaaaaaaaa1";
    static final String B = "i-0bbbbbbbbbbbbbbb2";
    static final String C = "i-0ccccccccccccccc3";
    static final JobKey JOB = new JobKey(7, 100);

    // pools docker (docker-asg) and gpu (gpu-asg)
    final PoolsConfig pools = new PoolsConfig(List.of(
            TestPools.tagged("docker", List.of("docker"), true),
            TestPools.tagged("gpu", List.of("gpu"), false)));
    final InMemoryJobStore store = new InMemoryJobStore();
    final Gitlab gitlab = new Gitlab();
    final Tokens tokens = new Tokens();
    final Groups groups = new Groups();
    final Ec2 ec2 = new Ec2();
    final Starter starter = new Starter();
    final LifecycleActions noActions = new LifecycleActions() {
        @Override
        public void heartbeat(String hookName, String asg, String instanceId, String token) {
            throw new AssertionError("the sweep sends no heartbeat");
        }

        @Override
        public void complete(String hookName, String asg, String instanceId, String token, Result result) {
            throw new AssertionError("the sweep completes no lifecycle action");
        }

        @Override
        public void terminate(String instanceId, boolean decrement) {
            throw new AssertionError("the sweep never terminates: " + instanceId);
        }
    };
    OrphanSweep.Settings settings = OrphanSweep.Settings.DEFAULT;
    Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);

    OrphanSweep sweep() {
        LifecycleService service = new LifecycleService(() -> pools, store, gitlab, tokens, noActions, starter,
                (pool, reason, dedupeId) -> { }, RunnerOwner.group(9), Duration.ofHours(1), clock);
        return new OrphanSweep(() -> pools, store, store, gitlab, RunnerOwner.group(9), tokens, groups, ec2,
                service::startDrain, settings, clock);
    }

    OrphanSweep sweepTerminatingWith(List<String> terminated) {
        LifecycleActions actions = new LifecycleActions() {
            @Override
            public void heartbeat(String hookName, String asg, String instanceId, String token) {
                throw new AssertionError("the sweep sends no heartbeat");
            }

            @Override
            public void complete(String hookName, String asg, String instanceId, String token, Result result) {
                throw new AssertionError("the sweep completes no lifecycle action");
            }

            @Override
            public void terminate(String instanceId, boolean decrement) {
                terminated.add(instanceId + " " + decrement);
            }
        };
        LifecycleService service = new LifecycleService(() -> pools, store, gitlab, tokens, noActions, starter,
                (pool, reason, dedupeId) -> { }, RunnerOwner.group(9), Duration.ofHours(1), clock);
        return new OrphanSweep(() -> pools, store, store, gitlab, RunnerOwner.group(9), tokens, groups, ec2,
                service::startDrain, settings, actions, clock);
    }

    // ------------------------------------------------------------------ returning instances (warm pool reuse)

    @Test
    void aReturningInstanceStillInServicePastItsGraceIsTerminated() {
        groups.member("docker-asg", A, "InService");
        groups.member("docker-asg", B, "InService");
        ec2.running(A, LONG_AGO);
        ec2.running(B, LONG_AGO);
        store.recordRunner(A, "docker", null, InstanceState.DRAINING, LONG_AGO);
        store.markReturning(A, NOW.minus(OrphanSweep.RETURN_GRACE).minusSeconds(1));
        store.recordRunner(B, "docker", null, InstanceState.DRAINING, LONG_AGO);
        store.markReturning(B, NOW.minus(OrphanSweep.RETURN_GRACE).plusSeconds(1));
        List<String> terminated = new ArrayList<>();

        SweepReport report = sweepTerminatingWith(terminated).run();

        assertEquals(List.of(A + " true"), terminated, "only past the grace time; desired capacity lowered");
        assertEquals(ids(A), report.returnsTerminated().ids());
        assertEquals(InstanceState.GONE, store.lifecycle(A).orElseThrow().state());
        assertEquals(InstanceState.RETURNING, store.lifecycle(B).orElseThrow().state());
        assertTrue(starter.names.isEmpty(), "no drain: it has no runner");
        assertTrue(gitlab.deleted.isEmpty());
    }

    @Test
    void aReturningInstanceTheGroupTookOutIsLeftToItsHook() {
        groups.member("docker-asg", A, "Warmed:Pending:Wait");
        ec2.running(A, LONG_AGO);
        store.recordRunner(A, "docker", null, InstanceState.DRAINING, LONG_AGO);
        store.markReturning(A, LONG_AGO);
        List<String> terminated = new ArrayList<>();

        sweepTerminatingWith(terminated).run();

        assertTrue(terminated.isEmpty());
        assertEquals(InstanceState.RETURNING, store.lifecycle(A).orElseThrow().state());
    }

    static List<String> ids(String... ids) {
        return List.of(ids);
    }

    // ------------------------------------------------------------------ instances in a group without a record

    @Test
    void anInstanceWithoutRecordOrRunnerIsDrainedForBootTimeoutThroughTheDrainPath() {
        groups.member("docker-asg", A, "InService");
        ec2.running(A, LONG_AGO);

        SweepReport report = sweep().run();

        assertEquals(ids(A), report.drainsStarted().ids());
        assertEquals(1, report.drainsStarted().count());
        Drain drain = starter.started.getFirst();
        assertEquals(A, drain.instanceId());
        assertEquals("docker", drain.pool());
        assertEquals("docker-asg", drain.asg());
        assertEquals(DrainReason.BOOT_TIMEOUT, drain.reason());
        assertEquals(null, drain.runnerId(), "no runner: the drain goes straight to Terminate");
        assertEquals(List.of("drain-" + A + "-boot-timeout-1"), starter.names);
        assertTrue(report.adopted().ids().isEmpty());
    }

    @Test
    void aRunnerDescribedByTheInstanceIdIsAdoptedNotDrained() {
        groups.member("gpu-asg", A, "InService");
        ec2.running(A, LONG_AGO);
        gitlab.runner(41, A);
        gitlab.runner(42, "someone's laptop");

        SweepReport report = sweep().run();

        assertEquals(ids(A), report.adopted().ids());
        InstanceLifecycle record = store.lifecycle(A).orElseThrow();
        assertEquals(41L, record.runnerId());
        assertEquals(InstanceState.REGISTERED, record.state());
        assertEquals("gpu", record.pool());
        assertTrue(starter.names.isEmpty());
        assertTrue(gitlab.deleted.isEmpty());
    }

    @Test
    void theScalersOwnRecordIsNoRunnerRecord() {
        groups.member("docker-asg", A, "InService");
        ec2.running(A, LONG_AGO);
        store.recordInstance("docker", A, LONG_AGO);   // what the scaler writes: no state, no runner

        assertEquals(ids(A), sweep().run().drainsStarted().ids());
    }

    @Test
    void aLifecycleItemWithNeitherStateNorRunnerIsNoRunnerRecord() {
        // DynamoDB shows the scaler's INST# item as a lifecycle without state or runner; so does this
        store.nextDrainAttempt(A);
        store.nextDrainAttempt(B);
        groups.member("docker-asg", A, "InService");
        ec2.running(A, LONG_AGO);
        gitlab.runner(8, B);
        ec2.terminated(B, null);

        SweepReport report = sweep().run();

        assertEquals(ids(A), report.drainsStarted().ids());
        assertEquals(ids(B), report.unclaimed().ids(), "a bare item shows nothing of runnerscale's launch");
        assertTrue(gitlab.deleted.isEmpty());
    }

    @ParameterizedTest
    @ValueSource(strings = {"registered", "ready", "draining", "launching", "gone"})
    void anInstanceWithALifecycleStateIsLeftAlone(String state) {
        groups.member("docker-asg", A, "InService");
        ec2.running(A, LONG_AGO);
        store.recordRunner(A, "docker", null, InstanceState.fromWireName(state).orElseThrow(), LONG_AGO);

        SweepReport report = sweep().run();

        assertTrue(starter.names.isEmpty());
        assertTrue(report.adopted().ids().isEmpty());
    }

    @Test
    void anInstanceYoungerThanTheLaunchTimeoutIsLeftToItsLaunch() {
        groups.member("docker-asg", A, "InService");
        groups.member("docker-asg", B, "InService");
        ec2.running(A, NOW.minusSeconds(599));
        ec2.running(B, NOW.minusSeconds(600));

        assertEquals(ids(B), sweep().run().drainsStarted().ids());
    }

    @ParameterizedTest
    @ValueSource(strings = {"Pending:Wait", "Terminating:Wait", "Terminating", "Standby", "Detaching"})
    void onlyInServiceInstancesAreLookedAt(String lifecycleState) {
        groups.member("docker-asg", A, lifecycleState);
        ec2.running(A, LONG_AGO);

        SweepReport report = sweep().run();

        assertTrue(starter.names.isEmpty());
        assertTrue(report.adopted().ids().isEmpty());
    }

    @Test
    void aGroupWithoutTheLaunchHookGetsNoRunnersFromRunnerscaleSoItsInstancesAreNoOrphans() {
        groups.member("docker-asg", A, "InService");
        groups.withoutHook("docker-asg");
        ec2.running(A, LONG_AGO);

        assertEquals(0, sweep().run().drainsStarted().count());
        assertTrue(starter.names.isEmpty());
    }

    @Test
    void severalRunnersDescribedByTheInstanceAreNeitherAdoptedNorDrained() {
        groups.member("docker-asg", A, "InService");
        ec2.running(A, LONG_AGO);
        gitlab.runner(41, A);
        gitlab.runner(42, A);

        SweepReport report = sweep().run();

        assertTrue(report.adopted().ids().isEmpty());
        assertTrue(starter.names.isEmpty());
        assertTrue(gitlab.deleted.isEmpty());
        assertTrue(store.lifecycle(A).isEmpty());
    }

    @Test
    void whenTheRunnersCannotBeListedNoInstanceIsDrainedBlind() {
        groups.member("docker-asg", A, "InService");
        ec2.running(A, LONG_AGO);
        tokens.values.add(B);   // a gone instance's token: needs no listing
        gitlab.listRejected = true;

        SweepReport report = sweep().run();

        assertTrue(starter.names.isEmpty());
        assertEquals(ids(B), report.tokensDeleted().ids());
        assertFalse(report.cutShort());
    }

    @Test
    void aMissingGroupIsSkippedAndTheOtherPoolsSwept() {
        groups.missing.add("docker-asg");
        groups.member("gpu-asg", B, "InService");
        ec2.running(B, LONG_AGO);

        assertEquals(ids(B), sweep().run().drainsStarted().ids());
    }

    // ------------------------------------------------------------------ gone instances

    @Test
    void aGoneInstancesRunnerTokenAndRecordAreCleaned() {
        store.recordRunner(A, "docker", 5L, InstanceState.READY, LONG_AGO);
        tokens.values.add(A);
        gitlab.runner(5, A);
        ec2.terminated(A, null);

        SweepReport report = sweep().run();

        assertEquals(ids("5"), report.runnersDeleted().ids());
        assertEquals(List.of(5L), gitlab.deleted);
        assertEquals(ids(A), report.tokensDeleted().ids());
        assertEquals(ids(A), report.recordsForgotten().ids());
        assertTrue(tokens.values.isEmpty());
        assertTrue(store.lifecycle(A).isEmpty());
        assertTrue(store.instances("docker").isEmpty());
    }

    @Test
    void anInstanceEc2NoLongerKnowsCountsAsGone() {
        store.recordRunner(A, "docker", 5L, InstanceState.REGISTERED, LONG_AGO);
        gitlab.runner(5, A);
        // ec2 knows nothing of A

        SweepReport report = sweep().run();

        assertEquals(ids("5"), report.runnersDeleted().ids());
        assertEquals(ids(A), report.recordsForgotten().ids());
    }

    @Test
    void shuttingDownCountsAsGoneButStoppedDoesNot() {
        store.recordRunner(A, "docker", 5L, InstanceState.READY, LONG_AGO);
        store.recordRunner(B, "docker", 6L, InstanceState.READY, LONG_AGO);
        gitlab.runner(5, A);
        gitlab.runner(6, B);
        ec2.put(A, "shutting-down", LONG_AGO, "docker-asg");
        ec2.put(B, "stopped", LONG_AGO, "docker-asg");

        SweepReport report = sweep().run();

        assertEquals(List.of(5L), gitlab.deleted);
        assertEquals(ids(A), report.recordsForgotten().ids());
        assertEquals(6L, store.lifecycle(B).orElseThrow().runnerId());
    }

    @Test
    void aRunnerWithARunningJobIsNotDeletedAndItsTokenAndRecordStay() {
        store.recordRunner(A, "docker", 5L, InstanceState.READY, LONG_AGO);
        tokens.values.add(A);
        gitlab.runner(5, A);
        gitlab.running.put(5L, List.of(JOB));
        ec2.terminated(A, "docker-asg");

        SweepReport report = sweep().run();

        assertTrue(gitlab.deleted.isEmpty());
        assertEquals(ids("5"), report.runnersBusy().ids());
        assertTrue(tokens.values.contains(A));
        assertTrue(store.lifecycle(A).isPresent(), "the record still shows next run that the runner is ours");

        gitlab.running.remove(5L);   // the job ended (or GitLab gave up on it)
        SweepReport next = sweep().run();
        assertEquals(ids("5"), next.runnersDeleted().ids());
        assertEquals(ids(A), next.tokensDeleted().ids());
    }

    @Test
    void aRunnerAlreadyDeletedCountsAsDone() {
        store.recordRunner(A, "docker", 5L, InstanceState.READY, LONG_AGO);
        tokens.values.add(A);
        ec2.terminated(A, "docker-asg");
        // runner 5 is not in GitLab any more: its jobs answer 404

        SweepReport report = sweep().run();

        assertTrue(gitlab.deleted.isEmpty());
        assertEquals(0, report.runnersDeleted().count());
        assertEquals(ids(A), report.tokensDeleted().ids());
        assertEquals(ids(A), report.recordsForgotten().ids());
    }

    @Test
    void aGoneInstanceStillRecordedDrainingIsCleanedAndKeptAsATombstone() {
        // its drain failed (the held action was lost) and AWS terminated it: nothing else will clean up
        store.recordRunner(A, "docker", 5L, InstanceState.DRAINING, LONG_AGO);
        tokens.values.add(A);
        gitlab.runner(5, A);
        ec2.terminated(A, "docker-asg");

        SweepReport report = sweep().run();

        assertEquals(ids(A), report.drainsEnded().ids());
        assertEquals(List.of(5L), gitlab.deleted);
        assertFalse(tokens.values.contains(A));
        InstanceLifecycle tombstone = store.lifecycle(A).orElseThrow();
        assertEquals(InstanceState.GONE, tombstone.state(), "a late launch event must still find it gone");
        assertNull(tombstone.runnerId());
    }

    @Test
    void aGoneDrainingInstanceWhoseJobGitLabStillListsKeepsItsRunnerAndRecord() {
        store.recordRunner(A, "docker", 5L, InstanceState.INTERRUPTED, LONG_AGO);
        tokens.values.add(A);
        gitlab.runner(5, A);
        gitlab.running.put(5L, List.of(new io.runnerscale.job.JobKey(7, 1)));
        ec2.terminated(A, "docker-asg");

        SweepReport report = sweep().run();

        assertTrue(gitlab.deleted.isEmpty(), "GitLab still lists its job: the spot drain cancels and retries it");
        assertTrue(tokens.values.contains(A));
        assertEquals(InstanceState.INTERRUPTED, store.lifecycle(A).orElseThrow().state());
        assertTrue(report.drainsEnded().ids().isEmpty());
    }

    @Test
    void aLaunchingInstanceWithinTheLaunchTimeoutIsLeftToItsLaunch() {
        store.recordRunner(A, "docker", 5L, InstanceState.LAUNCHING, NOW);
        tokens.values.add(A);
        gitlab.runner(5, A);
        ec2.put(A, "terminated", NOW.minusSeconds(30), "docker-asg");

        SweepReport report = sweep().run();

        assertTrue(gitlab.deleted.isEmpty());
        assertTrue(tokens.values.contains(A));
        assertTrue(store.lifecycle(A).isPresent());
        assertEquals(0, report.recordsForgotten().count());
    }

    @Test
    void aTokenLeftBehindIsDeletedAndALiveInstancesTokenKept() {
        tokens.values.add(A);
        tokens.values.add(B);
        ec2.terminated(A, null);
        ec2.running(B, LONG_AGO);

        SweepReport report = sweep().run();

        assertEquals(ids(A), report.tokensDeleted().ids());
        assertEquals(Set.of(B), tokens.values);
    }

    @Test
    void aRunnerOfAGoneInstanceOfAPoolsGroupIsDeletedWithoutRecordOrToken() {
        // the scaler forgets records of instances that left the group, so often only EC2's tag remains
        gitlab.runner(7, A);
        ec2.terminated(A, "gpu-asg");

        SweepReport report = sweep().run();

        assertEquals(List.of(7L), gitlab.deleted);
        assertEquals(ids("7"), report.runnersDeleted().ids());
    }

    @Test
    void aTokenIsEvidenceThatTheRunnerIsOurs() {
        gitlab.runner(7, A);
        tokens.values.add(A);
        // EC2 no longer knows A, no record

        SweepReport report = sweep().run();

        assertEquals(List.of(7L), gitlab.deleted);
        assertEquals(ids(A), report.tokensDeleted().ids());
    }

    @Test
    void handRegisteredRunnersAreNeverTouched() {
        gitlab.runner(50, "build box in the basement");
        gitlab.runner(51, "");
        gitlab.runner(52, B);                     // an instance EC2 no longer knows: no sign it is ours
        gitlab.runner(53, C);                     // a terminated instance of a group no pool uses
        ec2.terminated(C, "someone-elses-asg");
        gitlab.runner(54, A);                     // a live instance outside runnerscale
        ec2.running(A, LONG_AGO);

        SweepReport report = sweep().run();

        assertTrue(gitlab.deleted.isEmpty());
        assertTrue(gitlab.calls.stream().noneMatch(c -> c.startsWith("jobs") || c.startsWith("delete")), gitlab.calls.toString());
        assertEquals(ids(B, C), report.unclaimed().ids());
        assertEquals(0, report.runnersDeleted().count());
    }

    @Test
    void aRunnerOfAGoneInstanceInAGroupWithoutTheLaunchHookIsNotOurs() {
        groups.withoutHook("docker-asg");
        gitlab.runner(7, A);
        ec2.terminated(A, "docker-asg");
        store.recordInstance("docker", A, LONG_AGO);   // only the scaler's record

        SweepReport report = sweep().run();

        assertTrue(gitlab.deleted.isEmpty());
        assertEquals(ids(A), report.unclaimed().ids());
        assertEquals(ids(A), report.recordsForgotten().ids(), "the scaler's record of a gone instance goes all the same");
    }

    @Test
    void everyDuplicateRunnerOfAGoneInstanceIsDeleted() {
        store.recordRunner(A, "docker", 5L, InstanceState.READY, LONG_AGO);
        gitlab.runner(5, A);
        gitlab.runner(6, A);   // a retried create's leftover
        ec2.terminated(A, "docker-asg");

        assertEquals(ids("5", "6"), sweep().run().runnersDeleted().ids());
        assertEquals(List.of(5L, 6L), gitlab.deleted);
    }

    // ------------------------------------------------------------------ bounds and failures

    @Test
    void aRunStopsAtItsActionBudgetAndTheNextContinues() {
        for (String id : List.of(A, B, C)) {
            tokens.values.add(id);   // gone: EC2 knows none of them
        }
        settings = new OrphanSweep.Settings(Duration.ofSeconds(600), 2, Duration.ofSeconds(20));

        SweepReport first = sweep().run();
        assertTrue(first.cutShort());
        assertEquals(ids(A, B), first.tokensDeleted().ids());
        assertEquals(Set.of(C), tokens.values);

        SweepReport second = sweep().run();
        assertFalse(second.cutShort());
        assertEquals(ids(C), second.tokensDeleted().ids());
        assertTrue(tokens.values.isEmpty());
    }

    @Test
    void aRunStopsAtItsTimeBudget() {
        tokens.values.add(A);
        tokens.values.add(B);
        tokens.values.add(C);
        Instant[] now = {NOW};
        clock = new Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now[0];
            }
        };
        tokens.onDelete = () -> now[0] = now[0].plusSeconds(15);   // a slow SSM

        SweepReport report = sweep().run();

        assertTrue(report.cutShort());
        assertEquals(ids(A, B), report.tokensDeleted().ids(), "B starts at 15 s, within 20 s; C would start at 30 s");
        assertEquals(Set.of(C), tokens.values);
    }

    @Test
    void gitLabUnavailableEndsTheRunWithoutFailing() {
        store.recordRunner(A, "docker", 5L, InstanceState.READY, LONG_AGO);
        tokens.values.add(A);
        gitlab.runner(5, A);
        ec2.terminated(A, "docker-asg");
        gitlab.jobsUnavailable = true;

        SweepReport report = sweep().run();

        assertTrue(report.cutShort());
        assertTrue(gitlab.deleted.isEmpty());
        assertTrue(tokens.values.contains(A));
        assertTrue(store.lifecycle(A).isPresent());
    }

    @Test
    void theReportNamesAtMostFiftyIdsButCountsAll() {
        settings = new OrphanSweep.Settings(Duration.ofSeconds(600), 1000, Duration.ofSeconds(20));
        for (int i = 0; i < 60; i++) {
            tokens.values.add(String.format("i-%017x", i));
        }

        SweepReport report = sweep().run();

        assertEquals(60, report.tokensDeleted().count());
        assertEquals(SweepReport.MAX_IDS, report.tokensDeleted().ids().size());
        assertEquals(String.format("i-%017x", 0), report.tokensDeleted().ids().getFirst());
    }

    // ------------------------------------------------------------------ two runs at once

    @Test
    @Timeout(20)
    void twoSweepsAtOnceDoNoDoubleHarm() throws Exception {
        // gone: A (record, runner 5, token), B (runner 6 with a running job, record); in the group: C (no record)
        store.recordRunner(A, "docker", 5L, InstanceState.READY, LONG_AGO);
        tokens.values.add(A);
        gitlab.runner(5, A);
        ec2.terminated(A, "docker-asg");
        store.recordRunner(B, "docker", 6L, InstanceState.READY, LONG_AGO);
        gitlab.runner(6, B);
        gitlab.running.put(6L, List.of(JOB));
        ec2.terminated(B, "docker-asg");
        groups.member("docker-asg", C, "InService");
        ec2.running(C, LONG_AGO);
        // both runs list GitLab's runners before either acts: the widest overlap
        gitlab.listBarrier = new CyclicBarrier(2);

        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Future<SweepReport> one = threads.submit(() -> sweep().run());
            Future<SweepReport> two = threads.submit(() -> sweep().run());
            SweepReport first = one.get();
            SweepReport second = two.get();

            assertEquals(List.of(5L), gitlab.deleted, "runner 5 deleted once; runner 6 (running job) never");
            // both runs may send the DELETE (the second is GitLab's 404, which counts as deleted): reported
            // by each, harmless; what matters is that the runner was deleted once and never the busy one
            long reported = first.runnersDeleted().count() + second.runnersDeleted().count();
            assertTrue(reported == 1 || reported == 2, "runner deletions reported: " + reported);
            assertEquals(1, starter.started.size(), "one drain of C; the other run found it running");
            assertEquals(C, starter.started.getFirst().instanceId());
            assertEquals(1, first.drainsStarted().count() + second.drainsStarted().count());
            assertTrue(tokens.values.isEmpty());
            assertTrue(store.lifecycle(A).isEmpty());
            assertEquals(6L, store.lifecycle(B).orElseThrow().runnerId());
            assertFalse(first.cutShort() || second.cutShort());
        } finally {
            threads.shutdownNow();
        }
    }

    // ------------------------------------------------------------------ fakes (thread-safe: two runs share them)

    static final class Gitlab implements GitLabRunners {
        final List<RunnerInfo> runners = new ArrayList<>();
        final List<Long> deleted = new ArrayList<>();
        final List<String> calls = new ArrayList<>();
        final Map<Long, List<JobKey>> running = new HashMap<>();
        boolean listRejected;
        boolean jobsUnavailable;
        volatile CyclicBarrier listBarrier;

        synchronized void runner(long id, String description) {
            runners.add(new RunnerInfo(id, description, RunnerType.GROUP, false));
        }

        @Override
        public CreatedRunner createRunner(RunnerSpec spec) {
            throw new AssertionError("the sweep creates no runner");
        }

        @Override
        public void setPaused(long runnerId, boolean paused) {
            throw new AssertionError("the sweep pauses no runner");
        }

        @Override
        public synchronized List<JobKey> runningJobs(long runnerId) {
            calls.add("jobs " + runnerId);
            if (jobsUnavailable) {
                throw new GitLabUnavailableException("GitLab answered 503", null);
            }
            if (runners.stream().noneMatch(r -> r.id() == runnerId)) {
                throw new GitLabRejectedException("GET /runners/" + runnerId + "/jobs: 404", 404);
            }
            return running.getOrDefault(runnerId, List.of());
        }

        @Override
        public synchronized void deleteRunner(long runnerId) {
            calls.add("delete " + runnerId);
            if (!running.getOrDefault(runnerId, List.of()).isEmpty()) {
                throw new AssertionError("runner " + runnerId + " deleted while it runs a job");
            }
            // as GitLab: a runner already gone answers 404, which counts as deleted
            if (runners.removeIf(r -> r.id() == runnerId)) {
                deleted.add(runnerId);
            }
        }

        @Override
        public void cancelJob(JobKey job) {
            throw new AssertionError("the sweep cancels no job");
        }

        @Override
        public Optional<JobKey> retryJob(JobKey job) {
            throw new AssertionError("the sweep retries no job");
        }

        @Override
        public List<RunnerInfo> runnersOf(RunnerOwner owner) {
            CyclicBarrier barrier = listBarrier;
            if (barrier != null) {
                try {
                    barrier.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
            synchronized (this) {
                calls.add("list " + owner);
                if (listRejected) {
                    throw new GitLabRejectedException("GET /groups/9/runners: 403 (needs read_api)", 403);
                }
                return List.copyOf(runners);
            }
        }
    }

    static final class Tokens implements RunnerTokens {
        final Set<String> values = java.util.Collections.synchronizedSet(new java.util.TreeSet<>());
        Runnable onDelete = () -> { };

        @Override
        public void put(String instanceId, String token, String instanceArn) {
            throw new AssertionError("the sweep stores no token");
        }

        @Override
        public boolean exists(String instanceId) {
            return values.contains(instanceId);
        }

        @Override
        public void delete(String instanceId) {
            onDelete.run();
            values.remove(instanceId);
        }

        @Override
        public List<String> list() {
            synchronized (values) {
                return List.copyOf(values);
            }
        }
    }

    static final class Groups implements GroupMembers {
        final Map<String, List<Member>> members = new HashMap<>();
        final Set<String> hookless = new HashSet<>();
        final Set<String> missing = new HashSet<>();

        void member(String asg, String instanceId, String state) {
            members.computeIfAbsent(asg, a -> new ArrayList<>()).add(new Member(instanceId, state));
        }

        void withoutHook(String asg) {
            hookless.add(asg);
        }

        @Override
        public synchronized Optional<Group> describe(String asg) {
            if (missing.contains(asg)) {
                return Optional.empty();
            }
            return Optional.of(new Group(asg, !hookless.contains(asg), members.getOrDefault(asg, List.of())));
        }
    }

    static final class Ec2 implements Ec2Instances {
        final Map<String, Ec2Instance> instances = new HashMap<>();

        void put(String id, String state, Instant launchedAt, String group) {
            instances.put(id, new Ec2Instance(id, state, launchedAt, group));
        }

        void running(String id, Instant launchedAt) {
            put(id, "running", launchedAt, null);
        }

        void terminated(String id, String group) {
            put(id, "terminated", LONG_AGO, group);
        }

        @Override
        public synchronized Map<String, Ec2Instance> describe(Collection<String> instanceIds) {
            Map<String, Ec2Instance> known = new HashMap<>();
            for (String id : instanceIds) {
                if (instances.containsKey(id)) {
                    known.put(id, instances.get(id));
                }
            }
            return known;
        }
    }

    /** Step Functions' rule: one running execution per name; an ended name cannot be used again. */
    static final class Starter implements DrainStarter {
        final List<Drain> started = new ArrayList<>();
        final List<String> names = new ArrayList<>();

        @Override
        public synchronized Outcome start(Drain drain, int attempt) {
            String name = DrainStarter.executionName(drain, attempt);
            if (names.contains(name)) {
                return Outcome.ALREADY_RUNNING;
            }
            names.add(name);
            started.add(drain);
            return Outcome.STARTED;
        }
    }
}
