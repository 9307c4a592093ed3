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
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.TestPools;
import io.runnerscale.store.InMemoryJobStore;
import io.runnerscale.store.InstanceLifecycle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LifecycleServiceTest {
    static final Instant NOW = Instant.parse("2025-03-01T10:00:00Z");
    static final String ID = "i-0abc1234def567890";
    static final String ARN = "arn:aws:ec2:us-east-1:123456789012:instance/" + ID;
    static final JobKey JOB = new JobKey(7, 100);
    static final JobKey OTHER = new JobKey(7, 101);

    final PoolsConfig pools = new PoolsConfig(List.of(
            drainsOnRebalance(TestPools.tagged("docker", List.of("docker", "linux"), true)),
            TestPools.tagged("gpu", List.of("gpu"), false)));
    final InMemoryJobStore store = new InMemoryJobStore();
    final FakeGitLab gitlab = new FakeGitLab();
    final FakeTokens tokens = new FakeTokens();
    final FakeActions actions = new FakeActions();
    final FakeDrains drains = new FakeDrains();
    /** Scale requests the service made: "pool reason dedupe-id". */
    final List<String> scaleRequestsMade = new ArrayList<>();
    final io.runnerscale.scaling.ScaleRequests scaleRequests =
            (pool, reason, dedupeId) -> scaleRequestsMade.add(pool + " " + reason + " " + dedupeId);
    Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);

    static PoolConfig drainsOnRebalance(PoolConfig p) {
        return new PoolConfig(p.name(), p.match(), new PoolConfig.Ec2Asg(((PoolConfig.Ec2Asg) p.backend()).asg(), true),
                p.capacityPerInstance(), p.maxInstances(), p.maxUseCount(), p.bootTimeout(), p.policy(), p.forecast());
    }

    LifecycleService service() {
        return new LifecycleService(() -> pools, store, gitlab, tokens, actions, drains, scaleRequests, RunnerOwner.group(9),
                Duration.ofHours(1), clock);
    }

    // ------------------------------------------------------------------ launch

    @Test
    void launchCreatesARunnerWithThePoolsTagsStoresItsTokenAndRecordsIt() {
        assertEquals(LifecycleService.LaunchResult.REGISTERED, service().onLaunch("gpu-asg", ID, ARN, "runnerscale-launch", "tok"));

        RunnerSpec spec = gitlab.created.getFirst();
        assertEquals(new RunnerSpec(RunnerOwner.group(9), ID, List.of("gpu"), false, Optional.empty()), spec);
        assertEquals(Map.of(ID, "glrt-1"), tokens.values);
        assertEquals(Map.of(ID, ARN), tokens.arns);
        InstanceLifecycle record = store.lifecycle(ID).orElseThrow();
        assertEquals("gpu", record.pool());
        assertEquals(1L, record.runnerId());
        assertEquals(InstanceState.REGISTERED, record.state());
        assertEquals(1, store.instances("gpu").size(), "the scaler sees the instance in its pool");
        assertTrue(actions.calls.isEmpty(), "the instance's user data completes the launch action, not the function");
    }

    @Test
    void repeatedLaunchEventCreatesNothingNew() {
        LifecycleService service = service();
        service.onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok");
        assertEquals(LifecycleService.LaunchResult.ALREADY_REGISTERED,
                service.onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok"));
        assertEquals(1, gitlab.created.size());
        assertEquals(List.of("docker", "linux"), gitlab.created.getFirst().tags());
        assertTrue(gitlab.created.getFirst().runUntagged());
    }

    @Test
    void launchOfAGroupNoPoolUsesIsAbandoned() {
        assertEquals(LifecycleService.LaunchResult.ABANDONED_UNKNOWN_GROUP,
                service().onLaunch("someone-elses-asg", ID, ARN, "runnerscale-launch", "tok"));
        assertEquals(List.of("complete runnerscale-launch someone-elses-asg " + ID + " tok ABANDON"), actions.calls);
        assertTrue(gitlab.created.isEmpty());
        assertTrue(store.lifecycle(ID).isEmpty());
    }

    @Test
    void launchInterruptedAfterTheRunnerWasCreatedDeletesItAndCreatesAFreshOne() {
        LifecycleService service = service();
        tokens.failPut = true;
        assertThrows(RetryableError.class, () -> service.onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok"));
        // GitLab shows a runner's token once: runner 1's token was never stored, so runner 1 is useless
        gitlab.runners.add(new RunnerInfo(1, ID, RunnerType.GROUP, false));
        tokens.failPut = false;

        assertEquals(LifecycleService.LaunchResult.REGISTERED, service.onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok"));
        assertEquals(List.of(1L), gitlab.deleted);
        assertEquals(2, gitlab.created.size());
        assertEquals("glrt-2", tokens.values.get(ID));
        assertEquals(2L, store.lifecycle(ID).orElseThrow().runnerId());
    }

    @Test
    void launchInterruptedBeforeTheRunnerWasRecordedFindsItByDescription() {
        LifecycleService service = service();
        gitlab.createdButAnswerLost = true;
        assertThrows(RetryableError.class, () -> service.onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok"));
        assertEquals(InstanceState.LAUNCHING, store.lifecycle(ID).orElseThrow().state());

        assertEquals(LifecycleService.LaunchResult.REGISTERED, service.onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok"));
        assertEquals(List.of(1L), gitlab.deleted, "the runner GitLab created before the answer was lost");
        assertEquals(2L, store.lifecycle(ID).orElseThrow().runnerId());
    }

    @Test
    void launchInterruptedAfterTheTokenWasStoredKeepsThatRunner() {
        LifecycleService service = service();
        service.onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok");
        // as if the last write (registered) had failed: runner recorded while launching, token stored,
        // and the failed handler gave its claim up
        store.recordRunner(ID, "docker", 1L, InstanceState.LAUNCHING, NOW);
        store.releaseLaunch(ID);

        assertEquals(LifecycleService.LaunchResult.REGISTERED, service.onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok"));
        assertEquals(1, gitlab.created.size());
        assertTrue(gitlab.deleted.isEmpty());
        assertEquals(InstanceState.REGISTERED, store.lifecycle(ID).orElseThrow().state());
    }

    @Test
    void launchWithGitLabDownIsRetryable() {
        gitlab.unavailable = true;
        RetryableError e = assertThrows(RetryableError.class,
                () -> service().onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok"));
        assertTrue(e.getMessage().contains("GitLab unavailable"), e.getMessage());
    }

    @Test
    void launchRefusedByGitLabIsNotRetryable() {
        gitlab.rejected = true;
        assertThrows(GitLabRejectedException.class, () -> service().onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok"));
    }

    // ------------------------------------------------------------------ drain starts

    @Test
    void terminateHookStartsALifecycleHookDrainHoldingTheHook() {
        registered();
        assertEquals(LifecycleService.DrainRequestResult.STARTED,
                service().onTerminateHook("docker-asg", ID, "runnerscale-terminate", "tok-t"));
        Drain drain = drains.started.getFirst();
        assertEquals("drain-" + ID + "-lifecycle-hook-1", drains.names.getFirst());
        assertEquals(new LifecycleHook("runnerscale-terminate", "tok-t"), drain.lifecycleHook());
        assertEquals(1L, drain.runnerId());
        assertEquals("docker", drain.pool());
        assertEquals("docker-asg", drain.asg());
        assertEquals(NOW.plus(Duration.ofHours(1)), drain.deadline());
        assertTrue(actions.calls.isEmpty());
    }

    @Test
    void terminateHookOfAnInstanceAlreadyDrainedCompletesAtOnce() {
        registered();
        store.setState(ID, InstanceState.GONE);
        assertEquals(LifecycleService.DrainRequestResult.COMPLETED_AT_ONCE,
                service().onTerminateHook("docker-asg", ID, "runnerscale-terminate", "tok-t"));
        assertEquals(List.of("complete runnerscale-terminate docker-asg " + ID + " tok-t CONTINUE"), actions.calls);
        assertTrue(drains.started.isEmpty());
    }

    @Test
    void spotWarningDrainsWithTheSpotDeadlineFromTheWarning() {
        registered();
        Instant warned = NOW.minusSeconds(5);
        assertEquals(LifecycleService.DrainRequestResult.STARTED, service().onSpotWarning(ID, warned));
        Drain drain = drains.started.getFirst();
        assertEquals(DrainReason.SPOT, drain.reason());
        assertEquals(warned.plus(DrainPolicy.SPOT_DEADLINE), drain.deadline());
        assertEquals(DrainRequests.SPOT_HEARTBEAT_SECONDS, drain.heartbeatSeconds());
        assertNull(drain.lifecycleHook());
        assertEquals("drain-" + ID + "-spot-1", drains.names.getFirst());
        // the replacement is asked for at once: the scaler counts the instance out while it drains
        assertEquals(InstanceState.INTERRUPTED, store.lifecycle(ID).orElseThrow().state());
        assertEquals(List.of("docker spot " + ID + " replace-" + ID + "-spot"), scaleRequestsMade);
    }

    @Test
    void aRebalanceRecommendationIsIgnoredUnlessThePoolAsks() {
        store.recordRunner(ID, "gpu", 7L, InstanceState.READY, NOW);
        assertEquals(LifecycleService.DrainRequestResult.IGNORED_NOT_ASKED, service().onRebalance(ID, NOW));
        assertTrue(drains.names.isEmpty());
        assertTrue(scaleRequestsMade.isEmpty());
        assertEquals(InstanceState.READY, store.lifecycle(ID).orElseThrow().state());
    }

    @Test
    void rebalanceDrainsWithTheJobTimeout() {
        registered();
        assertEquals(LifecycleService.DrainRequestResult.STARTED, service().onRebalance(ID, NOW));
        assertEquals(DrainReason.REBALANCE, drains.started.getFirst().reason());
        assertEquals(NOW.plus(Duration.ofHours(1)), drains.started.getFirst().deadline());
        assertEquals(List.of("docker rebalance " + ID + " replace-" + ID + "-rebalance"), scaleRequestsMade);
    }

    @Test
    void spotWarningForAnInstanceRunnerscaleDoesNotKnowIsIgnored() {
        assertEquals(LifecycleService.DrainRequestResult.IGNORED_UNKNOWN_INSTANCE, service().onSpotWarning("i-0fffffffffffffff0", NOW));
        assertTrue(drains.started.isEmpty());
        assertTrue(scaleRequestsMade.isEmpty());
    }

    @Test
    void aSpotWarningBeforeTheLaunchEventMakesTheLaunchAbandonInsteadOfCreatingARunner() {
        // the warning is handled first (EventBridge gives no order): the instance has no record yet
        assertEquals(LifecycleService.DrainRequestResult.IGNORED_UNKNOWN_INSTANCE, service().onSpotWarning(ID, NOW));
        assertEquals(LifecycleService.LaunchResult.ABANDONED_GONE,
                service().onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok"));
        assertTrue(gitlab.created.isEmpty(), "a runner would take a job in the instance's last two minutes");
        assertTrue(tokens.values.isEmpty());
        assertEquals(List.of("complete runnerscale-launch docker-asg " + ID + " tok ABANDON"), actions.calls);
    }

    @Test
    void aSpotWarningForAnInstanceOnlyTheScalerHasSeenAlsoMakesItsLaunchAbandon() {
        // found by FleetInterleavingPropertyTest: the scaler recorded the instance, its launch event came late
        store.recordInstance("docker", ID, NOW);
        assertEquals(LifecycleService.DrainRequestResult.IGNORED_UNKNOWN_INSTANCE, service().onSpotWarning(ID, NOW));
        assertTrue(store.instances("docker").isEmpty(), "leaving: the scaler counts it out");
        assertEquals(LifecycleService.LaunchResult.ABANDONED_GONE,
                service().onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok"));
        assertTrue(gitlab.created.isEmpty());
    }

    @Test
    void aLaunchEventHandledAfterTheInstanceWasDrainedCreatesNoRunner() {
        registered();
        service().task("Terminate", drain(DrainReason.SPOT, null).withRunnerDeleted());
        actions.calls.clear();
        // the scaler's next decisions do not forget the gone instance's record: it is the tombstone
        assertTrue(store.instances("docker").isEmpty(), "no longer one of the pool's instances");
        assertEquals(LifecycleService.LaunchResult.ABANDONED_GONE,
                service().onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok"));
        assertTrue(gitlab.created.isEmpty());
    }

    @Test
    void anAbandonedScaleInDrainDoesNotUndoASpotDrainThatOwnsTheInstance() {
        // found by review: a job starts during a scale-in drain just as the spot warning comes
        registered();
        Drain scaleIn = service().task("MarkDraining", drain(DrainReason.SCALE_IN, null));
        service().task("PauseRunner", scaleIn);
        assertEquals(LifecycleService.DrainRequestResult.STARTED, service().onSpotWarning(ID, NOW));
        gitlab.pauses.clear();
        Drain abandoned = service().task("UnpauseRunner", scaleIn);
        assertEquals(DrainOutcome.ABANDONED, abandoned.outcome());
        assertEquals(InstanceState.INTERRUPTED, store.lifecycle(ID).orElseThrow().state());
        assertTrue(store.lifecycle(ID).orElseThrow().runnerPaused(), "no new job for an instance EC2 takes back");
        assertTrue(gitlab.pauses.isEmpty(), gitlab.pauses.toString());
    }

    @Test
    void launchSuccessfulMakesARegisteredInstanceReadyButNeverUndoesADrain() {
        registered();
        assertTrue(service().onLaunchSuccessful(ID));
        assertEquals(InstanceState.READY, store.lifecycle(ID).orElseThrow().state());
        assertFalse(service().onLaunchSuccessful(ID), "a repeated event changes nothing");
        store.setState(ID, InstanceState.DRAINING);
        assertFalse(service().onLaunchSuccessful(ID));
        assertEquals(InstanceState.DRAINING, store.lifecycle(ID).orElseThrow().state());
        assertFalse(service().onLaunchSuccessful("i-0fffffffffffffff0"), "unknown instance");
    }

    @Test
    void aRunnerAnotherDrainDeletedIsTakenForGoneNotForGitLabTrouble() {
        registered();
        gitlab.deleted.add(1L);   // the spot drain deleted it; this is the terminate hook's drain
        Drain checked = service().task("RunningJobs", drain(DrainReason.LIFECYCLE_HOOK, new LifecycleHook("h", "t")));
        assertEquals("DeleteRunner", checked.next(), "DeleteRunner counts 404 as deleted and removes the token");
        Drain deleted = service().task("DeleteRunner", checked);
        assertNull(deleted.runnerId());
        assertTrue(tokens.values.isEmpty());
        assertEquals(checked, service().task("CancelAndRetryJobs", checked), "nothing to cancel on a gone runner");
    }

    @Test
    void aDuplicateWhileTheDrainRunsStartsNothingNew() {
        registered();
        drains.outcomes.add(DrainStarter.Outcome.ALREADY_RUNNING);
        assertEquals(LifecycleService.DrainRequestResult.ALREADY_RUNNING, service().onRebalance(ID, NOW));
        assertEquals(1, drains.names.size());
    }

    @Test
    void aNameUsedByAnEndedDrainMovesToTheNextAttempt() {
        registered();
        drains.outcomes.add(DrainStarter.Outcome.NAME_USED);
        assertEquals(LifecycleService.DrainRequestResult.STARTED, service().onRebalance(ID, NOW));
        assertEquals(List.of("drain-" + ID + "-rebalance-1", "drain-" + ID + "-rebalance-2"), drains.names);
    }

    // ------------------------------------------------------------------ drain tasks

    @Test
    void markDrainingSetsTheStateAndTakesTheJobsRunningNowAsTheBaseline() {
        registered();
        gitlab.running = List.of(JOB);
        Drain drain = service().task("MarkDraining", drain(DrainReason.SCALE_IN, null));
        assertEquals(InstanceState.DRAINING, store.lifecycle(ID).orElseThrow().state());
        assertEquals(List.of(JOB), drain.runningJobs());
        assertFalse(drain.jobStartedDuringDrain());
        // the job running at the start is not one that started during the drain: no abandon
        store.setRunnerPaused(ID, true);
        assertEquals("WaitForJobs", service().task("RunningJobs", drain).next());
    }

    @Test
    void pauseRunnerPausesInGitLabAndRemembersIt() {
        registered();
        Drain drain = drain(DrainReason.SCALE_IN, null);
        assertEquals(drain, service().task("PauseRunner", drain));
        assertEquals(List.of("pause 1 true"), gitlab.pauses);
        assertTrue(store.lifecycle(ID).orElseThrow().runnerPaused());
    }

    @Test
    void runningJobsAsksGitLabAndWritesThePolicysDecision() {
        registered();
        LifecycleService service = service();
        Drain drain = drain(DrainReason.SCALE_IN, null);
        assertEquals("Pause", service.task("RunningJobs", drain).next(), "not paused yet");
        store.setRunnerPaused(ID, true);
        assertEquals("DeleteRunner", service.task("RunningJobs", drain).next());
        gitlab.running = List.of(OTHER);
        Drain checked = service.task("RunningJobs", drain);
        assertEquals("Abandon", checked.next(), "a job started during a scale-in drain");
        assertEquals(List.of(OTHER), checked.runningJobs());
        assertTrue(checked.jobStartedDuringDrain());
        assertEquals("Terminate", service.task("RunningJobs", drain.withRunnerDeleted()).next());
    }

    @Test
    void heartbeatRecordsOnlyWhenAHookHoldsTheInstance() {
        registered();
        service().task("Heartbeat", drain(DrainReason.SCALE_IN, null));
        assertTrue(actions.calls.isEmpty());
        service().task("Heartbeat", drain(DrainReason.LIFECYCLE_HOOK, new LifecycleHook("runnerscale-terminate", "t")));
        assertEquals(List.of("heartbeat runnerscale-terminate docker-asg " + ID + " t"), actions.calls);
    }

    @Test
    void cancelAndRetryCancelsThenRetriesEachJobPastTheDeadlineOnce() {
        registered();
        store.setRunnerPaused(ID, true);
        gitlab.running = List.of(JOB, OTHER);
        Drain drain = Drain.start(ID, "docker", "docker-asg", 1L, DrainReason.SPOT, null, NOW.minusSeconds(101),
                Duration.ofHours(1), 10, List.of(JOB, OTHER)).withCancelled(List.of(OTHER));
        Drain after = service().task("CancelAndRetryJobs", drain);
        assertEquals(List.of("cancel " + JOB, "retry " + JOB), gitlab.jobCalls, "OTHER was cancelled before");
        assertEquals(List.of(OTHER, JOB), after.cancelledJobs());
    }

    @Test
    void cancelAndRetryBeforeTheDeadlineCancelsNothing() {
        registered();
        store.setRunnerPaused(ID, true);
        gitlab.running = List.of(JOB);
        Drain drain = Drain.start(ID, "docker", "docker-asg", 1L, DrainReason.SPOT, null, NOW.minusSeconds(99),
                Duration.ofHours(1), 10, List.of(JOB));
        assertEquals(drain, service().task("CancelAndRetryJobs", drain));
        assertTrue(gitlab.jobCalls.isEmpty());
    }

    @Test
    void unpauseRunnerKeepsTheInstanceAndMovesTheDrainAttemptOn() {
        registered();
        store.setState(ID, InstanceState.DRAINING);   // MarkDraining came first
        store.setRunnerPaused(ID, true);
        Drain after = service().task("UnpauseRunner", drain(DrainReason.SCALE_IN, null));
        assertEquals(DrainOutcome.ABANDONED, after.outcome());
        assertEquals(List.of("pause 1 false"), gitlab.pauses);
        InstanceLifecycle record = store.lifecycle(ID).orElseThrow();
        assertFalse(record.runnerPaused());
        assertEquals(InstanceState.READY, record.state());
        assertEquals(2, record.drainAttempt());
    }

    @Test
    void deleteRunnerDeletesRunnerAndToken() {
        registered();
        Drain after = service().task("DeleteRunner", drain(DrainReason.SCALE_IN, null));
        assertNull(after.runnerId());
        assertEquals(List.of(1L), gitlab.deleted);
        assertFalse(tokens.values.containsKey(ID));
        assertNull(store.lifecycle(ID).orElseThrow().runnerId());
    }

    @Test
    void deleteRunnerRefusesWhileGitLabListsARunningJob() {
        registered();
        gitlab.running = List.of(JOB);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> service().task("DeleteRunner", drain(DrainReason.SCALE_IN, null)));
        assertTrue(e.getMessage().contains("running job"), e.getMessage());
        assertTrue(gitlab.deleted.isEmpty());
        assertTrue(tokens.values.containsKey(ID));
    }

    @ParameterizedTest
    @EnumSource(DrainReason.class)
    void terminateWithoutAHookAlwaysLowersDesiredCapacity(DrainReason reason) {
        // runnerscale alone decides replacements: the scaler asked for one already if the pool needs it
        registered();
        Drain after = service().task("Terminate", drain(reason, null).withRunnerDeleted());
        assertEquals(List.of("terminate " + ID + " true"), actions.calls);
        assertEquals(DrainOutcome.TERMINATED, after.outcome());
        assertEquals(InstanceState.GONE, store.lifecycle(ID).orElseThrow().state());
    }

    @Test
    void terminateWithAHookCompletesItWithContinue() {
        registered();
        service().task("Terminate", drain(DrainReason.LIFECYCLE_HOOK, new LifecycleHook("runnerscale-terminate", "t"))
                .withRunnerDeleted());
        assertEquals(List.of("complete runnerscale-terminate docker-asg " + ID + " t CONTINUE"), actions.calls);
    }

    @Test
    void terminateKeepsAnOutcomeTheCleanupPathSet() {
        registered();
        Drain cleaned = drain(DrainReason.SCALE_IN, null).withRunnerDeleted().withOutcome(DrainOutcome.TIMED_OUT_CLEANED);
        assertEquals(DrainOutcome.TIMED_OUT_CLEANED, service().task("Terminate", cleaned).outcome());
    }

    @Test
    void terminateRefusesAnInstanceWhoseRunnerStillExists() {
        registered();
        assertThrows(IllegalStateException.class, () -> service().task("Terminate", drain(DrainReason.SCALE_IN, null)));
        assertTrue(actions.calls.isEmpty());
    }

    @Test
    void everyGitLabTaskTurnsGitLabUnavailableIntoRetryableError() {
        registered();
        gitlab.unavailable = true;
        for (String task : List.of("MarkDraining", "PauseRunner", "RunningJobs", "CancelAndRetryJobs", "DeleteRunner")) {
            assertThrows(RetryableError.class, () -> service().task(task, drain(DrainReason.SPOT, null)), task);
        }
        store.setState(ID, InstanceState.DRAINING);
        assertThrows(RetryableError.class, () -> service().task("UnpauseRunner", drain(DrainReason.SCALE_IN, null)));
        assertEquals(InstanceState.DRAINING, store.lifecycle(ID).orElseThrow().state(), "a retry still finds it draining");
    }

    @Test
    void unknownTaskIsRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> service().task("Explode".repeat(40), drain(DrainReason.SCALE_IN, null)));
        assertTrue(e.getMessage().contains("is not one of"), e.getMessage());
        assertTrue(e.getMessage().length() < 300, "the task name is abbreviated");
    }

    // ------------------------------------------------------------------ review findings (h9-review)

    /**
     * Step Functions retries DeleteRunner after a RetryableError thrown once GitLab had deleted the
     * runner (here: SSM throttled the token deletion; a Lambda timeout is the same). The retry must
     * finish the cleanup, not fail on the 404 of the deleted runner and leave the token behind.
     */
    @Test
    void deleteRunnerRetriedAfterGitLabDeletedTheRunnerStillDeletesTheToken() {
        registered();
        tokens.failDelete = true;
        Drain drain = drain(DrainReason.SCALE_IN, null);
        assertThrows(RetryableError.class, () -> service().task("DeleteRunner", drain));
        assertEquals(List.of(1L), gitlab.deleted);
        tokens.failDelete = false;

        Drain after = service().task("DeleteRunner", drain);
        assertNull(after.runnerId());
        assertFalse(tokens.values.containsKey(ID), "the token of the deleted runner is deleted");
        assertNull(store.lifecycle(ID).orElseThrow().runnerId());
    }

    /** A 404 on a runner the drain did not delete itself is not taken for "no job runs". */
    @Test
    void deleteRunnerRefusesWhenRunningJobsIsRefusedForAnotherReason() {
        registered();
        gitlab.rejected = true;
        assertThrows(GitLabRejectedException.class, () -> service().task("DeleteRunner", drain(DrainReason.SCALE_IN, null)));
        assertTrue(gitlab.deleted.isEmpty());
        assertTrue(tokens.values.containsKey(ID));
    }

    /**
     * A launch event delivered late (EventBridge at least once, or Lambda's async retry of a launch
     * that failed) after the instance was drained and terminated must not create a runner and token
     * for an instance that no longer exists: nothing would ever delete them.
     */
    @Test
    void launchEventArrivingAfterTheInstanceIsGoneCreatesNothing() {
        registered();
        LifecycleService service = service();
        service.task("DeleteRunner", drain(DrainReason.SCALE_IN, null));
        service.task("Terminate", drain(DrainReason.SCALE_IN, null).withRunnerDeleted());

        service.onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok");
        assertTrue(gitlab.created.isEmpty(), "no runner for a terminated instance");
        assertFalse(tokens.values.containsKey(ID), "no token for a terminated instance");
        assertEquals(InstanceState.GONE, store.lifecycle(ID).orElseThrow().state());
    }

    /** The same while the instance is being drained after its runner was deleted. */
    @Test
    void launchEventArrivingDuringADrainCreatesNothing() {
        registered();
        LifecycleService service = service();
        service.task("MarkDraining", drain(DrainReason.SCALE_IN, null));
        service.task("DeleteRunner", drain(DrainReason.SCALE_IN, null));

        service.onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok");
        assertTrue(gitlab.created.isEmpty(), "no runner for an instance being drained");
        assertEquals(InstanceState.DRAINING, store.lifecycle(ID).orElseThrow().state());
    }

    /**
     * Two deliveries of one launch event handled at the same time (EventBridge at least once; two
     * Lambda instances): both find no record, both create a runner. The instance may register with
     * the first token while the record names the second runner; the drain then checks and deletes
     * the second runner and terminates the instance under a job running on the first, and the first
     * runner is never deleted.
     */
    /** Found by review: two copies of the launch event handled at once made two runners. */
    @Test
    void concurrentDuplicateLaunchEventsCreateOneRunner() {
        LifecycleService service = service();
        List<LifecycleService.LaunchResult> second = new ArrayList<>();
        gitlab.duringCreate = () -> second.add(service.onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok"));
        assertEquals(LifecycleService.LaunchResult.REGISTERED,
                service.onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok"));
        assertEquals(List.of(LifecycleService.LaunchResult.IN_PROGRESS), second);
        assertEquals(1, gitlab.created.size() - gitlab.deleted.size(), "one live runner for the instance");
    }

    @Test
    void aClaimLeftByAHandlerThatDiedLapsesAfterTheLease() {
        assertTrue(store.claimLaunch(ID, "docker", NOW, LifecycleService.LAUNCH_LEASE));
        assertFalse(store.claimLaunch(ID, "docker", NOW.plusSeconds(10), LifecycleService.LAUNCH_LEASE), "held");
        assertTrue(store.claimLaunch(ID, "docker", NOW.plus(LifecycleService.LAUNCH_LEASE).plusSeconds(1),
                LifecycleService.LAUNCH_LEASE), "lapsed: the event's retry takes over");
        store.recordRunner(ID, "docker", 7L, InstanceState.REGISTERED, NOW);
        assertFalse(store.claimLaunch(ID, "docker", NOW.plus(Duration.ofHours(1)), LifecycleService.LAUNCH_LEASE),
                "never once past launching");
    }

    @Test
    void aFailedLaunchReleasesItsClaimSoTheRetryGoesAhead() {
        gitlab.unavailable = true;
        assertThrows(RetryableError.class, () -> service().onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok"));
        gitlab.unavailable = false;
        assertEquals(LifecycleService.LaunchResult.REGISTERED,
                service().onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok"), "not held up by a dead claim");
        assertEquals(1, gitlab.created.size());
    }

    // ------------------------------------------------------------------ helpers

    void registered() {
        service().onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok");
        gitlab.created.clear();
    }

    static Drain drain(DrainReason reason, LifecycleHook hook) {
        return Drain.start(ID, "docker", "docker-asg", 1L, reason, hook, NOW, Duration.ofHours(1), 60, List.of());
    }

    static final class FakeGitLab implements GitLabRunners {
        final List<RunnerSpec> created = new ArrayList<>();
        final List<RunnerInfo> runners = new ArrayList<>();
        final List<Long> deleted = new ArrayList<>();
        final List<String> pauses = new ArrayList<>();
        final List<String> jobCalls = new ArrayList<>();
        List<JobKey> running = List.of();
        boolean unavailable;
        boolean rejected;
        boolean createdButAnswerLost;
        /** Runs inside createRunner once: a second delivery of the event arriving meanwhile. */
        Runnable duringCreate;
        long nextId = 1;

        void check() {
            if (unavailable) {
                throw new GitLabUnavailableException("GitLab answered 503", null);
            }
            if (rejected) {
                throw new GitLabRejectedException("POST /user/runners: 403 (needs create_runner)", 403);
            }
        }

        @Override
        public CreatedRunner createRunner(RunnerSpec spec) {
            check();
            if (duringCreate != null) {
                Runnable concurrent = duringCreate;
                duringCreate = null;
                concurrent.run();
            }
            created.add(spec);
            long id = nextId++;
            runners.add(new RunnerInfo(id, spec.description(), spec.owner().type(), false));
            if (createdButAnswerLost) {
                createdButAnswerLost = false;
                throw new GitLabUnavailableException("timed out", null);
            }
            return new CreatedRunner(id, "glrt-" + id);
        }

        @Override
        public void setPaused(long runnerId, boolean paused) {
            check();
            pauses.add("pause " + runnerId + " " + paused);
        }

        @Override
        public List<JobKey> runningJobs(long runnerId) {
            check();
            if (deleted.contains(runnerId)) {
                // as GitLab: GET /runners/:id/jobs of a deleted runner answers 404
                throw new GitLabRejectedException("GET /runners/" + runnerId + "/jobs: 404", 404);
            }
            return running;
        }

        @Override
        public void deleteRunner(long runnerId) {
            check();
            deleted.add(runnerId);
            runners.removeIf(r -> r.id() == runnerId);
        }

        @Override
        public void cancelJob(JobKey job) {
            check();
            jobCalls.add("cancel " + job);
        }

        @Override
        public Optional<JobKey> retryJob(JobKey job) {
            check();
            jobCalls.add("retry " + job);
            return Optional.of(new JobKey(job.projectId(), job.jobId() + 1000));
        }

        @Override
        public List<RunnerInfo> runnersOf(RunnerOwner owner) {
            check();
            return List.copyOf(runners);
        }
    }

    static final class FakeTokens implements RunnerTokens {
        final Map<String, String> values = new HashMap<>();
        final Map<String, String> arns = new HashMap<>();
        boolean failPut;
        boolean failDelete;

        @Override
        public void put(String instanceId, String token, String instanceArn) {
            if (failPut) {
                throw new RetryableError("SSM PutParameter: ThrottlingException (400)");
            }
            values.put(instanceId, token);
            arns.put(instanceId, instanceArn);
        }

        @Override
        public boolean exists(String instanceId) {
            return values.containsKey(instanceId);
        }

        @Override
        public void delete(String instanceId) {
            if (failDelete) {
                throw new RetryableError("SSM DeleteParameter: ThrottlingException (400)");
            }
            values.remove(instanceId);
            arns.remove(instanceId);
        }

        @Override
        public List<String> list() {
            return List.copyOf(values.keySet());
        }
    }

    static final class FakeActions implements LifecycleActions {
        final List<String> calls = new ArrayList<>();

        @Override
        public void heartbeat(String hookName, String asg, String instanceId, String token) {
            calls.add("heartbeat " + hookName + " " + asg + " " + instanceId + " " + token);
        }

        @Override
        public void complete(String hookName, String asg, String instanceId, String token, Result result) {
            calls.add("complete " + hookName + " " + asg + " " + instanceId + " " + token + " " + result);
        }

        @Override
        public void terminate(String instanceId, boolean decrement) {
            calls.add("terminate " + instanceId + " " + decrement);
        }
    }

    static final class FakeDrains implements DrainStarter {
        final List<Drain> started = new ArrayList<>();
        final List<String> names = new ArrayList<>();
        final Deque<Outcome> outcomes = new ArrayDeque<>();

        @Override
        public Outcome start(Drain drain, int attempt) {
            names.add(DrainStarter.executionName(drain, attempt));
            Outcome outcome = outcomes.isEmpty() ? Outcome.STARTED : outcomes.poll();
            if (outcome == Outcome.STARTED) {
                started.add(drain);
            }
            return outcome;
        }
    }
}
