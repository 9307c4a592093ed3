package io.runnerscale.lifecycle;

import io.runnerscale.store.InstanceLifecycle;
import io.runnerscale.store.InstanceRecord;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.runnerscale.lifecycle.LifecycleService.LaunchPath.COLD;
import static io.runnerscale.lifecycle.LifecycleService.LaunchPath.FROM_WARM_POOL;
import static io.runnerscale.lifecycle.LifecycleService.LaunchPath.TO_WARM_POOL;
import static io.runnerscale.lifecycle.LifecycleServiceTest.ARN;
import static io.runnerscale.lifecycle.LifecycleServiceTest.ID;
import static io.runnerscale.lifecycle.LifecycleServiceTest.NOW;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The warm pool's transitions of an instance's life: launched into the warm pool (no runner), resumed
 * (a runner exactly as for a cold launch), returned on scale-in (drained, then warm again).
 */
class WarmPoolLifecycleTest {
    final LifecycleServiceTest fixture = new LifecycleServiceTest();

    LifecycleService service() {
        return fixture.service();
    }

    LifecycleService.LaunchResult launch(LifecycleService.LaunchPath path) {
        return launch(path, fixture.clock.instant());
    }

    LifecycleService.LaunchResult launch(LifecycleService.LaunchPath path, Instant eventTime) {
        return service().onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok", path, eventTime);
    }

    InstanceLifecycle record() {
        return fixture.store.lifecycle(ID).orElseThrow();
    }

    @Test
    void theEventsOriginAndDestinationNameThePath() {
        assertEquals(COLD, LifecycleService.LaunchPath.of(null, null), "a group without a warm pool sends neither");
        assertEquals(COLD, LifecycleService.LaunchPath.of("EC2", "AutoScalingGroup"));
        assertEquals(TO_WARM_POOL, LifecycleService.LaunchPath.of("EC2", "WarmPool"));
        assertEquals(FROM_WARM_POOL, LifecycleService.LaunchPath.of("WarmPool", "AutoScalingGroup"));
    }

    @Test
    void launchIntoTheWarmPoolMakesNoRunnerAndNoToken() {
        assertEquals(LifecycleService.LaunchResult.WARM, launch(TO_WARM_POOL));
        assertTrue(fixture.gitlab.created.isEmpty(), "no runner while warm");
        assertTrue(fixture.tokens.values.isEmpty(), "no token on a stopped disk");
        assertEquals(InstanceState.WARM, record().state());
        assertNull(record().runnerId());
        assertTrue(fixture.actions.calls.isEmpty(), "the instance completes the action once prepared");
        assertEquals(LifecycleService.LaunchResult.WARM, launch(TO_WARM_POOL), "a repeated event changes nothing");
        assertTrue(fixture.gitlab.created.isEmpty());
    }

    @Test
    void resumeCreatesTheRunnerAndTokenAsAColdLaunchDoesAndRestartsTheBootClock() {
        launch(TO_WARM_POOL);
        Instant resumedAt = NOW.plus(Duration.ofDays(3));
        fixture.clock = Clock.fixed(resumedAt, ZoneOffset.UTC);
        assertEquals(LifecycleService.LaunchResult.REGISTERED, launch(FROM_WARM_POOL));
        assertEquals(1, fixture.gitlab.created.size());
        assertEquals(ID, fixture.gitlab.created.getFirst().description());
        assertEquals(Map.of(ID, "glrt-1"), fixture.tokens.values);
        assertEquals(Map.of(ID, ARN), fixture.tokens.arns);
        assertEquals(InstanceState.REGISTERED, record().state());
        InstanceRecord seen = fixture.store.instances("docker").getFirst();
        assertEquals(resumedAt, seen.launchedAt(), "boot timeout and idle clock count from the resume, not the warm launch");
        assertNull(seen.lastJobFinishedAt());
    }

