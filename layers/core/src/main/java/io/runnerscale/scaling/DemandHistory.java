package io.runnerscale.scaling;

import java.time.Instant;

/** When a pool's jobs asked for a runner, as far back as forecasting looks. */
public interface DemandHistory {

    void record(String pool, Instant requestedAt);

    /** Jobs of the pool that asked for a runner in {@code [from, to)}. */
    int count(String pool, Instant from, Instant to);

    /** When recording began for the pool (null if never): weeks before it hold no information, not zero demand. */
    Instant since(String pool);
}
