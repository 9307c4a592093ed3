package io.runnerscale.simulate;

import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigParser;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Warm pools and per-pool boot times in whole simulations, small enough to work out by hand. */
class WarmPoolSimulationTest {
    private static final Instant T0 = Instant.parse("2024-03-04T10:00:00Z");

    private static TraceJob job(long id, long atSeconds, long durationSeconds, String... tags) {
        return new TraceJob(id, T0.plusSeconds(atSeconds), Duration.ofSeconds(durationSeconds), List.of(tags));
    }

    /** No jitter, a fixed 1 s decision delay, ticks every minute, $0.05 an instance-hour. */
    private static SimulationOptions options() {
        return new SimulationOptions(Duration.ofSeconds(50), 0, Duration.ofSeconds(1), Duration.ofSeconds(1),
                Duration.ofMinutes(1), 0, 0.05, 1, Duration.ofMinutes(15));
    }

    private static PoolsConfig pools(String backendExtra, String warmPool, String policy) {
        return PoolsConfigParser.parse("""
                pools:
                  - name: default
                    match: {run_untagged: true}
                    backend: {type: ec2-asg, asg: runners%s}
                    max_instances: 10
                %s    policy: [%s]
                """.formatted(backendExtra, warmPool.isEmpty() ? "" : "    warm_pool: " + warmPool + "\n", policy),
                "test");
    }

    private static SimulationResult run(List<TraceJob> trace, PoolsConfig config, SimulationOptions options) {
        return new Simulation("runnerscale", trace, config, options, done -> { }).run();
    }

    @Test
    void aJobDrawsAStoppedInstanceAndWaitsItsResumeAndRunnerStartAndStoppedHoursCostOnlyEbs() {
        PoolsConfig config = pools(", boot_time: 50s-50s, runner_start_time: 2s-2s, volume_gib: 30",
                "{state: stopped, min_size: 1, max_prepared: 1, resume_time: 15s-15s}", "{idle_count: 0, idle_time: 2m}");
        SimulationResult r = run(List.of(job(1, 10, 120)), config, options());

        // decided at once (the replay's first tick comes with the first job), resumed in 15 s, runner
        // started in 2 s: no cold boot
        assertEquals(17, r.waitPercentile(100), 1e-9);
        SimulationResult.WarmFigures warm = r.warm();
        assertEquals(2, warm.launched(), "the first, and its refill once it was drawn (min_size 1)");
        assertEquals(1, warm.drawn());
        // The clock starts a tick (60 s) before the first job, at -50. First warm instance: launched at -50,
        // stopped at 0, drawn at 10: 10 s stopped. Its refill: launched at 10, stopped at 60 until the run's
        // end: the job runs from 27 to 147, the replay ends idle_time (120) + drain (5) + two ticks (120)
        // later, at 392.
        assertEquals(10 + (392 - 60), warm.stoppedHours() * 3600, 1e-6);
        // each launch into the warm pool boots 50 s, billed as running: EC2's minute each
        assertEquals(120, warm.warmRunningHours() * 3600, 1e-6);
        // 342 s of 30 GiB at $0.08 per GB-month of 730 h
        assertEquals(342 / 3600.0 * 30 * 0.08 / 730, warm.ebsUsd(), 1e-12);
        assertEquals(r.costUsd() + warm.ebsUsd(), r.totalUsd(), 1e-12);
        assertEquals(r.instanceHours() * 0.05, r.costUsd(), 1e-12, "instance dollars: running hours only");
        assertTrue(r.instanceHours() * 3600 >= 120 + 120, "the warming minutes are in the instance-hours");
    }

    @Test
    void theEbsPriceScalesTheStoppedDollarsAndNothingElse() {
        PoolsConfig config = pools(", boot_time: 50s-50s", "{state: stopped, max_prepared: 2}",
                "{idle_count: 0, idle_time: 2m}");
        List<TraceJob> trace = List.of(job(1, 0, 120), job(2, 300, 60));
        SimulationResult gp3 = run(trace, config, options());
        SimulationResult dear = run(trace, config, options().withEbsPrice(0.16));
        assertEquals(gp3.warm().stoppedHours(), dear.warm().stoppedHours(), 1e-12);
        assertEquals(2 * gp3.warm().ebsUsd(), dear.warm().ebsUsd(), 1e-12);
        assertEquals(gp3.costUsd(), dear.costUsd(), 1e-12);
        assertTrue(gp3.warm().ebsUsd() > 0);
    }

