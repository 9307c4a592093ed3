package io.runnerscale.lifecycle;

import java.util.Arrays;
import java.util.Optional;

/** Where an EC2 runner instance is in its life ({@code INST#<id>}); it only moves forward. */
public enum InstanceState {
    /** Launched; the launch lifecycle hook holds it while its runner is created. */
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
    /** Terminated, or its terminate lifecycle action completed. */
    GONE("gone");

    private final String wireName;

    InstanceState(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    /** A drain owns the instance (draining, or interrupted): nothing else may drain, adopt or count it. */
    public boolean draining() {
        return this == DRAINING || this == INTERRUPTED;
    }

    public static Optional<InstanceState> fromWireName(String name) {
        return Arrays.stream(values()).filter(s -> s.wireName.equals(name)).findFirst();
    }
}
