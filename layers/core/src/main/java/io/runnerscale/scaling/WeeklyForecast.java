package io.runnerscale.scaling;

import io.runnerscale.pool.ForecastConfig;
import io.runnerscale.pool.PoolConfig;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;

/**
 * CI demand follows the working week: the jobs that asked for a runner in the coming {@code lead}
 * window at this time of week, over the last {@code weeks} weeks, predict the next burst. The
 * forecast keeps the chosen quantile of those counts as idle slots, so the first jobs of a busy
 * period find a warm runner instead of waiting for a boot.
 */
public final class WeeklyForecast implements DemandForecast {
    private static final Duration WEEK = Duration.ofDays(7);

    private final DemandHistory history;

    public WeeklyForecast(DemandHistory history) {
        this.history = history;
    }

    @Override
    public int slots(PoolConfig pool, Instant now) {
        ForecastConfig forecast = pool.forecast();
        if (!forecast.enabled()) {
            return 0;
        }
        if (System.getenv("FORECAST_RECENT") != null) {
            return Math.min(forecast.maxIdle(), history.count(pool.name(), now.minus(forecast.lead()), now));
        }
        Instant since = history.since(pool.name());
        if (since == null) {
            return 0;
        }
        int[] counts = new int[forecast.weeks()];
        int weeks = 0;
        for (int week = 1; week <= forecast.weeks(); week++) {
            Instant from = now.minus(WEEK.multipliedBy(week));
            if (from.isBefore(since)) {
                break; // before the history began: unknown, not quiet
            }
            counts[weeks++] = history.count(pool.name(), from, from.plus(forecast.lead()));
        }
        if (weeks == 0) {
            return 0;
        }
        return Math.min(forecast.maxIdle(), quantile(java.util.Arrays.copyOf(counts, weeks), forecast.quantile()));
    }

    /** Nearest-rank quantile of the weekly counts. */
    static int quantile(int[] counts, double q) {
        int[] sorted = counts.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
