package io.runnerscale.simulate;

import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigParser;
import io.runnerscale.reconcile.ReconcileReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.BiPredicate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Lost webhooks in the simulator, and the real reconciler repairing what they leave behind. */
class WebhookLossTest {
    private static final Instant T0 = Instant.parse("2024-03-04T10:00:00Z");
    private static final WebhookLoss RECONCILER = new WebhookLoss(0, WebhookLoss.DEFAULT_RECONCILE_EVERY);

    private static TraceJob job(long id, long atSeconds, long durationSeconds) {
        return new TraceJob(id, T0.plusSeconds(atSeconds), Duration.ofSeconds(durationSeconds), List.of());
    }

    /** Boot 50 s, no jitter, decisions 1 s after a job asks, ticks every minute. */
    private static SimulationOptions options() {
        return new SimulationOptions(Duration.ofSeconds(50), 0, Duration.ofSeconds(1), Duration.ofSeconds(1),
                Duration.ofMinutes(1), 0, 0, 1, Duration.ofMinutes(15));
    }

    private static final PoolsConfig POOL = PoolsConfigParser.parse("""
            pools:
              - name: default
                match: {run_untagged: true}
                backend: {type: ec2-asg, asg: runners}
                policy: [{idle_count: 0, idle_time: 2m}]
            """, "test");

    private static Simulation simulation(List<TraceJob> trace, WebhookLoss loss, BiPredicate<TraceJob, JobStatus> drop) {
        Simulation simulation = new Simulation("runnerscale", trace, POOL, options(), done -> { }).withWebhookLoss(loss);
        return drop == null ? simulation : simulation.dropDeliveries(drop);
    }

    private static BiPredicate<TraceJob, JobStatus> lose(long jobId, JobStatus status) {
        return (job, s) -> job.id() == jobId && s == status;
    }

    private static List<TraceJob> week() throws IOException {
        return new TraceReader().read(Path.of("..", "samples", "ci-jobs-1week.jsonl")).jobs();
    }

    private static void assertSameRun(SimulationResult expected, SimulationResult actual) {
        assertEquals(expected.jobs(), actual.jobs());
        assertArrayEquals(expected.waitSeconds(), actual.waitSeconds());
        assertEquals(expected.instanceHours(), actual.instanceHours());
        assertEquals(expected.idleInstanceHours(), actual.idleInstanceHours());
        assertEquals(expected.peakInstances(), actual.peakInstances());
        assertEquals(expected.drains(), actual.drains());
        assertEquals(expected.timeline(), actual.timeline());
    }

    // -- nothing dropped: nothing changes --------------------------------------------------------

    @Test
    void droppingNothingWithTheReconcilerRunningChangesNothing() throws IOException {
        List<TraceJob> week = week();
        SimulationResult plain = new Simulation("runnerscale", week, POOL, options(), done -> { }).run();
        SimulationResult reconciled = simulation(week, RECONCILER, null).run();

        assertSameRun(plain, reconciled);
        SimulationResult.Webhooks w = reconciled.webhooks();
        assertEquals(0, w.dropped());
        assertEquals(0, w.repaired(), "the reconciler finds every job as the store has it");
        Instant first = week.getFirst().requestedAt();
        Instant last = week.stream().map(j -> j.requestedAt().plus(j.duration())).max(Instant::compareTo).orElseThrow();
        long tenMinutes = Duration.between(first, last).toMinutes() / 10;
        assertTrue(w.reconcileRuns() >= tenMinutes && w.reconcileRuns() <= tenMinutes + 10,
                "it ran on its schedule, every 10 minutes of " + tenMinutes * 10 + ": " + w.reconcileRuns());
        assertEquals(0, w.staleAtEnd());
        assertEquals(SimulationResult.Webhooks.NONE, plain.webhooks());
    }

    // -- a lost finished hook --------------------------------------------------------------------

