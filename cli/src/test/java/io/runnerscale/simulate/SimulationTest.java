package io.runnerscale.simulate;

import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The simulator on hand-made traces small enough to work out by hand. */
class SimulationTest {
    private static final Instant T0 = Instant.parse("2024-03-04T10:00:00Z");
    private static final double EPS = 1e-9;

    // -- helpers ---------------------------------------------------------------------------------

    private static TraceJob job(long id, long atSeconds, long durationSeconds, String... tags) {
        return new TraceJob(id, T0.plusSeconds(atSeconds), Duration.ofSeconds(durationSeconds), List.of(tags));
    }

    /** No jitter, a fixed decision delay, so waits can be worked out exactly. */
    private static SimulationOptions options(long bootSeconds, long decisionSeconds, Duration tick) {
        return new SimulationOptions(Duration.ofSeconds(bootSeconds), 0, Duration.ofSeconds(decisionSeconds),
                Duration.ofSeconds(decisionSeconds), tick, 0, 0, 1, Duration.ofMinutes(15));
    }

    private static SimulationOptions options(long bootSeconds) {
        return options(bootSeconds, 1, Duration.ofMinutes(1));
    }

    private static PoolsConfig pool(String extra) {
        return PoolsConfigParser.parse("""
                pools:
                  - name: default
                    match: {run_untagged: true, tags: [docker]}
                    backend: {type: ec2-asg, asg: runners}
                """ + extra.indent(4), "test");
    }

    private static SimulationResult run(List<TraceJob> trace, PoolsConfig config, SimulationOptions options) {
        return new Simulation("runnerscale", trace, config, options, done -> { }).run();
    }

    // -- waits and billing -----------------------------------------------------------------------

    @Test
    void singleJobWaitsForOneBootPlusAtMostTheDecisionDelay() {
        SimulationResult r = run(List.of(job(1, 0, 120)), pool("policy: [{idle_count: 0, idle_time: 2m}]"), options(50, 2, Duration.ofMinutes(1)));

        assertEquals(1, r.jobs());
        double wait = r.waitPercentile(100);
        assertTrue(wait >= 50 && wait <= 52, "wait " + wait + "s should be boot (50s) + decision delay (<= 2s)");
        assertEquals(1, r.peakInstances());
        // launched ~T0, ready +50s, job runs 120s, idle 2m, removed at the next tick: well over the minimum
        double seconds = r.instanceHours() * 3600;
        assertTrue(seconds >= 50 + 120 + 120 && seconds <= 50 + 120 + 120 + 60 + 2 + EPS, "billed " + seconds + "s");
        assertTrue(r.idleInstanceHours() * 3600 >= 120 - EPS, "idle " + r.idleInstanceHours() * 3600 + "s");
    }

    @Test
    void shortLivedInstanceIsBilledTheSixtySecondMinimum() {
        // boot 5s, job 5s, idle_time 0, ticks every 10s: the instance lives ~20s but EC2 bills 60s
        SimulationResult r = run(List.of(job(1, 0, 5)), pool("policy: [{idle_count: 0, idle_time: 0s}]"),
                options(5, 1, Duration.ofSeconds(10)));

        assertEquals(1, r.jobs());
        assertEquals(1, r.peakInstances());
        assertEquals(60.0 / 3600, r.instanceHours(), EPS);
    }

    @Test
    void secondJobAMinuteLaterReusesTheIdleInstance() {
        List<TraceJob> trace = List.of(job(1, 0, 5), job(2, 60, 5));
        SimulationResult r = run(trace, pool("policy: [{idle_count: 0, idle_time: 5m}]"), options(30));

        assertEquals(2, r.jobs());
        assertEquals(1, r.peakInstances(), "one instance serves both jobs");
        double[] waits = r.waitSeconds();
        assertEquals(0.0, waits[0], EPS, "the second job starts at once on the idle instance");
        assertTrue(waits[1] >= 30, "the first job waits for the boot: " + waits[1]);
    }

