package io.runnerscale.webhook;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GitLab sends {@code 2021-02-23T02:41:37.886Z} in some hooks and {@code 2021-01-13 17:57:05 UTC} in others.
 *
 * <p>Only moments from {@link #EARLIEST} to before {@link #END} are timestamps: GitLab has none
 * before 1970, and a year like {@code +999999999} (which {@link OffsetDateTime} reads) would
 * overflow the millisecond and duration arithmetic of the store and the scaler.
 */
public final class Timestamps {
    public static final Instant EARLIEST = Instant.parse("1970-01-01T00:00:00Z");
    public static final Instant END = Instant.parse("+10000-01-01T00:00:00Z");

    private static final Pattern SPACED = Pattern.compile(
            "(\\d{4}-\\d{2}-\\d{2}) (\\d{2}:\\d{2}:\\d{2}(?:\\.\\d{1,9})?) (?:(UTC)|([+-]\\d{2}):?(\\d{2}))");

    private Timestamps() {
    }

    /** @throws IllegalArgumentException naming the accepted forms and range, quoting the text abbreviated */
    public static Instant parse(String text) {
        String value = text == null ? "" : text.trim();
        Instant instant;
        try {
            Matcher spaced = SPACED.matcher(value);
            if (spaced.matches()) {
                LocalDateTime local = LocalDateTime.parse(spaced.group(1) + "T" + spaced.group(2));
                ZoneOffset offset = spaced.group(3) != null ? ZoneOffset.UTC
                        : ZoneOffset.of(spaced.group(4) + ":" + spaced.group(5));
                instant = local.toInstant(offset);
            } else {
                instant = OffsetDateTime.parse(value).toInstant();
            }
        } catch (DateTimeException e) {
            // DateTimeParseException for the text, plain DateTimeException for an offset like +99:00
            throw new IllegalArgumentException("'" + BadRequestException.abbreviate(text)
                    + "' is not a timestamp (expected 2021-02-23T02:41:37.886Z or 2021-01-13 17:57:05 UTC)");
        }
        if (instant.isBefore(EARLIEST) || !instant.isBefore(END)) {
            throw new IllegalArgumentException("'" + BadRequestException.abbreviate(text)
                    + "' is not a timestamp from the years 1970 to 9999");
        }
        return instant;
    }
}
