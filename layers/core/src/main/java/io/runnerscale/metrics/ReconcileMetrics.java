package io.runnerscale.metrics;

import io.runnerscale.reconcile.ReconcileReport;

import java.util.Map;

/**
 * {@code ReconcilerRepairs} and {@code HooksDisabled} from one run's report, for the lifecycle
 * function's scheduled run and serve's.
 */
public final class ReconcileMetrics {

    private ReconcileMetrics() {
    }

    /**
     * Counts the run's repairs by kind: every kind the report calls a repair ({@link
     * ReconcileReport.Kind#isRepair()}), so a kind added to the report is counted without a change here.
     * Kinds with no repair this run add nothing.
     */
    public static void record(ReconcileReport report, RunnerscaleMetrics metrics) {
        for (Map.Entry<ReconcileReport.Kind, Integer> entry : report.counts().entrySet()) {
            if (entry.getKey().isRepair() && entry.getValue() > 0) {
                metrics.count(MetricName.RECONCILER_REPAIRS, entry.getValue(), entry.getKey().name());
            }
        }
        // every run, 0 included, while hooks are checked at all: the alarm keeps its state between points
        if (report.projects().hookUrl()) {
            metrics.gauge(MetricName.HOOKS_DISABLED, report.projects().disabledHooks());
        }
    }
}
