package io.runnerscale.simulate;

import io.runnerscale.compute.FargateTasks.Capacity;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigParser;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fargate pools in the simulator, on hand-made traces worked out by hand: the real TaskScaler starts
 * one task per pending job, a task serves one job and stops, bills from RunTask to its stop.
 */
class FargateSimulationTest {
    private static final Instant T0 = Instant.parse("2024-03-04T10:00:00Z");
    private static final double EPS = 1e-9;
    /** us-east-1 Linux/x86, 1 vCPU and 2 GiB (the pool's default size), per hour. */
    private static final double HOURLY = 0.04048 + 2 * 0.004445;

    private static TraceJob job(long id, long atSeconds, long durationSeconds) {
        return new TraceJob(id, T0.plusSeconds(atSeconds), Duration.ofSeconds(durationSeconds), List.of());
    }

    /** Fixed decision delay of 1 s, ticks every minute, no jitter: times can be worked out exactly. */
    private static SimulationOptions options() {
        return new SimulationOptions(Duration.ofSeconds(50), 0, Duration.ofSeconds(1), Duration.ofSeconds(1),
                Duration.ofMinutes(1), 0, 0, 1, Duration.ofMinutes(15));
    }

    /** One Fargate pool for every job, with extra {@code backend} settings. */
    private static PoolsConfig fargate(String backend) {
        return PoolsConfigParser.parse("""
                pools:
                  - name: tasks
                    match: {run_untagged: true}
                    max_instances: 50
                    backend:
                      type: fargate
                      cluster: ci
                      task_definition: runner
                      subnets: [subnet-a]
                """ + backend.indent(6), "test");
    }

    private static Simulation simulation(List<TraceJob> trace, PoolsConfig config, SimulationOptions options) {
        return new Simulation("runnerscale", trace, config, options, done -> { });
    }

    // -- one task per job ------------------------------------------------------------------------

    @Test
    void eachJobGetsATaskThatStartsRunsItAndStopsBillingFromRunTaskToTheStop() {
        // ticks come every minute from the first job on: job 1's decision is its tick, the others come 1 s
        // after their job; each task is ready 45 s after RunTask
        List<TraceJob> trace = List.of(job(1, 10, 120), job(2, 20, 5), job(3, 3625, 300));
        SimulationResult r = simulation(trace, fargate("start_time: 45s"), options()).run();

        assertEquals(3, r.jobs());
        assertArrayEquals(new double[]{45, 46, 46}, r.waitSeconds(), EPS, "the decision (0 or 1 s) and the start");
        // job 1: RunTask at 10, ready 55, runs 120 s, stops at 175: 165 s; job 2: 50 s, billed the minute;
        // job 3: 45 + 300 s
        assertEquals((165 + 60 + 345) / 3600.0, r.instanceHours(), EPS);
        assertEquals(0, r.idleInstanceHours(), EPS, "every task took a job as it became ready");
        assertEquals(2, r.peakInstances());
        assertEquals((165 + 60 + 345) / 3600.0 * HOURLY, r.costUsd(), EPS, "Fargate pools have a price without --price");

        SimulationResult.PoolResult pool = r.pools().getFirst();
        assertEquals("tasks", pool.pool());
        assertEquals("fargate 1 vCPU 2 GiB", pool.backend());
        assertEquals(3, pool.jobs());
        assertEquals(r.instanceHours(), pool.instanceHours(), EPS);
        assertEquals(r.costUsd(), pool.costUsd(), EPS);
    }

    @Test
    void taskHoursAreJobHoursPlusStartTimesPlusTheMinimumBilling() {
        Random random = new Random(11);
        List<TraceJob> trace = new ArrayList<>();
        double lowest = 0;
        double highest = 0;
        for (int i = 0; i < 300; i++) {
            long duration = 5 + random.nextInt(900);
            trace.add(job(i + 1, 10 + 30L * i + random.nextInt(5), duration));
            // a task holds a job for its start (40-60 s) and the job: at least a minute, whole seconds
            lowest += Math.max(60, 40 + duration);
            highest += Math.max(60, 61 + duration);
        }
        Simulation simulation = simulation(trace, fargate("start_time: 40s-60s"), options());
        SimulationResult r = simulation.run();

        assertEquals(300, r.jobs());
        assertEquals(0, simulation.unfinished());
        assertEquals(0, r.idleInstanceHours(), EPS, "no task waited for a job: one task per pending job");
        double billed = r.instanceHours() * 3600;
        assertTrue(billed >= lowest - EPS && billed <= highest + EPS,
                "billed " + billed + " s, job-hours plus starts plus the minimum: " + lowest + " to " + highest);
        for (double wait : r.waitSeconds()) {
            // the decision: 1 s, or none when a tick comes with the job
            assertTrue(wait >= 40 - EPS && wait <= 61 + EPS, "a job waits a decision and a start: " + wait);
        }
        double[] waits = r.waitSeconds();
        assertTrue(waits[0] < 45 && waits[waits.length - 1] > 56, "start times spread over 40s-60s: "
                + waits[0] + ".." + waits[waits.length - 1]);
    }

