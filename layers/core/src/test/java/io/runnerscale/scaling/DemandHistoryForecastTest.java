package io.runnerscale.scaling;

import io.runnerscale.pool.ForecastConfig;
import io.runnerscale.pool.PoolConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.time.Instant;

import static io.runnerscale.pool.TestPools.always;
import static io.runnerscale.pool.TestPools.asg;
import static io.runnerscale.pool.TestPools.withForecast;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class DemandHistoryForecastTest {
    static final Instant NOW = Instant.parse("2026-01-28T10:00:00Z");
    static final Duration WEEK = Duration.ofDays(7);
    static final Duration WINDOW = Duration.ofMinutes(11);
    static final Duration LEAD = Duration.ofMinutes(10);

    final InMemoryDemandHistory history = new InMemoryDemandHistory();
    final DemandHistoryForecast forecast = new DemandHistoryForecast(history);

    static PoolConfig pool(String name, boolean enabled, int weeks, double quantile, int maxIdle) {
        return withForecast(asg(name, 1, 20, 0, null, always(0, Duration.ofMinutes(10), 0, 0)),
                new ForecastConfig(enabled, WINDOW, weeks, LEAD, quantile, maxIdle));
    }

    static PoolConfig pool(int weeks, double quantile) {
        return pool("docker", true, weeks, quantile, 8);
    }

    void record(String pool, Instant at, int times) {
        for (int i = 0; i < times; i++) {
            history.record(pool, at);
        }
    }

    void record(Instant at, int times) {
        record("docker", at, times);
    }

    /** Arrivals in the lead window of {@code weeksAgo} weeks ago at this time of week. */
    void weekAgo(int weeksAgo, int arrivals) {
        record(NOW.minus(WEEK.multipliedBy(weeksAgo)).plusSeconds(90), arrivals);
    }

    // ---- keep warm -------------------------------------------------------------------------------

    @Test
    void keepCountsArrivalsInTheLastWindow() {
        record(NOW.minus(Duration.ofMinutes(12)), 1);   // before the window
        record(NOW.minus(WINDOW), 1);                    // its first instant counts
        record(NOW.minus(Duration.ofMinutes(10)), 1);
        record(NOW.minusSeconds(1), 1);
        record(NOW, 1);                                  // [from, now): now itself does not
        record(NOW.plusSeconds(30), 1);                  // the future neither
        assertEquals(new DemandForecast.Slots(3, 0), forecast.slots(pool(0, 0.5), NOW));
    }

    @Test
    void keepIsCappedByMaxIdle() {
        record(NOW.minus(Duration.ofMinutes(2)), 12);
        assertEquals(new DemandForecast.Slots(8, 0), forecast.slots(pool(0, 0.5), NOW));
        assertEquals(new DemandForecast.Slots(3, 0), forecast.slots(pool("docker", true, 0, 0.5, 3), NOW));
    }

    @Test
    void disabledForecastIsNone() {
        record(NOW.minus(Duration.ofMinutes(2)), 5);
        weekAgo(1, 5);
        assertEquals(DemandForecast.Slots.NONE, forecast.slots(pool("docker", false, 3, 0.5, 8), NOW));
    }

    @Test
    void noHistoryIsNothing() {
        assertEquals(DemandForecast.Slots.NONE, forecast.slots(pool(4, 0.5), NOW));
        assertNull(history.since("docker"));
    }

    @Test
    void poolsHaveTheirOwnHistory() {
        record("fargate", NOW.minus(WEEK.multipliedBy(2)), 1);
        record("fargate", NOW.minus(Duration.ofMinutes(2)), 4);
        record("fargate", NOW.minus(WEEK).plusSeconds(60), 4);
        assertEquals(DemandForecast.Slots.NONE, forecast.slots(pool(1, 1.0), NOW));
        assertEquals(new DemandForecast.Slots(4, 4), forecast.slots(pool("fargate", true, 1, 1.0, 8), NOW));
    }

    // ---- weekly pre-warm ---------------------------------------------------------------------------

    @ParameterizedTest(name = "weekly counts 4, 0, 2 at quantile {0} -> prewarm {1}")
    @CsvSource({"0, 0", "0.33, 0", "0.34, 2", "0.5, 2", "0.66, 2", "0.67, 4", "1.0, 4"})
    void prewarmIsTheNearestRankQuantileOfTheSameWindowInPastWeeks(double quantile, int prewarm) {
        record(NOW.minus(WEEK.multipliedBy(5)), 1); // history began five weeks ago
        weekAgo(1, 4);
        weekAgo(2, 0);
        weekAgo(3, 2);
        DemandForecast.Slots slots = forecast.slots(pool(3, quantile), NOW);
        assertEquals(prewarm, slots.prewarm());
        assertEquals(prewarm, slots.keep(), "nothing arrived recently: keep is what is pre-warmed");
    }

    @Test
    void onlyTheLeadWindowOfEachWeekCounts() {
        record(NOW.minus(WEEK.multipliedBy(5)), 1);
        Instant from = NOW.minus(WEEK);
        record(from.minusSeconds(1), 5);     // just before
        record(from, 1);                     // first instant: counts
        record(from.plus(LEAD).minusSeconds(1), 1);
        record(from.plus(LEAD), 5);          // just after
        assertEquals(2, forecast.slots(pool(1, 1.0), NOW).prewarm());
    }

    @Test
    void weeksBeforeHistoryBeganAreIgnoredNotCountedAsQuiet() {
        record(NOW.minus(WEEK.multipliedBy(2)).minus(Duration.ofHours(1)), 1); // began a bit over two weeks ago
        weekAgo(1, 6);
        weekAgo(2, 6);
        // four weeks asked for, two known: [6, 6] -> 6 at the 25th percentile (with quiet weeks it would be 0)
        assertEquals(6, forecast.slots(pool(4, 0.25), NOW).prewarm());
    }

    @Test
    void aWeekWhoseWindowStartsBeforeHistoryIsIgnored() {
        Instant weekAgo = NOW.minus(WEEK);
        record(weekAgo.plus(Duration.ofMinutes(5)), 3); // history began inside last week's window
        assertEquals(0, forecast.slots(pool(1, 1.0), NOW).prewarm());
        assertEquals(3, forecast.slots(pool(1, 1.0), NOW.plus(Duration.ofMinutes(5))).prewarm());
    }

    @Test
    void weeksZeroMeansNoPrewarm() {
        record(NOW.minus(WEEK.multipliedBy(3)), 1);
        weekAgo(1, 5);
        assertEquals(0, forecast.slots(pool(0, 1.0), NOW).prewarm());
    }

    @Test
    void prewarmIsCappedByMaxIdle() {
        record(NOW.minus(WEEK.multipliedBy(3)), 1);
        weekAgo(1, 9);
        weekAgo(2, 9);
        assertEquals(new DemandForecast.Slots(5, 5), forecast.slots(pool("docker", true, 2, 0.5, 5), NOW));
    }

    @Test
    void keepAndPrewarmTogether() {
        record(NOW.minus(WEEK.multipliedBy(3)), 1);
        weekAgo(1, 2);
        record(NOW.minus(Duration.ofMinutes(3)), 5);
        assertEquals(new DemandForecast.Slots(5, 2), forecast.slots(pool(1, 0.5), NOW));
    }

    @ParameterizedTest(name = "{0} at q={1} -> {2}")
    @CsvSource(delimiter = '|', value = {"7 | 0.5 | 7", "3,1,2 | 0.5 | 2", "1,2,3,4 | 0.5 | 2", "1,2,3,4 | 0.75 | 3",
            "1,2,3,4 | 0.76 | 4", "5,1 | 0 | 1", "5,1 | 1 | 5"})
    void nearestRankQuantile(String counts, double q, int expected) {
        int[] values = java.util.Arrays.stream(counts.split(",")).mapToInt(Integer::parseInt).toArray();
        assertEquals(expected, DemandHistoryForecast.quantile(values, q));
    }

    // ---- the history itself ------------------------------------------------------------------------

    @Test
    void historyCountsHalfOpenRangesEvenWhenRecordsComeLate() {
        history.record("p", NOW.plusSeconds(30));
        history.record("p", NOW.plusSeconds(10));   // late
        history.record("p", NOW);
        history.record("p", NOW.plusSeconds(20));
        assertEquals(NOW, history.since("p"));
        assertEquals(4, history.count("p", NOW, NOW.plusSeconds(31)));
        assertEquals(3, history.count("p", NOW, NOW.plusSeconds(30)));
        assertEquals(2, history.count("p", NOW.plusSeconds(10), NOW.plusSeconds(30)));
        assertEquals(0, history.count("p", NOW.plusSeconds(31), NOW.plusSeconds(60)));
        assertEquals(0, history.count("other", NOW, NOW.plusSeconds(60)));
    }

    @Test
    void historyGrowsPastItsInitialCapacity() {
        for (int i = 0; i < 5000; i++) {
            history.record("p", NOW.plusSeconds(i));
        }
        assertEquals(5000, history.count("p", NOW, NOW.plusSeconds(5000)));
        assertEquals(1000, history.count("p", NOW.plusSeconds(2000), NOW.plusSeconds(3000)));
    }
}
