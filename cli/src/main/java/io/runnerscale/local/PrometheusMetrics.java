package io.runnerscale.local;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.runnerscale.metrics.Dimension;
import io.runnerscale.metrics.MetricName;
import io.runnerscale.metrics.RunnerscaleMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * The metrics port's adapter in {@code serve}: every metric of {@link MetricName} registered at once
 * with the official Prometheus client (its own registry, not the JVM-wide default), under its
 * Prometheus name, dimensions as labels, histograms with the contract's buckets. {@link #scrape()}
 * writes the text format 0.0.4 that {@code GET /metrics} answers.
 *
 * <p>Metrics never fail a request: a failing call is logged and dropped.
 */
public final class PrometheusMetrics implements RunnerscaleMetrics {
    /** What {@code GET /metrics} answers with. */
    public static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;
    private static final Logger LOG = LoggerFactory.getLogger(PrometheusMetrics.class);

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    private final Map<MetricName, Counter> counters = new EnumMap<>(MetricName.class);
    private final Map<MetricName, Gauge> gauges = new EnumMap<>(MetricName.class);
    private final Map<MetricName, Histogram> histograms = new EnumMap<>(MetricName.class);

    public PrometheusMetrics() {
        for (MetricName metric : MetricName.values()) {
            String[] labels = metric.dimensions().stream().map(Dimension::label).toArray(String[]::new);
            String help = metric.cloudWatchName() + " (CloudWatch namespace runnerscale), in " + metric.unit();
            switch (metric.type()) {
                case COUNTER -> counters.put(metric, Counter.builder().name(metric.prometheusBaseName()).help(help)
                        .labelNames(labels).register(registry));
                case GAUGE -> gauges.put(metric, Gauge.builder().name(metric.prometheusBaseName()).help(help)
                        .labelNames(labels).register(registry));
                case HISTOGRAM -> histograms.put(metric, Histogram.builder().name(metric.prometheusBaseName())
                        .help(help).labelNames(labels).classicOnly().classicUpperBounds(metric.buckets())
                        .register(registry));
            }
        }
    }

    @Override
    public void count(MetricName metric, long amount, String... dimensionValues) {
        try {
            metric.check(MetricName.Type.COUNTER, dimensionValues);
            Counter counter = counters.get(metric);
            (dimensionValues.length == 0 ? counter : counter.labelValues(dimensionValues)).inc(amount);
        } catch (RuntimeException e) {
            LOG.warn("metric {} not counted: {}", metric.prometheusName(), e.toString());
        }
    }

    @Override
    public void gauge(MetricName metric, double value, String... dimensionValues) {
        try {
            metric.check(MetricName.Type.GAUGE, dimensionValues);
            Gauge gauge = gauges.get(metric);
            (dimensionValues.length == 0 ? gauge : gauge.labelValues(dimensionValues)).set(value);
        } catch (RuntimeException e) {
            LOG.warn("metric {} not set: {}", metric.prometheusName(), e.toString());
        }
    }

    @Override
    public void seconds(MetricName metric, Duration value, String... dimensionValues) {
        try {
            metric.check(MetricName.Type.HISTOGRAM, dimensionValues);
            Histogram histogram = histograms.get(metric);
            (dimensionValues.length == 0 ? histogram : histogram.labelValues(dimensionValues))
                    .observe(value.toNanos() / 1e9);
        } catch (RuntimeException e) {
            LOG.warn("metric {} not observed: {}", metric.prometheusName(), e.toString());
        }
    }

    /** Every metric in the Prometheus text format 0.0.4 (UTF-8). */
    public byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return out.toByteArray();
    }
}
