package io.runnerscale.scaling;

import io.runnerscale.pool.PoolConfig;

import java.time.Instant;
import java.util.List;

/**
 * Everything one scaling decision looks at, read at {@code now}.
 *
 * @param desiredCapacity the group's desired capacity now (may run ahead of the listed instances)
 * @param forecastSlots   idle slots the forecast asks for (0 when forecasting is off)
 */
public record PoolSnapshot(PoolConfig pool, Instant now, int pendingJobs, int runningJobs,
                           List<InstanceView> instances, int desiredCapacity, int forecastSlots) {
    public PoolSnapshot {
        instances = List.copyOf(instances);
    }
}
