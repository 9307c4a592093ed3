package io.runnerscale.scaling;

import io.runnerscale.pool.ForecastConfig;
import io.runnerscale.pool.PoolConfig;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;

/**
 * The pool's own demand as a forecast. CI jobs come in pipelines and pipelines in working hours:
 * jobs that asked for a runner in the last {@code window} keep as many slots warm (later stages
 * reuse them instead of waiting for a boot), and the jobs that asked in the coming {@code lead} at
 * this time of week in past weeks are pre-warmed, so a busy hour's first jobs find a runner.
 */
public final class DemandHistoryForecast implements DemandForecast {
    private static final Duration WEEK = Duration.ofDays(7);

    private final DemandHistory history;

    public DemandHistoryForecast(DemandHistory history) {
        this.history = history;
    }

    @Override
    public Slots slots(PoolConfig pool, Instant now) {
        ForecastConfig forecast = pool.forecast();
        if (!forecast.enabled()) {
            return Slots.NONE;
        }
        int recent = history.count(pool.name(), now.minus(forecast.window()), now);
        int weekly = weekly(pool.name(), forecast, now);
        return new Slots(Math.min(forecast.maxIdle(), recent), Math.min(forecast.maxIdle(), weekly));
    }

    private int weekly(String pool, ForecastConfig forecast, Instant now) {
        Instant since = history.since(pool);
        if (since == null || forecast.weeks() == 0) {
            return 0;
        }
        int[] counts = new int[forecast.weeks()];
        int weeks = 0;
        for (int week = 1; week <= forecast.weeks(); week++) {
            Instant from = now.minus(WEEK.multipliedBy(week));
            if (from.isBefore(since)) {
                break; // before the history began: unknown, not quiet
            }
            counts[weeks++] = history.count(pool, from, from.plus(forecast.lead()));
        }
        return weeks == 0 ? 0 : quantile(Arrays.copyOf(counts, weeks), forecast.quantile());
    }

    /** Nearest-rank quantile. */
    static int quantile(int[] counts, double q) {
        int[] sorted = counts.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
