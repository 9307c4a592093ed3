package io.runnerscale.store;

import io.runnerscale.compute.TaskEvent;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.compute.TaskState;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The job store in memory, with the same rules as {@link DynamoJobStore}: the simulator replays a
 * month of jobs through it in seconds. Not for production: nothing survives a restart.
 */
public final class InMemoryJobStore implements JobStore, InstanceLifecycleStore, TaskStore, ProjectStore {
    private final Map<JobKey, JobRecord> jobs = new HashMap<>();
    private final Map<String, Map<JobKey, JobRecord>> liveByPool = new HashMap<>();
    private final Map<String, InstanceRecord> instances = new LinkedHashMap<>();
    private final Set<String> deliveries = new HashSet<>();
    private final Map<String, Instant> observed = new HashMap<>();
    private final Map<String, InstanceLifecycle> lifecycles = new HashMap<>();
    private final Map<String, Instant> launchClaims = new HashMap<>();
    private final Map<TaskKey, TaskRecord> tasks = new LinkedHashMap<>();
    private final Map<TaskKey, Interruption> interruptions = new HashMap<>();
    private final Map<Long, ProjectRecord> projects = new LinkedHashMap<>();
    private final Set<TaskKey> indexedTasks = new java.util.LinkedHashSet<>();

    @Override
    public synchronized List<TaskRecord> tasks(String pool) {
        // the index, not every task ever claimed: a month of simulated decisions would otherwise be quadratic
        return indexedTasks.stream().map(tasks::get).filter(t -> pool.equals(t.pool())).toList();
    }

    @Override
    public synchronized Optional<TaskRecord> task(TaskKey key) {
        return Optional.ofNullable(tasks.get(key));
    }

    @Override
    public synchronized boolean claimTask(String pool, TaskKey key, Instant now) {
        if (tasks.containsKey(key)) {
            return false;
        }
        tasks.put(key, TaskRecord.claimed(key, pool, now));
        indexedTasks.add(key);
        return true;
    }

    @Override
    public synchronized void taskStarted(TaskKey key, String taskArn, String capacityProvider) {
        TaskRecord t = tasks.get(key);
        if (t == null) {
            return;
        }
        tasks.put(key, new TaskRecord(key, t.pool(), t.state() == TaskState.CLAIMED ? TaskState.STARTING : t.state(),
                t.taskArn() != null ? t.taskArn() : taskArn, t.capacityProvider() != null ? t.capacityProvider()
                : capacityProvider, t.claimedAt(), t.stoppedAt(), t.reason(), t.failed(), t.interrupted(),
                t.eventVersion()));
    }

    @Override
    public synchronized void taskNotStarted(TaskKey key, String reason, Instant now) {
        TaskRecord t = tasks.get(key);
        if (t == null || t.state() != TaskState.CLAIMED) {
            return;
        }
        tasks.put(key, new TaskRecord(key, t.pool(), TaskState.STOPPED, t.taskArn(), t.capacityProvider(),
                t.claimedAt(), now, reason, true, false, t.eventVersion()));
    }

    @Override
    public synchronized TaskUpdate applyTaskEvent(TaskEvent event, Instant now) {
        TaskRecord t = tasks.get(event.key());
        if (t == null) {
            return new TaskUpdate.Unknown();
        }
        if (t.eventVersion() >= event.version()) {
            return new TaskUpdate.Stale(t);
        }
        TaskRecord next = t.with(event, now);
        tasks.put(event.key(), next);
        return new TaskUpdate.Applied(t, next);
    }

    @Override
    public synchronized Interruption interruption(TaskKey key) {
        return interruptions.getOrDefault(key, Interruption.NONE);
    }

    @Override
    public synchronized void recordInterruption(TaskKey key, List<JobKey> jobs, boolean handled) {
        if (tasks.containsKey(key)) {
            interruptions.put(key, new Interruption(jobs, handled));
        }
    }

    @Override
    public synchronized void taskGone(TaskKey key, String reason, Instant now) {
        TaskRecord t = tasks.get(key);
        if (t == null || !t.serving()) {
            return;
        }
        tasks.put(key, new TaskRecord(key, t.pool(), TaskState.STOPPED, t.taskArn(), t.capacityProvider(),
                t.claimedAt(), now, reason, t.failed(), t.interrupted(), t.eventVersion()));
    }

    @Override
    public synchronized void forgetTask(TaskKey key) {
        indexedTasks.remove(key);
    }