    @Test
    void aRunningWarmPoolBillsItsWaitAsInstanceHoursNotEbsAndStartsInTheRunnerStartTime() {
        PoolsConfig config = pools(", boot_time: 50s-50s, runner_start_time: 3s-3s",
                "{state: running, max_prepared: 1}", "{idle_count: 0, idle_time: 2m}");
        SimulationResult r = run(List.of(job(1, 610, 60)), config, options());
        assertEquals(3, r.waitPercentile(100), 1e-9, "the runner start alone (a tick decides as the job asks)");
        assertEquals(0, r.warm().stoppedHours(), 1e-12);
        assertEquals(0, r.warm().ebsUsd(), 1e-12);
        // The replay starts a tick before the job, at 550: booting 50 s (a minute billed), running 10 s until
        // the draw at 610. Target max(0, 1 - 1) = 0: no refill until the scale-in (idle from 673, drained at
        // the tick at 850, gone at 855); the refill boots from 855 (a minute billed) and runs from 905 to the
        // replay's end at 918 (673 + idle_time 120 + drain 5 + two ticks 120).
        assertEquals(60 + 10 + 60 + 13, r.warm().warmRunningHours() * 3600, 1e-6);
        assertTrue(r.instanceHours() * 3600 >= r.warm().warmRunningHours() * 3600 + 60);
    }

    @Test
    void reuseOnScaleInReturnsScaledInInstancesButNotRetiredOnes() {
        List<TraceJob> trace = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            trace.add(job(i + 1, i * 600L, 60));
        }
        String warm = "{state: stopped, min_size: 0, max_prepared: 2, reuse_on_scale_in: true}";
        SimulationResult scaledIn = run(trace, pools(", boot_time: 50s-50s", warm, "{idle_count: 0, idle_time: 1m}"),
                options());
        assertEquals(6, scaledIn.jobs());
        assertEquals(6, scaledIn.warm().drawn(), "each job resumes the instance the one before gave back");
        assertEquals(6, scaledIn.warm().returned());
        assertEquals(2, scaledIn.warm().launched(), "no refill needed: what was drawn came back");

