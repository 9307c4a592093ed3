package io.runnerscale.webhook;

import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.metrics.MetricName;
import io.runnerscale.metrics.RunnerscaleMetrics;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.scaling.DemandHistory;
import io.runnerscale.scaling.ScaleRequests;
import io.runnerscale.store.JobStore;
import io.runnerscale.store.JobStore.ApplyOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.LinkedHashSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/**
 * Applies job events from GitLab: finds each job's pool, writes each event with the store's
 * forward-only conditional write, counts demand for forecasting pools, and asks for a scale-out
 * of every pool with newly pending jobs.
 *
 * <p>The webhook calls it for deliveries it answers after storing them; the deferred-update
 * consumer (the scaler function in AWS, a local worker in {@code serve}) for the big deliveries the
 * webhook hands over to a {@link JobUpdateQueue}. Events of one call are applied concurrently, at
 * most {@value #MAX_PARALLEL} at a time (GitLab's API and the store are shared): the writes are
 * conditional on the status rank, so their order does not matter.
 */
public final class JobUpdateService {
    static final int MAX_PARALLEL = 16;
    /** Jobs named in one scale request: enough for the decision to see them before the live index does. */
    static final int MAX_HINTS = 500;
    private static final Logger LOG = LoggerFactory.getLogger(JobUpdateService.class);

    private final PoolsConfigSource pools;
    private final JobStore store;
    private final PoolResolver resolver;
    private final ScaleRequests scaleRequests;
    private final DemandHistory demand;
    private final JobWaits waits;
    private final ProjectsSeen projectsSeen;

    /**
     * Told how long each job of a pool waited for a runner, once, when it starts running: GitLab's own
     * {@code build_queued_duration} when the event has it, else the stored pending and start times.
     */
    @FunctionalInterface
    public interface JobWaits {
        JobWaits NONE = (pool, wait) -> { };

        void started(String pool, Duration wait);

        /** Each wait as a {@code JobWait} point of the pool, as every function and {@code serve} record it. */
        static JobWaits metered(RunnerscaleMetrics metrics) {
            return (pool, wait) -> metrics.seconds(MetricName.JOB_WAIT, wait, pool);
        }
    }

    /**
     * Told of the project of each job seen for the first time, so the reconciler knows which projects
     * to list pending jobs for (GitLab has no instance-wide list): best effort, after the job is stored.
     */
    @FunctionalInterface
    public interface ProjectsSeen {
        ProjectsSeen NONE = (projectId, at) -> { };

        void seen(long projectId, Instant at);
    }

    /** @param demand where new pending jobs of pools with forecasting on are counted; null for none */
    public JobUpdateService(PoolsConfigSource pools, JobStore store, PoolResolver resolver, ScaleRequests scaleRequests,
                            DemandHistory demand) {
        this(pools, store, resolver, scaleRequests, demand, JobWaits.NONE);
    }

    public JobUpdateService(PoolsConfigSource pools, JobStore store, PoolResolver resolver, ScaleRequests scaleRequests,
                            DemandHistory demand, JobWaits waits) {
        this(pools, store, resolver, scaleRequests, demand, waits, ProjectsSeen.NONE);
    }

    private JobUpdateService(PoolsConfigSource pools, JobStore store, PoolResolver resolver,
                             ScaleRequests scaleRequests, DemandHistory demand, JobWaits waits,
                             ProjectsSeen projectsSeen) {
        this.projectsSeen = projectsSeen;
        this.pools = pools;
        this.store = store;
        this.resolver = resolver;
        this.scaleRequests = scaleRequests;
        this.demand = demand;
        this.waits = waits;
    }

    /** The same service, also telling {@code seen} of the project of every job seen for the first time. */
    public JobUpdateService noting(ProjectsSeen seen) {
        return new JobUpdateService(pools, store, resolver, scaleRequests, demand, waits, seen);
    }

    /**
     * How long a job that now runs waited, or null when nothing says: only for the event that moved it
     * from pending (or from nothing) to running, so a duplicate or late event never counts twice.
     */
    static Duration waitOf(Outcome outcome) {
        if (!(outcome.outcome() instanceof ApplyOutcome.Applied(JobStatus previous, JobRecord record))
                || outcome.event().status() != JobStatus.RUNNING
                || previous != null && previous != JobStatus.PENDING && previous != JobStatus.CREATED) {
            return null;
        }
        Double queued = outcome.event().queuedDurationSeconds();
        if (queued != null && queued >= 0 && !queued.isInfinite()) {
            return Duration.ofMillis(Math.round(queued * 1000));
        }
        if (record.pendingAt() != null && record.startedAt() != null && !record.startedAt().isBefore(record.pendingAt())) {
            return Duration.between(record.pendingAt(), record.startedAt());
        }
        return null;
    }

