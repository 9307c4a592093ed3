package io.runnerscale.scaling;

/** What the scaler asks of a pool's compute backend. */
public sealed interface ScalingAction {

    /** Raise (or trim unlaunched capacity from) the group's desired capacity; never terminates a running instance. */
    record SetDesiredCapacity(int desired) implements ScalingAction {
    }

    /**
     * Let one instance go through a drain ({@link InstanceDrains}): it is terminated only once GitLab
     * lists no running job on its runner. Whether the group's desired capacity drops with it is the
     * reason's {@link Reason#decrementsCapacity()}.
     */
    record DrainInstance(String instanceId, Reason reason) implements ScalingAction {
    }

    enum Reason {
        /** Idle longer than the policy's idle_time and not needed. */
        IDLE(true),
        /** Reached max_use_count and is idle. */
        RETIRED(true),
        /** Did not become ready within boot_timeout: the group launches a replacement. */
        BOOT_TIMEOUT(false),
        /**
         * Launched from a launch template version its group no longer launches, and idle: it leaves like
         * a retired instance; the pool's rule asks for any capacity it still needs, which the group
         * launches from the current template.
         */
        OUTDATED(true);

        private final boolean decrementsCapacity;

        Reason(boolean decrementsCapacity) {
            this.decrementsCapacity = decrementsCapacity;
        }

        /** True when the pool no longer wants the instance; false when it wants a replacement instead. */
        public boolean decrementsCapacity() {
            return decrementsCapacity;
        }
    }
}
