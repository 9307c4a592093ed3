package io.runnerscale.simulate;

import io.runnerscale.compute.GroupState;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfigParser;
import io.runnerscale.scaling.ScalingAction;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The warm pool of {@link SimulatedFleet}, on a hand-driven clock with fixed times. */
class SimulatedFleetWarmPoolTest {
    private static final Instant T0 = Instant.parse("2024-03-04T10:00:00Z");
    private static final Duration BOOT = Duration.ofSeconds(50);

    private final VirtualClock clock = new VirtualClock(T0);
    private final List<SimulatedFleet.Instance> launched = new ArrayList<>();
    private final List<SimulatedFleet.Instance> left = new ArrayList<>();
    private final SimulatedFleet fleet = new SimulatedFleet(clock, new SimulatedFleet.Timing() {
        @Override
        public Duration coldBoot(PoolConfig pool, boolean intoWarmPool) {
            return BOOT;
        }

        @Override
        public Duration uniform(PoolConfig.StartTime range) {
            return range.min(); // the fixed ranges below have min = max
        }
    }, new SimulatedFleet.Listener() {
        @Override
        public void launched(SimulatedFleet.Instance instance) {
            launched.add(instance);
        }

        @Override
        public void terminated(SimulatedFleet.Instance instance) {
            left.add(instance);
        }
    });

    private static PoolConfig pool(String warmPool) {
        return PoolsConfigParser.parse("""
                pools:
                  - name: default
                    match: {run_untagged: true}
                    backend: {type: ec2-asg, asg: runners, runner_start_time: 2s-2s, volume_gib: 30}
                    max_instances: 10
                    warm_pool: %s
                """.formatted(warmPool), "test").pools().getFirst();
    }

    private void advance(long seconds) {
        clock.advanceTo(clock.instant().plusSeconds(seconds));
    }

    @Test
    void theWarmPoolFillsToMaxPreparedMinusDesiredAndScaleOutDrawsPreparedInstancesFirst() {
        PoolConfig pool = pool("{state: stopped, max_prepared: 5, resume_time: 15s-15s}");
        fleet.setDesiredCapacity(pool, 0);
        assertEquals(5, fleet.warmSize(pool.name()));
        assertEquals(0, fleet.preparedSize(pool.name()), "still booting");
        assertTrue(launched.isEmpty(), "launches into the warm pool are not in service");
        advance(50);
        assertEquals(5, fleet.preparedSize(pool.name()));

        fleet.setDesiredCapacity(pool, 2);
        assertEquals(2, launched.size());
        for (SimulatedFleet.Instance instance : launched) {
            assertTrue(instance.fromWarmPool());
            assertEquals(clock.instant().plusSeconds(15 + 2), instance.readyAt(), "resume + runner start");
        }
        // target 5 - 2 = 3: exactly what is left, so nothing new is launched into it
        assertEquals(3, fleet.warmSize(pool.name()));
        assertEquals(5, fleet.warmUsage(pool, clock.instant()).launched());
        assertEquals(2, fleet.warmUsage(pool, clock.instant()).drawn());
        // the group lists only the instances in service: warm ones are no capacity to the scaler
        GroupState group = fleet.describe(pool);
        assertEquals(2, group.instances().size());
        for (GroupState.Instance instance : group.instances()) {
            assertFalse(fleet.isWarm(pool.name(), instance.id()));
        }
    }

    @Test
    void withNothingPreparedYetAScaleOutLaunchesColdAndTheWarmPoolRefillsToItsMinSize() {
        PoolConfig pool = pool("{state: stopped, min_size: 2, max_prepared: 3}");
        fleet.setDesiredCapacity(pool, 0); // 3 warming
        advance(10);
        fleet.setDesiredCapacity(pool, 1);
        assertFalse(launched.getFirst().fromWarmPool(), "the warm pool is still booting");
        assertEquals(clock.instant().plus(BOOT), launched.getFirst().readyAt());
        // target max(2, 3 - 1) = 2: the newest warming instance is terminated
        assertEquals(2, fleet.warmSize(pool.name()));
        advance(50);
        fleet.setDesiredCapacity(pool, 3);
        assertEquals(List.of(false, true, true), launched.stream().map(SimulatedFleet.Instance::fromWarmPool).toList());
        // target max(2, 3 - 3) = 2: refilled by two launches into the warm pool
        assertEquals(2, fleet.warmSize(pool.name()));
        assertEquals(0, fleet.preparedSize(pool.name()));
        assertEquals(5, fleet.warmUsage(pool, clock.instant()).launched());
    }

