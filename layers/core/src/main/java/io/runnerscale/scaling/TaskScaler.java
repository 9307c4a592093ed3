package io.runnerscale.scaling;

import io.runnerscale.compute.FargateTasks;
import io.runnerscale.compute.FargateTasks.Capacity;
import io.runnerscale.compute.FargateTasks.RunOutcome;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.store.TaskStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One decision for a Fargate pool: read its live jobs and tasks, decide with {@link TaskPolicy},
 * apply. Every launch is claimed in the store first (a conditional put of its {@link TaskKey}), then
 * started with a client token derived from the key, so neither a second decision nor a retried call
 * starts a second task for one job attempt. A Spot pool tries FARGATE_SPOT first and falls back to
 * FARGATE when Spot has no capacity.
 */
public final class TaskScaler {
    private static final Logger LOG = LoggerFactory.getLogger(TaskScaler.class);
    /** Given-up jobs named per log line; the count is always given. */
    private static final int MAX_NAMED = 10;

    private final TaskStore tasks;
    private final FargateTasks fargate;

    public TaskScaler(TaskStore tasks, FargateTasks fargate) {
        this.tasks = tasks;
        this.fargate = fargate;
    }

    /** @param live the pool's pending and running jobs */
    public ScalingDecision scale(PoolConfig pool, Instant now, List<JobRecord> live) {
        PoolConfig.Fargate backend = (PoolConfig.Fargate) pool.backend();
        List<TaskPolicy.PendingJob> pending = new ArrayList<>();
        int running = 0;
        for (JobRecord job : live) {
            if (job.status() == JobStatus.PENDING) {
                pending.add(new TaskPolicy.PendingJob(job.key(), job.pendingAt()));
            } else {
                running++;
            }
        }
        List<io.runnerscale.store.TaskRecord> known = tasks.tasks(pool.name());
        TaskPolicy.Decision decision = TaskPolicy.decide(new TaskPolicy.Snapshot(pool, now, pending, running, known));
        if (!decision.givenUp().isEmpty()) {
            LOG.warn("pool {}: {} pending job(s) get no more tasks: each had {} that failed to start or run (see the "
                            + "earlier task stop reasons), or {} in all (a lost webhook may hide that the job ended); "
                            + "they wait in GitLab for another runner: {}", pool.name(), decision.givenUp().size(),
                    backend.maxTaskAttempts(), TaskPolicy.MAX_TASKS_PER_JOB,
                    decision.givenUp().stream().limit(MAX_NAMED).toList());
        }
        for (TaskKey key : decision.forget()) {
            tasks.forgetTask(key);
        }
        for (TaskKey key : decision.resumes()) {
            resume(pool.name(), backend, key, now);
        }
        List<ScalingAction> actions = new ArrayList<>();
        for (TaskKey key : decision.launches()) {
            if (!tasks.claimTask(pool.name(), key, now)) {
                LOG.info("pool {}: task {} was claimed by another decision", pool.name(), key);
                continue;
            }
            actions.add(new ScalingAction.LaunchTask(key));
            start(pool.name(), backend, key, now);
        }
        if (!decision.changesNothing()) {
            LOG.info("pool {}: pending={} running={} tasks serving={} waiting={} launched={} resumed={}", pool.name(),
                    pending.size(), running, decision.serving(), decision.waiting(), decision.launches(),
                    decision.resumes());
        }
        int tasksAfter = decision.serving() + actions.size();
        return new ScalingDecision(pool.name(), pending.size() + running, tasksAfter, tasksAfter, actions,
                InstanceStates.ofTasks(known, actions.size()));
    }

    /**
     * A claim whose RunTask never answered: the task may exist (the answer was lost), so it is looked
     * up first. Run again under the same client tokens otherwise.
     */
    private void resume(String pool, PoolConfig.Fargate backend, TaskKey key, Instant now) {
        try {
            Optional<String> started = fargate.find(backend, key);
            if (started.isPresent()) {
                LOG.info("pool {}: task {} had started ({}) though RunTask's answer was lost", pool, key, started.get());
                tasks.taskStarted(key, started.get(), null);
                return;
            }
        } catch (RuntimeException e) {
            LOG.error("pool {}: task {} could not be looked up: {}; resumed at the next decision", pool, key, e.toString());
            return;
        }
        start(pool, backend, key, now);
    }

    private void start(String pool, PoolConfig.Fargate backend, TaskKey key, Instant now) {
        RunOutcome outcome;
        try {
            outcome = fargate.run(pool, backend, key, backend.spot() ? Capacity.FARGATE_SPOT : Capacity.FARGATE);
            if (outcome instanceof RunOutcome.Failed(String reason) && backend.spot()) {
                LOG.warn("pool {}: task {}: Fargate Spot gave no task ({}): starting it on Fargate", pool, key, reason);
                outcome = fargate.run(pool, backend, key, Capacity.FARGATE);
            }
        } catch (RuntimeException e) {
            // the claim stays: the next decision runs the same key again
            LOG.error("pool {}: task {} could not be started: {}", pool, key, e.toString());
            return;
        }
        switch (outcome) {
            case RunOutcome.Started(String arn, Capacity capacity) -> tasks.taskStarted(key, arn, capacity.name());
            case RunOutcome.Failed(String reason) -> {
                LOG.warn("pool {}: task {} was not started: {}", pool, key, reason);
                tasks.taskNotStarted(key, reason, now);
            }
            case RunOutcome.Retry(String reason) ->
                    LOG.warn("pool {}: task {} not started yet ({}): the next decision tries again", pool, key, reason);
        }
    }
}