    /**
     * Job 1's finished hook is lost: runnerscale takes its instance for busy and never scales it
     * in. The instance is free in truth, so it takes job 2 hours later at once; the reconciler reads
     * job 1 back an hour after its last event and lets the instance go.
     */
    @Test
    void aLostFinishedHookKeepsTheInstanceUntilTheReconcilerReadsTheJobBack() {
        List<TraceJob> trace = List.of(job(1, 0, 120), job(2, 4 * 3600, 60));
        BiPredicate<TraceJob, JobStatus> drop = lose(1, JobStatus.SUCCESS);

        SimulationResult off = simulation(trace, new WebhookLoss(0, null), drop).run();
        SimulationResult on = simulation(trace, RECONCILER, drop).run();

        assertEquals(2, off.jobs());
        assertEquals(2, on.jobs());
        assertEquals(1, off.webhooks().droppedFinished());
        assertEquals(1, on.webhooks().droppedFinished());
        // without it: one instance held from the first job to past the second, four hours and more
        // and more: with job 2 running on it too, runnerscale counts two jobs on a one-slot instance
        assertTrue(off.peakInstances() > on.peakInstances(), off.peakInstances() + " vs " + on.peakInstances());
        assertTrue(off.instanceHours() > 4, "held: " + off.instanceHours());
        assertEquals(0, off.waitSeconds()[0], 1e-9, "job 2 found the held instance free");
        assertEquals(1, off.webhooks().staleAtEnd(), "job 1 still running to runnerscale at the end");
        assertEquals(0, off.webhooks().repaired());
        // with it: repaired once, at the first run an hour after the job's running event
        assertEquals(1, on.webhooks().reconciled(ReconcileReport.Kind.TO_FINISHED));
        assertEquals(0, on.webhooks().staleAtEnd());
        assertTrue(on.instanceHours() < 1.5, "let go after the repair: " + on.instanceHours());
        assertTrue(on.instanceHours() > 1, "not before the reconciler's hour: " + on.instanceHours());
        assertTrue(on.waitSeconds()[0] >= 50, "job 2 waited for a boot: the price of letting it go");
    }

    // -- a lost running hook ---------------------------------------------------------------------

    @Test
    void aLostRunningHookIsRepairedToRunningAndTheJobStillFinishesOnce() {
        List<TraceJob> trace = List.of(job(1, 0, 30 * 60));
        BiPredicate<TraceJob, JobStatus> drop = lose(1, JobStatus.RUNNING);

        SimulationResult off = simulation(trace, new WebhookLoss(0, null), drop).run();
        SimulationResult on = simulation(trace, RECONCILER, drop).run();

        assertEquals(1, off.webhooks().droppedRunning());
        assertEquals(1, off.jobs());
        assertEquals(0, off.webhooks().staleAtEnd(), "the finished hook ends it either way");
        assertEquals(1, on.jobs());
        assertEquals(1, on.webhooks().reconciled(ReconcileReport.Kind.TO_RUNNING),
                "read back once it had been pending 5 minutes to runnerscale");
        assertEquals(1, on.webhooks().repaired());
        assertTrue(on.instanceHours() <= off.instanceHours() + 1e-9,
                "a repair never costs capacity: " + on.instanceHours() + " vs " + off.instanceHours());
    }

    // -- a lost pending hook ---------------------------------------------------------------------

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aJobWhosePendingHookIsLostAndNoRunnerIsFreeNeverStartsAndIsCounted() {
        List<TraceJob> trace = List.of(job(1, 0, 60));
        for (WebhookLoss loss : List.of(new WebhookLoss(0, null), RECONCILER)) {
            Simulation simulation = simulation(trace, loss, lose(1, JobStatus.PENDING));
            SimulationResult r = simulation.run();

            assertEquals(0, r.jobs(), "nothing asked for capacity, and no runner was there");
            assertEquals(0, r.peakInstances());
            assertEquals(1, r.webhooks().droppedPending());
            assertEquals(1, r.webhooks().neverStarted(), "counted, not lost silently");
            assertEquals(1, simulation.unfinished());
            // today's reconciler reads back only the jobs runnerscale knows: this one it cannot find
            assertEquals(0, r.webhooks().repaired());
        }
    }

