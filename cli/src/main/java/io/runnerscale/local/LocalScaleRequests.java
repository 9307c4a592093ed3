package io.runnerscale.local;

import io.runnerscale.job.JobKey;
import io.runnerscale.scaling.ScaleRequests;
import io.runnerscale.scaling.ScalerService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The local stand-in for the FIFO scale queue: one worker thread per pool, so two decisions for a
 * pool never overlap, and requests that arrive while one is queued collapse into it. A ticker
 * requests every pool on the schedule, like the EventBridge rule.
 */
public final class LocalScaleRequests implements ScaleRequests, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalScaleRequests.class);

    private final ScalerService scaler;
    private final Map<String, ExecutorService> workers = new ConcurrentHashMap<>();
    private final Map<String, AtomicBoolean> queued = new ConcurrentHashMap<>();
    /** Jobs named by requests not yet decided, per pool: the next decision's hints (as an SQS batch's). */
    private final Map<String, Set<JobKey>> hints = new ConcurrentHashMap<>();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "scale-tick");
        thread.setDaemon(true);
        return thread;
    });

    public LocalScaleRequests(ScalerService scaler) {
        this.scaler = scaler;
    }

    public void startTicking(Duration interval) {
        ticker.scheduleAtFixedRate(() -> scaler.poolNames().forEach(pool -> request(pool, "schedule", "tick")),
                interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void request(String pool, String reason, String dedupeId) {
        request(pool, reason, dedupeId, List.of());
    }

    /**
     * The named jobs go to the next decision of the pool as hints: read directly, and timed from
     * their pending webhook ({@code ScaleLatency}). Added before the queued flag is looked at, so a
     * decision that starts after this request sees them, even when the request collapses into it.
     */
    @Override
    public void request(String pool, String reason, String dedupeId, List<JobKey> jobs) {
        if (!jobs.isEmpty()) {
            hints.computeIfAbsent(pool, p -> ConcurrentHashMap.newKeySet()).addAll(jobs);
        }
        AtomicBoolean isQueued = queued.computeIfAbsent(pool, p -> new AtomicBoolean());
        if (!isQueued.compareAndSet(false, true)) {
            return; // a decision not yet started will see this job too
        }
        workers.computeIfAbsent(pool, p -> Executors.newSingleThreadExecutor(r -> {
            Thread thread = new Thread(r, "scale-" + p);
            thread.setDaemon(true);
            return thread;
        })).execute(() -> {
            isQueued.set(false);
            try {
                scaler.scale(pool, takeHints(pool));
            } catch (RuntimeException e) {
                LOG.error("pool {}: decision ({}) failed: {}", pool, reason, e.toString());
            }
        });
    }

    private List<JobKey> takeHints(String pool) {
        Set<JobKey> named = hints.get(pool);
        if (named == null || named.isEmpty()) {
            return List.of();
        }
        List<JobKey> taken = new java.util.ArrayList<>();
        for (JobKey job : named) {
            if (named.remove(job)) {
                taken.add(job);
            }
        }
        return taken;
    }

    /** Waits until every queued decision has run (tests and a clean shutdown). */
    public void drain(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (ExecutorService worker : workers.values()) {
            var done = new java.util.concurrent.CountDownLatch(1);
            worker.execute(done::countDown);
            done.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public void close() {
        ticker.shutdownNow();
        workers.values().forEach(ExecutorService::shutdown);
        for (ExecutorService worker : workers.values()) {
            try {
                worker.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