    @Test
    void withoutIdleTimeLeftTheSecondJobWaitsForANewInstance() {
        // control for the test above: idle_time 0 -> the instance is gone by the time the second job comes
        List<TraceJob> trace = List.of(job(1, 0, 5), job(2, 300, 5));
        SimulationResult r = run(trace, pool("policy: [{idle_count: 0, idle_time: 0s}]"), options(30));

        assertEquals(1, r.peakInstances(), "the first instance is gone before the second is launched");
        double[] waits = r.waitSeconds();
        assertTrue(waits[0] >= 30, "both jobs wait for a boot: " + Arrays.toString(waits));
        // two instances, each billed at least the 60 s minimum
        assertTrue(r.instanceHours() * 3600 >= 120 - EPS, "billed " + r.instanceHours() * 3600 + "s");
    }

    @Test
    void idleCountKeepsAWarmSlotForTheFirstJobOfALaterBurst() {
        List<TraceJob> trace = new ArrayList<>();
        trace.add(job(1, 0, 30));
        for (int i = 0; i < 3; i++) {
            trace.add(job(10 + i, 3600, 30)); // a burst an hour later
        }
        SimulationResult warm = run(trace, pool("policy: [{idle_count: 1, idle_time: 2m}]"), options(40));
        SimulationResult cold = run(trace, pool("policy: [{idle_count: 0, idle_time: 2m}]"), options(40));

        // the warm slot exists before the first job (first tick) and again an hour later: two jobs start at once
        double[] warmWaits = warm.waitSeconds();
        assertEquals(0.0, warmWaits[0], EPS);
        assertEquals(0.0, warmWaits[1], EPS, "the burst's first job finds the warm slot: " + Arrays.toString(warmWaits));
        // without idle_count everything waits for a boot
        assertTrue(cold.waitPercentile(1) >= 40, Arrays.toString(cold.waitSeconds()));
        assertTrue(warm.instanceHours() > cold.instanceHours(), "the warm slot costs instance-hours");
    }

    @Test
    void maxInstancesCapsThePeakAndTheRestQueue() {
        List<TraceJob> trace = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            trace.add(job(i + 1, 0, 120));
        }
        SimulationResult r = run(trace, pool("max_instances: 3\npolicy: [{idle_count: 0, idle_time: 2m}]"), options(30));

