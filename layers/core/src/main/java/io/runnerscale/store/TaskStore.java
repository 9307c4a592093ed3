package io.runnerscale.store;

import io.runnerscale.compute.TaskEvent;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.job.JobKey;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Fargate tasks runnerscale started, on the job table ({@code TASK#} items, indexed per pool).
 * {@link DynamoJobStore} and {@link InMemoryJobStore} implement it on the same items as jobs.
 */
public interface TaskStore {

    /** The pool's tasks: those starting or running, and stopped ones not yet forgotten. */
    List<TaskRecord> tasks(String pool);

    Optional<TaskRecord> task(TaskKey key);

    /**
     * Claims one launch (a conditional put): only one caller ever gets a key, so two decisions, or a
     * decision and its retry, never start two tasks under one key.
     *
     * @return false when the key was claimed before
     */
    boolean claimTask(String pool, TaskKey key, Instant now);

    /** RunTask answered: the task's ARN and capacity provider (an ECS event may have brought them first). */
    void taskStarted(TaskKey key, String taskArn, String capacityProvider);

    /** No task was started under the key (RunTask refused, no capacity): a failed attempt, stopped. */
    void taskNotStarted(TaskKey key, String reason, Instant now);

    /**
     * Applies an ECS event when it is newer than what the record holds (events come in any order and
     * more than once). An event for a key never claimed (another stack's task) changes nothing.
     */
    TaskUpdate applyTaskEvent(TaskEvent event, Instant now);

    /** The jobs noted on a task AWS took back, and whether each was cancelled and retried. */
    Interruption interruption(TaskKey key);

    /**
     * Notes the jobs found on a task AWS took back before they are cancelled (GitLab lists a cancelled
     * job as running no more, so a retry after a failure must know them from here), then that all were
     * cancelled and retried.
     */
    void recordInterruption(TaskKey key, List<JobKey> jobs, boolean handled);

    /**
     * A serving task that ECS no longer runs (its stop events were lost): stopped, not failed. Changes
     * nothing when the record is no longer serving.
     */
    void taskGone(TaskKey key, String reason, Instant now);

    record Interruption(List<JobKey> jobs, boolean handled) {
        public static final Interruption NONE = new Interruption(List.of(), false);

        public Interruption {
            jobs = List.copyOf(jobs);
        }
    }

    /** Takes a stopped task out of its pool's index (its item expires by TTL). */
    void forgetTask(TaskKey key);

    sealed interface TaskUpdate {
        /** The event moved the record from {@code previous} to {@code current}. */
        record Applied(TaskRecord previous, TaskRecord current) implements TaskUpdate {
        }

        /** The record holds this event or a newer one: nothing written. */
        record Stale(TaskRecord current) implements TaskUpdate {
        }

        /** No such task was claimed here. */
        record Unknown() implements TaskUpdate {
        }
    }
}
