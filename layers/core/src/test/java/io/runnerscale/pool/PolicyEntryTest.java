package io.runnerscale.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;

import static io.runnerscale.pool.TestPools.always;
import static io.runnerscale.pool.TestPools.asg;
import static io.runnerscale.pool.TestPools.during;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PolicyEntryTest {
    static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    static final ZoneId NEW_YORK = ZoneId.of("America/New_York");

    static PolicyEntry entry(String period, String zone) {
        return during(period, ZoneId.of(zone), 1, Duration.ofMinutes(10));
    }

    @ParameterizedTest(name = "''{0}'' in {1} at {2} -> {3}")
    @CsvSource({
            // the same instants in different zones (2026-01-07 is a Wednesday; Berlin is UTC+1 in winter)
            "* 8-18 * * *,       Europe/Berlin,    2026-01-07T07:30:00Z, true",
            "* 8-18 * * *,       UTC,              2026-01-07T07:30:00Z, false",
            "* 8-18 * * *,       America/New_York, 2026-01-07T07:30:00Z, false",
            "* 8-18 * * *,       America/New_York, 2026-01-07T13:30:00Z, true",
            "* 8-18 * * *,       Europe/Berlin,    2026-01-07T18:30:00Z, false",
            "* 8-18 * * *,       UTC,              2026-01-07T18:30:00Z, true",
            // summer time: Berlin is UTC+2
            "* 8-18 * * *,       Europe/Berlin,    2026-07-08T06:30:00Z, true",
            "* 8-18 * * *,       Europe/Berlin,    2026-07-08T17:30:00Z, false",
            // the day of week is the zone's too: Friday 23:30 UTC is Saturday in Berlin
            "* 0-1 * * sat,      Europe/Berlin,    2026-01-09T23:30:00Z, true",
            "* 0-1 * * sat,      UTC,              2026-01-09T23:30:00Z, false",
            "* 22-6 * * mon-fri, Europe/Berlin,    2026-01-09T22:30:00Z, true",
            // Berlin 2026-03-29: 02:00 CET becomes 03:00 CEST; 02:xx does not exist that night
            "* 2 * * *,          Europe/Berlin,    2026-03-29T00:59:00Z, false",
            "* 2 * * *,          Europe/Berlin,    2026-03-29T01:00:00Z, false",
            "* 2 * * *,          Europe/Berlin,    2026-03-29T01:30:00Z, false",
            "* 3 * * *,          Europe/Berlin,    2026-03-29T01:00:00Z, true",
            "* 2 * * *,          Europe/Berlin,    2026-03-28T01:30:00Z, true",
            "* 2 * * *,          Europe/Berlin,    2026-03-30T00:30:00Z, true",
            // Berlin 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:xx happens twice
            "* 2 * * *,          Europe/Berlin,    2026-10-24T23:59:00Z, false",
            "* 2 * * *,          Europe/Berlin,    2026-10-25T00:00:00Z, true",
            "* 2 * * *,          Europe/Berlin,    2026-10-25T00:59:00Z, true",
            "* 2 * * *,          Europe/Berlin,    2026-10-25T01:00:00Z, true",
            "* 2 * * *,          Europe/Berlin,    2026-10-25T01:59:00Z, true",
            "* 2 * * *,          Europe/Berlin,    2026-10-25T02:00:00Z, false",
            // New York 2026-03-08: 02:00 EST becomes 03:00 EDT at 07:00 UTC
            "* 2 * * *,          America/New_York, 2026-03-08T06:59:00Z, false",
            "* 2 * * *,          America/New_York, 2026-03-08T07:00:00Z, false",
            "* 3 * * *,          America/New_York, 2026-03-08T07:00:00Z, true",
            // New York 2026-11-01: 02:00 EDT becomes 01:00 EST at 06:00 UTC; 01:xx happens twice
            "* 1 * * *,          America/New_York, 2026-11-01T05:30:00Z, true",
            "* 1 * * *,          America/New_York, 2026-11-01T06:30:00Z, true",
            "* 2 * * *,          America/New_York, 2026-11-01T06:30:00Z, false",
            "* 2 * * *,          America/New_York, 2026-11-01T07:30:00Z, true",
    })
    void isActiveAtUsesTheEntrysTimezone(String period, String zone, String instant, boolean active) {
        assertEquals(active, entry(period, zone).isActiveAt(Instant.parse(instant)));
    }

    @ParameterizedTest(name = "''{0}'' in {1} on {2}: active {3} minutes")
    @CsvSource({
            "* 2 * * *, Europe/Berlin,    2026-03-28, 60",
            "* 2 * * *, Europe/Berlin,    2026-03-29, 0",
            "* 2 * * *, Europe/Berlin,    2026-03-30, 60",
            "* 2 * * *, Europe/Berlin,    2026-10-25, 120",
            "* 3 * * *, Europe/Berlin,    2026-10-25, 60",
            "* 2 * * *, America/New_York, 2026-03-08, 0",
            "* 1 * * *, America/New_York, 2026-11-01, 120",
            "* 2 * * *, America/New_York, 2026-11-01, 60",
            "* * * * *, Europe/Berlin,    2026-03-29, 1380",
            "* * * * *, Europe/Berlin,    2026-10-25, 1500",
            "* 2 * * *, UTC,              2026-03-29, 60",
    })
    void activeMinutesOnDaylightSavingDays(String period, String zone, String localDay, int minutes) {
        PolicyEntry entry = entry(period, zone);
        ZoneId id = ZoneId.of(zone);
        LocalDate day = LocalDate.parse(localDay);
        Instant from = day.atStartOfDay(id).toInstant();
        Instant to = day.plusDays(1).atStartOfDay(id).toInstant();
        int active = 0;
        for (Instant t = from; t.isBefore(to); t = t.plusSeconds(60)) {
            if (entry.isActiveAt(t)) {
                active++;
            }
        }
        assertEquals(minutes, active);
    }

    @Test
    void anEntryWithoutPeriodsIsAlwaysActive() {
        PolicyEntry entry = always(1, Duration.ofMinutes(10), 0, 0);
        assertTrue(entry.isActiveAt(Instant.parse("2026-01-07T03:00:00Z")));
        assertTrue(entry.isActiveAt(Instant.parse("2026-06-13T21:17:00Z")));
    }

    @Test
    void anyOfSeveralPeriodsActivatesTheEntry() {
        PolicyEntry entry = new PolicyEntry(List.of(CronPeriod.parse("* 8-9 * * *"), CronPeriod.parse("* 17 * * *")),
                ZoneOffset.UTC, 1, null, 0, 0);
        assertTrue(entry.isActiveAt(Instant.parse("2026-01-07T08:30:00Z")));
        assertTrue(entry.isActiveAt(Instant.parse("2026-01-07T17:30:00Z")));
        assertEquals(false, entry.isActiveAt(Instant.parse("2026-01-07T12:30:00Z")));
        assertEquals(PolicyEntry.DEFAULT_IDLE_TIME, entry.idleTime(), "idle_time defaults");
    }

    @Test
    void activePolicyIsTheLastMatchingEntry() {
        PolicyEntry base = always(0, Duration.ofMinutes(10), 0, 0);
        PolicyEntry weekdays = during("* * * * mon-fri", BERLIN, 1, Duration.ofMinutes(10));
        PolicyEntry office = during("* 8-18 * * mon-fri", BERLIN, 2, Duration.ofMinutes(20));
        PolicyEntry nights = during("* 22-6 * * *", BERLIN, 3, Duration.ofMinutes(30));
        PoolConfig pool = asg("p", 1, 10, 0, null, base, weekdays, office, nights);

        assertSame(office, pool.activePolicy(Instant.parse("2026-01-07T12:00:00Z")));   // Wed 13:00
        assertSame(weekdays, pool.activePolicy(Instant.parse("2026-01-07T19:00:00Z"))); // Wed 20:00
        assertSame(nights, pool.activePolicy(Instant.parse("2026-01-07T22:00:00Z")));   // Wed 23:00
        assertSame(nights, pool.activePolicy(Instant.parse("2026-01-10T04:00:00Z")));   // Sat 05:00
        assertSame(base, pool.activePolicy(Instant.parse("2026-01-10T12:00:00Z")));     // Sat 13:00
    }

    @Test
    void aPoolWithoutPolicyUsesTheDefaultEntry() {
        PoolConfig pool = asg("p", 1, 10, 0, null);
        assertSame(PolicyEntry.DEFAULT, pool.activePolicy(Instant.parse("2026-01-07T12:00:00Z")));
        assertEquals(0, PolicyEntry.DEFAULT.idleCount());
        assertEquals(PoolConfig.DEFAULT_BOOT_TIMEOUT, pool.bootTimeout());
    }
}
