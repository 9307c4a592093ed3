package io.runnerscale.scaling;

import io.runnerscale.pool.PolicyEntry;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.scaling.ScalingAction.Reason;
import io.runnerscale.scaling.ScalingAction.SetDesiredCapacity;
import io.runnerscale.scaling.ScalingAction.DrainInstance;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.runnerscale.pool.TestPools.always;
import static io.runnerscale.pool.TestPools.asg;
import static io.runnerscale.pool.TestPools.during;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScalingPolicyTest {
    /** A Wednesday; 13:00 in Berlin. */
    static final Instant NOW = Instant.parse("2026-01-07T12:00:00Z");
    static final Duration TEN_MIN = Duration.ofMinutes(10);
    static final Duration BOOT = Duration.ofMinutes(5);

    // ---- builders -------------------------------------------------------------------------

    static PoolConfig pool(int capacity, int max, int maxUse, PolicyEntry... policy) {
        return asg("p", capacity, max, maxUse, BOOT, policy);
    }

    static PoolConfig simplePool() {
        return pool(1, 10, 0, always(0, TEN_MIN, 0, 0));
    }

    /** Ready, no running job; {@code finishedAgo} null when it never ran a job. */
    static InstanceView idle(String id, Duration launchedAgo, Duration finishedAgo, int uses) {
        return new InstanceView(id, true, NOW.minus(launchedAgo), 0,
                finishedAgo == null ? null : NOW.minus(finishedAgo), uses);
    }

    static InstanceView idle(String id, Duration launchedAgo, Duration finishedAgo) {
        return idle(id, launchedAgo, finishedAgo, 1);
    }

    static InstanceView busy(String id, Duration launchedAgo, int jobs, int uses) {
        return new InstanceView(id, true, NOW.minus(launchedAgo), jobs, NOW.minus(Duration.ofHours(1)), uses);
    }

    /** The same instance, but runnerscale may have missed jobs on it. */
    static InstanceView unknownState(InstanceView i) {
        return new InstanceView(i.id(), i.ready(), i.launchedAt(), i.runningJobs(), i.lastJobFinishedAt(), i.useCount(),
                false);
    }

    static InstanceView draining(InstanceView i) {
        return new InstanceView(i.id(), i.ready(), i.launchedAt(), i.runningJobs(), i.lastJobFinishedAt(), i.useCount(),
                i.stateKnown(), true);
    }

    /** The same instance, launched from a launch template version its group no longer launches. */
    static InstanceView outdated(InstanceView i) {
        return new InstanceView(i.id(), i.ready(), i.launchedAt(), i.runningJobs(), i.lastJobFinishedAt(), i.useCount(),
                i.stateKnown(), i.draining(), true);
    }

    static InstanceView booting(String id, Duration launchedAgo) {
        return new InstanceView(id, false, launchedAgo == null ? null : NOW.minus(launchedAgo), 0, null, 0);
    }

    static PoolSnapshot snapshot(PoolConfig pool, Instant now, int pending, int running, int desired,
                                 DemandForecast.Slots forecast, InstanceView... instances) {
        return new PoolSnapshot(pool, now, pending, running, List.of(instances), desired, forecast);
    }

    static ScalingDecision decide(PoolConfig pool, int pending, int running, int desired, InstanceView... instances) {
        return ScalingPolicy.decide(snapshot(pool, NOW, pending, running, desired, DemandForecast.Slots.NONE, instances));
    }

    static DrainInstance idleTermination(String id) {
        return new DrainInstance(id, Reason.IDLE);
    }

    static Duration min(long minutes) {
        return Duration.ofMinutes(minutes);
    }

    // ---- GitLab's rule --------------------------------------------------------------------

    static Stream<Arguments> gitlabRule() {
        // pending, running, idle_count, scale_factor, scale_factor_limit, capacity, max, need, instances
        return Stream.of(
                Arguments.of(0, 0, 0, 0.0, 0, 1, 10, 0, 0),
                Arguments.of(3, 0, 0, 0.0, 0, 1, 10, 3, 3),
                Arguments.of(3, 0, 0, 0.0, 0, 2, 10, 3, 2),         // ceil(3/2)
                Arguments.of(4, 0, 0, 0.0, 0, 2, 10, 4, 2),
                Arguments.of(0, 0, 2, 0.0, 0, 1, 10, 2, 2),         // idle_count alone
                Arguments.of(1, 4, 1, 0.5, 10, 1, 10, 7, 7),        // idle = max(1, min(ceil(2.0), 10)) = 2
                Arguments.of(0, 5, 0, 0.5, 10, 1, 10, 8, 8),        // ceil(2.5) = 3
                Arguments.of(0, 10, 0, 1.5, 4, 1, 20, 14, 14),      // min(15, 4) = 4
                Arguments.of(0, 10, 6, 1.5, 4, 1, 20, 16, 16),      // max(6, 4) = 6
                Arguments.of(0, 10, 1, 0.0, 10, 1, 20, 11, 11),     // scale_factor 0: limit unused, idle_count only
                Arguments.of(0, 3, 0, 0.1, 0, 1, 10, 4, 4),         // limit 0 means no limit: ceil(0.3) = 1
                Arguments.of(0, 7, 0, 1.0, 3, 3, 10, 10, 4),        // ceil(10/3)
                Arguments.of(0, 0, 0, 2.0, 5, 1, 10, 0, 0),         // scale factor of nothing running
                Arguments.of(30, 0, 0, 0.0, 0, 2, 5, 30, 5),        // capped at max_instances
                Arguments.of(0, 0, 3, 0.0, 0, 1, 0, 3, 0));         // max_instances 0: pool off
    }

    @ParameterizedTest(name = "pending={0} running={1} idle_count={2} sf={3} limit={4} cap={5} max={6} -> need {7}, {8} instances")
    @MethodSource("gitlabRule")
    void desiredCapacityFollowsGitLabsRule(int pending, int running, int idleCount, double scaleFactor, int limit,
                                           int capacity, int max, int need, int instances) {
        PoolConfig pool = pool(capacity, max, 0, always(idleCount, TEN_MIN, scaleFactor, limit));

        ScalingDecision decision = decide(pool, pending, running, 0);

        assertEquals(need, decision.neededSlots(), "need");
        assertEquals(instances, decision.targetInstances(), "instances");
        assertEquals(instances, decision.desiredAfter());
        assertEquals(instances == 0 ? List.of() : List.of(new SetDesiredCapacity(instances)), decision.actions());
    }

    @ParameterizedTest
    @CsvSource({
            // idle_count, scale_factor, limit, running, idle slots
            "0, 0,    0,  9, 0",
            "2, 0,    5,  9, 2",
            "1, 0.5,  10, 1, 1",
            "1, 0.5,  10, 3, 2",
            "0, 0.25, 0,  9, 3",
            "0, 3,    4,  9, 4",
            "5, 3,    4,  9, 5",
    })
    void idleSlotsOfOnePolicyEntry(int idleCount, double scaleFactor, int limit, int running, int idle) {
        assertEquals(idle, always(idleCount, TEN_MIN, scaleFactor, limit).idleSlots(running));
    }

    // ---- scale-out ------------------------------------------------------------------------

    @Nested
    class ScaleOut {
        final PoolConfig pool = pool(2, 25, 0, always(0, TEN_MIN, 0, 0));

        @Test
        void raisesDesiredCapacityForPendingJobs() {
            ScalingDecision d = decide(pool, 3, 4, 2, busy("i-a", min(30), 2, 1), busy("i-b", min(20), 2, 1));
            assertEquals(7, d.neededSlots());
            assertEquals(4, d.targetInstances());
            assertEquals(List.of(new SetDesiredCapacity(4)), d.actions());
        }

        @Test
        void capacityAlreadyAskedForButNotYetLaunchedCounts() {
            ScalingDecision d = decide(pool, 3, 4, 4, busy("i-a", min(30), 2, 1), busy("i-b", min(20), 2, 1));
            assertTrue(d.changesNothing(), d.actions().toString());
            assertEquals(4, d.desiredAfter());
        }

        @Test
        void isCappedAtMaxInstances() {
            PoolConfig small = pool(1, 3, 0, always(0, TEN_MIN, 0, 0));
            assertEquals(List.of(new SetDesiredCapacity(3)), decide(small, 50, 0, 1).actions());
            ScalingDecision atMax = decide(small, 50, 0, 3);
            assertTrue(atMax.changesNothing());
            assertEquals(3, atMax.desiredAfter());
        }

        @Test
        void aScaleOutNeverTerminatesAnything() {
            ScalingDecision d = decide(pool, 10, 0, 1, idle("i-old", Duration.ofHours(5), Duration.ofHours(4)));
            assertEquals(List.of(new SetDesiredCapacity(5)), d.actions());
        }
    }

    // ---- scale-in -------------------------------------------------------------------------

    @Nested
    class ScaleIn {
        final InstanceView a = idle("i-a", Duration.ofHours(3), min(30));
        final InstanceView b = idle("i-b", Duration.ofHours(2), min(30));
        final InstanceView c = idle("i-c", Duration.ofHours(1), min(30));

        @Test
        void terminatesIdleInstancesOldestLaunchFirstWithDecrement() {
            ScalingDecision d = decide(simplePool(), 0, 0, 3, c, a, b);
            assertEquals(List.of(idleTermination("i-a"), idleTermination("i-b"), idleTermination("i-c")), d.actions());
            assertEquals(0, d.desiredAfter());
        }

        @Test
        void terminatesOnlyTheSurplusOldestFirst() {
            PoolConfig keepTwo = pool(1, 10, 0, always(2, TEN_MIN, 0, 0));
            ScalingDecision d = decide(keepTwo, 0, 0, 3, c, b, a);
            assertEquals(List.of(idleTermination("i-a")), d.actions());
            assertEquals(2, d.desiredAfter());
        }

        @Test
        void surplusCountsInWholeInstances() {
            PoolConfig twoSlots = pool(2, 10, 0, always(0, TEN_MIN, 0, 0));
            // 3 pending jobs need 2 instances of 2 slots; the third instance goes.
            ScalingDecision d = decide(twoSlots, 3, 0, 3, a, b, c);
            assertEquals(List.of(idleTermination("i-a")), d.actions());
        }

        @ParameterizedTest(name = "idle for {0} min with idle_time 10m -> terminated: {1}")
        @CsvSource({"0, false", "5, false", "9, false", "10, true", "11, true", "600, true"})
        void onlyAfterIdleTime(long idleMinutes, boolean terminated) {
            ScalingDecision d = decide(simplePool(), 0, 0, 1, idle("i-x", Duration.ofDays(1), min(idleMinutes)));
            assertEquals(terminated ? List.of(idleTermination("i-x")) : List.of(), d.actions());
        }

        @Test
        void idleTimeCountsFromTheLastJobOrFromLaunchIfNeverUsed() {
            InstanceView oldButJustUsed = idle("i-used", Duration.ofHours(3), min(5));
            InstanceView neverUsedLong = idle("i-unused-long", min(30), null, 0);
            InstanceView neverUsedFresh = idle("i-unused-fresh", min(5), null, 0);
            ScalingDecision d = decide(simplePool(), 0, 0, 3, oldButJustUsed, neverUsedLong, neverUsedFresh);
            assertEquals(List.of(idleTermination("i-unused-long")), d.actions());
            assertEquals(2, d.desiredAfter());
        }

        @Test
        void neverTerminatesABusyInstanceEvenFarOverTarget() {
            PoolConfig fourSlots = pool(4, 10, 0, always(0, TEN_MIN, 0, 0));
            // 3 running jobs fit on one instance; all three instances are busy, so none goes.
            ScalingDecision d = decide(fourSlots, 0, 3, 3,
                    busy("i-a", Duration.ofHours(3), 1, 1), busy("i-b", Duration.ofHours(2), 1, 1),
                    busy("i-c", Duration.ofHours(1), 1, 1));
            assertEquals(1, d.targetInstances());
            assertTrue(d.changesNothing(), d.actions().toString());
            assertEquals(3, d.desiredAfter());
        }

        @Test
        void skipsABusyOldestInstanceAndTakesTheIdleOne() {
            ScalingDecision d = decide(simplePool(), 0, 1, 3,
                    busy("i-oldest", Duration.ofHours(5), 1, 1), a, b);
            // need 1 (the running job): two of three go, but never the busy one
            assertEquals(List.of(idleTermination("i-a"), idleTermination("i-b")), d.actions());
        }

        @Test
        void bootingInstancesAreNotIdleTerminated() {
            ScalingDecision d = decide(simplePool(), 0, 0, 1, booting("i-boot", min(4)));
            assertTrue(d.changesNothing(), d.actions().toString());
        }

        @Test
        void onlyUnlaunchedCapacityIsTrimmedNeverBelowListedInstances() {
            // desired 5 but only 3 listed, none idle long enough: lower desired to 3, not below.
            ScalingDecision d = decide(simplePool(), 0, 0, 5,
                    idle("i-a", min(60), min(1)), idle("i-b", min(60), min(1)), idle("i-c", min(60), min(1)));
            assertEquals(List.of(new SetDesiredCapacity(3)), d.actions());
            assertEquals(3, d.desiredAfter());
        }

        @Test
        void trimmingDesiredComesBeforeDrainsAndNeverBelowTheInstancesStillThere() {
            ScalingDecision d = decide(simplePool(), 0, 0, 5,
                    idle("i-a", min(60), min(30)), idle("i-b", min(60), min(1)), idle("i-c", min(60), min(1)));
            // trim the 2 unlaunched (5 -> 3: i-a, i-b, i-c are all still in the group), then drain i-a,
            // which lowers desired to 2 as it terminates
            assertEquals(List.of(new SetDesiredCapacity(3), idleTermination("i-a")), d.actions());
            assertEquals(2, d.desiredAfter());
        }

        @Test
        void unlaunchedCapacityIsTrimmedOnlyDownToWhatIsNeeded() {
            ScalingDecision d = decide(simplePool(), 2, 0, 5, idle("i-a", min(60), min(1)));
            // 2 pending need 2; 1 listed + 4 unlaunched: trim 3
            assertEquals(List.of(new SetDesiredCapacity(2)), d.actions());
        }
    }

    // ---- max_use_count --------------------------------------------------------------------

    @Nested
    class Retirement {
        final PoolConfig pool = pool(1, 10, 3, always(0, TEN_MIN, 0, 0));

        @Test
        void anIdleInstanceAtMaxUseCountRetiresAtOnce() {
            ScalingDecision d = decide(pool, 0, 0, 1, idle("i-used-up", min(60), min(1), 3));
            assertEquals(List.of(new DrainInstance("i-used-up", Reason.RETIRED)), d.actions());
            assertEquals(0, d.desiredAfter());
        }

        @Test
        void aBusyRetiringInstanceStays() {
            ScalingDecision d = decide(pool, 0, 1, 1, busy("i-last-job", min(60), 1, 5));
            assertTrue(d.changesNothing(), d.actions().toString());
            assertEquals(0, d.targetInstances(), "the running job is served where it runs");
            assertEquals(1, d.desiredAfter());
        }

        @Test
        void retiringInstancesGiveNoSlots() {
            ScalingDecision d = decide(pool, 1, 0, 1, idle("i-used-up", min(60), min(1), 3));
            // the replacement is asked for at once: desired 2 while i-used-up drains, 1 once it has gone
            assertEquals(List.of(new SetDesiredCapacity(2), new DrainInstance("i-used-up", Reason.RETIRED)),
                    d.actions());
            assertEquals(1, d.desiredAfter());
            assertEquals(1, d.targetInstances());
        }

        @Test
        void busyRetiringInstancesCountAgainstMaxInstances() {
            PoolConfig two = pool(1, 2, 3, always(0, TEN_MIN, 0, 0));
            ScalingDecision d = decide(two, 2, 1, 1, busy("i-retiring", min(60), 1, 3));
            assertEquals(List.of(new SetDesiredCapacity(2)), d.actions());
        }

        @Test
        void maxUseCountZeroMeansUnlimited() {
            PoolConfig unlimited = pool(1, 10, 0, always(0, TEN_MIN, 0, 0));
            assertTrue(decide(unlimited, 0, 0, 1, idle("i-veteran", min(60), min(1), 1000)).changesNothing());
        }

        @Test
        void belowMaxUseCountTheInstanceKeepsServing() {
            ScalingDecision d = decide(pool, 1, 0, 1, idle("i-twice", min(60), min(1), 2));
            assertTrue(d.changesNothing(), d.actions().toString());
        }
    }

    // ---- rolling upgrades (outdated launch template) ----------------------------------------

    @Nested
    class RollingUpgrade {
        final PoolConfig pool = simplePool();

        static Stream<Arguments> oneOutdatedInstance() {
            // what it is, one pending job or none, the actions, desired once the drains have ended
            return Stream.of(
                    Arguments.of("idle 1 min", outdated(idle("i-old", min(60), min(1))), 0,
                            List.of(new DrainInstance("i-old", Reason.OUTDATED)), 0),
                    Arguments.of("idle, a job pending", outdated(idle("i-old", min(60), min(1))), 1,
                            List.of(new SetDesiredCapacity(2), new DrainInstance("i-old", Reason.OUTDATED)), 1),
                    Arguments.of("never used", outdated(idle("i-old", min(3), null)), 0,
                            List.of(new DrainInstance("i-old", Reason.OUTDATED)), 0),
                    Arguments.of("booting", outdated(booting("i-old", min(1))), 0,
                            List.of(new DrainInstance("i-old", Reason.OUTDATED)), 0),
                    Arguments.of("busy", outdated(busy("i-old", min(60), 1, 4)), 0, List.of(), 1),
                    Arguments.of("busy, a job pending", outdated(busy("i-old", min(60), 1, 4)), 1,
                            List.of(new SetDesiredCapacity(2)), 2),
                    Arguments.of("idle, jobs may be unknown", outdated(unknownState(idle("i-old", min(60), min(1)))), 1,
                            List.of(new SetDesiredCapacity(2)), 2),
                    Arguments.of("draining already", outdated(draining(idle("i-old", min(60), min(1)))), 0, List.of(), 1));
        }

        @ParameterizedTest(name = "{0}, pending {2}")
        @MethodSource("oneOutdatedInstance")
        void anOutdatedInstanceGivesNoSlotsAndGoesOnlyOnceIdle(String what, InstanceView old, int pending,
                                                                List<ScalingAction> actions, int desiredAfter) {
            ScalingDecision d = decide(pool, pending, old.runningJobs(), 1, old);
            assertEquals(actions, d.actions(), what);
            assertEquals(desiredAfter, d.desiredAfter(), what);
            assertEquals(pending, d.targetInstances(), what + ": its slots are not counted, its jobs are served where they run");
        }

        @Test
        void aFleetRollsAsItsInstancesBecomeIdle() {
            PoolConfig keepOne = pool(1, 10, 0, always(1, TEN_MIN, 0, 0));
            ScalingDecision d = decide(keepOne, 0, 2, 5,
                    outdated(busy("i-old-busy-1", min(90), 1, 3)), outdated(busy("i-old-busy-2", min(90), 1, 3)),
                    outdated(idle("i-old-idle-1", min(90), min(2))), outdated(idle("i-old-idle-2", min(80), min(1))),
                    idle("i-new", min(1), null));
            assertEquals(List.of(new DrainInstance("i-old-idle-1", Reason.OUTDATED),
                    new DrainInstance("i-old-idle-2", Reason.OUTDATED)), d.actions(),
                    "the busy old instances finish their jobs; the new one is the idle slot");
            assertEquals(3, d.desiredAfter());

            // their jobs done, the busy ones go too; idle_count 1 is the new instance
            ScalingDecision later = decide(keepOne, 0, 0, 3,
                    outdated(idle("i-old-busy-1", min(95), min(1), 4)), outdated(idle("i-old-busy-2", min(95), min(1), 4)),
                    idle("i-new", min(6), null));
            assertEquals(List.of(new DrainInstance("i-old-busy-1", Reason.OUTDATED),
                    new DrainInstance("i-old-busy-2", Reason.OUTDATED)), later.actions());
            assertEquals(1, later.desiredAfter());
        }

        @Test
        void replacementsForPendingJobsAreAskedForInTheSameDecision() {
            ScalingDecision d = decide(pool, 2, 0, 2,
                    outdated(idle("i-old-1", min(60), min(1))), outdated(idle("i-old-2", min(60), min(1))));
            assertEquals(List.of(new SetDesiredCapacity(4), new DrainInstance("i-old-1", Reason.OUTDATED),
                    new DrainInstance("i-old-2", Reason.OUTDATED)), d.actions(),
                    "raised first, so the group never picks an instance to terminate, and launches the new version");
            assertEquals(2, d.desiredAfter());
        }

        @Test
        void busyOutdatedInstancesHoldTheirPlaceUnderMaxInstances() {
            PoolConfig two = pool(1, 2, 0, always(0, TEN_MIN, 0, 0));
            ScalingDecision d = decide(two, 3, 1, 1, outdated(busy("i-old", min(60), 1, 2)));
            assertEquals(List.of(new SetDesiredCapacity(2)), d.actions());
            assertEquals(1, d.targetInstances());
        }

        @Test
        void anInstanceBothUsedUpAndOutdatedIsDrainedOnceAsRetired() {
            PoolConfig maxUse = pool(1, 10, 3, always(0, TEN_MIN, 0, 0));
            ScalingDecision d = decide(maxUse, 0, 0, 1, outdated(idle("i-old", min(60), min(1), 3)));
            assertEquals(List.of(new DrainInstance("i-old", Reason.RETIRED)), d.actions());
        }

        @Test
        void scaleInChoosesAmongCurrentInstancesOnly() {
            // two idle past idle_time, no demand: the outdated one goes as outdated, the current one as idle
            ScalingDecision d = decide(pool, 0, 0, 2, outdated(idle("i-old", min(60), min(30))),
                    idle("i-new", min(40), min(30)));
            assertEquals(List.of(new DrainInstance("i-old", Reason.OUTDATED), idleTermination("i-new")), d.actions());
            assertEquals(0, d.desiredAfter());
        }
    }

    // ---- boot_timeout ---------------------------------------------------------------------

    @ParameterizedTest(name = "booting for {0}s with boot_timeout 5m -> replaced: {1}")
    @CsvSource({"60, false", "240, false", "300, false", "301, true", "3600, true"})
    void instancesNotReadyWithinBootTimeoutAreReplaced(long bootingSeconds, boolean replaced) {
        ScalingDecision d = decide(simplePool(), 1, 0, 1, booting("i-stuck", Duration.ofSeconds(bootingSeconds)));
        // the replacement is asked for in the same decision: desired 2 while i-stuck drains, 1 after
        assertEquals(replaced ? List.of(new SetDesiredCapacity(2), new DrainInstance("i-stuck", Reason.BOOT_TIMEOUT))
                : List.of(), d.actions());
        assertEquals(1, d.desiredAfter());
    }

    @Test
    void anInstanceWithoutLaunchTimeIsNeverTimedOut() {
        assertTrue(decide(simplePool(), 1, 0, 1, booting("i-unknown", null)).changesNothing());
    }

    // ---- forecast -------------------------------------------------------------------------

    @Nested
    class Forecast {
        final InstanceView a = idle("i-a", Duration.ofHours(3), min(30));
        final InstanceView b = idle("i-b", Duration.ofHours(2), min(30));
        final InstanceView c = idle("i-c", Duration.ofHours(1), min(30));

        ScalingDecision decideWith(PoolConfig pool, int pending, int desired, DemandForecast.Slots slots,
                                   InstanceView... instances) {
            return ScalingPolicy.decide(snapshot(pool, NOW, pending, 0, desired, slots, instances));
        }

        @ParameterizedTest(name = "keep {0} -> terminated {1}")
        @MethodSource("io.runnerscale.scaling.ScalingPolicyTest#keepCases")
        void keptSlotsPreventScaleIn(int keep, List<String> terminated) {
            ScalingDecision d = decideWith(simplePool(), 0, 3, new DemandForecast.Slots(keep, 0), c, b, a);
            assertEquals(terminated.stream().map(ScalingPolicyTest::idleTermination).toList(), d.actions());
        }

        @Test
        void keptSlotsDoNotScaleOut() {
            assertTrue(decideWith(simplePool(), 0, 0, new DemandForecast.Slots(5, 0)).changesNothing());
        }

        @Test
        void prewarmSlotsScaleOut() {
            ScalingDecision d = decideWith(simplePool(), 0, 0, new DemandForecast.Slots(0, 3));
            assertEquals(3, d.neededSlots());
            assertEquals(List.of(new SetDesiredCapacity(3)), d.actions());
        }

        @Test
        void prewarmAddsToLiveJobs() {
            assertEquals(5, decideWith(simplePool(), 2, 0, new DemandForecast.Slots(0, 3)).neededSlots());
        }

        @Test
        void prewarmAndPolicyIdleTakeTheLargerNotTheSum() {
            PoolConfig idleFour = pool(1, 10, 0, always(4, TEN_MIN, 0, 0));
            assertEquals(4, decideWith(idleFour, 0, 0, new DemandForecast.Slots(0, 2)).neededSlots());
            assertEquals(6, decideWith(idleFour, 0, 0, new DemandForecast.Slots(0, 6)).neededSlots());
        }

        @Test
        void prewarmIsCappedAtMaxInstances() {
            PoolConfig two = pool(1, 2, 0, always(0, TEN_MIN, 0, 0));
            assertEquals(List.of(new SetDesiredCapacity(2)),
                    decideWith(two, 0, 0, new DemandForecast.Slots(0, 8)).actions());
        }

        @Test
        void slotsKeepAtLeastWhatTheyPrewarm() {
            assertEquals(3, new DemandForecast.Slots(1, 3).keep());
            assertEquals(4, new DemandForecast.Slots(4, 3).keep());
        }
    }

    static Stream<Arguments> keepCases() {
        return Stream.of(
                Arguments.of(0, List.of("i-a", "i-b", "i-c")),
                Arguments.of(1, List.of("i-a", "i-b")),
                Arguments.of(2, List.of("i-a")),
                Arguments.of(3, List.of()),
                Arguments.of(7, List.of()));
    }

    // ---- policy by time of day ------------------------------------------------------------

    static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    static Stream<Arguments> workingHours() {
        return Stream.of(
                Arguments.of("2026-01-07T12:00:00Z", 2),   // Wed 13:00 Berlin
                Arguments.of("2026-01-07T06:59:00Z", 0),   // Wed 07:59 Berlin
                Arguments.of("2026-01-07T07:00:00Z", 2),   // Wed 08:00 Berlin
                Arguments.of("2026-01-07T17:59:00Z", 2),   // Wed 18:59 Berlin
                Arguments.of("2026-01-07T18:00:00Z", 0),   // Wed 19:00 Berlin (18:00 UTC would still be in range)
                Arguments.of("2026-01-10T12:00:00Z", 0),   // Saturday
                Arguments.of("2026-07-08T06:30:00Z", 2));  // summer: 08:30 CEST
    }

    @ParameterizedTest(name = "{0} -> need {1}")
    @MethodSource("workingHours")
    void theActiveEntryDependsOnTheTimeOfDayInItsTimezone(String at, int need) {
        PoolConfig pool = pool(1, 10, 0, always(0, TEN_MIN, 0, 0),
                during("* 8-18 * * mon-fri", BERLIN, 2, Duration.ofMinutes(20)));
        ScalingDecision d = ScalingPolicy.decide(snapshot(pool, Instant.parse(at), 0, 0, 0, null));
        assertEquals(need, d.neededSlots());
    }

    @Test
    void theLastMatchingEntryWins() {
        PolicyEntry allDay = during("* * * * *", ZoneId.of("UTC"), 1, TEN_MIN);
        PolicyEntry office = during("* 8-18 * * *", ZoneId.of("UTC"), 3, TEN_MIN);
        PoolConfig specificLast = pool(1, 10, 0, always(0, TEN_MIN, 0, 0), allDay, office);
        PoolConfig specificFirst = pool(1, 10, 0, always(0, TEN_MIN, 0, 0), office, allDay);

        assertEquals(3, decide(specificLast, 0, 0, 0).neededSlots());
        assertEquals(1, ScalingPolicy.decide(snapshot(specificLast, Instant.parse("2026-01-07T20:00:00Z"), 0, 0, 0,
                null)).neededSlots());
        assertEquals(1, decide(specificFirst, 0, 0, 0).neededSlots(), "order, not specificity, decides");
    }

    @Test
    void idleTimeComesFromTheActiveEntry() {
        PoolConfig pool = pool(1, 10, 0, always(0, TEN_MIN, 0, 0),
                during("* 8-18 * * mon-fri", BERLIN, 0, Duration.ofMinutes(20)));
        Instant office = Instant.parse("2026-01-07T12:15:00Z");
        InstanceView atOffice = new InstanceView("i-a", true, office.minus(min(15)), 0, null, 0);
        assertTrue(ScalingPolicy.decide(snapshot(pool, office, 0, 0, 1, null, atOffice)).changesNothing());

        Instant evening = Instant.parse("2026-01-07T20:15:00Z");
        InstanceView atEvening = new InstanceView("i-a", true, evening.minus(min(15)), 0, null, 0);
        assertEquals(List.of(idleTermination("i-a")),
                ScalingPolicy.decide(snapshot(pool, evening, 0, 0, 1, null, atEvening)).actions());
    }

    // ---- invariants over many random snapshots --------------------------------------------

    @Test
    void invariantsHoldForRandomSnapshots() {
        Random random = new Random(20260107);
        for (int round = 0; round < 3000; round++) {
            int capacity = 1 + random.nextInt(4);
            int max = random.nextInt(12);
            int maxUse = random.nextBoolean() ? 0 : 1 + random.nextInt(5);
            PolicyEntry entry = always(random.nextInt(4), min(random.nextInt(30)),
                    random.nextBoolean() ? 0 : random.nextInt(30) / 10.0, random.nextInt(6));
            PoolConfig pool = pool(capacity, max, maxUse, entry);
            List<InstanceView> instances = new ArrayList<>();
            int runningOnInstances = 0;
            for (int i = random.nextInt(8); i > 0; i--) {
                String id = "i-" + Integer.toHexString(0x1000 + round * 16 + i);
                Duration launched = min(random.nextInt(120));
                int uses = random.nextInt(7);
                switch (random.nextInt(4)) {
                    case 0 -> instances.add(booting(id, launched));
                    case 1 -> {
                        int jobs = 1 + random.nextInt(capacity);
                        runningOnInstances += jobs;
                        instances.add(busy(id, launched, jobs, uses));
                    }
                    case 2 -> {
                        // a drain runs on it (scale-in, spot, the terminate hook), with or without jobs left
                        int jobs = random.nextInt(capacity + 1);
                        runningOnInstances += jobs;
                        instances.add(draining(jobs == 0 ? idle(id, launched, null, uses) : busy(id, launched, jobs, uses)));
                    }
                    default -> {
                        InstanceView idle = idle(id, launched,
                                random.nextBoolean() ? null : min(random.nextInt((int) launched.toMinutes() + 1)), uses);
                        // one in four: jobs on it may have been missed (there before runnerscale watched, or a gap)
                        instances.add(random.nextInt(4) == 0 ? unknownState(idle) : idle);
                    }
                }
            }
            // one in four launched from a template version the group no longer launches (a rolling upgrade)
            instances.replaceAll(i -> random.nextInt(4) == 0 ? outdated(i) : i);
            int desired = Math.max(0, instances.size() + random.nextInt(5) - 2);
            int pending = random.nextInt(10);
            DemandForecast.Slots slots = new DemandForecast.Slots(random.nextInt(4), random.nextInt(3));
            PoolSnapshot snapshot = new PoolSnapshot(pool, NOW, pending, runningOnInstances, instances, desired, slots);

            ScalingDecision d = ScalingPolicy.decide(snapshot);

            String context = "round " + round + ": " + snapshot + " -> " + d;
            checkInvariants(snapshot, d, entry, context);
        }
    }

    @Test
    void aDrainingInstanceGivesNoSlotsAndIsNeverChosenAgain() {
        // i-a idle for hours but draining already; one pending job: it needs a new instance
        PoolSnapshot s = snapshot(simplePool(), NOW, 1, 0, 1, DemandForecast.Slots.NONE,
                draining(idle("i-a", Duration.ofHours(5), null)));
        ScalingDecision d = ScalingPolicy.decide(s);
        assertEquals(List.of(new SetDesiredCapacity(2)), d.actions(), "it holds its place while it drains");
        assertEquals(1, d.targetInstances());
    }

    @Test
    void theJobsOfAnInterruptedInstanceGetSlotsElsewhereAtOnce() {
        // a spot warning: the job on i-a will be cancelled and retried within two minutes
        InstanceView busy = busy("i-a", Duration.ofHours(5), 1, 0);
        InstanceView interrupted = new InstanceView(busy.id(), busy.ready(), busy.launchedAt(), busy.runningJobs(),
                busy.lastJobFinishedAt(), busy.useCount(), true, true, false, true);
        ScalingDecision d = ScalingPolicy.decide(snapshot(simplePool(), NOW, 0, 1, 1, DemandForecast.Slots.NONE,
                interrupted));
        assertEquals(List.of(new SetDesiredCapacity(2)), d.actions(), "the replacement launches now, not after the retry");
        assertEquals(1, d.targetInstances());
    }

    @Test
    void jobsOnADrainingInstanceAreServedThere() {
        PoolSnapshot s = snapshot(simplePool(), NOW, 0, 1, 1, DemandForecast.Slots.NONE,
                draining(busy("i-a", Duration.ofHours(5), 1, 0)));
        ScalingDecision d = ScalingPolicy.decide(s);
        assertTrue(d.changesNothing(), d.actions().toString());
        assertEquals(0, d.targetInstances());
    }

    @Test
    void anIdleInstanceWhoseJobsMayBeUnknownIsNeverScaledIn() {
        PoolSnapshot s = snapshot(simplePool(), NOW, 0, 0, 2, DemandForecast.Slots.NONE,
                unknownState(idle("i-a", Duration.ofHours(5), null)), idle("i-b", Duration.ofHours(1), null));
        ScalingDecision d = ScalingPolicy.decide(s);
        assertEquals(List.of(new DrainInstance("i-b", Reason.IDLE)), d.actions(),
                "only the instance whose jobs runnerscale has seen all along goes, though i-a is older");
        assertEquals(1, d.desiredAfter());
    }

    @Test
    void aRetiredInstanceWhoseJobsMayBeUnknownStaysAndGivesNoSlots() {
        PoolConfig pool = pool(1, 10, 3, always(0, TEN_MIN, 0, 0));
        PoolSnapshot s = snapshot(pool, NOW, 1, 0, 1, DemandForecast.Slots.NONE,
                unknownState(idle("i-a", Duration.ofHours(5), min(30), 3)));
        ScalingDecision d = ScalingPolicy.decide(s);
        assertEquals(List.of(new SetDesiredCapacity(2)), d.actions(),
                "not terminated, and the pending job gets a new instance");
    }

    private static int decrements(ScalingDecision d) {
        return (int) d.actions().stream().filter(a -> a instanceof DrainInstance).count();
    }

    private static void checkInvariants(PoolSnapshot s, ScalingDecision d, PolicyEntry policy, String context) {
        var byId = s.instances().stream().collect(Collectors.toMap(InstanceView::id, i -> i));
        int group = s.desiredCapacity();
        int listed = s.instances().size();
        int decrements = 0;
        boolean drainSeen = false;
        Set<String> terminatedIdle = new java.util.HashSet<>();
        for (ScalingAction action : d.actions()) {
            switch (action) {
                case DrainInstance t -> {
                    drainSeen = true;
                    InstanceView i = byId.get(t.instanceId());
                    org.junit.jupiter.api.Assertions.assertNotNull(i, "drains a listed instance: " + context);
                    assertFalse(i.busy(), "never drains a busy instance: " + context);
                    assertFalse(i.draining(), "never drains an instance twice: " + context);
                    if (t.reason() != ScalingAction.Reason.BOOT_TIMEOUT) {
                        assertTrue(i.stateKnown(), "never drains one whose jobs may be unknown: " + context);
                    }
                    switch (t.reason()) {
                        case IDLE -> {
                            assertTrue(i.ready() && i.idleFor(s.now()).compareTo(policy.idleTime()) >= 0,
                                    "idle drain only after idle_time: " + context);
                            assertFalse(i.outdated(), "an outdated instance goes as outdated: " + context);
                            terminatedIdle.add(i.id());
                        }
                        case RETIRED -> {
                            assertTrue(s.pool().maxUseCount() > 0 && i.useCount() >= s.pool().maxUseCount(), context);
                        }
                        case BOOT_TIMEOUT -> {
                            assertFalse(i.ready(), context);
                            assertTrue(s.now().isAfter(i.launchedAt().plus(s.pool().bootTimeout())), context);
                            assertFalse(i.outdated(), "an outdated instance goes as outdated: " + context);
                        }
                        case OUTDATED -> {
                            assertTrue(i.outdated(), context);
                        }
                    }
                    decrements++;
                }
                case SetDesiredCapacity set -> {
                    assertFalse(drainSeen, "a capacity change comes before the drains: " + context);
                    if (set.desired() > group) {
                        assertTrue(set.desired() <= s.pool().maxInstances() + decrements(d),
                                "scale-out capped (plus the instances still draining out): " + context);
                    }
                    // the drained instances are still in the group when it is set: the group must not pick victims
                    assertTrue(set.desired() >= Math.min(listed, s.desiredCapacity()),
                            "desired never drops below the instances in the group: " + context);
                    group = set.desired();
                }
                case ScalingAction.LaunchTask task ->
                        org.junit.jupiter.api.Assertions.fail("a Fargate launch in an Auto Scaling decision: " + context);
            }
        }
        // The roll always moves: every outdated instance that is idle, its jobs known and not draining yet
        // is drained in this very decision (as outdated, or as retired when it is also used up).
        Set<String> drained = d.actions().stream().filter(a -> a instanceof DrainInstance)
                .map(a -> ((DrainInstance) a).instanceId()).collect(Collectors.toSet());
        for (InstanceView i : s.instances()) {
            if (i.outdated() && !i.busy() && i.stateKnown() && !i.draining()) {
                assertTrue(drained.contains(i.id()), "an idle outdated instance goes: " + i.id() + " " + context);
            }
            if (i.outdated() && i.busy()) {
                assertFalse(drained.contains(i.id()), "a busy outdated instance keeps its jobs: " + context);
            }
        }
        assertEquals(d.desiredAfter(), group - decrements,
                "desiredAfter is what the actions leave once the drains have ended: " + context);
        assertTrue(d.desiredAfter() >= Math.min(listed - decrements, s.desiredCapacity() - decrements),
                "desired never drops below the instances left: " + context);
        // Oldest first: no idle-eligible instance that stays is older than one that went.
        Instant newestTerminated = s.instances().stream().filter(i -> terminatedIdle.contains(i.id()))
                .map(InstanceView::launchedAt).max(Comparator.naturalOrder()).orElse(null);
        if (newestTerminated != null) {
            for (InstanceView i : s.instances()) {
                boolean eligible = i.ready() && !i.busy() && i.stateKnown() && !i.draining() && !i.outdated()
                        && i.idleFor(s.now()).compareTo(policy.idleTime()) >= 0
                        && !(s.pool().maxUseCount() > 0 && i.useCount() >= s.pool().maxUseCount());
                if (eligible && !terminatedIdle.contains(i.id())) {
                    assertFalse(i.launchedAt().isBefore(newestTerminated), "oldest launch first: " + context);
                }
            }
        }
    }
}
