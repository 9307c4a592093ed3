package io.runnerscale.scaling;

import io.runnerscale.compute.Compute;
import io.runnerscale.compute.GroupState;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.metrics.MetricName;
import io.runnerscale.metrics.RunnerscaleMetrics;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.scaling.ScalingAction.SetDesiredCapacity;
import io.runnerscale.scaling.ScalingAction.DrainInstance;
import io.runnerscale.store.InstanceRecord;
import io.runnerscale.store.JobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One scaling decision for one pool: read live jobs and instances, decide with {@link ScalingPolicy},
 * apply. Callers guarantee that two decisions for one pool never run at once.
 *
 * <p>The scaler never terminates an instance: it sets desired capacity on {@link Compute} and asks
 * {@link InstanceDrains} to drain the instances it lets go; a drain terminates an instance only
 * once GitLab lists no running job on its runner.
 */
public final class ScalerService {
    /**
     * Decisions come at least every tick (a minute); a longer gap means the scaler, and in
     * {@code serve} the webhook with it, was down, so job events may have been missed.
     */
    public static final Duration DEFAULT_WATCH_GAP = Duration.ofMinutes(5);
    private static final Logger LOG = LoggerFactory.getLogger(ScalerService.class);

    private final PoolsConfigSource pools;
    private final JobStore store;
    private final Compute compute;
    private final InstanceDrains drains;
    private final DemandForecast forecast;
    private final Clock clock;
    private final Duration watchGap;
    private final TaskScaler taskScaler;
    private final RunnerscaleMetrics metrics;

    public ScalerService(PoolsConfigSource pools, JobStore store, Compute compute, InstanceDrains drains,
                         DemandForecast forecast, Clock clock) {
        this(pools, store, compute, drains, forecast, clock, DEFAULT_WATCH_GAP);
    }

    /** @param watchGap the longest time between two decisions of a pool in which no job event is missed */
    public ScalerService(PoolsConfigSource pools, JobStore store, Compute compute, InstanceDrains drains,
                         DemandForecast forecast, Clock clock, Duration watchGap) {
        this(pools, store, compute, drains, forecast, clock, watchGap, null);
    }

    /** @param taskScaler decides Fargate pools (null when there are none: such a pool is then refused) */
    public ScalerService(PoolsConfigSource pools, JobStore store, Compute compute, InstanceDrains drains,
                         DemandForecast forecast, Clock clock, Duration watchGap, TaskScaler taskScaler) {
        this(pools, store, compute, drains, forecast, clock, watchGap, taskScaler, RunnerscaleMetrics.NONE);
    }

    /**
     * @param metrics told of every decision: {@code ScaleDecisions}, {@code DesiredInstances},
     *                {@code NeededSlots}, {@code PendingJobs}, {@code Instances} by state,
     *                {@code ScaleLatency} of the hinted jobs, and {@code DecisionFailures}
     */
    public ScalerService(PoolsConfigSource pools, JobStore store, Compute compute, InstanceDrains drains,
                         DemandForecast forecast, Clock clock, Duration watchGap, TaskScaler taskScaler,
                         RunnerscaleMetrics metrics) {
        this.metrics = metrics;
        this.taskScaler = taskScaler;
        this.pools = pools;
        this.store = store;
        this.compute = compute;
        this.drains = drains;
        this.forecast = forecast;
        this.clock = clock;
        this.watchGap = watchGap;
    }

    public List<String> poolNames() {
        return pools.current().pools().stream().map(PoolConfig::name).toList();
    }

    /** @return the decision, or empty when the pool is not (or no longer) configured */
    public Optional<ScalingDecision> scale(String poolName) {
        return scale(poolName, List.of());
    }