    @Test
    void everyJobOfABurstBeyondMaxInstancesIsServedAndNoneIsLost() {
        List<TraceJob> trace = new ArrayList<>();
        for (int burst = 0; burst < 4; burst++) {
            for (int i = 0; i < 80; i++) {
                trace.add(job(burst * 100L + i + 1, burst * 1800L + 10 + i % 7, 60 + 13L * (i % 20)));
            }
        }
        Simulation simulation = simulation(trace, fargate("start_time: 30s-50s"), options());
        SimulationResult r = simulation.run();

        assertEquals(trace.size(), r.jobs(), "every job ran to completion");
        assertEquals(0, simulation.unfinished());
        assertEquals(trace.size(), r.pools().getFirst().jobs());
        assertEquals(50, r.peakInstances(), "max_instances caps tasks starting or running");
        assertTrue(r.maxWait() > 60, "the 30 jobs beyond the cap waited for a task to end and another to start");
    }

    // -- wait timeout ----------------------------------------------------------------------------

    @Test
    void aTaskThatGetsNoJobStopsItselfAtItsWaitTimeout() {
        // A job GitLab cancelled while pending, whose webhook came 200 s late: the store says pending,
        // so tasks start for it, get no job and stop after wait_timeout; one more starts while it seems to wait.
        List<TraceJob> trace = List.of(job(1, 10, 60), job(2, 3610, 60));
        Simulation simulation = simulation(trace, fargate("start_time: 45s\nwait_timeout: 60s"), options())
                .strayPendingJob("tasks", T0.plusSeconds(1000), T0.plusSeconds(1200));
        SimulationResult r = simulation.run();

        assertEquals(2, r.jobs());
        // jobs 1 and 2: RunTask at their tick, ready 45 s later, run 60 s: 105 s each.
        // stray: RunTask at 1001, ready 1046, stops at 1106 (105 s, 60 of them idle); the stop asks for a
        // decision, the job still seems to wait: RunTask at 1107, ready 1152, stops at 1212
        assertEquals(4 * 105 / 3600.0, r.instanceHours(), EPS);
        assertEquals(2 * 60 / 3600.0, r.idleInstanceHours(), EPS, "idle from ready to the wait timeout");
        assertEquals(1, r.peakInstances());
    }

    @Test
    void withoutTheStrayJobTheRealJobsBillOneTaskEach() {
        // control for the test above
        SimulationResult r = simulation(List.of(job(1, 10, 60), job(2, 3610, 60)),
                fargate("start_time: 45s\nwait_timeout: 60s"), options()).run();
        assertEquals(2 * 105 / 3600.0, r.instanceHours(), EPS);
        assertEquals(0, r.idleInstanceHours(), EPS);
    }

    // -- Fargate Spot ----------------------------------------------------------------------------

    @Test
    void aSpotInterruptionCancelsAndRetriesTheJobAndAReplacementTaskRunsIt() {
        AtomicInteger started = new AtomicInteger();
        Simulation simulation = simulation(List.of(job(1, 10, 600)), fargate("spot: true\nstart_time: 45s"), options())
                .taskSpotWarnings(task -> started.incrementAndGet() == 1 ? Duration.ofSeconds(200) : null);
        SimulationResult r = simulation.run();

        assertEquals(1, r.jobs(), "the job completed once, on the replacement");
        assertEquals(0, simulation.unfinished());
        SimulationResult.Drains d = r.drains();
        assertEquals(1, d.interruptions());
        assertEquals(1, d.jobsAtWarning());
        assertEquals(1, d.retried());
        assertEquals(0, d.finishedBeforeDeadline(), "a task is not drained: its job is cancelled at the warning");
        // RunTask at 10 (a tick), ready 55 (the job starts), interrupted at 210: 155 s of work lost
        assertEquals(155, d.lostWorkSeconds(), EPS);
        // retried at 210, decision at 211, ready 256
        assertEquals(46, d.retryWaitSeconds(), EPS);
        assertArrayEquals(new double[]{45, 46}, r.waitSeconds(), EPS);
        // the interrupted task: 200 s, then 30 s until it stops; the replacement: 45 + 600 s; at Spot prices
        assertEquals((230 + 645) / 3600.0, r.instanceHours(), EPS);
        assertEquals((230 + 645) / 3600.0 * HOURLY * 0.3, r.costUsd(), EPS);
        assertEquals(2, started.get(), "one replacement, no more");
        SimulationResult.PoolResult pool = r.pools().getFirst();
        assertEquals(1, pool.interruptions());
        assertEquals(1, pool.retried());
        assertEquals("fargate-spot 1 vCPU 2 GiB", pool.backend());
    }