    @Test
    void duplicateResumeEventsMakeOneRunner() {
        launch(TO_WARM_POOL);
        LifecycleService service = service();
        List<LifecycleService.LaunchResult> second = new ArrayList<>();
        fixture.gitlab.duringCreate = () -> second.add(
                service.onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok", FROM_WARM_POOL, NOW));
        assertEquals(LifecycleService.LaunchResult.REGISTERED,
                service.onLaunch("docker-asg", ID, ARN, "runnerscale-launch", "tok", FROM_WARM_POOL, NOW));
        assertEquals(List.of(LifecycleService.LaunchResult.IN_PROGRESS), second, "the copy during creation waits");
        assertEquals(LifecycleService.LaunchResult.ALREADY_REGISTERED, launch(FROM_WARM_POOL), "a later copy finds it");
        assertEquals(1, fixture.gitlab.created.size());
        assertEquals(1, fixture.tokens.values.size());
    }

    @Test
    void aLateWarmLaunchEventNeverUndoesTheResume() {
        launch(TO_WARM_POOL);
        launch(FROM_WARM_POOL);
        assertEquals(LifecycleService.LaunchResult.ALREADY_REGISTERED, launch(TO_WARM_POOL));
        assertEquals(InstanceState.REGISTERED, record().state());
        assertEquals(1L, record().runnerId());
    }

    @Test
    void aResumeOfAnInstanceDrainedMeanwhileIsAbandoned() {
        launch(TO_WARM_POOL);
        fixture.store.setState(ID, InstanceState.GONE);
        assertEquals(LifecycleService.LaunchResult.ABANDONED_GONE, launch(FROM_WARM_POOL));
        assertTrue(fixture.gitlab.created.isEmpty());
        assertEquals(List.of("complete runnerscale-launch docker-asg " + ID + " tok ABANDON"), fixture.actions.calls);
    }

    @Test
    void aResumeWithoutAWarmRecordIsAColdLaunch() {
        // its warm launch event was lost, or it was warmed before runnerscale knew warm pools
        assertEquals(LifecycleService.LaunchResult.REGISTERED, launch(FROM_WARM_POOL));
        assertEquals(1, fixture.gitlab.created.size());
    }

    @Test
    void returnToTheWarmPoolDrainsHoldingTheHookAndEndsWarm() {
        launch(TO_WARM_POOL);
        launch(FROM_WARM_POOL);
        assertEquals(LifecycleService.DrainRequestResult.STARTED,
                service().onTerminateHook("docker-asg", ID, "runnerscale-terminate", "tok-t", true));
        Drain drain = fixture.drains.started.getFirst();
        assertEquals(new LifecycleHook("runnerscale-terminate", "tok-t", true), drain.lifecycleHook());

        Drain deleted = service().task("DeleteRunner", drain);
        Drain after = service().task("Terminate", deleted);
        assertEquals(DrainOutcome.TERMINATED, after.outcome());
        assertEquals(List.of(1L), fixture.gitlab.deleted, "the runner is deleted before the instance stops");
        assertTrue(fixture.tokens.values.isEmpty(), "and its token");
        assertEquals(InstanceState.WARM, record().state(), "warm again, not gone");
        assertNull(record().runnerId());
        assertEquals(2, record().drainAttempt(), "its next drain gets a new execution name");
        assertEquals(List.of("complete runnerscale-terminate docker-asg " + ID + " tok-t CONTINUE"),
                fixture.actions.calls);
        assertFalse(fixture.store.instances("docker").isEmpty(), "still the pool's instance, for the sweep");

        // and it can resume again: a fresh runner
        fixture.clock = Clock.fixed(NOW.plusSeconds(600), ZoneOffset.UTC);
        assertEquals(LifecycleService.LaunchResult.REGISTERED, launch(FROM_WARM_POOL));
        assertEquals(2, fixture.gitlab.created.size());
    }

    /** Found by the fleet property: a second copy of a resume event, delivered after the instance went back warm. */
    @Test
    void aLateCopyOfAResumeEventMakesNothingForTheInstanceBackInTheWarmPool() {
        launch(TO_WARM_POOL, NOW.minusSeconds(600));
        Instant resumedAt = NOW.minusSeconds(300);
        assertEquals(LifecycleService.LaunchResult.REGISTERED, launch(FROM_WARM_POOL, resumedAt));
        service().onTerminateHook("docker-asg", ID, "runnerscale-terminate", "tok-t", true);
        Drain drain = service().task("DeleteRunner", fixture.drains.started.getFirst());
        service().task("Terminate", drain);
        fixture.actions.calls.clear();

        assertEquals(LifecycleService.LaunchResult.STALE, launch(FROM_WARM_POOL, resumedAt));
        assertEquals(1, fixture.gitlab.created.size(), "no runner for a stopped instance");
        assertTrue(fixture.tokens.values.isEmpty());
        assertEquals(InstanceState.WARM, record().state());
        assertTrue(fixture.actions.calls.isEmpty(), "the stale event's action is not ours to complete");
    }

    @Test
    void aRepeatedReturnEventForAWarmInstanceCompletesAtOnce() {
        launch(TO_WARM_POOL);
        assertEquals(LifecycleService.DrainRequestResult.COMPLETED_AT_ONCE,
                service().onTerminateHook("docker-asg", ID, "runnerscale-terminate", "tok-t", true));
        assertEquals(InstanceState.WARM, record().state());
        assertTrue(fixture.drains.started.isEmpty());
    }

    @Test
    void aWarmInstanceTerminatedFromTheWarmPoolIsGoneAtOnce() {
        launch(TO_WARM_POOL);
        assertEquals(LifecycleService.DrainRequestResult.COMPLETED_AT_ONCE,
                service().onTerminateHook("docker-asg", ID, "runnerscale-terminate", "tok-t", false));
        assertEquals(InstanceState.GONE, record().state());
        assertEquals(List.of("complete runnerscale-terminate docker-asg " + ID + " tok-t CONTINUE"),
                fixture.actions.calls);
        assertEquals(LifecycleService.LaunchResult.ABANDONED_GONE, launch(FROM_WARM_POOL), "a late resume makes nothing");
        assertTrue(fixture.gitlab.created.isEmpty());
    }

    @Test
    void drainsRunnerscaleStartsStillTerminate() {
        // TerminateInstanceInAutoScalingGroup terminates (AWS documents no return to the warm pool for it):
        // retirement, outdated, boot-timeout and scale-in drains never put an instance back warm
        launch(FROM_WARM_POOL);
        Drain after = service().task("Terminate", LifecycleServiceTest.drain(DrainReason.RETIRED, null).withRunnerDeleted());
        assertEquals(DrainOutcome.TERMINATED, after.outcome());
        assertEquals(InstanceState.GONE, record().state());
        assertEquals(List.of("terminate " + ID + " true"), fixture.actions.calls);
    }
}