    /**
     * @param hints jobs that prompted this decision: read directly when the live index does not
     *              list them yet (it is eventually consistent in DynamoDB)
     */
    public Optional<ScalingDecision> scale(String poolName, Collection<JobKey> hints) {
        Optional<PoolConfig> configured = pools.current().pool(poolName);
        if (configured.isEmpty()) {
            LOG.warn("scale request for unknown pool '{}' ignored", poolName);
            return Optional.empty();
        }
        PoolConfig pool = configured.get();
        Instant now = clock.instant();
        if (pool.backend() instanceof PoolConfig.Fargate && taskScaler == null) {
            LOG.error("pool {} is a Fargate pool, but this scaler was built without a Fargate backend", pool.name());
            return Optional.empty();
        }
        ScalingDecision decision;
        List<JobRecord> live;
        try {
            if (pool.backend() instanceof PoolConfig.Fargate) {
                live = liveJobs(pool, hints);
                decision = taskScaler.scale(pool, now, live);
            } else {
                GroupState group = compute.describe(pool);
                live = liveJobs(pool, hints);
                PoolSnapshot snapshot = snapshot(pool, now, group, live);
                decision = ScalingPolicy.decide(snapshot);
                apply(pool, decision);
                if (!decision.changesNothing()) {
                    LOG.info("pool {}: pending={} running={} instances={} desired {} -> {} actions={}", pool.name(),
                            snapshot.pendingJobs(), snapshot.runningJobs(), snapshot.instances().size(),
                            snapshot.desiredCapacity(), decision.desiredAfter(), decision.actions());
                }
                decision = decision.withInstances(InstanceStates.of(snapshot, decision));
            }
        } catch (RuntimeException e) {
            metrics.count(MetricName.DECISION_FAILURES, pool.name());
            throw e;
        }
        observe(pool.name(), decision, live, hints);
        return Optional.of(decision);
    }

    /**
     * The decision's metrics. {@code ScaleLatency}: for each hinted job (a job whose pending webhook
     * asked for this decision) that the decision read live, from when its pending webhook was
     * received (the store's {@code pendingAt}, the delivery's receive time) to now, the decision's
     * end. A hint comes with one queued request per newly pending job, so each job gives one point.
     */
    private void observe(String pool, ScalingDecision decision, List<JobRecord> live, Collection<JobKey> hints) {
        long pending = live.stream().filter(job -> job.status() == JobStatus.PENDING).count();
        metrics.count(MetricName.SCALE_DECISIONS, pool);
        metrics.gauge(MetricName.DESIRED_INSTANCES, decision.desiredAfter(), pool);
        metrics.gauge(MetricName.NEEDED_SLOTS, decision.neededSlots(), pool);
        metrics.gauge(MetricName.PENDING_JOBS, pending, pool);
        decision.instancesByState().forEach((state, count) -> metrics.gauge(MetricName.INSTANCES, count, pool, state));
        if (hints.isEmpty()) {
            return;
        }
        Set<JobKey> hinted = new HashSet<>(hints);
        Instant end = clock.instant();
        for (JobRecord job : live) {
            if (hinted.remove(job.key()) && job.pendingAt() != null && !job.pendingAt().isAfter(end)) {
                metrics.seconds(MetricName.SCALE_LATENCY, Duration.between(job.pendingAt(), end), pool);
            }
        }
    }

    PoolSnapshot snapshot(PoolConfig pool, Instant now) {
        return snapshot(pool, now, List.of());
    }

    PoolSnapshot snapshot(PoolConfig pool, Instant now, Collection<JobKey> hints) {
        GroupState group = compute.describe(pool);
        return snapshot(pool, now, group, liveJobs(pool, hints));
    }

