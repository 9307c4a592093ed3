package io.runnerscale.metrics;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The enum against the contract (notes/METRICS.md, the README's table), written out by hand. */
class MetricNameTest {

    static String row(MetricName m) {
        return m.cloudWatchName() + " | " + m.unit() + " | " + m.dimensions().stream().map(Dimension::cloudWatchName)
                .collect(Collectors.joining(", ", "[", "]")) + " | " + m.prometheusName() + " | " + m.type()
                + " | " + m.dimensions().stream().map(Dimension::label).collect(Collectors.joining(","));
    }

    @Test
    void everyMetricHasTheContractsNamesUnitDimensionsAndPrometheusName() {
        List<String> expected = List.of(
                "JobWait | Seconds | [Pool] | runnerscale_job_wait_seconds | HISTOGRAM | pool",
                "WebhookDeliveries | Count | [Status] | runnerscale_webhook_deliveries_total | COUNTER | status",
                "ScaleDecisions | Count | [Pool] | runnerscale_scale_decisions_total | COUNTER | pool",
                "ScaleLatency | Seconds | [Pool] | runnerscale_scale_latency_seconds | HISTOGRAM | pool",
                "DesiredInstances | Count | [Pool] | runnerscale_desired_instances | GAUGE | pool",
                "NeededSlots | Count | [Pool] | runnerscale_needed_slots | GAUGE | pool",
                "PendingJobs | Count | [Pool] | runnerscale_pending_jobs | GAUGE | pool",
                "Instances | Count | [Pool, State] | runnerscale_instances | GAUGE | pool,state",
                "DecisionFailures | Count | [Pool] | runnerscale_decision_failures_total | COUNTER | pool",
                "DeferredUpdates | Count | [Result] | runnerscale_deferred_updates_total | COUNTER | result",
                "SpotInterruptions | Count | [Result] | runnerscale_spot_interruptions_total | COUNTER | result",
                "RebalanceRecommendations | Count | [Result] | runnerscale_rebalance_recommendations_total | COUNTER | result",
                "FargateTaskEvents | Count | [Result] | runnerscale_fargate_task_events_total | COUNTER | result",
                "ReconcilerRepairs | Count | [Kind] | runnerscale_reconciler_repairs_total | COUNTER | kind",
                "HooksDisabled | Count | [] | runnerscale_hooks_disabled | GAUGE | ",
                "WarmPoolsNotApplied | Count | [] | runnerscale_warm_pools_not_applied | GAUGE | ",
                "GitLabApiErrors | Count | [Kind] | runnerscale_gitlab_api_errors_total | COUNTER | kind");
        assertEquals(expected, Arrays.stream(MetricName.values()).map(MetricNameTest::row).toList());
    }

    @Test
    void histogramsHaveTheContractsBucketsAndOnlyJobWaitGoesOutWithoutDimensionToo() {
        assertArrayEquals(new double[]{1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1800},
                MetricName.JOB_WAIT.buckets());
        assertArrayEquals(new double[]{0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120}, MetricName.SCALE_LATENCY.buckets());
        assertEquals(List.of(MetricName.JOB_WAIT), Arrays.stream(MetricName.values())
                .filter(MetricName::alsoWithoutDimensions).toList());
        assertEquals("runnerscale_webhook_deliveries", MetricName.WEBHOOK_DELIVERIES.prometheusBaseName());
    }

    @Test
    void aCallAgainstTheContractIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> MetricName.INSTANCES.check(MetricName.Type.GAUGE, "docker"));
        assertThrows(IllegalArgumentException.class, () -> MetricName.JOB_WAIT.check(MetricName.Type.COUNTER, "docker"));
        assertThrows(IllegalArgumentException.class, () -> MetricName.SCALE_DECISIONS.check(MetricName.Type.COUNTER, " "));
        MetricName.INSTANCES.check(MetricName.Type.GAUGE, "docker", "idle");
        assertTrue(MetricName.HOOKS_DISABLED.dimensions().isEmpty());
    }
}
