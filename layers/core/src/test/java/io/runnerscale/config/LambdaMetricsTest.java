package io.runnerscale.config;

import io.runnerscale.metrics.MetricName;
import io.runnerscale.metrics.RunnerscaleMetrics;
import org.junit.jupiter.api.Test;
import software.amazon.lambda.powertools.metrics.model.MetricUnit;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The EMF adapter's mapping onto Powertools' single-metric flush, through a recording sink. */
class LambdaMetricsTest {
    record Flushed(String name, double value, MetricUnit unit, Map<String, String> dimensions) {
    }

    final List<Flushed> flushed = new ArrayList<>();
    final LambdaMetrics metrics = new LambdaMetrics((name, value, unit, dimensions) ->
            flushed.add(new Flushed(name, value, unit, Map.copyOf(dimensions))));

    @Test
    void jobWaitGoesOutPerPoolAndWithoutDimensionInSeconds() {
        metrics.seconds(MetricName.JOB_WAIT, Duration.ofMillis(12_500), "docker");

        assertEquals(List.of(new Flushed("JobWait", 12.5, MetricUnit.SECONDS, Map.of("Pool", "docker")),
                new Flushed("JobWait", 12.5, MetricUnit.SECONDS, Map.of())), flushed);
    }

    @Test
    void countersAndGaugesAreCountsWithTheirDimensionsNamedAsInCloudWatch() {
        metrics.count(MetricName.WEBHOOK_DELIVERIES, "401");
        metrics.count(MetricName.RECONCILER_REPAIRS, 3, "TO_RUNNING");
        metrics.gauge(MetricName.INSTANCES, 4, "docker", "idle");
        metrics.seconds(MetricName.SCALE_LATENCY, Duration.ofMillis(250), "docker");

        assertEquals(List.of(new Flushed("WebhookDeliveries", 1, MetricUnit.COUNT, Map.of("Status", "401")),
                new Flushed("ReconcilerRepairs", 3, MetricUnit.COUNT, Map.of("Kind", "TO_RUNNING")),
                new Flushed("Instances", 4, MetricUnit.COUNT, Map.of("Pool", "docker", "State", "idle")),
                new Flushed("ScaleLatency", 0.25, MetricUnit.SECONDS, Map.of("Pool", "docker"))), flushed);
    }

    @Test
    void metricsNeverFailTheCaller() {
        LambdaMetrics failing = new LambdaMetrics((name, value, unit, dimensions) -> {
            throw new IllegalStateException("stdout closed");
        });
        failing.count(MetricName.SCALE_DECISIONS, "docker");
        // a call against the contract is dropped (logged), not thrown, and nothing is written
        metrics.gauge(MetricName.INSTANCES, 1, "docker");
        metrics.count(MetricName.JOB_WAIT, "docker");
        assertEquals(List.of(), flushed);
    }

    @Test
    void outsideLambdaNothingIsWritten() {
        // surefire runs without AWS_LAMBDA_FUNCTION_NAME: the EMF library must not probe for EC2 or ECS
        assertSame(RunnerscaleMetrics.NONE, LambdaMetrics.create());
    }
}
