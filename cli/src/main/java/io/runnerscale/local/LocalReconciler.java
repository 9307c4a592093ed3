package io.runnerscale.local;

import io.runnerscale.metrics.ReconcileMetrics;
import io.runnerscale.metrics.RunnerscaleMetrics;
import io.runnerscale.reconcile.Reconciler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** {@code serve}'s reconciler schedule: a run every interval, as the scheduled function does in AWS. */
public final class LocalReconciler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalReconciler.class);

    private final ScheduledExecutorService schedule = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "reconcile");
        thread.setDaemon(true);
        return thread;
    });

    /** @param metrics told each run's repairs ({@code ReconcilerRepairs}) */
    public LocalReconciler(Reconciler reconciler, Duration every, RunnerscaleMetrics metrics) {
        schedule.scheduleWithFixedDelay(() -> {
            try {
                ReconcileMetrics.record(reconciler.run(), metrics);
            } catch (RuntimeException e) {
                // the store or the pools file could not be read: the next run tries again
                LOG.error("reconciler run failed: {}", e.toString());
            }
        }, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        schedule.shutdownNow();
        try {
            schedule.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
