package io.runnerscale.scaling;

import io.runnerscale.compute.TaskKey;
import io.runnerscale.compute.TaskState;
import io.runnerscale.job.JobKey;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.store.TaskRecord;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One decision for a Fargate pool, where a task runs {@code gitlab-runner run-single} for one job and
 * ends. Pure, like {@link ScalingPolicy}: the Lambda scaler, the local server and the simulator call it.
 *
 * <ul>
 *   <li>A task serves while it is claimed, starting or running and not asked to stop. All tasks of a
 *       pool share its GitLab runner, so any task may take any of its jobs: a serving task without a
 *       job is <em>waiting</em>, and waiting = serving − running jobs.</li>
 *   <li>Jobs that still need a task = pending jobs − waiting tasks, at most {@code max_instances} −
 *       serving tasks (max_instances caps tasks starting or running). Nothing is kept idle.</li>
 *   <li>Those tasks are started for the pending jobs that have no serving task yet, oldest first,
 *       then for the oldest of the rest; each under the job's next attempt number.</li>
 *   <li>A job whose tasks failed {@code max_task_attempts} times (image pull, network, capacity) gets
 *       no more: it is reported as given up, and it stays pending in GitLab for another runner. So
 *       does a job that had {@link #MAX_TASKS_PER_JOB} tasks in all: tasks that end without a job
 *       while it still looks pending mean its cancel or start was never heard of (a lost webhook),
 *       and a new task every wait_timeout for it would cost without end.</li>
 *   <li>A claim RunTask never answered (the decision died between the claim and the call) is
 *       <em>resumed</em> under the same key while its job waits, once it is older than
 *       {@link #RESUME_AFTER} (a younger one may be another decision's call still in flight): the same
 *       client token makes ECS return the task if the first call started it. Once its job no longer
 *       waits it is forgotten.</li>
 *   <li>A stopped task is forgotten once its job no longer waits; while it waits, the stopped tasks
 *       say how many attempts the job had and how many failed.</li>
 * </ul>
 */
public final class TaskPolicy {

    /** Longer than a RunTask call can take (the SDK's timeouts and retries): a younger claim may be in flight. */
    public static final Duration RESUME_AFTER = Duration.ofMinutes(1);

    /** Tasks one job may get in all, failed or not (see the class comment). */
    public static final int MAX_TASKS_PER_JOB = 10;

    private TaskPolicy() {
    }

    /** A pending job of the pool, with when it became pending (null when unknown: it sorts last). */
    public record PendingJob(JobKey key, Instant pendingAt) {
    }

    /**
     * @param runningJobs the pool's running jobs: each holds a serving task (the one its runner runs in)
     */
    public record Snapshot(PoolConfig pool, Instant now, List<PendingJob> pending, int runningJobs,
                           List<TaskRecord> tasks) {
        public Snapshot {
            pending = List.copyOf(pending);
            tasks = List.copyOf(tasks);
        }
    }

    /**
     * @param serving  tasks serving before the launches
     * @param waiting  serving tasks without a job
     * @param launches new tasks, each under a fresh key (claimed before RunTask)
     * @param resumes  claims whose RunTask never answered: run again under the same key
     * @param forget   stopped (or never started) tasks whose jobs no longer wait
     * @param givenUp  pending jobs that used up max_task_attempts
     */
    public record Decision(String pool, int serving, int waiting, List<TaskKey> launches, List<TaskKey> resumes,
                           List<TaskKey> forget, List<JobKey> givenUp) {
        public Decision {
            launches = List.copyOf(launches);
            resumes = List.copyOf(resumes);
            forget = List.copyOf(forget);
            givenUp = List.copyOf(givenUp);
        }

        public boolean changesNothing() {
            return launches.isEmpty() && resumes.isEmpty() && forget.isEmpty();
        }
    }

    public static Decision decide(Snapshot snapshot) {
        PoolConfig pool = snapshot.pool();
        int maxAttempts = pool.backend() instanceof PoolConfig.Fargate f ? f.maxTaskAttempts()
                : PoolConfig.Fargate.DEFAULT_MAX_TASK_ATTEMPTS;
        Set<JobKey> pendingKeys = new HashSet<>();
        snapshot.pending().forEach(job -> pendingKeys.add(job.key()));

        int serving = 0;
        Map<JobKey, Integer> lastAttempt = new HashMap<>();
        Map<JobKey, Integer> failures = new HashMap<>();
        Set<JobKey> withServingTask = new HashSet<>();
        List<TaskKey> resumes = new ArrayList<>();
        List<TaskKey> forget = new ArrayList<>();
        for (TaskRecord task : snapshot.tasks()) {
            JobKey job = task.key().job();
            lastAttempt.merge(job, task.key().attempt(), Math::max);
            boolean waits = pendingKeys.contains(job);
            if (task.state() == TaskState.CLAIMED && task.taskArn() == null) {
                boolean inFlight = task.claimedAt() != null
                        && task.claimedAt().plus(RESUME_AFTER).isAfter(snapshot.now());
                if (waits || inFlight) {
                    if (waits && !inFlight) {
                        resumes.add(task.key());
                    }
                    serving++;
                    withServingTask.add(job);
                } else {
                    forget.add(task.key());
                }
            } else if (task.serving()) {
                serving++;
                withServingTask.add(job);
            } else {
                if (task.failed()) {
                    failures.merge(job, 1, Integer::sum);
                }
                if (task.state() == TaskState.STOPPED && !waits) {
                    forget.add(task.key());
                }
            }
        }
        int waiting = Math.max(0, serving - snapshot.runningJobs());

        List<PendingJob> eligible = new ArrayList<>();
        List<JobKey> givenUp = new ArrayList<>();
        for (PendingJob job : snapshot.pending()) {
            if (failures.getOrDefault(job.key(), 0) >= maxAttempts
                    || lastAttempt.getOrDefault(job.key(), 0) >= MAX_TASKS_PER_JOB) {
                givenUp.add(job.key());
            } else {
                eligible.add(job);
            }
        }
        int room = Math.max(0, pool.maxInstances() - serving);
        int count = Math.min(Math.max(0, eligible.size() - waiting), room);
        List<TaskKey> launches = eligible.stream()
                .sorted(Comparator.comparing((PendingJob job) -> withServingTask.contains(job.key()))
                        .thenComparing(PendingJob::pendingAt, Comparator.nullsLast(Comparator.naturalOrder()))
                        .thenComparing(job -> job.key().projectId())
                        .thenComparing(job -> job.key().jobId()))
                .limit(count)
                .map(job -> new TaskKey(job.key(), lastAttempt.getOrDefault(job.key(), 0) + 1))
                .toList();
        return new Decision(pool.name(), serving, waiting, launches, resumes, forget, givenUp);
    }
}
