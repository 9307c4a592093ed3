package io.runnerscale.lifecycle;

import io.runnerscale.job.JobKey;
import io.runnerscale.lifecycle.DrainStep.Abandon;
import io.runnerscale.lifecycle.DrainStep.CancelAndRetry;
import io.runnerscale.lifecycle.DrainStep.DeleteRunner;
import io.runnerscale.lifecycle.DrainStep.Pause;
import io.runnerscale.lifecycle.DrainStep.Terminate;
import io.runnerscale.lifecycle.DrainStep.WaitForJobs;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The drain rule, decided for one instance at one check. Pure: the lifecycle Lambda's
 * {@code RunningJobs} task calls it and writes the answer to the drain's {@code next}, which is all
 * the state machine's Choice reads.
 *
 * <p><b>The rule: an instance is never terminated while GitLab lists a running job on its runner.</b>
 * The one way past a running job is to cancel it first (and retry it, so it runs elsewhere): that
 * happens only once the drain's deadline has passed, and a cancelled job still listed is waited for,
 * never terminated under.
 *
 * <p>In order, at each check:
 * <ol>
 *   <li>an abandoned drain stays abandoned ({@link Abandon});</li>
 *   <li>the runner, while it exists and is not paused, is paused first ({@link Pause}), so no job starts
 *       between the check and the deletion;</li>
 *   <li>while GitLab lists running jobs:
 *     <ul>
 *       <li>if a job started during the drain (it was not running at an earlier check) and the reason
 *           is abandonable (scale-in, retired, outdated: runnerscale's own choice), the instance is
 *           evidently wanted: {@link Abandon} (unpause, keep the instance; a later scaling decision
 *           may drain it again under a new attempt number);</li>
 *       <li>at or past the deadline, the jobs not yet cancelled are cancelled and retried
 *           ({@link CancelAndRetry}); jobs already cancelled but still listed are waited for;</li>
 *       <li>otherwise {@link WaitForJobs} for {@code heartbeatSeconds}, with a lifecycle heartbeat
 *           when a terminate lifecycle action holds the instance;</li>
 *     </ul></li>
 *   <li>no running job and the runner still exists (paused): {@link DeleteRunner};</li>
 *   <li>no running job and no runner: {@link Terminate} (terminate, or complete the lifecycle action).
 *       A deleted runner takes no job, so after {@link DeleteRunner} the next step is always this.</li>
 * </ol>
 *
 * <p>Deadlines ({@link #deadline}): a job gets the pool's job timeout from the drain's start for
 * scale-in, retired, outdated, boot-timeout, lifecycle-hook and rebalance; spot gets
 * {@link #SPOT_DEADLINE} after the interruption warning (of its 2 minutes, what is left covers the
 * cancel, the runner deletion and the termination). Rebalance is a warning that may come long before
 * an interruption, so it drains like scale-in, but it is never abandoned: the instance is at risk, and
 * Capacity Rebalancing terminates it anyway. Lifecycle-hook (AWS terminates it), spot and boot-timeout
 * are not abandoned either.
 */
public final class DrainPolicy {
    /** Spot: cancel what still runs this long after the 2-minute warning. */
    public static final Duration SPOT_DEADLINE = Duration.ofSeconds(100);

    private DrainPolicy() {
    }

    /** When a drain for {@code reason} that starts at {@code startedAt} cancels its running jobs. */
    public static Instant deadline(DrainReason reason, Instant startedAt, Duration jobTimeout) {
        Objects.requireNonNull(startedAt, "startedAt");
        if (jobTimeout == null || jobTimeout.isNegative() || jobTimeout.isZero()) {
            throw new IllegalArgumentException("jobTimeout must be positive, got " + jobTimeout);
        }
        return startedAt.plus(reason == DrainReason.SPOT ? SPOT_DEADLINE : jobTimeout);
    }

    /**
     * The next step of {@code drain} at {@code now}, given the jobs GitLab lists running on its runner
     * ({@code GET /runners/:id/jobs?status=running}; empty when the runner is gone) and whether the
     * runner is paused.
     */
    public static DrainStep next(Drain drain, Instant now, List<JobKey> runningJobsNow, boolean runnerPaused) {
        Objects.requireNonNull(now, "now");
        List<JobKey> running = List.copyOf(runningJobsNow);
        if (drain.outcome() == DrainOutcome.ABANDONED) {
            return new Abandon();
        }
        boolean runnerExists = drain.runnerId() != null;
        if (runnerExists && !runnerPaused) {
            return new Pause();
        }
        if (!running.isEmpty()) {
            boolean startedDuringDrain = drain.jobStartedDuringDrain() || drain.sawNewJob(running);
            if (startedDuringDrain && drain.reason().abandonable()) {
                return new Abandon();
            }
            if (!now.isBefore(drain.deadline())) {
                List<JobKey> notCancelled = running.stream().filter(job -> !drain.cancelledJobs().contains(job)).toList();
                if (!notCancelled.isEmpty()) {
                    return new CancelAndRetry(notCancelled);
                }
            }
            return new WaitForJobs(Duration.ofSeconds(drain.heartbeatSeconds()), drain.lifecycleHook() != null);
        }
        if (runnerExists) {
            return new DeleteRunner();
        }
        return new Terminate();
    }
}