        PoolsConfig retiring = PoolsConfigParser.parse("""
                pools:
                  - name: default
                    match: {run_untagged: true}
                    backend: {type: ec2-asg, asg: runners, boot_time: 50s-50s}
                    max_instances: 10
                    max_use_count: 1
                    warm_pool: %s
                    policy: [{idle_count: 0, idle_time: 1m}]
                """.formatted(warm), "test");
        SimulationResult retired = run(trace, retiring, options());
        assertEquals(6, retired.jobs());
        assertEquals(0, retired.warm().returned(), "a retired instance terminates");
        assertEquals(2 + 6, retired.warm().launched(), "each draw refilled by a launch");
    }

    @Test
    void aPoolsOwnBootTimeOverridesBootAndLeavesTheOtherPoolsDrawsAlone() {
        PoolsConfig both = PoolsConfigParser.parse("""
                pools:
                  - name: fast
                    match: {tags: [fast]}
                    backend: {type: ec2-asg, asg: fast, boot_time: 30s-30s}
                    policy: [{idle_count: 0, idle_time: 0s}]
                  - name: plain
                    match: {run_untagged: true}
                    backend: {type: ec2-asg, asg: plain}
                    policy: [{idle_count: 0, idle_time: 0s}]
                """, "test");
        SimulationResult r = run(List.of(job(1, 10, 60, "fast"), job(2, 10, 60)), both, options());
        // the replay's first tick comes with the first jobs: launched at once
        assertEquals(30, r.pools().get(0).waitPercentile(100), 1e-9, "boot_time 30 s");
        assertEquals(50, r.pools().get(1).waitPercentile(100), 1e-9, "--boot 50 s");

        // with jitter on, the plain pool's boots are the draws it gets alone: the other pool's boot_time
        // draws are on their own stream (on the shared one they would shift the plain pool's)
        SimulationOptions jitter = options().withBootJitter(0.3).withSeed(7);
        List<TraceJob> mixed = new ArrayList<>();
        List<TraceJob> plainOnly = new ArrayList<>();
        Random random = new Random(3);
        for (int i = 0; i < 40; i++) {
            boolean fast = i > 0 && random.nextBoolean(); // the first is plain: both replays start alike
            TraceJob job = fast ? job(i + 1, i * 200L, 30, "fast") : job(i + 1, i * 200L, 30);
            mixed.add(job);
            if (!fast) {
                plainOnly.add(job);
            }
        }
        double[] plainBeside = run(mixed, both, jitter).pools().get(1).waitSeconds();
        double[] plainAlone = run(plainOnly, both, jitter).pools().get(1).waitSeconds();
        assertTrue(plainAlone.length > 10);
        assertEquals(java.util.Arrays.stream(plainAlone).boxed().toList(),
                java.util.Arrays.stream(plainBeside).boxed().toList());
        assertTrue(java.util.Arrays.stream(plainAlone).distinct().count() > 5, "jittered boots differ from each other");
    }

    @Test
    void aPoolWithoutWarmPoolOrBootTimeRunsExactlyAsBefore() throws java.io.IOException {
        // the sample week under the built-in pool, as `simulate --trace samples/ci-jobs-1week.jsonl` printed
        // it before warm pools existed: the README's figures rest on these draws staying put
        List<TraceJob> week = new TraceReader().read(java.nio.file.Path.of("..", "samples", "ci-jobs-1week.jsonl")).jobs();
        PoolsConfig builtIn = PoolsConfigParser.parse("""
                pools:
                  - name: default
                    match: {run_untagged: true}
                    backend: {type: ec2-asg, asg: gitlab-runners}
                    max_instances: 50
                    policy: [{idle_count: 0, idle_time: 2m}]
                """, "test");
        SimulationResult r = run(week, builtIn,
                SimulationOptions.runnerscale(Duration.ofSeconds(50)).withPrice(0.0416));
        assertEquals(45.3, r.waitPercentile(50), 0.05);
        assertEquals(54.8, r.waitPercentile(95), 0.05);
        assertEquals(356.8, r.instanceHours(), 0.05);
        assertEquals(96.6, r.idleInstanceHours(), 0.05);
        assertEquals(SimulationResult.WarmFigures.NONE, r.warm());
        assertEquals(r.costUsd(), r.totalUsd());
    }

    /** Over random small traces and warm-pool settings: every job runs, and never on a warm instance. */
    @Property(tries = 40)
    void noJobIsLostAndNoWarmInstanceRunsAJob(@ForAll @IntRange(min = 1, max = 30) int jobs,
                                              @ForAll @IntRange(min = 0, max = 3) int minSize,
                                              @ForAll @IntRange(min = 0, max = 6) int extraPrepared,
                                              @ForAll boolean reuse, @ForAll boolean running,
                                              @ForAll @IntRange(min = 0, max = 2) int maxUse,
                                              @ForAll @IntRange(min = 0, max = 1000) int seed) {
        Random random = new Random(seed);
        List<TraceJob> trace = new ArrayList<>();
        for (int i = 0; i < jobs; i++) {
            trace.add(job(i + 1, random.nextInt(1800), 1 + random.nextInt(400)));
        }
        PoolsConfig config = PoolsConfigParser.parse("""
                pools:
                  - name: default
                    match: {run_untagged: true}
                    backend: {type: ec2-asg, asg: runners, boot_time: 20s-70s}
                    max_instances: 8
                    max_use_count: %d
                    warm_pool: {state: %s, min_size: %d, max_prepared: %d, reuse_on_scale_in: %s}
                    policy: [{idle_count: 0, idle_time: %ds}]
                """.formatted(maxUse, running ? "running" : "stopped", minSize, Math.min(8, Math.max(1, minSize + extraPrepared)),
                reuse && !running, random.nextInt(3) * 60), "test"); // reuse needs a stopped warm pool
        Simulation simulation = new Simulation("p", trace, config, options().withSeed(seed), done -> { });
        SimulationResult r = simulation.run(); // throws when an instance left service with a job on it
        assertEquals(jobs, r.jobs());
        assertEquals(0, simulation.unfinished());
        assertEquals(0, simulation.warmBusy());
        assertEquals(0, simulation.terminatedBusy());
        assertTrue(r.warm().ebsUsd() >= 0 && r.warm().stoppedHours() >= 0);
    }
}
