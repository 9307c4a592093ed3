package io.runnerscale.lifecycle;

import java.util.Arrays;
import java.util.Optional;

/**
 * Where an EC2 runner instance is in its life ({@code INST#<id>}). It moves forward, with one loop: a
 * warm instance (in the Auto Scaling group's warm pool, stopped, without a runner) goes back to
 * launching when it resumes, and a drained instance the group returns to its warm pool is warm again.
 */
public enum InstanceState {
    /**
     * In the group's warm pool (launched into it, or returned to it on scale-in): prepared, then stopped,
     * hibernated or kept running by the group. It has no runner and no token, so it can take no job and
     * no credential sits on its disk; it is neither capacity nor an orphan. Resuming makes it launching.
     */
    WARM("warm"),
    /** Launched (or resumed from the warm pool); the launch lifecycle hook holds it while its runner is created. */
    LAUNCHING("launching"),
    /** Runner created and its token stored in SSM; gitlab-runner not yet polling. */
    REGISTERED("registered"),
    /** gitlab-runner polls for jobs (idle or busy from job events). */
    READY("ready"),
    /** A drain execution runs: no capacity, not idle. */
    DRAINING("draining"),
    /**
     * Draining after a spot interruption warning: EC2 takes it within two minutes, so its running jobs
     * are not served there (they will be cancelled and retried) and need capacity elsewhere now.
     */
    INTERRUPTED("interrupted"),
    /**
     * Drained (runner and token deleted) by a scale-in drain that hands the instance back to the group's
     * warm pool instead of terminating it ({@link WarmReturnPolicy}): its scale-in protection was lifted
     * and desired capacity lowered by one, so the group takes it out. It has no runner, so it is no
     * capacity and may never be drained again; the terminate hook (Destination WarmPool) makes it warm,
     * and the orphan sweep terminates one still in service long after (a lost decrement).
     */
    RETURNING("returning"),
    /** Terminated, or its terminate lifecycle action completed. */
    GONE("gone");

    private final String wireName;

    InstanceState(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    /**
     * A drain owns the instance (draining, or interrupted), or its drain has handed it back to the warm
     * pool (returning): nothing else may drain, adopt or count it.
     */
    public boolean draining() {
        return this == DRAINING || this == INTERRUPTED || this == RETURNING;
    }

    public static Optional<InstanceState> fromWireName(String name) {
        return Arrays.stream(values()).filter(s -> s.wireName.equals(name)).findFirst();
    }
}
