package io.runnerscale.webhook;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** GitLab sends {@code 2021-02-23T02:41:37.886Z} in some hooks and {@code 2021-01-13 17:57:05 UTC} in others. */
public final class Timestamps {
    private static final Pattern SPACED = Pattern.compile(
            "(\\d{4}-\\d{2}-\\d{2}) (\\d{2}:\\d{2}:\\d{2}(?:\\.\\d{1,9})?) (?:(UTC)|([+-]\\d{2}):?(\\d{2}))");

    private Timestamps() {
    }

    /** @throws IllegalArgumentException naming the accepted forms */
    public static Instant parse(String text) {
        String value = text == null ? "" : text.trim();
        try {
            Matcher spaced = SPACED.matcher(value);
            if (spaced.matches()) {
                LocalDateTime local = LocalDateTime.parse(spaced.group(1) + "T" + spaced.group(2));
                ZoneOffset offset = spaced.group(3) != null ? ZoneOffset.UTC
                        : ZoneOffset.of(spaced.group(4) + ":" + spaced.group(5));
                return local.toInstant(offset);
            }
            return OffsetDateTime.parse(value).toInstant();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("'" + text
                    + "' is not a timestamp (expected 2021-02-23T02:41:37.886Z or 2021-01-13 17:57:05 UTC)");
        }
    }
}
