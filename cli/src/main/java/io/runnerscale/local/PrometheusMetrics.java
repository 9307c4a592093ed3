package io.runnerscale.local;

import io.prometheus.metrics.core.datapoints.DataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.StatefulMetric;
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
import java.util.function.Consumer;

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
        update(metric, MetricName.Type.COUNTER, counters, dimensionValues, counter -> counter.inc(amount));
    }

    @Override
    public void gauge(MetricName metric, double value, String... dimensionValues) {
        update(metric, MetricName.Type.GAUGE, gauges, dimensionValues, gauge -> gauge.set(value));
    }

    @Override
    public void seconds(MetricName metric, Duration value, String... dimensionValues) {
        update(metric, MetricName.Type.HISTOGRAM, histograms, dimensionValues,
                histogram -> histogram.observe(value.toNanos() / 1e9));
    }

    /**
     * One change to the series of the dimension values. A metric without dimensions is no special
     * case: the client's {@code labelValues()} with no value is its one series.
     */
    private <D extends DataPoint> void update(MetricName metric, MetricName.Type type,
                                              Map<MetricName, ? extends StatefulMetric<D, ?>> registered,
                                              String[] dimensionValues, Consumer<D> change) {
        try {
            metric.check(type, dimensionValues);
            change.accept(registered.get(metric).labelValues(dimensionValues));
        } catch (RuntimeException e) {
            LOG.warn("metric {} not written: {}", metric.prometheusName(), e.toString());
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
