package io.runnerscale.lifecycle;

import java.util.Arrays;
import java.util.Optional;

/** How a drain ended. */
public enum DrainOutcome {
    /** Runner deleted, instance terminated (or its terminate lifecycle action completed). */
    TERMINATED("terminated"),
    /** A job started during the drain: runner unpaused, instance kept. */
    ABANDONED("abandoned"),
    /** A step failed for good, but a re-check found no running job: runner deleted, instance terminated. */
    TIMED_OUT_CLEANED("timed-out-cleaned");

    private final String wireName;

    DrainOutcome(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public static Optional<DrainOutcome> fromWireName(String name) {
        return Arrays.stream(values()).filter(o -> o.wireName.equals(name)).findFirst();
    }
}
