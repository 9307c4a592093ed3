package io.runnerscale.lifecycle;

import io.runnerscale.compute.TaskEvent;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.compute.TaskState;
import io.runnerscale.gitlab.GitLabRejectedException;
import io.runnerscale.gitlab.GitLabRunners;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.scaling.ScaleRequests;
import io.runnerscale.store.JobStore;
import io.runnerscale.store.TaskRecord;
import io.runnerscale.store.TaskStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * A Fargate task's life after RunTask, from "ECS Task State Change" events: the store follows the
 * task (starting, running, stopping, stopped and why), a task that stopped with an error is logged
 * with ECS's reason and its job gets another task (the scaler decides, up to the pool's
 * max_task_attempts), and a task AWS takes back (a Fargate Spot interruption, a termination notice)
 * has the job it runs cancelled and retried, as on EC2, and the scaler asked for a task for the retried
 * job at once.
 *
 * <p>The job a task runs is found through GitLab: every task of a pool shares the pool's runner, and
 * each task's runner manager has the system id its entrypoint derives from the task id
 * ({@link TaskKey#systemId}); the runner's id is the pool's {@code backend.runner_id}, or else those
 * the pool's running jobs name.
 */
public final class TaskLifecycle {
    private static final Logger LOG = LoggerFactory.getLogger(TaskLifecycle.class);

    private final Supplier<PoolsConfig> pools;
    private final TaskStore tasks;
    private final JobStore jobs;
    private final GitLabRunners gitlab;
    private final ScaleRequests scaleRequests;
    private final Clock clock;

    public TaskLifecycle(Supplier<PoolsConfig> pools, TaskStore tasks, JobStore jobs, GitLabRunners gitlab,
                         ScaleRequests scaleRequests, Clock clock) {
        this.pools = pools;
        this.tasks = tasks;
        this.jobs = jobs;
        this.gitlab = gitlab;
        this.scaleRequests = scaleRequests;
        this.clock = clock;
    }

    /** What an event did, for the handler's answer and the tests. */
    public enum Result {
        /** Not a task runnerscale claimed (another stack's, or forgotten long ago). */
        IGNORED,
        /** The record holds this event or a newer one. */
        STALE,
        STARTING, RUNNING, STOPPING,
        /** Stopped after serving (its job ended, or it waited out its wait timeout). */
        STOPPED,
        /** Stopped with an error: its job gets another task while attempts remain. */
        FAILED,
        /** Fargate Spot took it back: its job was cancelled and retried. */
        INTERRUPTED
    }

    public Result onTaskStateChange(TaskEvent event) {
        // stored first, whatever GitLab does: a task AWS takes back must stop serving even if GitLab is
        // down through all of its events (they would end in the dead-letter queue, and the record would
        // hold a job slot for good)
        TaskStore.TaskUpdate update = tasks.applyTaskEvent(event, clock.instant());
        TaskRecord current;
        Result result;
        switch (update) {
            case TaskStore.TaskUpdate.Unknown u -> {
                LOG.debug("task {} ({}) was not started by this runnerscale: ignored", event.key(), event.taskArn());
                return Result.IGNORED;
            }
            case TaskStore.TaskUpdate.Stale(TaskRecord stored) -> {
                current = stored;
                result = Result.STALE;
            }
            case TaskStore.TaskUpdate.Applied(TaskRecord previous, TaskRecord stored) -> {
                current = stored;
                result = applied(previous, stored);
            }
        }
        if (current.interrupted()) {
            // also on a repeated or stale event: Lambda retries the event until this part is done
            retryJobsOf(current, event.taskArn() != null ? event.taskArn() : current.taskArn());
        }
        return result;
    }

    private Result applied(TaskRecord previous, TaskRecord current) {
        boolean nowLeaving = previous.serving() && !current.serving();
        if (current.interrupted() && !previous.interrupted()) {
            LOG.warn("pool {}: task {} ({}) taken back by AWS: {}", current.pool(), current.key(),
                    current.taskArn(), current.reason());
        }
        if (current.state() == TaskState.STOPPED && previous.state() != TaskState.STOPPED) {
            if (current.failed()) {
                int attempts = maxAttempts(current.pool());
                LOG.warn("pool {}: task {} ({}) for job {} stopped with an error: {}; the job gets another task unless "
                                + "{} of its tasks have failed", current.pool(), current.key(), current.taskArn(),
                        current.key().job(), current.reason(), attempts);
            } else {
                LOG.info("pool {}: task {} stopped: {}", current.pool(), current.key(), current.reason());
            }
        }
        if (nowLeaving || current.failed() && !previous.failed()) {
            // its slot is gone: a job waiting for it (or its retried job) needs a decision now, not at the next tick
            scaleRequests.request(current.pool(), "task " + current.key() + " " + current.state().name().toLowerCase(
                    Locale.ROOT), "task-" + current.key().job().projectId() + "-" + current.key().job().jobId()
                    + "-" + current.key().attempt() + "-" + current.state());
        }
        if (current.interrupted()) {
            return Result.INTERRUPTED;
        }
        if (current.state() == TaskState.STOPPED) {
            return current.failed() ? Result.FAILED : Result.STOPPED;
        }
        return switch (current.state()) {
            case CLAIMED, STARTING -> Result.STARTING;
            case RUNNING -> Result.RUNNING;
            case STOPPING, STOPPED -> Result.STOPPING;
        };
    }

    /**
     * Cancels and retries what the interrupted task's runner manager runs: GitLab names it by system id.
     * The jobs found are noted on the task before they are cancelled (GitLab lists a cancelled job as
     * running no more, so a retry after a failed call must know them from the store), and the task is
     * marked handled once every one was retried.
     */
    private void retryJobsOf(TaskRecord task, String taskArn) {
        TaskStore.Interruption noted = tasks.interruption(task.key());
        if (noted.handled()) {
            return;
        }
        String pool = task.pool();
        Set<JobKey> found = new LinkedHashSet<>(noted.jobs());
        try {
            Optional<String> systemId = TaskKey.systemId(taskArn);
            Set<Long> runners = runnersOf(pool);
            if (systemId.isEmpty()) {
                LOG.error("pool {}: task {} taken back, but its ARN has no task id to find its job by", pool, task.key());
            } else if (runners.isEmpty()) {
                LOG.warn("pool {}: task {} taken back; the pool names no backend.runner_id and none of its running jobs "
                        + "names a runner, so its job cannot be found to retry", pool, task.key());
            } else {
                for (long runnerId : runners) {
                    found.addAll(gitlab.runningJobs(runnerId, systemId.get()));
                }
            }
            List<JobKey> jobsOnTask = List.copyOf(found);
            if (!jobsOnTask.equals(noted.jobs())) {
                tasks.recordInterruption(task.key(), jobsOnTask, false);
            }
            for (JobKey job : jobsOnTask) {
                gitlab.cancelJob(job);
                Optional<JobKey> retried = gitlab.retryJob(job);
                LOG.warn("pool {}: job {} ran on task {} ({}), which AWS takes back: cancelled{}", pool, job, task.key(),
                        systemId.orElse("?"), retried.map(r -> " and retried as job " + r.jobId())
                                .orElse(" (not retried: GitLab says it cannot be, or it was already)"));
                retried.ifPresent(r -> scaleRequests.request(pool, "job retried after its task was taken back",
                        "retry-" + r.projectId() + "-" + r.jobId(), List.of(r)));
            }
            tasks.recordInterruption(task.key(), jobsOnTask, true);
        } catch (GitLabUnavailableException e) {
            throw new RetryableError("GitLab unavailable while retrying the jobs of task " + task.key()
                    + ", which AWS takes back", e);
        } catch (GitLabRejectedException e) {
            LOG.error("pool {}: the jobs of task {}, which AWS takes back, could not be cancelled and retried: {}; they "
                    + "fail when the task stops (retry: when: runner_system_failure in .gitlab-ci.yml retries them)",
                    pool, task.key(), e.getMessage());
        }
    }

    /** The pool's runner when configured; else the runners its running jobs name (every task shares the pool's). */
    private Set<Long> runnersOf(String pool) {
        Optional<Long> configured = pools.get().pool(pool).map(PoolConfig::backend)
                .filter(PoolConfig.Fargate.class::isInstance).map(b -> ((PoolConfig.Fargate) b).runnerId());
        Set<Long> runners = new TreeSet<>();
        if (configured.isPresent()) {
            runners.add(configured.get());
            return runners;
        }
        for (JobRecord job : jobs.liveJobs(pool)) {
            if (job.status() == JobStatus.RUNNING && job.runnerId() != null) {
                runners.add(job.runnerId());
            }
        }
        return runners;
    }

    private int maxAttempts(String pool) {
        return pools.get().pool(pool).map(PoolConfig::backend)
                .filter(PoolConfig.Fargate.class::isInstance).map(b -> ((PoolConfig.Fargate) b).maxTaskAttempts())
                .orElse(PoolConfig.Fargate.DEFAULT_MAX_TASK_ATTEMPTS);
    }
}
