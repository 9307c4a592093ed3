package io.runnerscale.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DurationsTest {

    @ParameterizedTest(name = "{0} = {1} ms")
    @CsvSource({
            "20m0s,     1200000",
            "1h30m,     5400000",
            "90s,       90000",
            "300,       300000",
            "0,         0",
            "0s,        0",
            "1h0m0s,    3600000",
            "2h45m30s,  9930000",
            "1.5h,      5400000",
            "0.5s,      500",
            "500ms,     500",
            "1m500ms,   60500",
            "'  10m  ', 600000",
            "36h,       129600000",
    })
    void parse(String text, long millis) {
        assertEquals(Duration.ofMillis(millis), Durations.parse(text));
    }

    @ParameterizedTest(name = "''{0}'' is not a duration")
    @ValueSource(strings = {"soon", "10x", "m10", "1h 30m", "-5m", "1d", "h", "1.5", "10m!", "5 s", "1e3s"})
    void rejects(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
        assertTrue(e.getMessage().contains("'" + text + "'"), e.getMessage());
    }

    @Test
    void rejectsEmpty() {
        assertThrows(IllegalArgumentException.class, () -> Durations.parse(null));
        assertThrows(IllegalArgumentException.class, () -> Durations.parse(""));
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("   "));
    }

    @ParameterizedTest(name = "{0} ms -> {1}")
    @CsvSource({
            "0,        0s",
            "45000,    45s",
            "90000,    1m30s",
            "1200000,  20m",
            "3600000,  1h",
            "3661000,  1h1m1s",
            "5400000,  1h30m",
            "86400000, 24h",
            "500,      500ms",
            "1500,     1.5s",
            "61250,    1m1.25s",
    })
    void format(long millis, String text) {
        assertEquals(text, Durations.format(Duration.ofMillis(millis)));
    }

    @ParameterizedTest(name = "{0} ms survives format and parse")
    @ValueSource(longs = {0, 1, 999, 1000, 1001, 59_999, 60_000, 61_000, 3_599_000, 3_600_000, 3_600_500, 5_400_000,
            86_399_000, 604_800_000})
    void roundTripFromDuration(long millis) {
        Duration d = Duration.ofMillis(millis);
        assertEquals(d, Durations.parse(Durations.format(d)), Durations.format(d));
    }

    @ParameterizedTest(name = "{0} -> {1} -> same duration")
    @CsvSource({"20m0s, 20m", "1h30m, 1h30m", "90s, 1m30s", "300, 5m", "3600s, 1h", "1h0m0s, 1h", "0.5s, 500ms"})
    void roundTripFromText(String text, String canonical) {
        assertEquals(canonical, Durations.format(Durations.parse(text)));
        assertEquals(Durations.parse(text), Durations.parse(canonical));
    }
}
