package io.runnerscale.pool;

import java.time.Duration;

/**
 * Idle slots from the pool's own demand history, beyond GitLab's fixed idle_count.
 *
 * <ul>
 *   <li>keep warm: CI jobs come in pipelines, so jobs that asked for a runner in the last
 *       {@code window} predict more soon; that many idle slots are kept instead of scaled in;</li>
 *   <li>pre-warm: the jobs that asked in the coming {@code lead} at this time of week, over the
 *       last {@code weeks} weeks (their {@code quantile}), are launched ahead of time.</li>
 * </ul>
 * Both are capped at {@code maxIdle}.
 */
public record ForecastConfig(boolean enabled, Duration window, int weeks, Duration lead, double quantile,
                             int maxIdle) {
    /**
     * Defaults from the simulator on a month of real CI jobs (README): keeping the last 11 minutes'
     * demand warm, at most 8 slots, won; weekly pre-warming cost more than it saved there, so it is
     * opt-in ({@code weeks > 0}).
     */
    public static final ForecastConfig OFF =
            new ForecastConfig(false, Duration.ofMinutes(11), 0, Duration.ofMinutes(1), 0.5, 8);

    public ForecastConfig withEnabled(boolean on) {
        return new ForecastConfig(on, window, weeks, lead, quantile, maxIdle);
    }
}
