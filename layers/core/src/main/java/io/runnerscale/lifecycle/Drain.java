package io.runnerscale.lifecycle;

import io.runnerscale.job.JobKey;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * One drain execution's state: the object every Task of the drain state machine receives and returns
 * (JSON by {@link DrainCodec}).
 *
 * @param runnerId             the instance's GitLab runner; null once deleted (or never created)
 * @param lifecycleHook        the terminate lifecycle action holding the instance, or null
 * @param deadline             when running jobs are cancelled and retried ({@link DrainPolicy#deadline})
 * @param heartbeatSeconds     how long to wait between checks (and lifecycle heartbeats)
 * @param runningJobs          the jobs GitLab listed running on the runner at the last check (at the
 *                             drain's start: those already running then)
 * @param jobStartedDuringDrain sticky: some check saw a job that was not running before it
 * @param cancelledJobs        jobs this drain cancelled and retried; never cancelled (or retried) twice
 * @param outcome              how the drain ended, null while it runs
 * @param next                 the {@link DrainStep#wireName()} the last {@code RunningJobs} check
 *                             decided; the state machine's Choice reads only this
 */
public record Drain(
        String instanceId,
        String pool,
        String asg,
        Long runnerId,
        DrainReason reason,
        LifecycleHook lifecycleHook,
        Instant startedAt,
        Instant deadline,
        int heartbeatSeconds,
        List<JobKey> runningJobs,
        boolean jobStartedDuringDrain,
        List<JobKey> cancelledJobs,
        DrainOutcome outcome,
        String next) {

    public Drain {
        Objects.requireNonNull(instanceId, "instanceId");
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(asg, "asg");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(startedAt, "startedAt");
        Objects.requireNonNull(deadline, "deadline");
        if (heartbeatSeconds < 1) {
            throw new IllegalArgumentException("heartbeatSeconds must be at least 1, got " + heartbeatSeconds);
        }
        runningJobs = List.copyOf(runningJobs == null ? List.of() : runningJobs);
        cancelledJobs = List.copyOf(cancelledJobs == null ? List.of() : cancelledJobs);
    }

    /** A drain that starts at {@code startedAt} with the jobs running then; its deadline from {@link DrainPolicy#deadline}. */
    public static Drain start(String instanceId, String pool, String asg, Long runnerId, DrainReason reason,
                              LifecycleHook lifecycleHook, Instant startedAt, java.time.Duration jobTimeout,
                              int heartbeatSeconds, List<JobKey> runningJobs) {
        return new Drain(instanceId, pool, asg, runnerId, reason, lifecycleHook, startedAt,
                DrainPolicy.deadline(reason, startedAt, jobTimeout), heartbeatSeconds, runningJobs, false,
                List.of(), null, null);
    }

    /** True when some job in {@code runningJobsNow} was not running at the last check. */
    public boolean sawNewJob(List<JobKey> runningJobsNow) {
        return runningJobsNow.stream().anyMatch(job -> !runningJobs.contains(job));
    }

    /** This drain after a check that found {@code runningJobsNow}. */
    public Drain observed(List<JobKey> runningJobsNow) {
        return new Drain(instanceId, pool, asg, runnerId, reason, lifecycleHook, startedAt, deadline,
                heartbeatSeconds, runningJobsNow, jobStartedDuringDrain || sawNewJob(runningJobsNow),
                cancelledJobs, outcome, next);
    }

    public Drain withNext(DrainStep step) {
        return new Drain(instanceId, pool, asg, runnerId, reason, lifecycleHook, startedAt, deadline,
                heartbeatSeconds, runningJobs, jobStartedDuringDrain, cancelledJobs, outcome, step.wireName());
    }

    public Drain withRunnerDeleted() {
        return new Drain(instanceId, pool, asg, null, reason, lifecycleHook, startedAt, deadline,
                heartbeatSeconds, runningJobs, jobStartedDuringDrain, cancelledJobs, outcome, next);
    }

    public Drain withCancelled(List<JobKey> jobs) {
        LinkedHashSet<JobKey> all = new LinkedHashSet<>(cancelledJobs);
        all.addAll(jobs);
        return new Drain(instanceId, pool, asg, runnerId, reason, lifecycleHook, startedAt, deadline,
                heartbeatSeconds, runningJobs, jobStartedDuringDrain, new ArrayList<>(all), outcome, next);
    }

    /** The outcome, unless one is already set (a cleanup path marks {@code timed-out-cleaned} first). */
    public Drain withOutcome(DrainOutcome ended) {
        return new Drain(instanceId, pool, asg, runnerId, reason, lifecycleHook, startedAt, deadline,
                heartbeatSeconds, runningJobs, jobStartedDuringDrain, cancelledJobs,
                outcome != null ? outcome : ended, next);
    }
}
