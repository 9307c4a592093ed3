package io.runnerscale.scaling;

/** What the scaler asks of a pool's compute backend. */
public sealed interface ScalingAction {

    /** Raise (or trim unlaunched capacity from) the group's desired capacity; never terminates a running instance. */
    record SetDesiredCapacity(int desired) implements ScalingAction {
    }

    /** Terminate one instance; {@code decrement} lowers desired capacity with it, otherwise the group replaces it. */
    record TerminateInstance(String instanceId, Reason reason, boolean decrement) implements ScalingAction {
    }

    enum Reason {
        /** Idle longer than the policy's idle_time and not needed. */
        IDLE,
        /** Reached max_use_count and is idle. */
        RETIRED,
        /** Did not become ready within boot_timeout. */
        BOOT_TIMEOUT
    }
}
