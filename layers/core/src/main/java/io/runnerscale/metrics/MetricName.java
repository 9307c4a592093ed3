package io.runnerscale.metrics;

import java.util.List;
import java.util.Locale;

import static io.runnerscale.metrics.Dimension.KIND;
import static io.runnerscale.metrics.Dimension.POOL;
import static io.runnerscale.metrics.Dimension.RESULT;
import static io.runnerscale.metrics.Dimension.STATE;
import static io.runnerscale.metrics.Dimension.STATUS;

/**
 * Every metric runnerscale emits, in one place: the CloudWatch name (namespace {@code runnerscale},
 * embedded metric format from the functions' logs), unit, type and dimensions, and the Prometheus
 * name {@code serve} gives it on {@code GET /metrics}. The names are a contract: the dashboard, the
 * alarms and the README's table use them; rename nothing.
 */
public enum MetricName {
    /** How long a job waited for a runner (pending to running), one point per job. */
    JOB_WAIT("JobWait", Type.HISTOGRAM, List.of(POOL), true,
            1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1800),
    /** Webhook deliveries by the HTTP status they were answered with. */
    WEBHOOK_DELIVERIES("WebhookDeliveries", Type.COUNTER, List.of(STATUS), false),
    /** Scaling decisions made. */
    SCALE_DECISIONS("ScaleDecisions", Type.COUNTER, List.of(POOL), false),
    /** From a pending job's webhook being received to the end of the first decision run for it. */
    SCALE_LATENCY("ScaleLatency", Type.HISTOGRAM, List.of(POOL), false, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
    /** The group's desired capacity (tasks, for a Fargate pool) once a decision's drains have ended. */
    DESIRED_INSTANCES("DesiredInstances", Type.GAUGE, List.of(POOL), false),
    /** Pending + running + idle slots a decision asked for. */
    NEEDED_SLOTS("NeededSlots", Type.GAUGE, List.of(POOL), false),
    /** Pending jobs a decision saw. */
    PENDING_JOBS("PendingJobs", Type.GAUGE, List.of(POOL), false),
    /** Instances (tasks, for a Fargate pool) by state, as a decision left them. */
    INSTANCES("Instances", Type.GAUGE, List.of(POOL, STATE), false),
    /** Decisions that failed (the next tick decides again). */
    DECISION_FAILURES("DecisionFailures", Type.COUNTER, List.of(POOL), false),
    /** Deferred job update messages that could not be applied, by why. */
    DEFERRED_UPDATES("DeferredUpdates", Type.COUNTER, List.of(RESULT), false),
    /** Spot interruption warnings, by what the lifecycle function did. */
    SPOT_INTERRUPTIONS("SpotInterruptions", Type.COUNTER, List.of(RESULT), false),
    /** Rebalance recommendations, by what the lifecycle function did. */
    REBALANCE_RECOMMENDATIONS("RebalanceRecommendations", Type.COUNTER, List.of(RESULT), false),
    /** ECS task state changes of Fargate pools, by what the lifecycle function did. */
    FARGATE_TASK_EVENTS("FargateTaskEvents", Type.COUNTER, List.of(RESULT), false),
    /** Jobs the reconciler corrected, by repair kind. */
    RECONCILER_REPAIRS("ReconcilerRepairs", Type.COUNTER, List.of(KIND), false),
    /** runnerscale's project hooks GitLab has disabled, at the last check. */
    HOOKS_DISABLED("HooksDisabled", Type.GAUGE, List.of(), false),
    /**
     * Pools whose {@code warm_pool} the last scheduled run could not apply: the group refuses one
     * (Spot, mixed instances), does not exist, or AWS failed.
     */
    WARM_POOLS_NOT_APPLIED("WarmPoolsNotApplied", Type.GAUGE, List.of(), false),
    /** GitLab API calls that failed: rate_limited, unavailable or rejected. */
    GITLAB_API_ERRORS("GitLabApiErrors", Type.COUNTER, List.of(KIND), false);

    /** How a metric aggregates; the unit follows from it. */
    public enum Type {
        /** Count, summed (Prometheus counter, {@code _total}). */
        COUNTER,
        /** Count, the last value (Prometheus gauge). */
        GAUGE,
        /** Seconds, one point per observation (CloudWatch percentiles; Prometheus histogram, {@code _seconds}). */
        HISTOGRAM
    }

    private final String cloudWatchName;
    private final Type type;
    private final List<Dimension> dimensions;
    private final boolean alsoWithoutDimensions;
    private final double[] buckets;

    MetricName(String cloudWatchName, Type type, List<Dimension> dimensions, boolean alsoWithoutDimensions,
               double... buckets) {
        this.cloudWatchName = cloudWatchName;
        this.type = type;
        this.dimensions = dimensions;
        this.alsoWithoutDimensions = alsoWithoutDimensions;
        this.buckets = buckets;
    }

    public String cloudWatchName() {
        return cloudWatchName;
    }

    public Type type() {
        return type;
    }

    /** The dimensions, in the order callers give their values. */
    public List<Dimension> dimensions() {
        return dimensions;
    }

    /**
     * Also emitted to CloudWatch with no dimension: a percentile across pools (the job wait alarm's
     * p95) cannot be computed from per-pool series.
     */
    public boolean alsoWithoutDimensions() {
        return alsoWithoutDimensions;
    }

    /** The Prometheus histogram's upper bounds in seconds ({@code +Inf} is added); empty unless a histogram. */
    public double[] buckets() {
        return buckets.clone();
    }

    /** {@code Seconds} or {@code Count}, as CloudWatch names units. */
    public String unit() {
        return type == Type.HISTOGRAM ? "Seconds" : "Count";
    }

    /**
     * The name {@code serve}'s {@code GET /metrics} gives it: {@code runnerscale_} + snake case, with
     * {@code _seconds} for histograms and {@code _total} for counters.
     */
    public String prometheusName() {
        return prometheusBaseName() + (type == Type.COUNTER ? "_total" : "");
    }

    /** Without a counter's {@code _total}, which Prometheus clients add themselves. */
    public String prometheusBaseName() {
        String snake = cloudWatchName.replace("GitLab", "Gitlab").replaceAll("([a-z0-9])([A-Z])", "$1_$2")
                .toLowerCase(Locale.ROOT);
        return "runnerscale_" + snake + (type == Type.HISTOGRAM ? "_seconds" : "");
    }

    /**
     * Checks a call against the contract: the type, and one value per dimension, none blank.
     *
     * @throws IllegalArgumentException on a mismatch (a programming error)
     */
    public void check(Type used, String... dimensionValues) {
        if (used != type) {
            throw new IllegalArgumentException(cloudWatchName + " is a " + type + ", not a " + used);
        }
        if (dimensionValues.length != dimensions.size()) {
            throw new IllegalArgumentException(cloudWatchName + " takes " + dimensions + ", given "
                    + dimensionValues.length + " value(s)");
        }
        for (String value : dimensionValues) {
            if (value == null || value.isBlank()) {
                throw new IllegalArgumentException(cloudWatchName + ": a dimension value is blank");
            }
        }
    }
}
