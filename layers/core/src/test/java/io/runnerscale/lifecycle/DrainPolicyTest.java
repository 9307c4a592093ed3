package io.runnerscale.lifecycle;

import io.runnerscale.job.JobKey;
import io.runnerscale.lifecycle.DrainStep.Abandon;
import io.runnerscale.lifecycle.DrainStep.CancelAndRetry;
import io.runnerscale.lifecycle.DrainStep.DeleteRunner;
import io.runnerscale.lifecycle.DrainStep.Pause;
import io.runnerscale.lifecycle.DrainStep.Terminate;
import io.runnerscale.lifecycle.DrainStep.WaitForJobs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DrainPolicyTest {
    static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");
    static final Duration JOB_TIMEOUT = Duration.ofHours(1);
    static final JobKey OLD = new JobKey(7, 100);
    static final JobKey NEW = new JobKey(7, 101);
    static final LifecycleHook HOOK = new LifecycleHook("runnerscale-terminate", "tok-1");

    static Drain drain(DrainReason reason, LifecycleHook hook, List<JobKey> runningAtStart) {
        return Drain.start("i-0abc", "docker", "asg-docker", 42L, reason, hook, T0, JOB_TIMEOUT, 30, runningAtStart);
    }

    @Test
    void deadlineIsTheJobTimeoutExceptForSpot() {
        for (DrainReason reason : DrainReason.values()) {
            Instant expected = reason == DrainReason.SPOT ? T0.plusSeconds(100) : T0.plus(JOB_TIMEOUT);
            assertEquals(expected, DrainPolicy.deadline(reason, T0, JOB_TIMEOUT), reason.wireName());
        }
        assertThrows(IllegalArgumentException.class, () -> DrainPolicy.deadline(DrainReason.SCALE_IN, T0, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> DrainPolicy.deadline(DrainReason.SCALE_IN, T0, Duration.ofSeconds(-1)));
        assertThrows(IllegalArgumentException.class, () -> DrainPolicy.deadline(DrainReason.SCALE_IN, T0, null));
    }

    @Test
    void abandonableReasonsAreRunnerscalesOwnChoices() {
        for (DrainReason reason : DrainReason.values()) {
            boolean expected = reason == DrainReason.SCALE_IN || reason == DrainReason.RETIRED || reason == DrainReason.OUTDATED;
            assertEquals(expected, reason.abandonable(), reason.wireName());
        }
    }

    @ParameterizedTest
    @EnumSource(DrainReason.class)
    void idleRunnerIsPausedThenDeletedThenTerminated(DrainReason reason) {
        Drain drain = drain(reason, null, List.of());
        assertEquals(new Pause(), DrainPolicy.next(drain, T0, List.of(), false));
        assertEquals(new DeleteRunner(), DrainPolicy.next(drain, T0, List.of(), true));
        assertEquals(new Terminate(), DrainPolicy.next(drain.withRunnerDeleted(), T0, List.of(), true));
        // a deleted runner is paused or not: it takes no job either way
        assertEquals(new Terminate(), DrainPolicy.next(drain.withRunnerDeleted(), T0, List.of(), false));
    }

    @ParameterizedTest
    @EnumSource(DrainReason.class)
    void jobRunningSinceBeforeTheDrainIsWaitedForUntilTheDeadline(DrainReason reason) {
        Drain drain = drain(reason, null, List.of(OLD));
        Instant beforeDeadline = drain.deadline().minusSeconds(1);
        assertEquals(new Pause(), DrainPolicy.next(drain, T0, List.of(OLD), false));
        assertEquals(new WaitForJobs(Duration.ofSeconds(30), false), DrainPolicy.next(drain, T0, List.of(OLD), true));
        assertEquals(new WaitForJobs(Duration.ofSeconds(30), false), DrainPolicy.next(drain, beforeDeadline, List.of(OLD), true));
        assertEquals(new CancelAndRetry(List.of(OLD)), DrainPolicy.next(drain, drain.deadline(), List.of(OLD), true));
    }

    @Test
    void heldLifecycleActionGetsHeartbeatsWhileWaiting() {
        Drain drain = drain(DrainReason.LIFECYCLE_HOOK, HOOK, List.of(OLD));
        DrainStep step = DrainPolicy.next(drain, T0.plusSeconds(60), List.of(OLD), true);
        assertEquals(new WaitForJobs(Duration.ofSeconds(30), true), step);
    }

    @ParameterizedTest
    @EnumSource(value = DrainReason.class, names = {"SCALE_IN", "RETIRED", "OUTDATED"})
    void jobStartedDuringAnAbandonableDrainAbandonsIt(DrainReason reason) {
        Drain drain = drain(reason, null, List.of(OLD));
        assertEquals(new Abandon(), DrainPolicy.next(drain, T0, List.of(OLD, NEW), true));
        // also past the deadline: keeping the instance harms no job, cancelling would
        assertEquals(new Abandon(), DrainPolicy.next(drain, drain.deadline().plusSeconds(5), List.of(NEW), true));
        // seen at an earlier check, the flag carries it
        Drain seen = drain.observed(List.of(NEW)).observed(List.of(NEW));
        assertTrue(seen.jobStartedDuringDrain());
        assertEquals(new Abandon(), DrainPolicy.next(seen, T0, List.of(NEW), true));
    }

    @ParameterizedTest
    @EnumSource(value = DrainReason.class, names = {"BOOT_TIMEOUT", "LIFECYCLE_HOOK", "SPOT", "REBALANCE"})
    void jobStartedDuringAnUnabandonableDrainIsWaitedForThenCancelled(DrainReason reason) {
        Drain drain = drain(reason, null, List.of());
        assertEquals(new WaitForJobs(Duration.ofSeconds(30), false), DrainPolicy.next(drain, T0, List.of(NEW), true));
        assertEquals(new CancelAndRetry(List.of(NEW)), DrainPolicy.next(drain, drain.deadline(), List.of(NEW), true));
    }

    @Test
    void newJobThatFinishedDoesNotStopTheDrain() {
        Drain drain = drain(DrainReason.SCALE_IN, null, List.of()).observed(List.of(NEW));
        assertTrue(drain.jobStartedDuringDrain());
        assertEquals(new DeleteRunner(), DrainPolicy.next(drain, T0, List.of(), true));
    }

    @Test
    void spotCancelsAndRetriesOnceAfterHundredSecondsThenWaitsForGitLabToLetGo() {
        Drain drain = drain(DrainReason.SPOT, null, List.of(OLD));
        assertEquals(new WaitForJobs(Duration.ofSeconds(30), false), DrainPolicy.next(drain, T0.plusSeconds(99), List.of(OLD), true));
        assertEquals(new CancelAndRetry(List.of(OLD)), DrainPolicy.next(drain, T0.plusSeconds(100), List.of(OLD), true));
        Drain cancelled = drain.withCancelled(List.of(OLD));
        // GitLab still lists the cancelled job: no second cancel (a second retry would run it twice), no terminate
        assertEquals(new WaitForJobs(Duration.ofSeconds(30), false), DrainPolicy.next(cancelled, T0.plusSeconds(101), List.of(OLD), true));
        // only the jobs not cancelled yet are cancelled
        assertEquals(new CancelAndRetry(List.of(NEW)), DrainPolicy.next(cancelled, T0.plusSeconds(101), List.of(OLD, NEW), true));
        assertEquals(new DeleteRunner(), DrainPolicy.next(cancelled, T0.plusSeconds(102), List.of(), true));
    }

    @Test
    void runnerIsPausedBeforeAnythingElse() {
        Drain drain = drain(DrainReason.SCALE_IN, null, List.of(OLD));
        assertEquals(new Pause(), DrainPolicy.next(drain, drain.deadline().plusSeconds(1), List.of(OLD, NEW), false));
    }

    @Test
    void abandonedDrainStaysAbandoned() {
        Drain drain = drain(DrainReason.SCALE_IN, null, List.of()).withOutcome(DrainOutcome.ABANDONED);
        assertEquals(new Abandon(), DrainPolicy.next(drain, T0, List.of(), false));
        assertEquals(new Abandon(), DrainPolicy.next(drain, T0, List.of(), true));
    }

    @Test
    void jobsListedForADeletedRunnerAreNeverTerminatedUnder() {
        Drain drain = drain(DrainReason.SCALE_IN, null, List.of(OLD)).withRunnerDeleted();
        assertEquals(new WaitForJobs(Duration.ofSeconds(30), false), DrainPolicy.next(drain, T0, List.of(OLD), false));
    }

    @Test
    void outcomeSetFirstIsKept() {
        Drain drain = drain(DrainReason.SCALE_IN, null, List.of()).withOutcome(DrainOutcome.TIMED_OUT_CLEANED);
        assertEquals(DrainOutcome.TIMED_OUT_CLEANED, drain.withOutcome(DrainOutcome.TERMINATED).outcome());
        assertFalse(drain(DrainReason.SCALE_IN, null, List.of()).jobStartedDuringDrain());
    }

    @Test
    void stepsHaveTheNamesTheStateMachineMatches() {
        assertEquals("Pause", new Pause().wireName());
        assertEquals("WaitForJobs", new WaitForJobs(Duration.ofSeconds(1), false).wireName());
        assertEquals("Abandon", new Abandon().wireName());
        assertEquals("CancelAndRetry", new CancelAndRetry(List.of()).wireName());
        assertEquals("DeleteRunner", new DeleteRunner().wireName());
        assertEquals("Terminate", new Terminate().wireName());
        assertEquals("DeleteRunner", drain(DrainReason.SPOT, null, List.of()).withNext(new DeleteRunner()).next());
    }
}