    @Override
    public synchronized ApplyOutcome apply(JobEvent event, String pool, Instant now) {
        JobRecord old = jobs.get(event.key());
        if (old != null && !old.status().canAdvanceTo(event.status())) {
            return new ApplyOutcome.Stale(old.status());
        }
        String newPool = pool != null ? pool : old == null ? null : old.pool();
        JobRecord record = new JobRecord(event.key(), event.status(), newPool,
                event.tags() != null ? event.tags() : old == null ? null : old.tags(),
                first(event.pipelineId(), old == null ? null : old.pipelineId()),
                first(event.name(), old == null ? null : old.name()),
                first(event.createdAt(), old == null ? null : old.createdAt()),
                old != null && old.pendingAt() != null ? old.pendingAt() : event.status() == JobStatus.PENDING ? now : null,
                first(event.startedAt(), old == null ? null : old.startedAt()),
                first(event.finishedAt(), old == null ? null : old.finishedAt()),
                first(event.runnerId(), old == null ? null : old.runnerId()),
                first(event.instanceId(), old == null ? null : old.instanceId()),
                now);
        jobs.put(event.key(), record);
        if (old != null && old.pool() != null && liveByPool.containsKey(old.pool())) {
            liveByPool.get(old.pool()).remove(event.key());
        }
        if (record.status().isLive() && record.pool() != null) {
            liveByPool.computeIfAbsent(record.pool(), p -> new LinkedHashMap<>()).put(event.key(), record);
        }
        if (event.status().isTerminal() && event.instanceId() != null) {
            InstanceRecord instance = instances.get(event.instanceId());
            instances.put(event.instanceId(), new InstanceRecord(event.instanceId(),
                    instance != null ? instance.pool() : newPool,
                    instance == null ? null : instance.launchedAt(),
                    instance == null ? 1 : instance.useCount() + 1, now,
                    instance == null ? null : instance.unknownSince()));
        }
        return new ApplyOutcome.Applied(old == null ? null : old.status(), record);
    }

    @Override
    public synchronized Optional<JobRecord> find(JobKey key) {
        return Optional.ofNullable(jobs.get(key));
    }

    @Override
    public synchronized boolean claimDelivery(String deliveryId, Instant now) {
        return deliveries.add(deliveryId);
    }

    @Override
    public synchronized boolean deliveryRecorded(String deliveryId) {
        return deliveries.contains(deliveryId);
    }

    @Override
    public synchronized void releaseDelivery(String deliveryId) {
        deliveries.remove(deliveryId);
    }

    @Override
    public synchronized List<JobRecord> liveJobs(String pool) {
        return new ArrayList<>(liveByPool.getOrDefault(pool, Map.of()).values());
    }

    @Override
    public synchronized List<InstanceRecord> instances(String pool) {
        return instances.values().stream().filter(i -> pool.equals(i.pool()))
                .map(i -> lifecycles.containsKey(i.instanceId())
                        ? new InstanceRecord(i.instanceId(), i.pool(), i.launchedAt(), i.useCount(), i.lastJobFinishedAt(),
                        i.unknownSince(), lifecycles.get(i.instanceId()).state())
                        : i)
                .toList();
    }

    @Override
    public synchronized boolean recordInstance(String pool, String instanceId, Instant launchedAt, Instant unknownSince) {
        InstanceLifecycle lifecycle = lifecycles.get(instanceId);
        if (lifecycle != null && lifecycle.state() == io.runnerscale.lifecycle.InstanceState.GONE) {
            return false;
        }
        InstanceRecord old = instances.get(instanceId);
        instances.put(instanceId, old == null
                ? new InstanceRecord(instanceId, pool, launchedAt, 0, null, unknownSince)
                : new InstanceRecord(instanceId, pool, old.launchedAt() != null ? old.launchedAt() : launchedAt,
                old.useCount(), old.lastJobFinishedAt(), old.unknownSince()));
        return true;
    }

    @Override
    public synchronized void markStateUnknown(String instanceId, Instant since) {
        InstanceRecord old = instances.get(instanceId);
        if (old != null) {
            instances.put(instanceId, new InstanceRecord(instanceId, old.pool(), old.launchedAt(), old.useCount(),
                    old.lastJobFinishedAt(), since));
        }
    }

    @Override
    public synchronized Optional<Instant> observePool(String pool, Instant now) {
        return Optional.ofNullable(observed.put(pool, now));
    }