    @Test
    void onlyAScaleInReturnsAnInstanceToTheWarmPoolAndOnlyWhileItIsBelowTarget() {
        PoolConfig pool = pool("{state: stopped, min_size: 0, max_prepared: 2, reuse_on_scale_in: true}");
        fleet.setDesiredCapacity(pool, 0);
        advance(60);
        fleet.setDesiredCapacity(pool, 2); // draws both; target 0
        assertEquals(0, fleet.warmSize(pool.name()));
        String first = launched.get(0).id();
        String second = launched.get(1).id();

        // not a scale-in (retired, spot): terminated even though the warm pool is below target
        assertFalse(fleet.terminate(pool, first, true, false));
        assertFalse(left.getLast().returnedToWarmPool());
        assertFalse(fleet.isWarm(pool.name(), first));
        assertEquals(1, fleet.warmSize(pool.name()), "target 2 - 1 = 1 is refilled by a launch, not by the instance");
        // a scale-in: target becomes 2 - 0 = 2 > 1, so it goes back (stopped, ready to draw at once)
        assertTrue(fleet.terminate(pool, second, true, true));
        assertTrue(left.getLast().returnedToWarmPool());
        assertTrue(fleet.isWarm(pool.name(), second));
        assertEquals(2, fleet.warmSize(pool.name()));
        assertEquals(1, fleet.preparedSize(pool.name()), "the returned one; the refilled one still boots");
        fleet.setDesiredCapacity(pool, 1);
        assertEquals(second, launched.getLast().id(), "same instance id, drawn again");
        assertEquals(1, fleet.warmUsage(pool, clock.instant()).returned());
    }

    @Test
    void aScaleInDrainOfServeReturnsButARetiredOneDoesNot() {
        PoolConfig pool = pool("{state: stopped, max_prepared: 1, reuse_on_scale_in: true}");
        fleet.setDesiredCapacity(pool, 0);
        advance(60);
        fleet.setDesiredCapacity(pool, 1);
        fleet.drain(pool, launched.getLast().id(), ScalingAction.Reason.RETIRED);
        assertFalse(left.getLast().returnedToWarmPool());
        advance(60);
        fleet.setDesiredCapacity(pool, 1);
        fleet.drain(pool, launched.getLast().id(), ScalingAction.Reason.IDLE);
        assertTrue(left.getLast().returnedToWarmPool(), "a scale-in, with the warm pool below its target 1");
    }

    @Test
    void stoppedHoursAreCountedApartFromTheWarmingBootWhichBillsAtLeastAMinute() {
        PoolConfig pool = pool("{state: stopped, max_prepared: 1}");
        fleet.setDesiredCapacity(pool, 0);
        SimulatedFleet.WarmUsage usage = fleet.warmUsage(pool, T0.plus(BOOT).plusSeconds(3600));
        assertEquals(60, usage.warmingSeconds(), 1e-9, "a 50 s boot bills EC2's minute");
        assertEquals(3600, usage.stoppedSeconds(), 1e-9);
        assertEquals(0, usage.runningSeconds(), 1e-9);
    }

    @Test
    void aRunningWarmPoolBillsAsRunningAndResumesInTheRunnerStartAlone() {
        PoolConfig pool = pool("{state: running, max_prepared: 1}");
        fleet.setDesiredCapacity(pool, 0);
        advance(50 + 600);
        SimulatedFleet.WarmUsage usage = fleet.warmUsage(pool, clock.instant());
        assertEquals(600, usage.runningSeconds(), 1e-9);
        assertEquals(0, usage.stoppedSeconds(), 1e-9);
        fleet.setDesiredCapacity(pool, 1);
        assertEquals(clock.instant().plusSeconds(2), launched.getFirst().readyAt());
    }

    @Test
    void aPoolWithoutAWarmPoolLaunchesColdAsBefore() {
        PoolConfig pool = PoolsConfigParser.parse("""
                pools:
                  - name: plain
                    match: {run_untagged: true}
                    backend: {type: ec2-asg, asg: runners}
                    max_instances: 10
                """, "test").pools().getFirst();
        fleet.setDesiredCapacity(pool, 2);
        assertEquals(2, launched.size());
        assertEquals("i-00000000000000001", launched.getFirst().id());
        assertEquals(0, fleet.warmSize(pool.name()));
        assertEquals(SimulatedFleet.WarmUsage.NONE, fleet.warmUsage(pool, clock.instant()));
    }
}