    /** GitLab gives a job nobody announced to any free runner of its pool: the next job's instance takes it first. */
    @Test
    void aJobWhosePendingHookIsLostRunsOnTheNextFreeRunnerOfItsPool() {
        List<TraceJob> trace = List.of(job(1, 0, 60), job(2, 3600, 60));
        SimulationResult r = simulation(trace, new WebhookLoss(0, null), lose(1, JobStatus.PENDING)).run();

        assertEquals(2, r.jobs());
        double[] lost = r.webhooks().lostPendingWaits();
        assertEquals(1, lost.length);
        assertTrue(lost[0] >= 3600 + 50 && lost[0] <= 3600 + 52, "waited for job 2's instance: " + lost[0]);
        assertEquals(0, r.webhooks().neverStarted());
        assertEquals(2, r.peakInstances(), "job 2 then needed an instance of its own");
    }

    // -- a share of every kind, at random --------------------------------------------------------

    @Test
    void onAWeekOfJobsTheReconcilerGivesBackTheCapacityLostHooksHold() throws IOException {
        List<TraceJob> week = week();
        SimulationResult off = simulation(week, new WebhookLoss(0.05, null), null).run();
        SimulationResult on = simulation(week, new WebhookLoss(0.05, WebhookLoss.DEFAULT_RECONCILE_EVERY), null).run();
        SimulationResult plain = simulation(week, WebhookLoss.NONE, null).run();

        for (SimulationResult r : List.of(off, on)) {
            SimulationResult.Webhooks w = r.webhooks();
            int deliveries = 3 * week.size();
            assertTrue(w.dropped() > 0.03 * deliveries && w.dropped() < 0.07 * deliveries,
                    "about 5% of " + deliveries + " deliveries: " + w.dropped());
            assertTrue(w.droppedPending() > 0 && w.droppedRunning() > 0 && w.droppedFinished() > 0);
            assertEquals(week.size(), r.jobs(), "every job ran: a free runner takes one nobody announced");
            assertEquals(0, w.neverStarted());
        }
        assertTrue(off.webhooks().staleAtEnd() > 0.5 * off.webhooks().droppedFinished(),
                "without the reconciler a lost finish stays running to runnerscale: " + off.webhooks().staleAtEnd());
        assertTrue(on.webhooks().staleAtEnd() < off.webhooks().staleAtEnd() / 10.0);
        assertTrue(on.webhooks().reconciled(ReconcileReport.Kind.TO_FINISHED) > 0.9 * on.webhooks().droppedFinished(),
                "nearly every lost finish repaired: " + on.webhooks().reconciled());
        assertTrue(on.instanceHours() < off.instanceHours(), on.instanceHours() + " vs " + off.instanceHours());
        assertTrue(plain.instanceHours() < on.instanceHours(), "the reconciler's hour still costs something");
        assertTrue(off.idleInstanceHours() > 2 * on.idleInstanceHours(), "held instances idle");
    }

    @Test
    void theDropsFollowTheSeed() throws IOException {
        List<TraceJob> week = week();
        WebhookLoss loss = new WebhookLoss(0.05, null);
        SimulationResult a = simulation(week, loss, null).run();
        SimulationResult b = simulation(week, loss, null).run();
        assertSameRun(a, b);
        assertEquals(a.webhooks().droppedPending(), b.webhooks().droppedPending());
        assertEquals(a.webhooks().droppedRunning(), b.webhooks().droppedRunning());
        assertEquals(a.webhooks().droppedFinished(), b.webhooks().droppedFinished());
        assertArrayEquals(a.webhooks().lostPendingWaits(), b.webhooks().lostPendingWaits());

        SimulationResult other = new Simulation("runnerscale", week, POOL, options().withSeed(2), done -> { })
                .withWebhookLoss(loss).run();
        assertNotEquals(a.webhooks().droppedPending() + "/" + a.webhooks().droppedRunning() + "/"
                        + a.webhooks().droppedFinished(),
                other.webhooks().droppedPending() + "/" + other.webhooks().droppedRunning() + "/"
                        + other.webhooks().droppedFinished(), "another seed loses other hooks");
    }

    @Test
    void lossSettingsOutsideTheirRangesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new WebhookLoss(-0.1, null));
        assertThrows(IllegalArgumentException.class, () -> new WebhookLoss(1.1, null));
        assertThrows(IllegalArgumentException.class, () -> new WebhookLoss(Double.NaN, null));
        assertThrows(IllegalArgumentException.class, () -> new WebhookLoss(0.1, Duration.ofSeconds(30)));
        assertEquals(1, new WebhookLoss(1, Duration.ofMinutes(1)).dropRate());
    }
}
