package io.runnerscale.scaling;

import io.runnerscale.testing.MutableClock;
import io.runnerscale.compute.Compute;
import io.runnerscale.compute.GroupState;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.scaling.ScalingAction.Reason;
import io.runnerscale.scaling.ScalingAction.SetDesiredCapacity;
import io.runnerscale.lifecycle.InstanceState;
import io.runnerscale.scaling.ScalingAction.DrainInstance;
import io.runnerscale.store.InMemoryJobStore;
import io.runnerscale.store.InstanceRecord;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

import static io.runnerscale.pool.TestPools.always;
import static io.runnerscale.pool.TestPools.asg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScalerServiceTest {
    static final Instant NOW = Instant.parse("2026-01-07T12:00:00Z");
    static final PoolConfig DOCKER = asg("docker", 1, 10, 0, Duration.ofMinutes(5),
            always(0, Duration.ofMinutes(10), 0, 0));
    static final PoolConfig FARGATE = asg("fargate", 1, 10, 0, null, always(0, Duration.ofMinutes(10), 0, 0));
    static final String IA = "i-0aaaaaaaaaaaaaaa1";
    static final String IB = "i-0bbbbbbbbbbbbbbb2";
    static final String IC = "i-0ccccccccccccccc3";

    /** A compute backend (and drain starter) that answers from a fixed group state and records what it is asked. */
    static final class RecordingCompute implements Compute, InstanceDrains {
        GroupState group = new GroupState(0, List.of());
        final List<String> calls = new ArrayList<>();
        final Set<String> failing = new HashSet<>();
        int describes;

        @Override
        public GroupState describe(PoolConfig pool) {
            describes++;
            return group;
        }

        @Override
        public void setDesiredCapacity(PoolConfig pool, int desired) {
            calls.add(pool.name() + ": desired " + desired);
            if (failing.contains("desired")) {
                throw new IllegalStateException("throttled");
            }
        }

        @Override
        public void drain(PoolConfig pool, String instanceId, ScalingAction.Reason reason) {
            calls.add(pool.name() + ": drain " + instanceId + " " + reason);
            if (failing.contains(instanceId)) {
                throw new IllegalStateException("instance " + instanceId + " is not in the group");
            }
        }
    }

    final InMemoryJobStore store = new InMemoryJobStore();
    final RecordingCompute compute = new RecordingCompute();
    DemandForecast forecast = DemandForecast.NONE;

    /** A decision looked at both pools a minute ago: runnerscale has watched them all along. */
    @org.junit.jupiter.api.BeforeEach
    void watchedAllAlong() {
        store.observePool("docker", NOW.minus(min(1)));
        store.observePool("fargate", NOW.minus(min(1)));
    }

    ScalerService service() {
        return new ScalerService(PoolsConfigSource.fixed(new PoolsConfig(List.of(DOCKER, FARGATE))), store, compute, compute,
                (pool, now) -> forecast.slots(pool, now), Clock.fixed(NOW, ZoneOffset.UTC));
    }

    static GroupState.Instance ready(String id, Duration launchedAgo) {
        return new GroupState.Instance(id, true, launchedAgo == null ? null : NOW.minus(launchedAgo));
    }

    static Duration min(long m) {
        return Duration.ofMinutes(m);
    }

    void job(long id, JobStatus status, String instance, String pool) {
        store.apply(new JobEvent(new JobKey(7, id), status, null, null, null, null, null,
                status.isTerminal() ? NOW.minus(min(3)) : null, null, instance == null ? null : 1L, instance, null, null),
                pool, NOW.minus(min(5)));
    }

    Map<String, InstanceRecord> recorded(String pool) {
        return store.instances(pool).stream().collect(Collectors.toMap(InstanceRecord::instanceId, Function.identity()));
    }

    Map<String, InstanceView> views(PoolSnapshot snapshot) {
        return snapshot.instances().stream().collect(Collectors.toMap(InstanceView::id, Function.identity()));
    }

    // ---- the snapshot --------------------------------------------------------------------------------

    @Test
    void newInstancesAreRecordedWithTheirLaunchTimeOrNow() {
        compute.group = new GroupState(2, List.of(ready(IA, min(30)), new GroupState.Instance(IB, false, null)));
        PoolSnapshot snapshot = service().snapshot(DOCKER, NOW);

        Map<String, InstanceRecord> recorded = recorded("docker");
        assertEquals(Set.of(IA, IB), recorded.keySet());
        assertEquals(NOW.minus(min(30)), recorded.get(IA).launchedAt());
        assertEquals(NOW, recorded.get(IB).launchedAt(), "first seen now");
        assertEquals(0, recorded.get(IA).useCount());
        assertEquals(NOW, views(snapshot).get(IB).launchedAt());
        assertEquals(false, views(snapshot).get(IB).ready());
        assertEquals(2, snapshot.desiredCapacity());
    }

    @Test
    void aGoneInstanceTheGroupStillListsIsLeavingOnTheFirstLookAndStaysOutOfTheIndex() {
        // found by review: a spot warning before the launch event left a tombstone; the group still lists it
        store.recordInstance("docker", IA, NOW.minus(min(2)), null);
        assertTrue(store.markGoneIfUnknown(IA, NOW.minus(min(1))));
        compute.group = new GroupState(1, List.of(new GroupState.Instance(IA, false, NOW.minus(min(2)))));
        assertTrue(views(service().snapshot(DOCKER, NOW)).get(IA).draining(), "leaving, not booting capacity");
        assertTrue(recorded("docker").isEmpty(), "the tombstone stays out of the pool's index");
    }

    @Test
    void aDrainingInstanceIsSeenDrainingAndNotDrainedAgain() {
        store.recordRunner(IA, "docker", 41L, InstanceState.DRAINING, NOW.minus(Duration.ofHours(3)));
        compute.group = new GroupState(1, List.of(ready(IA, Duration.ofHours(3))));
        assertTrue(views(service().snapshot(DOCKER, NOW)).get(IA).draining());
        service().scale("docker");
        assertEquals(List.of(), compute.calls, "idle for hours, but its drain decides when it goes");
    }

    @Test
    void anInstanceThatLeftTheGroupIsForgottenOnlyWhenNoRunnerOfOursCanBeLeft() {
        store.recordRunner(IA, "docker", 41L, InstanceState.DRAINING, NOW.minus(min(30)));   // terminating: hook holds it
        store.recordRunner(IB, "docker", null, InstanceState.GONE, NOW.minus(min(30)));      // its drain ended
        store.recordInstance("docker", IC, NOW.minus(min(30)));                            // only the scaler saw it
        compute.group = new GroupState(0, List.of());
        service().snapshot(DOCKER, NOW);
        assertEquals(Set.of(IA), recorded("docker").keySet());
        assertEquals(41L, store.lifecycle(IA).orElseThrow().runnerId(), "the drain still needs its runner id");
    }

    @Test
    void aWarmInstanceIsNeitherCapacityNorForgottenAndAResumedOnesBootClockStartsAtItsResume() {
        // warm (stopped in the warm pool): the group does not list it (DescribeWarmPool would)
        assertTrue(store.markWarm(IA, "docker", NOW.minus(Duration.ofDays(3))));
        compute.group = new GroupState(0, List.of());
        PoolSnapshot snapshot = service().snapshot(DOCKER, NOW);
        assertTrue(snapshot.instances().isEmpty(), "not capacity");
        assertEquals(Set.of(IA), recorded("docker").keySet(), "kept: its resume and the sweep need the record");
        service().scale("docker");
        assertEquals(List.of(), compute.calls, "nothing to drain, nothing to launch");

        // resumed a minute ago and still booting: not past the 5 minute boot timeout, although launched days ago
        assertTrue(store.resumeFromWarm(IA, NOW.minus(min(1)), NOW.minus(min(1))));
        compute.group = new GroupState(1, List.of(new GroupState.Instance(IA, false, NOW.minus(Duration.ofDays(3)))));
        assertEquals(NOW.minus(min(1)), views(service().snapshot(DOCKER, NOW)).get(IA).launchedAt());
        service().scale("docker");
        assertTrue(compute.calls.stream().noneMatch(c -> c.contains("drain")), compute.calls.toString());
    }

    @Test
    void aRecordedLaunchTimeIsUsedWhenTheGroupDoesNotSay() {
        store.recordInstance("docker", IA, NOW.minus(Duration.ofHours(2)));
        compute.group = new GroupState(1, List.of(ready(IA, null)));
        assertEquals(NOW.minus(Duration.ofHours(2)), views(service().snapshot(DOCKER, NOW)).get(IA).launchedAt());
    }

    @Test
    void theLaunchTimeRecordedWhenFirstSeenStaysAndNeverLiesInTheFuture() {
        store.recordInstance("docker", IA, NOW.minus(Duration.ofHours(2)));
        compute.group = new GroupState(2, List.of(ready(IA, min(30)),
                new GroupState.Instance(IB, true, NOW.plus(min(1)))));   // EC2's clock a minute ahead
        Map<String, InstanceView> views = views(service().snapshot(DOCKER, NOW));
        assertEquals(NOW.minus(Duration.ofHours(2)), views.get(IA).launchedAt(), "the idle clock does not jump");
        assertEquals(NOW, views.get(IB).launchedAt());
        assertEquals(NOW, recorded("docker").get(IB).launchedAt());
    }

    @Test
    void anOutdatedIdleInstanceIsDrainedAsOutdatedABusyOneKeepsItsJob() {
        job(1, JobStatus.RUNNING, IB, "docker");
        compute.group = new GroupState(3, List.of(new GroupState.Instance(IA, true, NOW.minus(min(60)), true),
                new GroupState.Instance(IB, true, NOW.minus(min(60)), true), ready(IC, min(2))));
        PoolSnapshot snapshot = service().snapshot(DOCKER, NOW);
        assertTrue(views(snapshot).get(IA).outdated());
        assertTrue(!views(snapshot).get(IC).outdated());

        service().scale("docker");
        assertEquals(List.of("docker: drain " + IA + " " + Reason.OUTDATED), compute.calls,
                "IB runs a job; IC is current and idle only 2 min");
    }

    @Test
    void departedInstancesAreForgotten() {
        store.recordInstance("docker", IA, NOW.minus(min(60)));
        store.recordInstance("docker", IB, NOW.minus(min(60)));
        store.recordInstance("fargate", IC, NOW.minus(min(60)));
        compute.group = new GroupState(1, List.of(ready(IA, min(60))));

        service().snapshot(DOCKER, NOW);

        assertEquals(Set.of(IA), recorded("docker").keySet());
        assertEquals(Set.of(IC), recorded("fargate").keySet(), "other pools' instances are not this group's business");
    }

    @Test
    void jobsAreCountedPerInstanceFromTheJobRecords() {
        job(1, JobStatus.RUNNING, IA, "docker");
        job(2, JobStatus.RUNNING, IA, "docker");
        job(3, JobStatus.RUNNING, IB, "docker");
        job(4, JobStatus.PENDING, null, "docker");
        job(5, JobStatus.PENDING, null, "docker");
        job(6, JobStatus.RUNNING, "shared-runner-7", "docker");  // not on one of ours
        job(7, JobStatus.RUNNING, IC, "fargate");                // another pool
        job(8, JobStatus.SUCCESS, IC, "docker");                 // finished: counts a use of IC
        compute.group = new GroupState(3, List.of(ready(IA, min(60)), ready(IB, min(60)), ready(IC, min(60))));

        PoolSnapshot snapshot = service().snapshot(DOCKER, NOW);

        assertEquals(2, snapshot.pendingJobs());
        assertEquals(4, snapshot.runningJobs());
        Map<String, InstanceView> views = views(snapshot);
        assertEquals(2, views.get(IA).runningJobs());
        assertEquals(1, views.get(IB).runningJobs());
        assertEquals(0, views.get(IC).runningJobs());
        assertEquals(1, views.get(IC).useCount());
        assertEquals(NOW.minus(min(5)), views.get(IC).lastJobFinishedAt(), "idle since the finish was received");
        assertNull(views.get(IA).lastJobFinishedAt());
    }

    @Test
    void theForecastIsAskedForThePoolAtNow() {
        List<String> asked = new ArrayList<>();
        forecast = (pool, now) -> {
            asked.add(pool.name() + "@" + now);
            return new DemandForecast.Slots(1, 2);
        };
        assertEquals(new DemandForecast.Slots(2, 2), service().snapshot(DOCKER, NOW).forecast());
        assertEquals(List.of("docker@" + NOW), asked);
    }

    // ---- deciding and applying -----------------------------------------------------------------------

    @Test
    void pendingJobsScaleOut() {
        job(1, JobStatus.PENDING, null, "docker");
        job(2, JobStatus.PENDING, null, "docker");
        Optional<ScalingDecision> decision = service().scale("docker");
        assertEquals(List.of(new SetDesiredCapacity(2)), decision.orElseThrow().actions());
        assertEquals(List.of("docker: desired 2"), compute.calls);
    }

    @Test
    void prewarmFromTheForecastScalesOut() {
        forecast = (pool, now) -> new DemandForecast.Slots(0, 3);
        service().scale("docker");
        assertEquals(List.of("docker: desired 3"), compute.calls);
    }

    @Test
    void actionsAreAppliedInTheDecisionsOrder() {
        // desired 4, three listed: two idle long enough, one fresh; nothing needed
        compute.group = new GroupState(4, List.of(ready(IC, min(1)), ready(IB, Duration.ofHours(2)),
                ready(IA, Duration.ofHours(3))));
        ScalingDecision decision = service().scale("docker").orElseThrow();

        // the unlaunched instance is trimmed first; each drain lowers desired by one as it terminates
        assertEquals(List.of(new SetDesiredCapacity(3), new DrainInstance(IA, Reason.IDLE),
                new DrainInstance(IB, Reason.IDLE)), decision.actions());
        assertEquals(1, decision.desiredAfter());
        assertEquals(List.of("docker: desired 3", "docker: drain " + IA + " IDLE", "docker: drain " + IB + " IDLE"),
                compute.calls);
    }

    @Test
    void oneFailingActionDoesNotStopTheOthers() {
        compute.group = new GroupState(4, List.of(ready(IA, Duration.ofHours(3)), ready(IB, Duration.ofHours(2)),
                ready(IC, min(1))));
        compute.failing.add(IA);
        ScalingDecision decision = service().scale("docker").orElseThrow();

        assertEquals(3, decision.actions().size());
        assertEquals(List.of("docker: desired 3", "docker: drain " + IA + " IDLE", "docker: drain " + IB + " IDLE"),
                compute.calls);
    }

    @Test
    void aFailingCapacityChangeIsSurvivedToo() {
        job(1, JobStatus.PENDING, null, "docker");
        compute.failing.add("desired");
        assertTrue(service().scale("docker").isPresent());
        assertEquals(List.of("docker: desired 1"), compute.calls);
    }

    @Test
    void bootTimeoutsAreDrainedForAReplacement() {
        job(1, JobStatus.PENDING, null, "docker");
        compute.group = new GroupState(1, List.of(new GroupState.Instance(IA, false, NOW.minus(min(6)))));
        service().scale("docker");
        assertEquals(List.of("docker: desired 2", "docker: drain " + IA + " BOOT_TIMEOUT"), compute.calls);
    }

    @Test
    void aBusyInstanceIsLeftAlone() {
        job(1, JobStatus.RUNNING, IA, "docker");
        compute.group = new GroupState(2, List.of(ready(IA, Duration.ofHours(3)), ready(IB, Duration.ofHours(2))));
        service().scale("docker");
        assertEquals(List.of("docker: drain " + IB + " IDLE"), compute.calls);
    }

    @Test
    void nothingToDoCallsNothing() {
        compute.group = new GroupState(1, List.of(ready(IA, min(2))));
        job(1, JobStatus.RUNNING, IA, "docker");
        ScalingDecision decision = service().scale("docker").orElseThrow();
        assertTrue(decision.changesNothing());
        assertEquals(List.of(), compute.calls);
    }

    @Test
    void anUnknownPoolIsIgnored() {
        assertEquals(Optional.empty(), service().scale("gpu"));
        assertEquals(0, compute.describes);
        assertEquals(List.of(), compute.calls);
    }

    @Test
    void poolNamesFollowTheConfiguration() {
        assertEquals(List.of("docker", "fargate"), service().poolNames());
    }

    // ---- instances whose jobs runnerscale may have missed ----------------------------------------------

    @Test
    void afterARestartWithAnEmptyStoreInstancesAlreadyThereAreNeverScaledIn() {
        InMemoryJobStore fresh = new InMemoryJobStore();   // serve --in-memory restarted: it remembers nothing
        compute.group = new GroupState(2, List.of(ready(IA, Duration.ofHours(3)), ready(IB, Duration.ofHours(2))));
        ScalerService restarted = new ScalerService(PoolsConfigSource.fixed(new PoolsConfig(List.of(DOCKER, FARGATE))),
                fresh, compute, compute, DemandForecast.NONE, Clock.fixed(NOW, ZoneOffset.UTC));

        ScalingDecision first = restarted.scale("docker").orElseThrow();

        assertEquals(List.of(), compute.calls, "IA may be running a job whose webhooks came before the restart");
        assertEquals(2, first.desiredAfter());
        assertTrue(fresh.instances("docker").stream().noneMatch(InstanceRecord::stateKnown));
    }

    @Test
    void aJobSeenFinishingMakesItsStateKnownAgain() {
        InMemoryJobStore fresh = new InMemoryJobStore();
        compute.group = new GroupState(1, List.of(ready(IA, Duration.ofHours(3))));
        MutableClock clock = new MutableClock(NOW);
        ScalerService scaler = new ScalerService(PoolsConfigSource.fixed(new PoolsConfig(List.of(DOCKER, FARGATE))),
                fresh, compute, compute, DemandForecast.NONE, clock);
        scaler.scale("docker");
        clock.set(NOW.plus(min(1)));
        fresh.apply(new JobEvent(new JobKey(7, 1), JobStatus.SUCCESS, null, null, null, null, null, null, null, 1L, IA,
                null, null), "docker", clock.instant());
        clock.set(NOW.plus(min(5)));
        scaler.scale("docker");
        assertEquals(List.of(), compute.calls, "idle 4 minutes of a 10-minute idle_time");

        int minute = 5;
        while (compute.calls.isEmpty() && minute < 20) {   // the schedule ticks every minute
            clock.set(NOW.plus(min(++minute)));
            scaler.scale("docker");
        }
        assertEquals(List.of("docker: drain " + IA + " IDLE"), compute.calls);
        assertEquals(11, minute, "terminated once known idle for idle_time (10 minutes since the finish at minute 1)");
    }

    @Test
    void anInstanceLaunchedWhileThePoolIsWatchedIsKnown() {
        compute.group = new GroupState(1, List.of(ready(IA, min(30))));
        service().scale("docker");   // watchedAllAlong: the previous decision was a minute ago
        assertEquals(List.of("docker: drain " + IA + " IDLE"), compute.calls);
    }

    @Test
    void aLongGapBetweenDecisionsMakesEveryInstanceUnknown() {
        InMemoryJobStore store = new InMemoryJobStore();
        store.observePool("docker", NOW.minus(min(30)));        // down for half an hour
        store.recordInstance("docker", IA, NOW.minus(Duration.ofHours(3)));
        store.apply(new JobEvent(new JobKey(7, 1), JobStatus.SUCCESS, null, null, null, null, null, null, null, 1L, IA,
                null, null), "docker", NOW.minus(min(40)));   // last seen idle 40 minutes ago...
        compute.group = new GroupState(1, List.of(ready(IA, Duration.ofHours(3))));
        ScalerService scaler = new ScalerService(PoolsConfigSource.fixed(new PoolsConfig(List.of(DOCKER, FARGATE))),
                store, compute, compute, DemandForecast.NONE, Clock.fixed(NOW, ZoneOffset.UTC));

        scaler.scale("docker");

        assertEquals(List.of(), compute.calls, "...but a job may have started on it while nobody watched");
        assertEquals(NOW, store.instances("docker").getFirst().unknownSince());
    }

    @Test
    void theWatchGapIsConfigurable() {
        InMemoryJobStore store = new InMemoryJobStore();
        store.observePool("docker", NOW.minus(min(30)));
        store.recordInstance("docker", IA, NOW.minus(Duration.ofHours(3)));
        compute.group = new GroupState(1, List.of(ready(IA, Duration.ofHours(3))));
        new ScalerService(PoolsConfigSource.fixed(new PoolsConfig(List.of(DOCKER, FARGATE))), store, compute,
                compute, DemandForecast.NONE, Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofHours(1)).scale("docker");
        assertEquals(List.of("docker: drain " + IA + " IDLE"), compute.calls, "30 minutes is within an hour");
    }


    // ---- a lagging live index ----------------------------------------------------------------------

    @Test
    void jobsNamedByTheRequestCountEvenBeforeTheLiveIndexListsThem() {
        job(1, JobStatus.PENDING, null, "docker");
        job(2, JobStatus.PENDING, null, "docker");
        job(3, JobStatus.PENDING, null, "fargate"); // named, but another pool's: not counted
        job(4, JobStatus.SUCCESS, null, "docker");  // named, but finished: not counted
        // the index has not caught up with any write yet, as DynamoDB's GSIs may lag
        var lagging = new io.runnerscale.store.JobStore() {
            @Override public ApplyOutcome apply(JobEvent e, String p, Instant n) { return store.apply(e, p, n); }
            @Override public Optional<io.runnerscale.job.JobRecord> find(JobKey k) { return store.find(k); }
            @Override public boolean claimDelivery(String id, Instant n) { return true; }
            @Override public void releaseDelivery(String id) { }
            @Override public List<io.runnerscale.job.JobRecord> liveJobs(String p) { return List.of(); }
            @Override public List<InstanceRecord> instances(String p) { return store.instances(p); }
            @Override public boolean recordInstance(String p, String id, Instant at, Instant unknown) {
                return store.recordInstance(p, id, at, unknown);
            }
            @Override public void markStateUnknown(String id, Instant since) { store.markStateUnknown(id, since); }
            @Override public Optional<Instant> observePool(String p, Instant now) { return store.observePool(p, now); }
            @Override public void forgetInstance(String id) { store.forgetInstance(id); }
        };
        ScalerService scaler = new ScalerService(PoolsConfigSource.fixed(new PoolsConfig(List.of(DOCKER, FARGATE))),
                lagging, compute, compute, DemandForecast.NONE, Clock.fixed(NOW, ZoneOffset.UTC));

        List<JobKey> named = List.of(new JobKey(7, 1), new JobKey(7, 2), new JobKey(7, 3), new JobKey(7, 4));
        ScalingDecision decision = scaler.scale("docker", named).orElseThrow();

        assertEquals(2, decision.targetInstances());
        assertEquals(List.of("docker: desired 2"), compute.calls);
        assertEquals(0, scaler.scale("docker").orElseThrow().targetInstances(), "without the names the index decides");
    }
}
