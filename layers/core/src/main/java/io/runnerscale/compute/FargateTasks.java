package io.runnerscale.compute;

import io.runnerscale.pool.PoolConfig;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A Fargate pool's tasks: ECS in AWS, a simulated backend locally. Each task runs one GitLab job
 * ({@code gitlab-runner run-single --max-builds 1}) and ends itself.
 */
public interface FargateTasks {

    /** Where a task runs: Fargate Spot, or on-demand Fargate. */
    enum Capacity {
        FARGATE_SPOT, FARGATE
    }

    /**
     * Starts one task under {@code key} ({@link TaskKey#startedBy()}, {@link TaskKey#clientToken}): a
     * call repeated with the same key and capacity returns the task the first one started.
     */
    RunOutcome run(String pool, PoolConfig.Fargate backend, TaskKey key, Capacity capacity);

    /**
     * The task already started under {@code key}, if any: a claim whose RunTask answer was lost is
     * looked up before it is run again, since a run on another capacity provider (another client
     * token) would start a second task. Backends whose answers are never lost may keep the default.
     */
    default Optional<String> find(PoolConfig.Fargate backend, TaskKey key) {
        return Optional.empty();
    }

    /** Stops a task (SIGTERM to its runner, SIGKILL after the task definition's stopTimeout). */
    void stop(PoolConfig.Fargate backend, String taskArn, String reason);

    /** Tasks runnerscale started in the backend's cluster that have not stopped (for the orphan sweep). */
    List<StartedTask> list(PoolConfig.Fargate backend);

    sealed interface RunOutcome {
        /** A task was started (or the earlier call's task returned). */
        record Started(String taskArn, Capacity capacity) implements RunOutcome {
        }

        /** No task: no capacity, or ECS refused (a bad task definition, subnet, role): try elsewhere or give the attempt up. */
        record Failed(String reason) implements RunOutcome {
        }

        /** Throttled or ECS unreachable: nothing started; the same key may be run again later. */
        record Retry(String reason) implements RunOutcome {
        }
    }

    /** A task of the cluster started by runnerscale ({@code startedBy} names its key). */
    record StartedTask(String taskArn, TaskKey key, String lastStatus, Instant startedAt) {
    }
}
