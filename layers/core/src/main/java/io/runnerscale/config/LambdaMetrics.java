package io.runnerscale.config;

import software.amazon.lambda.powertools.metrics.Metrics;
import software.amazon.lambda.powertools.metrics.MetricsFactory;
import software.amazon.lambda.powertools.metrics.model.DimensionSet;
import software.amazon.lambda.powertools.metrics.model.MetricUnit;

/**
 * CloudWatch metrics through Powertools (embedded metric format in the function's log). Only
 * inside Lambda: elsewhere (tests, the local server) the EMF library would probe for an EC2 or
 * ECS environment over the network, so outside Lambda this does nothing.
 */
public final class LambdaMetrics {
    private static final String NAMESPACE = System.getenv().getOrDefault("POWERTOOLS_METRICS_NAMESPACE", "runnerscale");

    private final Metrics metrics;

    private LambdaMetrics(Metrics metrics) {
        this.metrics = metrics;
    }

    public static LambdaMetrics create() {
        return new LambdaMetrics(System.getenv("AWS_LAMBDA_FUNCTION_NAME") != null
                ? MetricsFactory.getMetricsInstance() : null);
    }

    /** One data point with its own dimension, flushed at once (e.g. per pool). */
    public void put(String name, double value, MetricUnit unit, String dimension, String dimensionValue) {
        if (metrics != null) {
            try {
                metrics.flushSingleMetric(name, value, unit, NAMESPACE, DimensionSet.of(dimension, dimensionValue));
            } catch (RuntimeException ignored) {
                // metrics never fail a request
            }
        }
    }

    public void count(String name, String dimension, String dimensionValue) {
        put(name, 1, MetricUnit.COUNT, dimension, dimensionValue);
    }

    /**
     * {@code JobWait} (seconds, per pool): how long a job waited for a runner, one data point per job,
     * so CloudWatch can give its percentiles (p50, p95) per pool.
     */
    public void jobWait(String pool, java.time.Duration wait) {
        put("JobWait", wait.toMillis() / 1000.0, MetricUnit.SECONDS, "Pool", pool);
    }
}
