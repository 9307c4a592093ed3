package io.runnerscale.webhook;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TimestampsTest {

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({
            "2021-02-23T02:41:37.886Z,       2021-02-23T02:41:37.886Z",
            "2021-02-23T02:41:37Z,           2021-02-23T02:41:37Z",
            "2016-08-12T17:23:21+02:00,      2016-08-12T15:23:21Z",
            "2021-01-13 17:57:05 UTC,        2021-01-13T17:57:05Z",
            "2016-08-12 15:23:28 UTC,        2016-08-12T15:23:28Z",
            "2021-01-13 17:57:05 +0100,      2021-01-13T16:57:05Z",
            "2021-01-13 17:57:05 -0500,      2021-01-13T22:57:05Z",
            "2021-01-13 17:57:05 +0000,      2021-01-13T17:57:05Z",
            "2021-01-13 17:57:05.123 UTC,    2021-01-13T17:57:05.123Z",
            "'  2021-01-13 17:57:05 UTC  ',  2021-01-13T17:57:05Z",
    })
    void parsesBothForms(String text, String expected) {
        assertEquals(Instant.parse(expected), Timestamps.parse(text));
    }

    @ParameterizedTest(name = "''{0}'' is rejected")
    @ValueSource(strings = {"", "yesterday", "2021-01-13", "2021-01-13 17:57:05", "2021-01-13 17:57:05 CET",
            "2021-02-23T02:41:37", "2021-13-01 10:00:00 UTC", "2021-01-13 25:00:00 UTC", "1613961697", "13/01/2021 17:57"})
    void rejectsOthersWithAMessage(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Timestamps.parse(text));
        assertTrue(e.getMessage().contains("'" + text + "'"), e.getMessage());
        assertTrue(e.getMessage().contains("2021-01-13 17:57:05 UTC"), "names the accepted forms: " + e.getMessage());
    }

    @ParameterizedTest(name = "''{0}'' is rejected")
    @ValueSource(strings = {"2021-01-13 17:57:05 +9900", "2021-01-13 17:57:05 +1899", "2021-01-13 17:57:05 -19:00",
            "+999999999-01-01T00:00:00Z", "-999999999-01-01T00:00:00Z", "+10000-01-01T00:00:00Z",
            "0001-01-01T00:00:00Z", "1969-12-31T23:59:59.999Z", "1969-12-31 23:59:59 UTC"})
    void rejectsImpossibleOffsetsAndYearsOutsideTheRange(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Timestamps.parse(text));
        assertTrue(e.getMessage().contains("'" + text + "'"), e.getMessage());
    }

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({
            "1970-01-01T00:00:00Z,           1970-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z, 9999-12-31T23:59:59.999999999Z",
            "1970-01-01 01:00:00 +0100,      1970-01-01T00:00:00Z",
            "2021-01-13 17:57:05 +1800,      2021-01-12T23:57:05Z",
    })
    void acceptsTheEdgesOfTheRange(String text, String expected) {
        assertEquals(Instant.parse(expected), Timestamps.parse(text));
    }

    @Test
    void aHugeTextIsNotEchoedWhole() {
        String huge = "2021-01-13".repeat(10_000);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Timestamps.parse(huge));
        assertTrue(e.getMessage().length() <= 300, e.getMessage().length() + " chars");
        assertTrue(e.getMessage().contains("2021-01-13 17:57:05 UTC"), e.getMessage());
    }

    @Test
    void bothFormsOfTheSameMomentAgree() {
        assertEquals(Timestamps.parse("2021-01-13T17:57:05Z"), Timestamps.parse("2021-01-13 17:57:05 UTC"));
    }
}
