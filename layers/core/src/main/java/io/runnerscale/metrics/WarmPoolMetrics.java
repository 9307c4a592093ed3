package io.runnerscale.metrics;

import io.runnerscale.compute.WarmPoolApplier;

/** {@code WarmPoolsNotApplied} from one scheduled run's warm pool report (the lifecycle function). */
public final class WarmPoolMetrics {

    private WarmPoolMetrics() {
    }

    /**
     * Sent every run, 0 included, so the alarm keeps its state between runs and clears at the first
     * run that applies every warm pool.
     */
    public static void record(WarmPoolApplier.Report report, RunnerscaleMetrics metrics) {
        metrics.gauge(MetricName.WARM_POOLS_NOT_APPLIED, report.notApplied());
    }
}
