package io.runnerscale.pool;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.time.DayOfWeek;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CronPeriodTest {

    static boolean at(String expression, String localDateTime) {
        return CronPeriod.parse(expression).contains(LocalDateTime.parse(localDateTime).atZone(ZoneOffset.UTC));
    }

    /** 2026-01-05 is a Monday; 2026-01-11 a Sunday. */
    @ParameterizedTest(name = "''{0}'' at {1} -> {2}")
    @CsvSource({
            // across midnight
            "* 22-6 * * *,       2026-01-07T21:59, false",
            "* 22-6 * * *,       2026-01-07T22:00, true",
            "* 22-6 * * *,       2026-01-07T23:59, true",
            "* 22-6 * * *,       2026-01-08T00:00, true",
            "* 22-6 * * *,       2026-01-08T06:59, true",
            "* 22-6 * * *,       2026-01-08T07:00, false",
            "* 22-6 * * *,       2026-01-08T12:00, false",
            // office hours
            "* 8-18 * * mon-fri, 2026-01-05T07:59, false",
            "* 8-18 * * mon-fri, 2026-01-05T08:00, true",
            "* 8-18 * * mon-fri, 2026-01-05T18:59, true",
            "* 8-18 * * mon-fri, 2026-01-05T19:00, false",
            "* 8-18 * * mon-fri, 2026-01-09T12:00, true",
            "* 8-18 * * mon-fri, 2026-01-10T12:00, false",
            "* 8-18 * * mon-fri, 2026-01-11T12:00, false",
            "* 8-18 * * MON-FRI, 2026-01-06T12:00, true",
            "* 8-18 * * Mon-Fri, 2026-01-10T12:00, false",
            // minutes, steps and lists
            "*/15 * * * *,       2026-01-07T10:00, true",
            "*/15 * * * *,       2026-01-07T10:14, false",
            "*/15 * * * *,       2026-01-07T10:45, true",
            "0-30/10 * * * *,    2026-01-07T10:30, true",
            "0-30/10 * * * *,    2026-01-07T10:40, false",
            "0-30/10 * * * *,    2026-01-07T10:05, false",
            "5/20 * * * *,       2026-01-07T10:45, true",
            "5/20 * * * *,       2026-01-07T10:05, true",
            "5/20 * * * *,       2026-01-07T10:20, false",
            "* 22-6/2 * * *,     2026-01-07T22:10, true",
            "* 22-6/2 * * *,     2026-01-07T23:10, false",
            "* 22-6/2 * * *,     2026-01-08T00:10, true",
            "* 22-6/2 * * *,     2026-01-08T01:10, false",
            "* 22-6/2 * * *,     2026-01-08T06:10, true",
            "* 22-6/2 * * *,     2026-01-08T07:10, false",
            "'0,30 9,17 * * *',  2026-01-07T17:30, true",
            "'0,30 9,17 * * *',  2026-01-07T17:31, false",
            "'0,30 9,17 * * *',  2026-01-07T12:00, false",
            // months, with names and across the year's end
            "* * * jan-mar *,    2026-02-15T12:00, true",
            "* * * jan-mar *,    2026-04-01T12:00, false",
            "* * * nov-feb *,    2026-12-15T12:00, true",
            "* * * nov-feb *,    2026-01-15T12:00, true",
            "* * * nov-feb *,    2026-03-01T12:00, false",
            "* * * 11 *,         2026-11-30T12:00, true",
            // day of month, across the month's end
            "* * 1 * *,          2026-01-01T12:00, true",
            "* * 1 * *,          2026-01-02T12:00, false",
            "* * 30-2 * *,       2026-01-31T12:00, true",
            "* * 30-2 * *,       2026-02-02T12:00, true",
            "* * 30-2 * *,       2026-02-03T12:00, false",
            // classic cron: day of month OR day of week when both are restricted (2026-01-01 is a Thursday)
            "* * 1 * mon,        2026-01-01T12:00, true",
            "* * 1 * mon,        2026-01-05T12:00, true",
            "* * 1 * mon,        2026-01-06T12:00, false",
            // ... AND when only one is
            "* * 13 * *,         2026-02-13T12:00, true",
            "* * * * fri,        2026-02-13T12:00, true",
            "* * * * fri,        2026-02-12T12:00, false",
            "* * 13 * *,         2026-02-12T12:00, false",
            // the month still has to match under the OR rule
            "* * 1 feb mon,      2026-01-05T12:00, false",
    })
    void containsFollowsCron(String expression, String localDateTime, boolean expected) {
        assertEquals(expected, at(expression, localDateTime));
    }

    static Stream<Arguments> daysOfWeek() {
        return Stream.of(
                Arguments.of("fri-mon", EnumSet.of(DayOfWeek.FRIDAY, DayOfWeek.SATURDAY, DayOfWeek.SUNDAY, DayOfWeek.MONDAY)),
                Arguments.of("sat-sun", EnumSet.of(DayOfWeek.SATURDAY, DayOfWeek.SUNDAY)),
                Arguments.of("mon-fri", EnumSet.range(DayOfWeek.MONDAY, DayOfWeek.FRIDAY)),
                Arguments.of("1-5", EnumSet.range(DayOfWeek.MONDAY, DayOfWeek.FRIDAY)),
                Arguments.of("7", EnumSet.of(DayOfWeek.SUNDAY)),
                Arguments.of("0", EnumSet.of(DayOfWeek.SUNDAY)),
                Arguments.of("sun", EnumSet.of(DayOfWeek.SUNDAY)),
                Arguments.of("5-7", EnumSet.of(DayOfWeek.FRIDAY, DayOfWeek.SATURDAY, DayOfWeek.SUNDAY)),
                Arguments.of("0-2", EnumSet.of(DayOfWeek.SUNDAY, DayOfWeek.MONDAY, DayOfWeek.TUESDAY)),
                Arguments.of("7-2", EnumSet.of(DayOfWeek.SUNDAY, DayOfWeek.MONDAY, DayOfWeek.TUESDAY)),
                Arguments.of("sat,sun", EnumSet.of(DayOfWeek.SATURDAY, DayOfWeek.SUNDAY)),
                Arguments.of("*/2", EnumSet.of(DayOfWeek.SUNDAY, DayOfWeek.TUESDAY, DayOfWeek.THURSDAY, DayOfWeek.SATURDAY)),
                Arguments.of("mon-fri/2", EnumSet.of(DayOfWeek.MONDAY, DayOfWeek.WEDNESDAY, DayOfWeek.FRIDAY)),
                // a step walks the wrapped range fri, sat, sun, mon: every second day is fri and sun
                Arguments.of("fri-mon/2", EnumSet.of(DayOfWeek.FRIDAY, DayOfWeek.SUNDAY)),
                Arguments.of("thu-tue/3", EnumSet.of(DayOfWeek.THURSDAY, DayOfWeek.SUNDAY)),
                Arguments.of("*", EnumSet.allOf(DayOfWeek.class)));
    }

    @ParameterizedTest(name = "day of week ''{0}'' -> {1}")
    @MethodSource("daysOfWeek")
    void dayOfWeekFieldSelectsExactlyTheseDays(String field, Set<DayOfWeek> expected) {
        CronPeriod period = CronPeriod.parse("* * * * " + field);
        LocalDate monday = LocalDate.parse("2026-01-05");
        for (int d = 0; d < 7; d++) {
            LocalDate day = monday.plusDays(d);
            assertEquals(expected.contains(day.getDayOfWeek()),
                    period.contains(day.atTime(12, 0).atZone(ZoneOffset.UTC)), field + " on " + day.getDayOfWeek());
        }
    }

    @ParameterizedTest(name = "''{0}'' fails naming {1}")
    @CsvSource(delimiter = '|', value = {
            "60 * * * *       | minute",
            "-1 * * * *       | minute",
            "*/0 * * * *      | minute step",
            "* 24 * * *       | hour",
            "* */x * * *      | hour",
            "* 1-2-3 * * *    | hour",
            "* * 0 * *        | day of month",
            "* * 32 * *       | day of month",
            "* * mon * *      | day of month",
            "* * * 13 *       | month",
            "* * * foo *      | month",
            "* * * 0 *        | month",
            "* * * * 8        | day of week",
            "* * * * funday   | day of week",
            "* * * * mon-fry  | day of week",
            "* * * *          | 5 fields",
            "* * * * * *      | 5 fields",
            "''               | 5 fields",
    })
    void badExpressionsNameTheField(String expression, String field) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CronPeriod.parse(expression));
        assertTrue(e.getMessage().contains(field), e.getMessage());
    }

    @Test
    void nullIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> CronPeriod.parse(null));
    }

    @Test
    void keepsItsExpressionTrimmed() {
        assertEquals("* 8-18 * * mon-fri", CronPeriod.parse("  * 8-18 * * mon-fri ").expression());
    }

    @Test
    void aStarredDayOfMonthWithAStepDoesNotWidenTheDayOfWeek() {
        CronPeriod oddMondays = CronPeriod.parse("* * */2 * mon");
        // 2026-01-05 is a Monday (odd day): both fields match
        assertEquals(true, oddMondays.contains(java.time.ZonedDateTime.parse("2026-01-05T10:00:00Z")));
        // 2026-01-12 is a Monday on an even day: "*/2" keeps restricting with AND, as in Vixie cron
        assertEquals(false, oddMondays.contains(java.time.ZonedDateTime.parse("2026-01-12T10:00:00Z")));
        // 2026-01-07 is an odd Wednesday: no OR widening to every odd day
        assertEquals(false, oddMondays.contains(java.time.ZonedDateTime.parse("2026-01-07T10:00:00Z")));
    }
}
