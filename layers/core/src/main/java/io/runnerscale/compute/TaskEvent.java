package io.runnerscale.compute;

import io.runnerscale.text.Quoted;

import java.time.Instant;

/**
 * What one "ECS Task State Change" event says about a task runnerscale started.
 *
 * @param version         ECS's per-task event version: a higher one is newer (events arrive in any order)
 * @param stopCode        why ECS stopped it (TaskFailedToStart, EssentialContainerExited, SpotInterruption,
 *                        UserInitiated, ...), null while it runs
 * @param stoppedReason   ECS's words for the stop, bounded
 * @param containerReason the runner container's own reason (CannotPullContainerError, OutOfMemoryError...), bounded
 * @param exitCode        the runner container's exit code, null until it exited
 */
public record TaskEvent(TaskKey key, String taskArn, String lastStatus, String desiredStatus, String stopCode,
                        String stoppedReason, String containerReason, Integer exitCode, String capacityProvider,
                        long version, Instant at) {
    public static final String SPOT_INTERRUPTION = "SpotInterruption";
    public static final String TERMINATION_NOTICE = "TerminationNotice";
    /** ECS's reasons are short; anything longer is cut, since logs never echo unbounded input. */
    public static final int MAX_REASON = 300;

    public TaskState state() {
        return TaskState.of(lastStatus, desiredStatus);
    }

    public boolean spotInterruption() {
        return SPOT_INTERRUPTION.equals(stopCode);
    }

    /**
     * AWS takes the task back (a Spot interruption, or Fargate retiring the task's host after a
     * termination notice): its runner gets SIGTERM and two minutes at most, so its job is cancelled
     * and retried elsewhere rather than left to die with it.
     */
    public boolean takenBack() {
        return spotInterruption() || TERMINATION_NOTICE.equals(stopCode);
    }

    /**
     * Whether the task stopped without serving a job normally: it never started (image pull, ENI,
     * capacity, secrets), a container reported an error, or the runner exited non-zero (a runner that
     * took no job and waited out its wait timeout exits 0, as does one that ran its job, failed or not).
     * An interruption or a stop someone asked for is not the task's failure.
     */
    public boolean failed() {
        if (state() != TaskState.STOPPED && !"TaskFailedToStart".equals(stopCode)) {
            return false;
        }
        if (takenBack() || "UserInitiated".equals(stopCode)) {
            return false;
        }
        if ("TaskFailedToStart".equals(stopCode)) {
            return true;
        }
        if (containerReason != null && !containerReason.isBlank()) {
            return true;
        }
        return exitCode != null && exitCode != 0;
    }

    /** A short, bounded reason for logs and the store. */
    public String reason() {
        StringBuilder text = new StringBuilder();
        if (stopCode != null) {
            text.append(stopCode);
        }
        for (String part : new String[]{stoppedReason, containerReason}) {
            if (part != null && !part.isBlank()) {
                text.append(text.isEmpty() ? "" : ": ").append(part);
            }
        }
        if (exitCode != null && exitCode != 0) {
            text.append(text.isEmpty() ? "" : "; ").append("exit code ").append(exitCode);
        }
        // control characters could forge log lines
        return Quoted.cut(text.toString().replaceAll("\\p{Cntrl}", " "), MAX_REASON);
    }
}
