package io.runnerscale.scaling;

import io.runnerscale.pool.PoolConfig;

import java.time.Instant;

/** Idle slots to pre-warm for a pool, from its own recent demand. */
public interface DemandForecast {
    DemandForecast NONE = (pool, now) -> 0;

    int slots(PoolConfig pool, Instant now);
}
