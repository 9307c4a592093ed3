package io.runnerscale.pool;

import java.util.List;
import java.util.Optional;

/**
 * The validated pools file: pool names are unique and every job finds its pool in list order.
 *
 * @param reconcile the projects and groups the reconciler lists besides those it heard from
 */
public record PoolsConfig(List<PoolConfig> pools, ReconcileScope reconcile) {

    public PoolsConfig {
        pools = List.copyOf(pools);
        reconcile = reconcile == null ? ReconcileScope.NONE : reconcile;
    }

    public PoolsConfig(List<PoolConfig> pools) {
        this(pools, ReconcileScope.NONE);
    }

    public Optional<PoolConfig> pool(String name) {
        return pools.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    /** The first pool that accepts the job's tags (GitLab's own rule: untagged jobs need run_untagged). */
    public Optional<PoolConfig> poolFor(List<String> jobTags) {
        return pools.stream().filter(p -> p.accepts(jobTags)).findFirst();
    }

    /** Where a job goes when its tags cannot be looked up: the pool for untagged jobs. */
    public Optional<PoolConfig> untaggedPool() {
        return poolFor(List.of());
    }
}