    /** One event's pool and what the store did with it. */
    public record Outcome(JobEvent event, PoolResolver.Resolution resolution, ApplyOutcome outcome) {
        public boolean applied() {
            return outcome instanceof ApplyOutcome.Applied;
        }
    }

    /**
     * Applies every event, then requests scale-outs. Times that decisions use are those of
     * {@code receivedAt}, when the webhook received the delivery, not the consumer's clock.
     *
     * @return one outcome per event, in the events' order
     * @throws RuntimeException when the store fails for any event (the others may be written:
     *                          applying them again changes nothing)
     */
    public List<Outcome> apply(List<JobEvent> events, Instant receivedAt) {
        PoolsConfig config = pools.current();
        List<Outcome> outcomes = applyAll(events, config, receivedAt);
        Map<String, List<JobKey>> newPendingByPool = new LinkedHashMap<>();
        Set<Long> newProjects = new LinkedHashSet<>();
        for (Outcome outcome : outcomes) {
            String pool = outcome.resolution().pool();
            Duration wait = pool == null ? null : waitOf(outcome);
            if (wait != null) {
                try {
                    waits.started(pool, wait);
                } catch (RuntimeException e) {
                    // a lost measurement must not fail a stored delivery
                    LOG.warn("job wait of pool {} not recorded: {}", pool, e.toString());
                }
            }
            if (outcome.outcome() instanceof ApplyOutcome.Applied applied && applied.previous() == null) {
                newProjects.add(outcome.event().key().projectId());
            }
            if (outcome.applied() && outcome.event().status() == JobStatus.PENDING && pool != null) {
                newPendingByPool.computeIfAbsent(pool, p -> new ArrayList<>()).add(outcome.event().key());
                recordDemand(config, pool, receivedAt);
            }
        }
        for (Map.Entry<String, List<JobKey>> entry : newPendingByPool.entrySet()) {
            String pool = entry.getKey();
            List<JobKey> jobs = entry.getValue();
            List<JobKey> hints = jobs.size() > MAX_HINTS ? jobs.subList(0, MAX_HINTS) : jobs;
            try {
                // unique per batch of jobs: two batches received in the same millisecond must not collapse
                scaleRequests.request(pool, "job-pending", "pending-" + pool + "-" + receivedAt.toEpochMilli()
                        + "-" + jobs.getFirst(), List.copyOf(hints));
            } catch (RuntimeException e) {
                // Stored is what matters: the scheduled tick picks the jobs up within a minute.
                LOG.warn("fast-path scale request for pool {} failed: {}", pool, e.toString());
            }
        }
        // after the scale requests, which the fast path waits on; once per project of the call
        newProjects.forEach(project -> noteProject(project, receivedAt));
        return outcomes;
    }

    private List<Outcome> applyAll(List<JobEvent> events, PoolsConfig config, Instant receivedAt) {
        if (events.size() <= 1) {
            return events.stream().map(e -> applyOne(e, config, receivedAt)).toList();
        }
        Semaphore permits = new Semaphore(MAX_PARALLEL);
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Outcome>> futures = new ArrayList<>(events.size());
            for (JobEvent event : events) {
                futures.add(executor.submit(() -> {
                    permits.acquire();
                    try {
                        return applyOne(event, config, receivedAt);
                    } finally {
                        permits.release();
                    }
                }));
            }
            List<Outcome> outcomes = new ArrayList<>(events.size());
            RuntimeException failure = null;
            for (Future<Outcome> future : futures) {
                try {
                    outcomes.add(future.get());
                } catch (ExecutionException e) {
                    if (failure == null) {
                        failure = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                    }
                }
            }
            if (failure != null) {
                throw failure;
            }
            return outcomes;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while applying job events", e);
        }
    }

    private Outcome applyOne(JobEvent event, PoolsConfig config, Instant receivedAt) {
        PoolResolver.Resolution resolution = resolver.resolve(event, config);
        JobEvent withTags = resolution.tags() == null ? event : event.withTags(resolution.tags());
        return new Outcome(event, resolution, store.apply(withTags, resolution.pool(), receivedAt));
    }

    private void noteProject(long projectId, Instant at) {
        try {
            projectsSeen.seen(projectId, at);
        } catch (RuntimeException e) {
            // only the reconciler's list of projects misses it, until the project's next new job
            LOG.warn("project {} not noted for the reconciler: {}", projectId, e.toString());
        }
    }

    private void recordDemand(PoolsConfig config, String pool, Instant now) {
        if (demand == null || config.pool(pool).map(p -> !p.forecast().enabled()).orElse(true)) {
            return;
        }
        try {
            demand.record(pool, now);
        } catch (RuntimeException e) {
            // a missed count only weakens the forecast a little; the job itself is stored
            LOG.warn("demand history for pool {} not recorded: {}", pool, e.toString());
        }
    }
}
