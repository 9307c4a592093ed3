package io.runnerscale.metrics;

import java.util.Locale;

/**
 * A dimension of the metrics contract: its CloudWatch name, and the Prometheus label {@code serve}
 * gives it (lower snake case).
 */
public enum Dimension {
    POOL("Pool"),
    STATE("State"),
    KIND("Kind"),
    STATUS("Status"),
    RESULT("Result");

    private final String cloudWatchName;

    Dimension(String cloudWatchName) {
        this.cloudWatchName = cloudWatchName;
    }

    public String cloudWatchName() {
        return cloudWatchName;
    }

    /** The Prometheus label: every name here is one word, so lower case is its snake case. */
    public String label() {
        return cloudWatchName.toLowerCase(Locale.ROOT);
    }
}
