package io.runnerscale.scaling;

import io.runnerscale.pool.PoolConfig;

import java.time.Instant;

/** Idle slots a pool should have beyond its policy's, from its own demand. */
public interface DemandForecast {
    DemandForecast NONE = (pool, now) -> Slots.NONE;

    Slots slots(PoolConfig pool, Instant now);

    /**
     * @param keep    idle slots to keep instead of scaling them in
     * @param prewarm idle slots to launch ahead of demand (never more than {@code keep})
     */
    record Slots(int keep, int prewarm) {
        public static final Slots NONE = new Slots(0, 0);

        public Slots {
            keep = Math.max(keep, prewarm);
        }
    }
}