    /** @param group read before {@code live}, as a decision reads them */
    private PoolSnapshot snapshot(PoolConfig pool, Instant now, GroupState group, List<JobRecord> live) {
        int pending = 0;
        int running = 0;
        Map<String, Integer> runningByInstance = new HashMap<>();
        for (JobRecord job : live) {
            if (job.status() == JobStatus.PENDING) {
                pending++;
            } else {
                running++;
                if (job.instanceId() != null) {
                    runningByInstance.merge(job.instanceId(), 1, Integer::sum);
                }
            }
        }
        Map<String, InstanceRecord> known = new HashMap<>();
        for (InstanceRecord record : store.instances(pool.name())) {
            known.put(record.instanceId(), record);
        }
        Optional<Instant> previousLook = store.observePool(pool.name(), now);
        boolean watchedWithoutGap = previousLook.isPresent()
                && Duration.between(previousLook.get(), now).compareTo(watchGap) <= 0;
        if (previousLook.isPresent() && !watchedWithoutGap && !group.instances().isEmpty()) {
            LOG.warn("pool {}: no decision since {}: job events may have been missed, so its {} instance(s) count as "
                    + "possibly busy (never scaled in) until a job is seen finishing on each", pool.name(),
                    previousLook.get(), group.instances().size());
        }
        Set<String> present = new HashSet<>();
        List<InstanceView> views = new ArrayList<>();
        for (GroupState.Instance instance : group.instances()) {
            present.add(instance.id());
            InstanceRecord record = known.get(instance.id());
            Instant launchedAt = instance.launchedAt();
            Instant unknownSince = record == null ? null : record.unknownSince();
            boolean leaving = record != null && record.leaving();
            if (record == null) {
                // The backend's launch time (EC2's LaunchTime) starts the idle clock, not the first look;
                // one after now means the clocks disagree, and an idle clock must not start in the future.
                launchedAt = launchedAt != null && !launchedAt.isAfter(now) ? launchedAt : now;
                // Seen for the first time: its history is ours only if the pool was watched all along.
                unknownSince = watchedWithoutGap ? null : now;
                if (unknownSince != null) {
                    LOG.warn("pool {}: instance {} was already there when runnerscale began watching; it may run jobs "
                            + "runnerscale has not seen, so it is not scaled in until a job is seen finishing on it",
                            pool.name(), instance.id());
                }
                // false: gone already (a tombstone), though the group still lists it (terminating, or its
                // launch abandoned after a spot warning): leaving, not capacity
                leaving = !store.recordInstance(pool.name(), instance.id(), launchedAt, unknownSince);
            } else {
                // What was recorded when it was first seen (the launch time then, or the launch hook's time)
                // stays: the idle clock must not jump with every look.
                if (record.launchedAt() != null) {
                    launchedAt = record.launchedAt();
                } else if (launchedAt != null && launchedAt.isAfter(now)) {
                    launchedAt = now;
                }
                if (previousLook.isPresent() && !watchedWithoutGap) {
                    unknownSince = now;
                    store.markStateUnknown(instance.id(), now);
                }
            }
            InstanceRecord current = new InstanceRecord(instance.id(), pool.name(), launchedAt,
                    record == null ? 0 : record.useCount(), record == null ? null : record.lastJobFinishedAt(), unknownSince);
            views.add(new InstanceView(instance.id(), instance.ready(), launchedAt,
                    runningByInstance.getOrDefault(instance.id(), 0),
                    current.lastJobFinishedAt(), current.useCount(), current.stateKnown(),
                    leaving, instance.outdated(), record != null && record.interrupted()));
        }
        for (InstanceRecord record : known.values()) {
            // a terminating instance leaves the group's list while its drain still needs the record
            if (!present.contains(record.instanceId()) && record.forgettable()) {
                store.forgetInstance(record.instanceId());
            }
        }
        return new PoolSnapshot(pool, now, pending, running, views, group.desiredCapacity(),
                forecast.slots(pool, now));
    }

    /** The pool's live jobs, and the hinted ones the (eventually consistent) index does not list yet. */
    private List<JobRecord> liveJobs(PoolConfig pool, Collection<JobKey> hints) {
        List<JobRecord> live = new ArrayList<>(store.liveJobs(pool.name()));
        if (!hints.isEmpty()) {
            Set<JobKey> listed = new HashSet<>();
            live.forEach(job -> listed.add(job.key()));
            for (JobKey hint : hints) {
                if (!listed.contains(hint)) {
                    store.find(hint).filter(job -> job.status().isLive() && pool.name().equals(job.pool()))
                            .ifPresent(live::add);
                }
            }
        }
        return live;
    }

    private void apply(PoolConfig pool, ScalingDecision decision) {
        for (ScalingAction action : decision.actions()) {
            try {
                switch (action) {
                    case DrainInstance d -> drains.drain(pool, d.instanceId(), d.reason());
                    case SetDesiredCapacity s -> compute.setDesiredCapacity(pool, s.desired());
                    case ScalingAction.LaunchTask l -> throw new IllegalStateException("a Fargate launch ("
                            + l.key() + ") in an Auto Scaling decision");
                }
            } catch (RuntimeException e) {
                // One failed drain request (e.g. the instance is already gone) must not block the rest;
                // the next decision asks again.
                LOG.error("pool {}: {} failed: {}", pool.name(), action, e.toString());
            }
        }
    }
}
