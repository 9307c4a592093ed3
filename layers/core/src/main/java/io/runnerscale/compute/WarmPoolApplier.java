package io.runnerscale.compute;

import io.runnerscale.compute.WarmPoolPolicy.Decision;
import io.runnerscale.compute.WarmPoolPolicy.Kind;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.text.Quoted;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Applies every ec2-asg pool's {@code warm_pool} to its group ({@link WarmPoolPolicy} decides, one
 * pool at a time). Run by the lifecycle function on the orphan sweep's schedule: a changed pools file
 * takes effect within that period; a group works without its warm pool meanwhile (instances launch
 * cold), so nothing here is urgent enough for the scaler's path.
 *
 * <p>One pool's failure (throttling, a group deleted, a denied call) is logged and the other pools go
 * on; the next run tries again. A refusal (Spot or mixed instances) is logged as an ERROR at every run
 * until the pools file or the group changes: it is a configuration mistake.
 */
public final class WarmPoolApplier {
    private static final Logger LOG = LoggerFactory.getLogger(WarmPoolApplier.class);

    private final Supplier<PoolsConfig> pools;
    private final WarmPools warmPools;
    private final Set<String> stackManagedGroups;

    /**
     * @param stackManagedGroups groups whose warm pool the stack itself creates (the example group's
     *                           {@code AWS::AutoScaling::WarmPool}): never written here
     */
    public WarmPoolApplier(Supplier<PoolsConfig> pools, WarmPools warmPools, Set<String> stackManagedGroups) {
        this.pools = Objects.requireNonNull(pools, "pools");
        this.warmPools = Objects.requireNonNull(warmPools, "warmPools");
        this.stackManagedGroups = Set.copyOf(stackManagedGroups);
    }

    /** {@code STACK_WARM_POOL_GROUPS}: comma-separated group names, empty for none. */
    public static Set<String> stackManagedGroups(String env) {
        if (env == null || env.isBlank()) {
            return Set.of();
        }
        return java.util.Arrays.stream(env.split(",")).map(String::strip).filter(s -> !s.isEmpty())
                .collect(Collectors.toUnmodifiableSet());
    }

    /** One pool's result; {@code kind} null when AWS failed ({@code message} says how). */
    public record Outcome(String pool, String group, Kind kind, String message) {
    }

    public record Report(List<Outcome> outcomes) {
        public Report {
            outcomes = List.copyOf(outcomes);
        }

        /**
         * Pools whose {@code warm_pool} is not on their group and that this run could not put there:
         * refused (Spot, mixed instances), a group that does not exist, or an AWS failure. Not counted: a
         * stack-managed group (CloudFormation writes it) and a warm pool the file does not ask for.
         */
        public int notApplied() {
            return (int) outcomes.stream().filter(o -> o.kind() == null || o.kind() == Kind.REFUSED
                    || o.kind() == Kind.NO_GROUP && o.message() != null).count();
        }

        /** e.g. {@code "put 1, unchanged 2, refused 1, failed 0"}: each kind seen, and failures. */
        public String summary() {
            Map<Kind, Integer> counts = new EnumMap<>(Kind.class);
            int failed = 0;
            for (Outcome o : outcomes) {
                if (o.kind() == null) {
                    failed++;
                } else {
                    counts.merge(o.kind(), 1, Integer::sum);
                }
            }
            List<String> parts = new ArrayList<>();
            counts.forEach((kind, n) -> parts.add(kind.name().toLowerCase(java.util.Locale.ROOT) + " " + n));
            parts.add("failed " + failed);
            return String.join(", ", parts);
        }
    }

    public Report run() {
        List<Outcome> outcomes = new ArrayList<>();
        for (PoolConfig pool : pools.get().pools()) {
            if (pool.backend() instanceof PoolConfig.Ec2Asg ec2) {
                outcomes.add(apply(pool, ec2));
            }
        }
        return new Report(outcomes);
    }

    private Outcome apply(PoolConfig pool, PoolConfig.Ec2Asg ec2) {
        String group = ec2.asg();
        try {
            Decision decision = WarmPoolPolicy.decide(pool.name(), group, ec2.warmPool(), warmPools.describe(group),
                    stackManagedGroups.contains(group));
            switch (decision.kind()) {
                case PUT -> {
                    warmPools.put(group, decision.put());
                    LOG.info(decision.message());
                }
                case REFUSED -> LOG.error(decision.message());
                case NOT_IN_POOLS_FILE, STACK_MANAGED, NO_GROUP -> {
                    if (decision.message() != null) {
                        LOG.warn(decision.message());
                    }
                }
                case PENDING_DELETE -> LOG.info(decision.message());
                case NONE, UNCHANGED -> {
                    // the common case every run: nothing to say
                }
            }
            return new Outcome(pool.name(), group, decision.kind(), decision.message());
        } catch (RuntimeException e) {
            // throttling, a denied or failed call: the next scheduled run tries again
            String message = "pool '" + Quoted.abbreviate(pool.name()) + "': warm pool of Auto Scaling group '"
                    + Quoted.abbreviate(group) + "' not checked (" + Quoted.abbreviate(e.toString())
                    + "); the next run tries again";
            LOG.warn(message);
            return new Outcome(pool.name(), group, null, message);
        }
    }
}
