package io.runnerscale.webhook;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;

/** GitLab sends {@code 2021-02-23T02:41:37.886Z} in some hooks and {@code 2021-01-13 17:57:05 UTC} in others. */
public final class Timestamps {
    private static final DateTimeFormatter SPACED = new DateTimeFormatterBuilder()
            .appendPattern("yyyy-MM-dd HH:mm:ss")
            .optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true).optionalEnd()
            .appendLiteral(' ')
            .optionalStart().appendLiteral("UTC").parseDefaulting(ChronoField.OFFSET_SECONDS, 0).optionalEnd()
            .optionalStart().appendOffset("+HHMM", "+0000").optionalEnd()
            .toFormatter();

    private Timestamps() {
    }

    /** @throws IllegalArgumentException naming the accepted forms */
    public static Instant parse(String text) {
        String value = text.trim();
        try {
            // ISO form: a 'T' between date and time (not the T of a trailing "UTC")
            if (value.length() > 10 && value.charAt(10) == 'T') {
                return OffsetDateTime.parse(value).toInstant();
            }
            return OffsetDateTime.parse(value, SPACED).toInstant();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("'" + text
                    + "' is not a timestamp (expected 2021-02-23T02:41:37.886Z or 2021-01-13 17:57:05 UTC)");
        }
    }

    static ZoneOffset utc() {
        return ZoneOffset.UTC;
    }
}
