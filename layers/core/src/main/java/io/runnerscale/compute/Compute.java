package io.runnerscale.compute;

import io.runnerscale.pool.PoolConfig;

/** A pool's instances: an EC2 Auto Scaling group in AWS, a simulated fleet locally. */
public interface Compute {

    GroupState describe(PoolConfig pool);

    /** Sets desired capacity without honouring cooldowns; runnerscale is the group's only writer of it. */
    void setDesiredCapacity(PoolConfig pool, int desired);

    /** Terminates one instance; {@code decrement} lowers desired capacity with it. */
    void terminate(PoolConfig pool, String instanceId, boolean decrement);
}
