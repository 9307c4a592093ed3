package io.runnerscale.scaling;

import io.runnerscale.compute.TaskKey;

/** What the scaler asks of a pool's compute backend. */
public sealed interface ScalingAction {

    /** Raise (or trim unlaunched capacity from) the group's desired capacity; never terminates a running instance. */
    record SetDesiredCapacity(int desired) implements ScalingAction {
    }

    /**
     * Let one instance go through a drain ({@link InstanceDrains}): it is terminated only once GitLab
     * lists no running job on its runner, and lowers the group's desired capacity by one as it goes.
     * runnerscale alone sets desired capacity: a replacement, when the pool needs one, is part of
     * the same decision, never left to the group.
     */
    record DrainInstance(String instanceId, Reason reason) implements ScalingAction {
    }

    /**
     * A Fargate task started for a pending job ({@link TaskScaler}): it runs one job and ends itself,
     * so nothing ever drains or terminates it.
     */
    record LaunchTask(TaskKey key) implements ScalingAction {
    }

    enum Reason {
        /** Idle longer than the policy's idle_time and not needed. */
        IDLE,
        /** Reached max_use_count and is idle. */
        RETIRED,
        /** Did not become ready within boot_timeout (its replacement, if needed, comes in the same decision). */
        BOOT_TIMEOUT,
        /**
         * Launched from a launch template version its group no longer launches, and idle: it leaves like
         * a retired instance; the pool's rule asks for any capacity it still needs, which the group
         * launches from the current template.
         */
        OUTDATED
    }
}