    @Override
    public synchronized void forgetInstance(String instanceId) {
        warmSince.remove(instanceId);
        instances.remove(instanceId);
        lifecycles.remove(instanceId);
    }

    @Override
    public synchronized Optional<InstanceLifecycle> lifecycle(String instanceId) {
        return Optional.ofNullable(lifecycles.get(instanceId));
    }

    @Override
    public synchronized void recordRunner(String instanceId, String pool, Long runnerId,
                                          io.runnerscale.lifecycle.InstanceState state, Instant now) {
        recordInstance(pool, instanceId, now);
        if (state == io.runnerscale.lifecycle.InstanceState.GONE) {
            instances.remove(instanceId);   // a tombstone: no longer one of the pool's instances
        }
        InstanceLifecycle old = lifecycles.get(instanceId);
        lifecycles.put(instanceId, new InstanceLifecycle(instanceId, pool, runnerId, state,
                old != null && runnerId != null && runnerId.equals(old.runnerId()) && old.runnerPaused(),
                old == null ? 1 : old.drainAttempt()));
    }

    @Override
    public synchronized boolean claimLaunch(String instanceId, String pool, Instant now, java.time.Duration lease) {
        InstanceLifecycle old = lifecycles.get(instanceId);
        Instant claimed = launchClaims.get(instanceId);
        boolean free = old == null || old.state() == null
                || old.state() == io.runnerscale.lifecycle.InstanceState.LAUNCHING
                && (claimed == null || claimed.isBefore(now.minus(lease)));
        if (!free) {
            return false;
        }
        recordRunner(instanceId, pool, old == null ? null : old.runnerId(), io.runnerscale.lifecycle.InstanceState.LAUNCHING,
                now);
        launchClaims.put(instanceId, now);
        return true;
    }

    @Override
    public synchronized boolean markWarm(String instanceId, String pool, Instant since) {
        InstanceLifecycle old = lifecycles.get(instanceId);
        if (old != null && old.state() != null && old.state() != io.runnerscale.lifecycle.InstanceState.WARM) {
            return false;
        }
        Instant was = warmSince.get(instanceId);
        if (was != null && was.isAfter(since)) {
            return false;   // a late warm-launch event for an instance warm again since
        }
        recordRunner(instanceId, pool, null, io.runnerscale.lifecycle.InstanceState.WARM, since);
        warmSince.put(instanceId, since);
        return true;
    }

    @Override
    public synchronized void returnToWarm(String instanceId, String pool, Instant since) {
        recordRunner(instanceId, pool, null, io.runnerscale.lifecycle.InstanceState.WARM, since);
        warmSince.put(instanceId, since);
        returningSince.remove(instanceId);
        nextDrainAttempt(instanceId);
    }

    @Override
    public synchronized boolean resumeFromWarm(String instanceId, Instant now, Instant eventTime) {
        InstanceLifecycle old = lifecycles.get(instanceId);
        if (old == null || old.state() != io.runnerscale.lifecycle.InstanceState.WARM) {
            return false;
        }
        Instant since = warmSince.get(instanceId);
        if (eventTime != null && since != null && eventTime.isBefore(since)) {
            return false;
        }
        lifecycles.put(instanceId, new InstanceLifecycle(instanceId, old.pool(), null,
                io.runnerscale.lifecycle.InstanceState.LAUNCHING, false, old.drainAttempt()));
        launchClaims.remove(instanceId);
        InstanceRecord seen = instances.get(instanceId);
        instances.put(instanceId, new InstanceRecord(instanceId, old.pool(), now, seen == null ? 0 : seen.useCount(),
                null, null));
        return true;
    }

    /** When each warm instance went warm (DynamoDB: {@code warmSince}, epoch milliseconds). */
    private final Map<String, Instant> warmSince = new HashMap<>();

    /** When each returning instance was marked so (DynamoDB: {@code returningSince}, epoch milliseconds). */
    private final Map<String, Instant> returningSince = new HashMap<>();

    @Override
    public synchronized boolean markReturning(String instanceId, Instant since) {
        InstanceLifecycle old = lifecycles.get(instanceId);
        if (old == null || old.state() != io.runnerscale.lifecycle.InstanceState.DRAINING
                && old.state() != io.runnerscale.lifecycle.InstanceState.RETURNING) {
            return false;
        }
        lifecycles.put(instanceId, new InstanceLifecycle(instanceId, old.pool(), old.runnerId(),
                io.runnerscale.lifecycle.InstanceState.RETURNING, old.runnerPaused(), old.drainAttempt()));
        returningSince.putIfAbsent(instanceId, since);
        return true;
    }

