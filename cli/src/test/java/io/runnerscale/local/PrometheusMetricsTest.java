package io.runnerscale.local;

import io.runnerscale.metrics.MetricName;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PrometheusMetricsTest {
    final PrometheusMetrics metrics = new PrometheusMetrics();

    List<String> lines() {
        return Arrays.asList(new String(metrics.scrape(), StandardCharsets.UTF_8).split("\n"));
    }

    void assertLine(String expected) {
        assertTrue(lines().contains(expected), () -> "no line '" + expected + "' in:\n" + String.join("\n", lines()));
    }

    @Test
    void countersHaveTheirTotalNameAndLabels() {
        metrics.count(MetricName.WEBHOOK_DELIVERIES, "200");
        metrics.count(MetricName.WEBHOOK_DELIVERIES, "200");
        metrics.count(MetricName.WEBHOOK_DELIVERIES, "401");
        metrics.count(MetricName.RECONCILER_REPAIRS, 3, "TO_RUNNING");

        assertLine("# TYPE runnerscale_webhook_deliveries_total counter");
        assertLine("runnerscale_webhook_deliveries_total{status=\"200\"} 2.0");
        assertLine("runnerscale_webhook_deliveries_total{status=\"401\"} 1.0");
        assertLine("runnerscale_reconciler_repairs_total{kind=\"TO_RUNNING\"} 3.0");
    }

    @Test
    void gaugesKeepTheLastValue() {
        metrics.gauge(MetricName.INSTANCES, 3, "docker", "idle");
        metrics.gauge(MetricName.INSTANCES, 1, "docker", "idle");
        metrics.gauge(MetricName.HOOKS_DISABLED, 2);

        assertLine("# TYPE runnerscale_instances gauge");
        assertLine("runnerscale_instances{pool=\"docker\",state=\"idle\"} 1.0");
        assertLine("runnerscale_hooks_disabled 2.0");
    }

    @Test
    void histogramsCountObservationsInTheContractsBuckets() {
        metrics.seconds(MetricName.JOB_WAIT, Duration.ofMillis(1500), "docker");
        metrics.seconds(MetricName.JOB_WAIT, Duration.ofSeconds(12), "docker");
        metrics.seconds(MetricName.JOB_WAIT, Duration.ofHours(1), "docker");

        assertLine("# TYPE runnerscale_job_wait_seconds histogram");
        assertLine("runnerscale_job_wait_seconds_bucket{pool=\"docker\",le=\"1.0\"} 0");
        assertLine("runnerscale_job_wait_seconds_bucket{pool=\"docker\",le=\"2.0\"} 1");
        assertLine("runnerscale_job_wait_seconds_bucket{pool=\"docker\",le=\"10.0\"} 1");
        assertLine("runnerscale_job_wait_seconds_bucket{pool=\"docker\",le=\"15.0\"} 2");
        assertLine("runnerscale_job_wait_seconds_bucket{pool=\"docker\",le=\"1800.0\"} 2");
        assertLine("runnerscale_job_wait_seconds_bucket{pool=\"docker\",le=\"+Inf\"} 3");
        assertLine("runnerscale_job_wait_seconds_count{pool=\"docker\"} 3");
        assertLine("runnerscale_job_wait_seconds_sum{pool=\"docker\"} 3613.5");
        long buckets = lines().stream().filter(l -> l.startsWith("runnerscale_scale_latency_seconds_bucket")).count();
        assertEquals(0, buckets, "no series before the first observation");
        metrics.seconds(MetricName.SCALE_LATENCY, Duration.ofMillis(300), "docker");
        assertEquals(11, lines().stream().filter(l -> l.startsWith("runnerscale_scale_latency_seconds_bucket")).count(),
                "ten bounds and +Inf");
        assertLine("runnerscale_scale_latency_seconds_bucket{pool=\"docker\",le=\"0.25\"} 0");
        assertLine("runnerscale_scale_latency_seconds_bucket{pool=\"docker\",le=\"0.5\"} 1");
    }

    @Test
    void everyMetricOfTheContractIsServedUnderItsPrometheusName() {
        for (MetricName metric : MetricName.values()) {
            String[] dims = metric.dimensions().stream().map(d -> "x").toArray(String[]::new);
            switch (metric.type()) {
                case COUNTER -> metrics.count(metric, dims);
                case GAUGE -> metrics.gauge(metric, 1, dims);
                case HISTOGRAM -> metrics.seconds(metric, Duration.ofSeconds(1), dims);
            }
        }
        for (MetricName metric : MetricName.values()) {
            String type = switch (metric.type()) {
                case COUNTER -> "counter";
                case GAUGE -> "gauge";
                case HISTOGRAM -> "histogram";
            };
            assertLine("# TYPE " + metric.prometheusName() + " " + type);
        }
    }

    @Test
    void aCallAgainstTheContractIsDroppedNotThrown() {
        metrics.gauge(MetricName.INSTANCES, 1, "docker");
        metrics.count(MetricName.JOB_WAIT, "docker");
        assertTrue(lines().stream().noneMatch(l -> l.startsWith("runnerscale_instances{")));
    }
}
