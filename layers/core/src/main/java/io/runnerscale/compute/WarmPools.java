package io.runnerscale.compute;

import io.runnerscale.pool.PoolConfig;

import java.util.Objects;

/**
 * An Auto Scaling group's warm pool, as far as applying a pool's {@code warm_pool} needs it: what the
 * group has now, whether AWS would allow a warm pool on it, and the one write. The decision is
 * {@link WarmPoolPolicy}'s; {@link WarmPoolApplier} runs it over the pools.
 */
public interface WarmPools {

    /**
     * @return the group's warm pool and what stands against one, or null when the group does not exist
     * @throws RuntimeException when AWS cannot be read (throttling, permissions): nothing is decided
     */
    Group describe(String group);

    /** Creates or updates the group's warm pool (PutWarmPool), every field as given. */
    void put(String group, Settings settings);

    /**
     * A warm pool configuration as Auto Scaling's {@code WarmPoolConfiguration} has it, with its
     * defaults filled in, so that two of them compare equal exactly when AWS would behave the same.
     *
     * @param poolState                {@code Stopped}, {@code Hibernated} or {@code Running}
     * @param minSize                  instances kept in the warm pool at least
     * @param maxGroupPreparedCapacity instances in the group and its warm pool at most;
     *                                 {@link #GROUP_MAX_SIZE} (-1) for the group's max size
     * @param reuseOnScaleIn           a scaled-in instance goes back to the warm pool
     */
    record Settings(String poolState, int minSize, int maxGroupPreparedCapacity, boolean reuseOnScaleIn) {
        /** AWS's "not set": the warm pool's size follows the group's max size. */
        public static final int GROUP_MAX_SIZE = -1;
        public static final String DEFAULT_POOL_STATE = "Stopped";

        public Settings {
            poolState = poolState == null ? DEFAULT_POOL_STATE : poolState;
            // absent and -1 mean the same to AWS
            maxGroupPreparedCapacity = maxGroupPreparedCapacity < 0 ? GROUP_MAX_SIZE : maxGroupPreparedCapacity;
        }

        /** What a pool's {@code warm_pool} asks of the group. */
        public static Settings of(PoolConfig.WarmPool pool) {
            return new Settings(pool.state().awsName(), pool.minSize(),
                    pool.maxPrepared() == null ? GROUP_MAX_SIZE : pool.maxPrepared(), pool.reuseOnScaleIn());
        }

        /** For messages: {@code Stopped, min 0, max prepared group max, reuse on scale-in false}. */
        public String describe() {
            return poolState + ", min " + minSize + ", max prepared "
                    + (maxGroupPreparedCapacity == GROUP_MAX_SIZE ? "group max" : Integer.toString(maxGroupPreparedCapacity))
                    + ", reuse on scale-in " + reuseOnScaleIn;
        }
    }

    /**
     * @param name          the group
     * @param noWarmPool    why AWS allows no warm pool on the group (a mixed instances policy, Spot in
     *                      its launch template or configuration), or null when it allows one
     * @param warmPool      the group's warm pool, or null when it has none
     * @param pendingDelete the warm pool is being deleted (its instances terminating)
     */
    record Group(String name, String noWarmPool, Settings warmPool, boolean pendingDelete) {
        public Group {
            Objects.requireNonNull(name, "name");
        }
    }
}