        assertEquals(3, r.peakInstances());
        assertEquals(10, r.jobs());
        // 3 run at a time: the last of 10 jobs starts after 3 rounds of 120s
        assertTrue(r.maxWait() >= 30 + 3 * 120, "max wait " + r.maxWait());
    }

    @Test
    void capacityPerInstanceTwoPacksTwoJobsPerInstance() {
        List<TraceJob> trace = List.of(job(1, 0, 600), job(2, 0, 600), job(3, 0, 600), job(4, 0, 600));
        SimulationResult packed = run(trace, pool("capacity_per_instance: 2\npolicy: [{idle_count: 0, idle_time: 2m}]"), options(30));
        SimulationResult single = run(trace, pool("policy: [{idle_count: 0, idle_time: 2m}]"), options(30));

        assertEquals(2, packed.peakInstances());
        assertEquals(4, single.peakInstances());
        assertEquals(4, packed.jobs());
        assertTrue(packed.maxWait() <= 30 + 1 + EPS, "all four start once two instances boot: " + packed.maxWait());
        assertEquals(single.instanceHours() / 2, packed.instanceHours(), 1.0 / 3600 * 2);
    }

    // -- baselines -------------------------------------------------------------------------------

    @Test
    void oracleBillsEachJobBootPlusDurationWithTheSixtySecondMinimum() {
        List<TraceJob> trace = List.of(job(1, 0, 10), job(2, 5, 100), job(3, 3000, 3600));
        SimulationResult oracle = Baselines.oracle(trace, options(30).withPrice(0.5));

        double expectedSeconds = Math.max(60, 30 + 10) + Math.max(60, 30 + 100) + Math.max(60, 30 + 3600);
        assertEquals(expectedSeconds / 3600, oracle.instanceHours(), 1e-12);
        assertEquals(expectedSeconds / 3600 * 0.5, oracle.costUsd(), 1e-12);
        assertEquals(3, oracle.jobs());
        assertEquals(0.0, oracle.maxWait());
        assertEquals(0.0, oracle.idleInstanceHours());
        assertEquals(2, oracle.peakInstances(), "jobs 1 and 2 overlap (each with its boot lead); job 3 is alone");
    }

    @Test
    void alwaysOnIsSizedForPeakConcurrencyOverTheWholeSpan() {
        // three jobs overlap between 100s and 150s; the span is 0s .. 1000s
        List<TraceJob> trace = List.of(job(1, 0, 200), job(2, 50, 100), job(3, 100, 900), job(4, 400, 100));
        SimulationResult one = Baselines.alwaysOn(trace, 1, options(30));
        SimulationResult two = Baselines.alwaysOn(trace, 2, options(30));

        assertEquals(3, one.peakInstances());
        assertEquals(2, two.peakInstances());
        assertEquals(3 * 1000.0 / 3600, one.instanceHours(), 1e-12);
        assertEquals(2 * 1000.0 / 3600, two.instanceHours(), 1e-12);
        double busy = (200 + 100 + 900 + 100) / 3600.0;
        assertEquals(one.instanceHours() - busy, one.idleInstanceHours(), 1e-12);
        assertEquals(0.0, one.maxWait());
        assertNull(one.costUsd(), "no price, no cost");
    }

    // -- drains ----------------------------------------------------------------------------------

    @Test
    void aDrainDelaysTheTerminationByTheDrainTimeAndTheInstanceBillsMeanwhile() {
        List<TraceJob> trace = List.of(job(1, 0, 60));
        PoolsConfig config = pool("policy: [{idle_count: 0, idle_time: 0s}]");
        SimulationOptions base = options(30, 1, Duration.ofSeconds(10));
        SimulationResult instant = run(trace, config, base.withDrainTime(Duration.ZERO));
        SimulationResult slow = run(trace, config, base.withDrainTime(Duration.ofSeconds(40)));

        assertEquals(1, slow.drains().drains(), "the idle instance leaves through one drain");
        assertEquals(40, slow.drains().drainingInstanceHours() * 3600, EPS);
        assertEquals(instant.instanceHours() * 3600 + 40, slow.instanceHours() * 3600, EPS, "40 s more billed");
        assertEquals(instant.idleInstanceHours() * 3600 + 40, slow.idleInstanceHours() * 3600, EPS,
                "a draining instance runs no job: idle");
        assertEquals(0, instant.drains().drainingInstanceHours(), EPS);
    }

    @Test
    void aJobAskingDuringADrainGetsANewInstanceNotTheDrainingOne() {
        // job 1 runs 30..90 s; the tick at 90 s drains the idle instance (idle_time 0) until 150 s; job 2 asks at 110 s
        List<TraceJob> trace = List.of(job(1, 0, 60), job(2, 110, 30));
        PoolsConfig config = pool("policy: [{idle_count: 0, idle_time: 0s}]");
        SimulationOptions base = options(30, 1, Duration.ofSeconds(10));
        SimulationResult draining = run(trace, config, base.withDrainTime(Duration.ofSeconds(60)));
        SimulationResult instant = run(trace, config, base.withDrainTime(Duration.ZERO));

        assertEquals(2, draining.jobs());
        // both jobs wait for a boot (waits come sorted): the second would start at once (0 s) if the paused
        // runner took it, and 40 s later if the scaler counted the draining instance as capacity
        double[] waits = draining.waitSeconds();
        assertTrue(waits[0] >= 30 && waits[1] <= 31 + EPS, "a decision delay plus a boot each: " + Arrays.toString(waits));
        assertEquals(2, draining.peakInstances(), "the new instance boots while the drained one is still there");
        assertEquals(1, instant.peakInstances(), "control: an instant drain leaves no overlap");
    }

    /**
     * One instance, two slots: a 100 s job and an hour-long job start at 30 s; the instance's spot
     * warning comes 60 s after its launch (at 60 s), so the deadline is 160 s.
     */
    private static Simulation spotScenario() {
        List<TraceJob> trace = List.of(job(1, 0, 100), job(2, 0, 3600));
        AtomicInteger launches = new AtomicInteger();
        Function<SimulatedFleet.Instance, Duration> firstOnly =
                instance -> launches.getAndIncrement() == 0 ? Duration.ofSeconds(60) : null;
        return new Simulation("runnerscale", trace,
                pool("capacity_per_instance: 2\npolicy: [{idle_count: 0, idle_time: 2m}]"), options(30), done -> { })
                .spotWarnings(firstOnly);
    }

    @Test
    void aSpotWarningLetsAShortJobFinishAndRetriesALongOneElsewhere() {
        Simulation simulation = spotScenario();
        SimulationResult r = simulation.run();
        SimulationResult.Drains d = r.drains();

        assertEquals(2, r.jobs(), "both jobs complete, the long one on its second try");
        assertEquals(1, d.interruptions());
        assertEquals(2, d.jobsAtWarning());
        assertEquals(1, d.finishedBeforeDeadline(), "the 100 s job ends at 130 s, before the 160 s deadline");
        assertEquals(1, d.retried(), "the hour-long job is cancelled at the deadline");
        assertEquals(130, d.lostWorkSeconds(), EPS, "it had run from 30 s to 160 s");
        // the replacement was asked for at the warning (60 s) and was up by ~91 s: the retry at 160 s
        // starts at once (asking only at 160 s would have cost a decision delay and a 30 s boot)
        assertEquals(0, d.retryWaitSeconds(), EPS, "retry wait " + d.retryWaitSeconds());
        assertEquals(3, r.waitSeconds().length, "three starts: two jobs, one retry");
        assertEquals(0, simulation.terminatedBusy());
        // the warned instance drained from 60 s until 5 s after its deadline's cancellation
        assertTrue(d.drainingInstanceHours() * 3600 >= 105 - EPS, "draining " + d.drainingInstanceHours() * 3600);
    }

    @Test
    void aDrainThatDidNotCancelAtTheSpotDeadlineWouldLoseTheJobAndTheRunFails() {
        Simulation simulation = spotScenario().withoutSpotCancel();

        IllegalStateException e = assertThrows(IllegalStateException.class, simulation::run);
        assertTrue(e.getMessage().contains("1 instance(s) terminated with a job running"), e.getMessage());
        assertEquals(1, simulation.terminatedBusy(), "EC2 took the instance at 2 min with the hour-long job on it");
    }

    @Test
    void spotInterruptionsAreReproducibleWithASeedAndHitOnlyTheSpotPools() {
        PoolsConfig two = PoolsConfigParser.parse("""
                pools:
                  - name: default
                    match: {run_untagged: true}
                    backend: {type: ec2-asg, asg: runners}
                    policy: [{idle_count: 0, idle_time: 2m}]
                  - name: spot
                    match: {tags: [spot]}
                    backend: {type: ec2-asg, asg: spot-runners}
                    policy: [{idle_count: 0, idle_time: 2m}]
                """, "test");
        List<TraceJob> untagged = new ArrayList<>();
        List<TraceJob> tagged = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            untagged.add(job(i + 1, i * 60L, 600));
            tagged.add(job(i + 1, i * 60L, 600, "spot"));
        }
        SimulationOptions spot = options(30).withSpotRate(3).withSpotPools(Set.of("spot"));

        SimulationResult a = run(tagged, two, spot);
        SimulationResult b = run(tagged, two, spot);
        assertTrue(a.interruptions() > 0 && a.drains().retried() > 0, "3 an hour hits 10-minute jobs: " + a.drains());
        assertEquals(a.drains(), b.drains(), "same seed, same interruptions");
        assertArrayEquals(a.waitSeconds(), b.waitSeconds());
        assertEquals(tagged.size(), a.jobs());

        SimulationResult otherSeed = run(tagged, two, spot.withSeed(2));
        assertTrue(!otherSeed.drains().equals(a.drains()), "another seed, other interruptions");

        assertEquals(0, run(untagged, two, spot).interruptions(), "the default pool is not spot");
        assertTrue(run(untagged, two, spot.withSpotPools(Set.of())).interruptions() > 0, "no spot pools named: all are");
        // a spot pool of another pools file simulated beside this one (--compare; the command checks the names)
        assertEquals(0, run(tagged, two, spot.withSpotPools(Set.of("gpu"))).interruptions(),
                "naming only another file's pool makes none of this file's pools spot");
    }

    /**
     * The invariant on the shipped week of jobs and the shipped pools files, with and without spot
     * interruptions: no instance is ever terminated under a job (run() would throw), and every job
     * completes, retried ones included.
     */
    @Test
    void theSampleTraceNeverTerminatesAnInstanceWithAJobOnIt() throws IOException {
        Path samples = Path.of("..", "samples");
        List<TraceJob> week = new TraceReader().read(samples.resolve("ci-jobs-1week.jsonl")).jobs();
        List<PoolsConfig> configs = new ArrayList<>(List.of(pool("policy: [{idle_count: 0, idle_time: 2m}]"),
                pool("capacity_per_instance: 4\nmax_use_count: 10\nmax_instances: 8\n"
                        + "policy: [{idle_count: 2, idle_time: 5m}]")));
        try (var files = Files.list(samples)) {
            for (Path file : files.filter(f -> f.getFileName().toString().startsWith("pools-")).sorted().toList()) {
                configs.add(PoolsConfigParser.parse(Files.readString(file), file.getFileName().toString()));
            }
        }
        assertTrue(configs.size() >= 5, "the samples' pools files are read");
        int retried = 0;
        int finished = 0;
        for (PoolsConfig config : configs) {
            for (double rate : new double[] {0, 1}) {
                SimulationOptions options = SimulationOptions.runnerscale(Duration.ofSeconds(50)).withSpotRate(rate);
                Simulation simulation = new Simulation("runnerscale", week, config, options, done -> { });
                SimulationResult r = simulation.run();

                assertEquals(0, simulation.terminatedBusy());
                assertEquals(week.size(), r.jobs(), "every job completes at spot rate " + rate);
                boolean ec2 = r.pools().stream().anyMatch(p -> p.backend().equals("ec2-asg") && p.jobs() > 0);
                // a Fargate pool's tasks stop with their job: nothing to drain
                assertEquals(ec2, r.drains().drains() > 0, "instances leave through drains");
                retried += r.drains().retried();
                finished += r.drains().finishedBeforeDeadline();
            }
        }
        assertTrue(retried > 0 && finished > 0, "both spot paths taken: retried " + retried + ", finished " + finished);
    }

    // -- spot, determinism -----------------------------------------------------------------------

    @Test
    void spotInterruptionsRetryJobsAndEveryJobCompletes() {
        List<TraceJob> trace = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            trace.add(job(i + 1, i * 30L, 300));
        }
        SimulationOptions spot = options(30).withSpotRate(6); // mean instance life 10 min, jobs 5 min
        SimulationResult r = run(trace, pool("policy: [{idle_count: 0, idle_time: 2m}]"), spot);

        assertTrue(r.interruptions() > 0, "a high rate interrupts some instances");
        assertEquals(trace.size(), r.jobs(), "each trace job counted once, however often it was retried");
    }

    @Test
    void sameSeedSameResultOtherSeedOtherBootTimes() {
        List<TraceJob> trace = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            trace.add(job(i + 1, i * 45L, 60 + (i * 37L) % 400));
        }
        PoolsConfig config = pool("policy: [{idle_count: 0, idle_time: 2m}]");
        SimulationOptions jittered = SimulationOptions.runnerscale(Duration.ofSeconds(50)).withSpotRate(1);
        SimulationResult a = run(trace, config, jittered);
        SimulationResult b = run(trace, config, jittered);

        assertArrayEquals(a.waitSeconds(), b.waitSeconds());
        assertEquals(a.instanceHours(), b.instanceHours());
        assertEquals(a.idleInstanceHours(), b.idleInstanceHours());
        assertEquals(a.peakInstances(), b.peakInstances());
        assertEquals(a.interruptions(), b.interruptions());
        assertEquals(a.drains(), b.drains());
        assertEquals(a.timeline(), b.timeline());

        SimulationOptions otherSeed = new SimulationOptions(jittered.bootMean(), jittered.bootJitter(),
                jittered.decisionDelayMin(), jittered.decisionDelayMax(), jittered.tickInterval(),
                jittered.spotInterruptionsPerInstanceHour(), 0, 2, jittered.sampleInterval());
        SimulationResult c = run(trace, config, otherSeed);
        assertTrue(!Arrays.equals(a.waitSeconds(), c.waitSeconds()) || a.instanceHours() != c.instanceHours(),
                "another seed draws other boot times");
    }

    @Test
    void jobsNoPoolTakesAreCountedNotSimulated() {
        List<TraceJob> trace = List.of(job(1, 0, 60), job(2, 10, 60, "gpu"));
        Simulation simulation = new Simulation("runnerscale", trace, pool("policy: [{idle_count: 0, idle_time: 2m}]"),
                options(30), done -> { });
        SimulationResult r = simulation.run();

        assertEquals(1, r.jobs());
        assertEquals(1, simulation.unmatched());
    }

    // -- bounds (issue 6): no input can hang the simulator or exhaust its memory ------------------

    @Test
    void aTraceSpanningCenturiesIsRefusedBeforeAnyTimeIsSimulated() {
        List<TraceJob> trace = List.of(job(1, 0, 60), job(2, 60, 60),
                new TraceJob(3, Instant.parse("2999-01-01T00:00:00Z"), Duration.ofSeconds(60), List.of()));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Simulation("runnerscale",
                trace, pool("policy: [{idle_count: 0, idle_time: 2m}]"), options(30), done -> { }));
        assertTrue(e.getMessage().contains("days"), e.getMessage());
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aPoolThatCanNeverRunItsJobsStopsAtTheDrainLimit() {
        List<TraceJob> trace = List.of(job(1, 0, 60), job(2, 30, 60));
        SimulationResult r = run(trace, pool("max_instances: 0\npolicy: [{idle_count: 0, idle_time: 2m}]"), options(30));

        assertEquals(0, r.jobs(), "no instance, no job ran");
        assertEquals(0, r.peakInstances());
    }

    @Test
    void unfinishedCountsTheJobsLeftWaitingAndIsZeroNormally() {
        List<TraceJob> trace = List.of(job(1, 0, 60), job(2, 30, 60));
        Simulation stuck = new Simulation("runnerscale", trace,
                pool("max_instances: 0\npolicy: [{idle_count: 0, idle_time: 2m}]"), options(30), done -> { });
        stuck.run();
        assertEquals(2, stuck.unfinished());

        Simulation normal = new Simulation("runnerscale", trace, pool("policy: [{idle_count: 0, idle_time: 2m}]"),
                options(30), done -> { });
        assertEquals(2, normal.run().jobs());
        assertEquals(0, normal.unfinished());
    }

    @Test
    void bootTimesKeepTheirMeanUpToTheJitterBound() {
        Duration mean = Duration.ofSeconds(50);
        for (double sigma : new double[] {0, 0.1, 0.5, SimulationOptions.MAX_BOOT_JITTER}) {
            Random random = new Random(42);
            int n = 200_000;
            double sum = 0;
            for (int i = 0; i < n; i++) {
                Duration boot = Simulation.bootDelay(mean, sigma, random);
                assertTrue(!boot.isNegative(), "never negative");
                sum += boot.toMillis();
            }
            // sd of the factor at sigma 1 is sqrt(e - 1) = 1.31: the mean of 200k is within 0.3 % (1 sd)
            assertEquals(50_000, sum / n, 50_000 * 0.02, "sigma " + sigma);
        }
    }

    @Test
    void theTimelineStaysBoundedOnALongQuietTrace() {
        // a year between two jobs, sampled every minute: half a million samples unless thinned (hourly ticks keep it quick)
        List<TraceJob> trace = List.of(job(1, 0, 60), job(2, 365 * 86_400L, 60));
        SimulationOptions everyMinute = new SimulationOptions(Duration.ofSeconds(30), 0, Duration.ofSeconds(1),
                Duration.ofSeconds(1), Duration.ofHours(1), 0, 0, 1, Duration.ofMinutes(1));
        SimulationResult r = run(trace, pool("policy: [{idle_count: 0, idle_time: 2m}]"), everyMinute);

        assertEquals(2, r.jobs());
        assertTrue(r.timeline().size() <= Simulation.MAX_TIMELINE_SAMPLES, "samples: " + r.timeline().size());
        assertTrue(r.timeline().size() >= Simulation.MAX_TIMELINE_SAMPLES / 4, "still charts the year: " + r.timeline().size());
        List<Long> times = r.timeline().stream().map(SimulationResult.Sample::epochSecond).toList();
        assertEquals(times.stream().sorted().toList(), times, "in time order");
    }

    @Test
    void optionsOutsideTheirRangesAreRefused() {
        SimulationOptions ok = SimulationOptions.runnerscale(Duration.ofSeconds(50));
        List<Runnable> bad = List.of(
                () -> ok.withBootJitter(Double.NaN), () -> ok.withBootJitter(-0.1), () -> ok.withBootJitter(50),
                () -> ok.withPrice(-1), () -> ok.withPrice(Double.NaN), () -> ok.withPrice(Double.POSITIVE_INFINITY),
                () -> ok.withSpotRate(-1), () -> ok.withSpotRate(Double.NaN), () -> ok.withSpotRate(1e9),
                () -> ok.withDrainTime(Duration.ofSeconds(-1)), () -> ok.withDrainTime(Duration.ofMinutes(11)),
                () -> ok.withDrainTime(null),
                () -> SimulationOptions.runnerscale(Duration.ZERO), () -> SimulationOptions.runnerscale(Duration.ofHours(2)),
                () -> new SimulationOptions(Duration.ofSeconds(50), 0, Duration.ofSeconds(1), Duration.ofSeconds(1),
                        Duration.ZERO, 0, 0, 1, Duration.ofMinutes(15)),
                () -> new SimulationOptions(Duration.ofSeconds(50), 0, Duration.ofSeconds(1), Duration.ofSeconds(1),
                        Duration.ofMinutes(1), 0, 0, 1, Duration.ZERO),
                () -> new SimulationOptions(Duration.ofSeconds(50), 0, Duration.ofSeconds(5), Duration.ofSeconds(1),
                        Duration.ofMinutes(1), 0, 0, 1, Duration.ofMinutes(15)));
        for (int i = 0; i < bad.size(); i++) {
            int index = i;
            assertThrows(IllegalArgumentException.class, bad.get(i)::run, "case " + index);
        }
    }
}
