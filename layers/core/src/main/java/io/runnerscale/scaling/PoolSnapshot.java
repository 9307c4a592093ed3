package io.runnerscale.scaling;

import io.runnerscale.pool.PoolConfig;

import java.time.Instant;
import java.util.List;

/**
 * Everything one scaling decision looks at, read at {@code now}.
 *
 * @param desiredCapacity the group's desired capacity now (may run ahead of the listed instances)
 * @param forecast        idle slots the demand forecast asks for ({@link DemandForecast.Slots#NONE} when off)
 */
public record PoolSnapshot(PoolConfig pool, Instant now, int pendingJobs, int runningJobs,
                           List<InstanceView> instances, int desiredCapacity, DemandForecast.Slots forecast) {
    public PoolSnapshot {
        instances = List.copyOf(instances);
        forecast = forecast == null ? DemandForecast.Slots.NONE : forecast;
    }
}
