package io.runnerscale.webhook;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TimestampsTest {

    @Test
    void readsBothFormsGitLabSends() {
        assertEquals(Instant.parse("2021-02-23T02:41:37.886Z"), Timestamps.parse("2021-02-23T02:41:37.886Z"));
        // the "UTC" suffix holds a 'T' too: it must not be taken for ISO-8601
        assertEquals(Instant.parse("2021-01-13T17:57:05Z"), Timestamps.parse("2021-01-13 17:57:05 UTC"));
        assertEquals(Instant.parse("2021-01-13T16:57:05Z"), Timestamps.parse("2021-01-13 17:57:05 +0100"));
    }

    @Test
    void rejectsOtherText() {
        assertThrows(IllegalArgumentException.class, () -> Timestamps.parse("Tuesday"));
    }
}
