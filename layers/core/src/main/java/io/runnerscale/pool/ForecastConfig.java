package io.runnerscale.pool;

import java.time.Duration;

/**
 * Pre-warming from the pool's own history: keep as many idle slots as jobs usually start in the
 * coming {@code lead} window at this time of the week, judged over the last {@code weeks} weeks.
 *
 * @param quantile which of the past weeks' counts to plan for (0.5 = the median week)
 * @param maxIdle  never pre-warm more than this many slots
 */
public record ForecastConfig(boolean enabled, int weeks, Duration lead, double quantile, int maxIdle) {
    public static final ForecastConfig OFF = new ForecastConfig(false, 4, Duration.ofMinutes(10), 0.5, 10);
}