    @Test
    void anInterruptedJobNobodyRetriedFailsTheRun() {
        // control for the test above: a lifecycle that cannot find the task's job lets it die with the task
        Simulation simulation = simulation(List.of(job(1, 10, 600)), fargate("spot: true\nstart_time: 45s"), options())
                .taskSpotWarnings(task -> Duration.ofSeconds(200)).withoutTaskRetry();
        IllegalStateException e = assertThrows(IllegalStateException.class, simulation::run);
        assertTrue(e.getMessage().contains("stopped under a job"), e.getMessage());
        assertTrue(e.getMessage().contains("SpotInterruption"), e.getMessage());
    }

    @Test
    void spotInterruptionsHitOnlyFargateSpotTasksAndEveryJobCompletes() {
        List<TraceJob> trace = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            trace.add(job(i + 1, 10 + 61L * i, 600));
        }
        SimulationOptions stress = options().withSpotRate(2); // a task every 30 minutes
        Simulation spot = simulation(trace, fargate("spot: true"), stress);
        SimulationResult interrupted = spot.run();
        SimulationResult onDemand = simulation(trace, fargate("spot: false"), stress).run();

        assertEquals(0, onDemand.interruptions(), "on-demand Fargate tasks are never interrupted");
        assertTrue(interrupted.interruptions() > 10, "interruptions: " + interrupted.interruptions());
        assertEquals(200, interrupted.jobs(), "every interrupted job was retried and completed");
        assertEquals(0, spot.unfinished());
        assertTrue(interrupted.drains().retried() > 0);
        assertTrue(interrupted.costUsd() < onDemand.costUsd() * 0.4, "Spot is 70 % off even with the work redone: "
                + interrupted.costUsd() + " vs " + onDemand.costUsd());
    }

    @Test
    void aFargatePoolBesideAnEc2PoolLeavesTheEc2PoolsBootDrawsAlone() {
        PoolsConfig both = PoolsConfigParser.parse("""
                pools:
                  - name: vm
                    match: {run_untagged: true, tags: [docker]}
                    backend: {type: ec2-asg, asg: runners}
                    policy: [{idle_count: 0, idle_time: 2m}]
                  - name: tasks
                    match: {tags: [fargate]}
                    backend: {type: fargate, cluster: ci, task_definition: runner, subnets: [subnet-a]}
                """, "test");
        List<TraceJob> trace = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            trace.add(new TraceJob(i + 1, T0.plusSeconds(10 + 300L * i), Duration.ofSeconds(120),
                    List.of(i % 2 == 0 ? "docker" : "fargate")));
        }
        SimulationOptions jittered = options().withBootJitter(0.3).withPrice(0.0416);
        SimulationResult r = simulation(trace, both, jittered).run();

        assertEquals(40, r.jobs());
        assertEquals(List.of("vm", "tasks"), r.pools().stream().map(SimulationResult.PoolResult::pool).toList());
        SimulationResult.PoolResult vm = r.pools().get(0);
        SimulationResult.PoolResult tasks = r.pools().get(1);
        assertEquals(20, vm.jobs());
        assertEquals(20, tasks.jobs());
        assertEquals("ec2-asg", vm.backend());
        assertEquals(vm.instanceHours() * 0.0416, vm.costUsd(), EPS);
        assertEquals(r.instanceHours(), vm.instanceHours() + tasks.instanceHours(), EPS);
        assertEquals(r.costUsd(), vm.costUsd() + tasks.costUsd(), EPS);
        assertTrue(vm.idleInstanceHours() > 0 && tasks.idleInstanceHours() == 0, "EC2 idles out idle_time, tasks stop");
        // the EC2 jobs alone under the EC2 pool alone: the same boot draws, so the same waits
        List<TraceJob> ec2Jobs = trace.stream().filter(j -> j.tags().contains("docker")).toList();
        PoolsConfig ec2Only = new PoolsConfig(both.pools().subList(0, 1));
        SimulationResult alone = simulation(ec2Jobs, ec2Only, jittered).run();
        assertEquals(Arrays.toString(alone.waitSeconds()), Arrays.toString(vm.waitSeconds()));
        assertEquals(alone.instanceHours(), vm.instanceHours(), EPS);
    }

    @Test
    void theOracleOfAFargatePoolHoldsATaskForTheMeanStartAndTheJob() {
        PoolsConfig config = fargate("start_time: 40s-60s");
        List<TraceJob> trace = List.of(job(1, 10, 120), job(2, 20, 5));
        SimulationResult oracle = Baselines.oracle(trace, config, options());
        // 50 s + 120 s, and 55 s billed as the minute
        assertEquals((170 + 60) / 3600.0, oracle.instanceHours(), EPS);
        assertEquals((170 + 60) / 3600.0 * HOURLY, oracle.costUsd(), EPS);
        PoolConfig.Fargate backend = (PoolConfig.Fargate) config.pools().getFirst().backend();
        assertEquals(Capacity.FARGATE, Baselines.capacity(backend));
    }
}