    @Override
    public synchronized Optional<Instant> returningSince(String instanceId) {
        return Optional.ofNullable(returningSince.get(instanceId));
    }

    @Override
    public synchronized void releaseLaunch(String instanceId) {
        launchClaims.remove(instanceId);
    }

    @Override
    public synchronized boolean setState(String instanceId, io.runnerscale.lifecycle.InstanceState state) {
        InstanceLifecycle old = lifecycles.get(instanceId);
        if (old == null) {
            return false;
        }
        lifecycles.put(instanceId, new InstanceLifecycle(instanceId, old.pool(), old.runnerId(), state,
                old.runnerPaused(), old.drainAttempt()));
        if (state == io.runnerscale.lifecycle.InstanceState.GONE) {
            instances.remove(instanceId);
        }
        return true;
    }

    @Override
    public synchronized boolean advanceState(String instanceId, io.runnerscale.lifecycle.InstanceState expected,
                                             io.runnerscale.lifecycle.InstanceState next) {
        InstanceLifecycle old = lifecycles.get(instanceId);
        return old != null && old.state() == expected && setState(instanceId, next);
    }

    @Override
    public synchronized boolean markGoneIfUnknown(String instanceId, Instant now) {
        InstanceLifecycle old = lifecycles.get(instanceId);
        if (old != null && old.state() != null) {
            return false;
        }
        InstanceRecord seen = instances.remove(instanceId);
        lifecycles.put(instanceId, new InstanceLifecycle(instanceId, seen == null ? null : seen.pool(), null,
                io.runnerscale.lifecycle.InstanceState.GONE, false, old == null ? 1 : old.drainAttempt()));
        return true;
    }

    @Override
    public synchronized void setRunnerPaused(String instanceId, boolean paused) {
        InstanceLifecycle old = lifecycles.get(instanceId);
        lifecycles.put(instanceId, old == null ? new InstanceLifecycle(instanceId, null, null, null, paused, 1)
                : new InstanceLifecycle(instanceId, old.pool(), old.runnerId(), old.state(), paused, old.drainAttempt()));
    }

    @Override
    public synchronized void clearRunner(String instanceId) {
        InstanceLifecycle old = lifecycles.get(instanceId);
        if (old != null) {
            lifecycles.put(instanceId, new InstanceLifecycle(instanceId, old.pool(), null, old.state(), false,
                    old.drainAttempt()));
        }
    }

    @Override
    public synchronized int nextDrainAttempt(String instanceId) {
        InstanceLifecycle old = lifecycles.get(instanceId);
        InstanceLifecycle next = old == null ? new InstanceLifecycle(instanceId, null, null, null, false, 2)
                : new InstanceLifecycle(instanceId, old.pool(), old.runnerId(), old.state(), old.runnerPaused(),
                old.drainAttempt() + 1);
        lifecycles.put(instanceId, next);
        return next.drainAttempt();
    }

    private static <T> T first(T preferred, T fallback) {
        return preferred != null ? preferred : fallback;
    }

    @Override
    public synchronized void projectSeen(long projectId, Instant now) {
        ProjectRecord known = projects.getOrDefault(projectId, ProjectRecord.named(projectId));
        if (known.seenAt() == null || known.seenAt().isBefore(now)) {
            projects.put(projectId, new ProjectRecord(projectId, now, known.listedAt(), known.hooksCheckedAt(),
                    known.disabledHooks()));
        }
    }

    @Override
    public synchronized List<ProjectRecord> projects() {
        return List.copyOf(projects.values());
    }

    @Override
    public synchronized void projectListed(long projectId, Instant at) {
        ProjectRecord known = projects.getOrDefault(projectId, ProjectRecord.named(projectId));
        projects.put(projectId, new ProjectRecord(projectId, known.seenAt(), at, known.hooksCheckedAt(),
                known.disabledHooks()));
    }

    @Override
    public synchronized void hooksChecked(long projectId, Instant at, int disabledHooks) {
        ProjectRecord known = projects.getOrDefault(projectId, ProjectRecord.named(projectId));
        projects.put(projectId, new ProjectRecord(projectId, known.seenAt(), known.listedAt(), at, disabledHooks));
    }
}
