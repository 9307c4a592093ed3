package io.runnerscale.metrics;

import java.time.Duration;

/**
 * The metrics port: what runnerscale measures, by the contract's names ({@link MetricName}), with
 * one value per dimension of the metric, in {@link MetricName#dimensions()}'s order. Adapters:
 * CloudWatch's embedded metric format in the Lambda functions ({@code LambdaMetrics}), Prometheus
 * in {@code serve}, {@link #NONE} elsewhere.
 *
 * <p>Metrics never fail a request: an adapter swallows its own failures, and callers need no
 * try/catch around these calls.
 */
public interface RunnerscaleMetrics {

    /** Measures nothing. */
    RunnerscaleMetrics NONE = new RunnerscaleMetrics() {
        @Override
        public void count(MetricName metric, long amount, String... dimensionValues) {
        }

        @Override
        public void gauge(MetricName metric, double value, String... dimensionValues) {
        }

        @Override
        public void seconds(MetricName metric, Duration value, String... dimensionValues) {
        }
    };

    /** Adds {@code amount} to a {@link MetricName.Type#COUNTER}. */
    void count(MetricName metric, long amount, String... dimensionValues);

    /** Adds one to a {@link MetricName.Type#COUNTER}. */
    default void count(MetricName metric, String... dimensionValues) {
        count(metric, 1, dimensionValues);
    }

    /** Sets a {@link MetricName.Type#GAUGE}. */
    void gauge(MetricName metric, double value, String... dimensionValues);

    /** One observation of a {@link MetricName.Type#HISTOGRAM} (a distribution in seconds). */
    void seconds(MetricName metric, Duration value, String... dimensionValues);
}
