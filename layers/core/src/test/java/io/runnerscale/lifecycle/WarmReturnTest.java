package io.runnerscale.lifecycle;

import io.runnerscale.gitlab.RunnerOwner;
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
import java.util.List;
import java.util.Optional;

import static io.runnerscale.lifecycle.LifecycleServiceTest.ARN;
import static io.runnerscale.lifecycle.LifecycleServiceTest.ID;
import static io.runnerscale.lifecycle.LifecycleServiceTest.NOW;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A scale-in drain of a pool with {@code warm_pool.reuse_on_scale_in} hands its instance back to the
 * warm pool (scale-in protection lifted on it alone, desired capacity − 1, INST# returning), every
 * other drain and every unsafe group terminates as before, and the terminate hook that follows
 * completes at once without a second GitLab round.
 */
class WarmReturnTest {
    static final String B = "i-0bbbbbbbbbbbbbbbb";
    static final String C = "i-0cccccccccccccccc";

    final InMemoryJobStore store = new InMemoryJobStore();
    final LifecycleServiceTest.FakeGitLab gitlab = new LifecycleServiceTest.FakeGitLab();
    final LifecycleServiceTest.FakeTokens tokens = new LifecycleServiceTest.FakeTokens();
    final LifecycleServiceTest.FakeActions actions = new LifecycleServiceTest.FakeActions();
    final LifecycleServiceTest.FakeDrains drains = new LifecycleServiceTest.FakeDrains();
    final FakeReturns returns = new FakeReturns();
    boolean reuse = true;
    Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);

    PoolsConfig pools() {
        PoolConfig p = TestPools.tagged("docker", List.of("docker"), false);
        PoolConfig.Ec2Asg ec2 = ((PoolConfig.Ec2Asg) p.backend())
                .withWarmPool(new PoolConfig.WarmPool(PoolConfig.WarmPool.State.STOPPED, 0, null, reuse, null));
        return new PoolsConfig(List.of(new PoolConfig(p.name(), p.match(), ec2, p.capacityPerInstance(), p.maxInstances(),
                p.maxUseCount(), p.bootTimeout(), p.policy(), p.forecast())));
    }

    LifecycleService service() {
        PoolsConfig config = pools();
        return new LifecycleService(() -> config, store, gitlab, tokens, actions, drains, (pool, reason, id) -> { },
                RunnerOwner.group(9), Duration.ofHours(1), clock, returns);
    }

    /** The group: this instance and B in service, both protected, C warm and unprotected; desired 2. */
    WarmReturnTest() {
        returns.members.add(new GroupMembers.Member(ID, "InService", true));
        returns.members.add(new GroupMembers.Member(B, "InService", true));
        returns.members.add(new GroupMembers.Member(C, "Warmed:Stopped", false));
        returns.desired = 2;
        store.recordRunner(ID, "docker", null, InstanceState.DRAINING, NOW.minusSeconds(3600));
    }

    Drain drained(DrainReason reason) {
        return LifecycleServiceTest.drain(reason, null).withRunnerDeleted();
    }

    InstanceLifecycle record() {
        return store.lifecycle(ID).orElseThrow();
    }

    int gitlabCalls() {
        return gitlab.created.size() + gitlab.deleted.size() + gitlab.pauses.size() + gitlab.jobCalls.size();
    }

    @Test
    void aScaleInDrainOfAReusePoolReturnsItsInstance() {
        Drain after = service().task("Terminate", drained(DrainReason.SCALE_IN));

        assertEquals(DrainOutcome.TERMINATED, after.outcome());
        assertEquals(List.of("describe docker-asg", "unprotect docker-asg " + ID, "desired docker-asg 1"), returns.calls,
                "protection lifted on this instance only, then desired capacity one lower than read");
        assertTrue(actions.calls.isEmpty(), "no TerminateInstanceInAutoScalingGroup");
        assertEquals(InstanceState.RETURNING, record().state());
        assertEquals(Optional.of(NOW), store.returningSince(ID));
    }

    @Test
    void theReturnsTerminateHookCompletesAtOnceAndLeavesItWarmWithoutGitLab() {
        service().task("Terminate", drained(DrainReason.SCALE_IN));
        int before = gitlabCalls();

        assertEquals(LifecycleService.DrainRequestResult.COMPLETED_AT_ONCE,
                service().onTerminateHook("docker-asg", ID, "runnerscale-terminate", "tok-t", true));
        assertEquals(InstanceState.WARM, record().state());
        assertEquals(2, record().drainAttempt(), "its next drain gets a new execution name");
        assertTrue(drains.started.isEmpty(), "no second drain");
        assertEquals(before, gitlabCalls(), "runner and token were deleted by the drain: no GitLab call");
        assertEquals(List.of("complete runnerscale-terminate docker-asg " + ID + " tok-t CONTINUE"), actions.calls);

        // a duplicate of the event: completes again (harmless), changes nothing
        assertEquals(LifecycleService.DrainRequestResult.COMPLETED_AT_ONCE,
                service().onTerminateHook("docker-asg", ID, "runnerscale-terminate", "tok-t", true));
        assertEquals(InstanceState.WARM, record().state());
        assertEquals(2, record().drainAttempt());
        assertTrue(drains.started.isEmpty());
        assertEquals(before, gitlabCalls());

        // and it resumes later with a fresh runner
        clock = Clock.fixed(NOW.plusSeconds(900), ZoneOffset.UTC);
        assertEquals(LifecycleService.LaunchResult.REGISTERED, service().onLaunch("docker-asg", ID, ARN,
                "runnerscale-launch", "tok", LifecycleService.LaunchPath.FROM_WARM_POOL, NOW.plusSeconds(900)));
    }

    @Test
    void aRepeatedTerminateTaskDoesNotLowerDesiredCapacityAgain() {
        LifecycleService service = service();
        service.task("Terminate", drained(DrainReason.SCALE_IN));
        // the group acted: the instance is on its way to the warm pool, desired is 1
        returns.members.set(0, new GroupMembers.Member(ID, "Warmed:Pending:Wait", false));
        returns.desired = 1;
        returns.calls.clear();
        service.task("Terminate", drained(DrainReason.SCALE_IN));
        assertEquals(List.of("describe docker-asg"), returns.calls);
        assertTrue(actions.calls.isEmpty());
        // and after its hook made it warm
        service.onTerminateHook("docker-asg", ID, "runnerscale-terminate", "tok-t", true);
        returns.calls.clear();
        actions.calls.clear();
        service.task("Terminate", drained(DrainReason.SCALE_IN));
        assertEquals(List.of("describe docker-asg"), returns.calls);
        assertTrue(actions.calls.isEmpty(), "a warm instance is never terminated by a late retry");
        assertEquals(InstanceState.WARM, record().state());
    }

    @ParameterizedTest
    @EnumSource(value = DrainReason.class, names = {"RETIRED", "OUTDATED", "BOOT_TIMEOUT", "SPOT", "REBALANCE"})
    void everyOtherDrainTerminates(DrainReason reason) {
        Drain after = service().task("Terminate", drained(reason));
        assertEquals(DrainOutcome.TERMINATED, after.outcome());
        assertEquals(List.of("terminate " + ID + " true"), actions.calls);
        assertTrue(returns.calls.isEmpty(), "not even described: only scale-in drains may return");
        assertEquals(InstanceState.GONE, record().state());
    }

    @Test
    void aTerminateHookDrainCompletesItsActionAsBefore() {
        Drain drain = LifecycleServiceTest.drain(DrainReason.LIFECYCLE_HOOK,
                new LifecycleHook("runnerscale-terminate", "tok-t", false)).withRunnerDeleted();
        service().task("Terminate", drain);
        assertEquals(List.of("complete runnerscale-terminate docker-asg " + ID + " tok-t CONTINUE"), actions.calls);
        assertTrue(returns.calls.isEmpty());
    }

    @Test
    void aPoolWithoutReuseTerminates() {
        reuse = false;
        service().task("Terminate", drained(DrainReason.SCALE_IN));
        assertEquals(List.of("terminate " + ID + " true"), actions.calls);
        assertTrue(returns.calls.isEmpty());
    }

    @Test
    void anUnprotectedOtherInstanceFallsBackToTerminate() {
        returns.members.set(1, new GroupMembers.Member(B, "InService", false));
        service().task("Terminate", drained(DrainReason.SCALE_IN));
        assertEquals(List.of("describe docker-asg"), returns.calls, "nothing written: the group could pick B");
        assertEquals(List.of("terminate " + ID + " true"), actions.calls);
        assertEquals(InstanceState.GONE, record().state());
    }

    @Test
    void anUnprotectedOtherInstanceThatIsReturningItselfDoesNotBlock() {
        returns.members.set(1, new GroupMembers.Member(B, "InService", false));
        store.recordRunner(B, "docker", null, InstanceState.DRAINING, NOW);
        store.markReturning(B, NOW);
        service().task("Terminate", drained(DrainReason.SCALE_IN));
        assertEquals(List.of("describe docker-asg", "unprotect docker-asg " + ID, "desired docker-asg 1"), returns.calls);
        assertTrue(actions.calls.isEmpty());
    }

    @Test
    void aGroupThatDoesNotProtectNewInstancesFallsBack() {
        returns.newInstancesProtected = false;
        service().task("Terminate", drained(DrainReason.SCALE_IN));
        assertEquals(List.of("describe docker-asg"), returns.calls);
        assertEquals(List.of("terminate " + ID + " true"), actions.calls);
    }

    @Test
    void aGroupAtItsMinSizeFallsBack() {
        returns.minSize = 2;
        service().task("Terminate", drained(DrainReason.SCALE_IN));
        assertEquals(List.of("terminate " + ID + " true"), actions.calls);
    }

    @Test
    void anInstanceASpotWarningTookOverIsTerminated() {
        store.setState(ID, InstanceState.INTERRUPTED);
        service().task("Terminate", drained(DrainReason.SCALE_IN));
        assertEquals(List.of("describe docker-asg"), returns.calls);
        assertEquals(List.of("terminate " + ID + " true"), actions.calls);
        assertEquals(InstanceState.GONE, record().state());
    }

    @Test
    void aReturningInstanceTheGroupTerminatesInsteadIsGone() {
        service().task("Terminate", drained(DrainReason.SCALE_IN));
        assertEquals(LifecycleService.DrainRequestResult.COMPLETED_AT_ONCE,
                service().onTerminateHook("docker-asg", ID, "runnerscale-terminate", "tok-t", false));
        assertEquals(InstanceState.GONE, record().state());
        assertTrue(drains.started.isEmpty());
    }

    @Test
    void aReturningInstanceIsNeverDrainedAgain() {
        service().task("Terminate", drained(DrainReason.SCALE_IN));
        assertEquals(LifecycleService.DrainRequestResult.IGNORED_GONE, service().onSpotWarning(ID, NOW));
        assertEquals(LifecycleService.DrainRequestResult.IGNORED_GONE, service().startDrain(ID, "docker", "docker-asg",
                DrainReason.BOOT_TIMEOUT));
        assertTrue(drains.started.isEmpty());
        assertEquals(InstanceState.RETURNING, record().state());
        assertTrue(record().state().draining(), "the scaler counts it out (no runner) and never picks it");
    }

    @Test
    void aResumeAfterALostReturnHookMakesARunner() {
        service().task("Terminate", drained(DrainReason.SCALE_IN));
        assertEquals(LifecycleService.LaunchResult.REGISTERED, service().onLaunch("docker-asg", ID, ARN,
                "runnerscale-launch", "tok", LifecycleService.LaunchPath.FROM_WARM_POOL, NOW.plusSeconds(600)));
        assertEquals(InstanceState.REGISTERED, record().state());
        // but a late copy of the resume that came before the return makes nothing
        WarmReturnTest other = new WarmReturnTest();
        other.service().task("Terminate", other.drained(DrainReason.SCALE_IN));
        assertEquals(LifecycleService.LaunchResult.ALREADY_REGISTERED, other.service().onLaunch("docker-asg", ID, ARN,
                "runnerscale-launch", "tok", LifecycleService.LaunchPath.FROM_WARM_POOL, NOW.minusSeconds(600)));
        assertEquals(InstanceState.RETURNING, other.record().state());
        assertTrue(other.gitlab.created.isEmpty());
    }

    /** A group as {@link ScaleInReturns} sees it, with the calls made. */
    static final class FakeReturns implements ScaleInReturns {
        final List<GroupMembers.Member> members = new ArrayList<>();
        final List<String> calls = new ArrayList<>();
        int desired;
        int minSize;
        boolean newInstancesProtected = true;

        @Override
        public Optional<GroupMembers.Group> describe(String asg) {
            calls.add("describe " + asg);
            return Optional.of(new GroupMembers.Group(asg, true, members, newInstancesProtected, desired, minSize));
        }

        @Override
        public void releaseProtection(String asg, String instanceId) {
            calls.add("unprotect " + asg + " " + instanceId);
        }

        @Override
        public void setDesiredCapacity(String asg, int desired) {
            calls.add("desired " + asg + " " + desired);
        }
    }
}
