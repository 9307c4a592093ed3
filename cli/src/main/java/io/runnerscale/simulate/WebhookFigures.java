package io.runnerscale.simulate;

import io.runnerscale.pool.Durations;
import io.runnerscale.reconcile.ReconcileReport.Kind;
import io.runnerscale.reconcile.ReconcileSettings;

import java.util.List;
import java.util.Locale;

/** What lost webhooks did in each run, as the table, the report and {@code --json} show it: one place for the words. */
public final class WebhookFigures {
    /** Column headings, in the order {@link #cells} gives them. */
    public static final List<String> COLUMNS = List.of("dropped pending", "dropped running", "dropped finished",
            "reconciler runs", "repaired to running", "repaired to finished", "found (never heard of)", "repaired other",
            "read back unchanged",
            "lost-pending wait p50", "lost-pending wait p95", "lost-pending wait max", "never started", "stale at end");

    private WebhookFigures() {
    }

    /** The runs with something to show (a drop rate, a reconciler, or a job that never started). */
    public static List<SimulationResult> shown(List<SimulationResult> results) {
        return results.stream().filter(r -> r.webhooks().any()).toList();
    }

    /** One run's figures, as {@link #COLUMNS} name them. */
    public static List<String> cells(SimulationResult r) {
        SimulationResult.Webhooks w = r.webhooks();
        int toRunning = w.reconciled(Kind.TO_RUNNING);
        int toFinished = w.reconciled(Kind.TO_FINISHED);
        int found = w.reconciled(Kind.DISCOVERED);
        boolean lost = w.lostPendingWaits().length > 0;
        return List.of(count(w.droppedPending()), count(w.droppedRunning()), count(w.droppedFinished()),
                w.reconcileEvery() == null ? "off" : count(w.reconcileRuns()), count(toRunning), count(toFinished),
                count(found), count(w.repaired() - toRunning - toFinished - found), count(w.reconciled(Kind.UNCHANGED)),
                lost ? seconds(w.lostPendingWaitPercentile(50)) : "-",
                lost ? seconds(w.lostPendingWaitPercentile(95)) : "-",
                lost ? seconds(w.lostPendingWaitPercentile(100)) : "-", count(w.neverStarted()), count(w.staleAtEnd()));
    }

    /** What the figures mean, for the runs shown. */
    public static String note(List<SimulationResult> shown) {
        // the simulated runnerscale rows share one setting; a bound or gitlab_taskscaler drops nothing
        SimulationResult.Webhooks w = shown.stream().map(SimulationResult::webhooks)
                .filter(x -> x.dropRate() > 0 || x.reconcileEvery() != null).findFirst()
                .orElse(shown.getFirst().webhooks());
        ReconcileSettings s = ReconcileSettings.DEFAULTS;
        String reconciler = w.reconcileEvery() == null
                ? "No reconciler: nothing repairs what a lost webhook leaves behind."
                : "The real reconciler ran every " + Durations.format(w.reconcileEvery()) + " on the simulated clock "
                + "with its default settings (a pending job read back once its last event is " + Durations.format(
                s.pendingAfter()) + " old, a running one after " + Durations.format(s.runningAfter()) + ", at most "
                + s.budget() + " GitLab calls a run), reading the jobs' real states from the simulated GitLab and listing "
                + "the project's pending and running jobs (found: jobs it had never heard of).";
        return String.format(Locale.ROOT, "Webhooks: %s%% of job webhook deliveries (pending, running, finished) were "
                + "dropped, each by its own draw from --seed; GitLab's runners take any pending job of their pool all "
                + "the same. A lost pending hook leaves its job without capacity of its own until a free runner takes "
                + "it (lost-pending wait); a lost running hook keeps capacity asked for a running job; a lost finished "
                + "hook keeps the job's instance busy to the scaler, never scaled in. %s Never started: jobs still "
                + "waiting when the replay stopped; stale at end: jobs runnerscale still held live though GitLab had "
                + "ended them. gitlab_taskscaler polls GitLab and has no webhooks to lose.",
                plain(w.dropRate() * 100), reconciler);
    }

    private static String count(int n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    private static String seconds(double s) {
        return String.format(Locale.ROOT, "%.1fs", s);
    }

    private static String plain(double number) {
        return java.math.BigDecimal.valueOf(number).stripTrailingZeros().toPlainString();
    }
}
