package io.runnerscale.metrics;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A metrics port that keeps every point, and holds callers to the contract: a wrong type or a
 * wrong number of dimension values fails the test at once (the real adapters only log it).
 */
public final class RecordingMetrics implements RunnerscaleMetrics {

    /** One call: the metric, its value (seconds for histograms) and its dimension values. */
    public record Point(MetricName metric, double value, List<String> dimensions) {
    }

    private final List<Point> points = new ArrayList<>();

    @Override
    public synchronized void count(MetricName metric, long amount, String... dimensionValues) {
        record(metric, MetricName.Type.COUNTER, amount, dimensionValues);
    }

    @Override
    public synchronized void gauge(MetricName metric, double value, String... dimensionValues) {
        record(metric, MetricName.Type.GAUGE, value, dimensionValues);
    }

    @Override
    public synchronized void seconds(MetricName metric, Duration value, String... dimensionValues) {
        record(metric, MetricName.Type.HISTOGRAM, value.toNanos() / 1e9, dimensionValues);
    }

    private void record(MetricName metric, MetricName.Type type, double value, String... dimensionValues) {
        metric.check(type, dimensionValues);
        points.add(new Point(metric, value, Arrays.asList(dimensionValues)));
    }

    public synchronized List<Point> points() {
        return List.copyOf(points);
    }

    public synchronized List<Point> of(MetricName metric) {
        return points.stream().filter(p -> p.metric() == metric).toList();
    }

    /** The values recorded for the metric with exactly these dimension values, in order. */
    public synchronized List<Double> values(MetricName metric, String... dimensionValues) {
        List<String> dims = Arrays.asList(dimensionValues);
        return points.stream().filter(p -> p.metric() == metric && p.dimensions().equals(dims))
                .map(Point::value).toList();
    }

    /** The sum of a counter's increments with these dimension values. */
    public synchronized double total(MetricName metric, String... dimensionValues) {
        return values(metric, dimensionValues).stream().mapToDouble(Double::doubleValue).sum();
    }
}
