package io.runnerscale.pool;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One runner pool, with GitLab autoscaler names: capacity is counted in job slots,
 * {@code capacity_per_instance} slots per instance.
 */
public record PoolConfig(
        String name,
        Match match,
        Backend backend,
        int capacityPerInstance,
        int maxInstances,
        int maxUseCount,
        Duration bootTimeout,
        List<PolicyEntry> policy,
        ForecastConfig forecast) {

    public static final Duration DEFAULT_BOOT_TIMEOUT = Duration.ofMinutes(5);

    public PoolConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(match, "match");
        Objects.requireNonNull(backend, "backend");
        policy = policy == null || policy.isEmpty() ? List.of(PolicyEntry.DEFAULT) : List.copyOf(policy);
        bootTimeout = bootTimeout == null ? DEFAULT_BOOT_TIMEOUT : bootTimeout;
        forecast = forecast == null ? ForecastConfig.OFF : forecast;
    }

    /** The policy in force at {@code now}: the last entry whose periods match (an entry without periods always does). */
    public PolicyEntry activePolicy(Instant now) {
        PolicyEntry active = policy.getFirst();
        for (PolicyEntry entry : policy) {
            if (entry.isActiveAt(now)) {
                active = entry;
            }
        }
        return active;
    }

    /** Tags a job may carry to land here ({@code tags ⊆ match.tags}); untagged jobs need {@code run_untagged}. */
    public boolean accepts(List<String> jobTags) {
        if (jobTags == null || jobTags.isEmpty()) {
            return match.runUntagged();
        }
        return match.tags().containsAll(jobTags);
    }

    public record Match(List<String> tags, boolean runUntagged) {
        public Match {
            tags = tags == null ? List.of() : List.copyOf(tags);
        }
    }

    /** Where a pool's runners live. */
    public sealed interface Backend permits Ec2Asg, Fargate {
        String type();
    }

    /**
     * @param drainOnRebalance drain an instance on EC2's rebalance recommendation (an elevated risk of
     *                         a spot interruption), not only on the two-minute interruption warning
     */
    public record Ec2Asg(String asg, boolean drainOnRebalance) implements Backend {
        public Ec2Asg(String asg) {
            this(asg, false);
        }

        @Override
        public String type() {
            return "ec2-asg";
        }
    }

    public record Fargate(String cluster, String taskDefinition, List<String> subnets, List<String> securityGroups,
                          boolean spot) implements Backend {
        public Fargate {
            subnets = List.copyOf(subnets);
            securityGroups = List.copyOf(securityGroups);
        }

        @Override
        public String type() {
            return "fargate";
        }
    }
}
