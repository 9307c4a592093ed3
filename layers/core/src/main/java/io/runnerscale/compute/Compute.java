package io.runnerscale.compute;

import io.runnerscale.pool.PoolConfig;

/**
 * A pool's instances: an EC2 Auto Scaling group in AWS, a simulated fleet locally. No method
 * terminates an instance: only a drain does ({@link io.runnerscale.scaling.InstanceDrains}).
 */
public interface Compute {

    GroupState describe(PoolConfig pool);

    /** Sets desired capacity without honouring cooldowns; runnerscale is the group's only writer of it. */
    void setDesiredCapacity(PoolConfig pool, int desired);
}
