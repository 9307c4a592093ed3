package io.runnerscale.config;

import io.runnerscale.metrics.MetricName;
import io.runnerscale.metrics.RunnerscaleMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.lambda.powertools.metrics.Metrics;
import software.amazon.lambda.powertools.metrics.MetricsFactory;
import software.amazon.lambda.powertools.metrics.model.DimensionSet;
import software.amazon.lambda.powertools.metrics.model.MetricUnit;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The metrics port's CloudWatch adapter: each point is flushed at once through Powertools as one
 * embedded metric format record in the function's log (namespace {@code POWERTOOLS_METRICS_NAMESPACE},
 * default {@code runnerscale}), with the metric's dimensions as one dimension set. A metric marked
 * {@link MetricName#alsoWithoutDimensions()} is flushed a second time with no dimension.
 *
 * <p>Only inside Lambda ({@link #create()}): elsewhere (tests, the local server) the EMF library
 * would probe for an EC2 or ECS environment over the network, so {@link RunnerscaleMetrics#NONE}
 * stands in. Metrics never fail a request: a failure to write one is logged and dropped.
 */
public final class LambdaMetrics implements RunnerscaleMetrics {
    private static final String NAMESPACE = System.getenv().getOrDefault("POWERTOOLS_METRICS_NAMESPACE", "runnerscale");
    private static final Logger LOG = LoggerFactory.getLogger(LambdaMetrics.class);

    /** Where a point goes: Powertools' single-metric flush in Lambda, a recording in tests. */
    @FunctionalInterface
    interface Sink {
        void flush(String name, double value, MetricUnit unit, Map<String, String> dimensions);
    }

    private final Sink sink;

    LambdaMetrics(Sink sink) {
        this.sink = sink;
    }

    /** The CloudWatch adapter inside Lambda; {@link RunnerscaleMetrics#NONE} anywhere else. */
    public static RunnerscaleMetrics create() {
        if (System.getenv("AWS_LAMBDA_FUNCTION_NAME") == null) {
            return RunnerscaleMetrics.NONE;
        }
        Metrics metrics = MetricsFactory.getMetricsInstance();
        return new LambdaMetrics((name, value, unit, dimensions) ->
                metrics.flushSingleMetric(name, value, unit, NAMESPACE, DimensionSet.of(dimensions)));
    }

    @Override
    public void count(MetricName metric, long amount, String... dimensionValues) {
        put(metric, MetricName.Type.COUNTER, amount, dimensionValues);
    }

    @Override
    public void gauge(MetricName metric, double value, String... dimensionValues) {
        put(metric, MetricName.Type.GAUGE, value, dimensionValues);
    }

    @Override
    public void seconds(MetricName metric, Duration value, String... dimensionValues) {
        put(metric, MetricName.Type.HISTOGRAM, value.toNanos() / 1e9, dimensionValues);
    }

    private void put(MetricName metric, MetricName.Type type, double value, String... dimensionValues) {
        try {
            metric.check(type, dimensionValues);
            MetricUnit unit = type == MetricName.Type.HISTOGRAM ? MetricUnit.SECONDS : MetricUnit.COUNT;
            Map<String, String> dimensions = new LinkedHashMap<>();
            for (int i = 0; i < dimensionValues.length; i++) {
                dimensions.put(metric.dimensions().get(i).cloudWatchName(), dimensionValues[i]);
            }
            sink.flush(metric.cloudWatchName(), value, unit, dimensions);
            if (metric.alsoWithoutDimensions() && !dimensions.isEmpty()) {
                sink.flush(metric.cloudWatchName(), value, unit, Map.of());
            }
        } catch (RuntimeException e) {
            // metrics never fail a request
            LOG.warn("metric {} not written: {}", metric.cloudWatchName(), e.toString());
        }
    }
}
