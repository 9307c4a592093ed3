package io.runnerscale.store;

import io.runnerscale.compute.TaskEvent;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.compute.TaskState;

import java.time.Instant;

/**
 * A Fargate task runnerscale started ({@code TASK#<project>#<job>#<attempt>}), from its launch claim
 * on. It stays in its pool's index until it has stopped and its job no longer waits, so the next
 * attempt for a job knows its number and how many before it failed.
 *
 * @param taskArn          null until RunTask answered (or an ECS event named it)
 * @param capacityProvider FARGATE_SPOT or FARGATE, null until known
 * @param reason           why it stopped (bounded), null while it runs
 * @param failed           it stopped with an error (never started, a container error, a runner exit
 *                         code): counts against the pool's max_task_attempts for its job
 * @param interrupted      AWS took it back (Fargate Spot, a termination notice): its job is cancelled and retried
 * @param eventVersion     the newest ECS event version applied (0 before any)
 */
public record TaskRecord(TaskKey key, String pool, TaskState state, String taskArn, String capacityProvider,
                         Instant claimedAt, Instant stoppedAt, String reason, boolean failed, boolean interrupted,
                         long eventVersion) {

    public boolean serving() {
        return state.serving();
    }

    /** A fresh claim. */
    public static TaskRecord claimed(TaskKey key, String pool, Instant now) {
        return new TaskRecord(key, pool, TaskState.CLAIMED, null, null, now, null, null, false, false, 0);
    }

    /** This record once {@code event} (newer than what it holds) is applied at {@code now}. */
    public TaskRecord with(TaskEvent event, Instant now) {
        TaskState next = event.state();
        boolean stopped = next == TaskState.STOPPED;
        String stopReason = event.stopCode() != null || stopped ? event.reason() : reason;
        return new TaskRecord(key, pool, next, event.taskArn() != null ? event.taskArn() : taskArn,
                event.capacityProvider() != null ? event.capacityProvider() : capacityProvider, claimedAt,
                stopped ? (stoppedAt != null ? stoppedAt : now) : stoppedAt, stopReason, failed || event.failed(),
                interrupted || event.takenBack(), event.version());
    }
}
