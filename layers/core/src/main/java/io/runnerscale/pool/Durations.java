package io.runnerscale.pool;

import java.math.BigInteger;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Go-style durations as GitLab's config uses them: {@code 20m0s}, {@code 1h30m}, {@code 90s}; a bare number is seconds. */
public final class Durations {
    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|h|m|s)");
    /** Longer than any setting needs (10 years), short enough that adding it to an instant never overflows. */
    public static final Duration MAX = Duration.ofHours(87_600);

    private Durations() {
    }

    public static Duration parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty duration");
        }
        String value = text.trim();
        if (value.matches("\\d+")) {
            // compared as a BigInteger: Long.parseLong would fail past 19 digits
            if (new BigInteger(value).compareTo(BigInteger.valueOf(MAX.toSeconds())) > 0) {
                throw tooLong(text);
            }
            return Duration.ofSeconds(Long.parseLong(value));
        }
        Matcher matcher = PART.matcher(value);
        long millis = 0;
        int end = 0;
        while (matcher.find()) {
            if (matcher.start() != end) {
                break;
            }
            double amount = Double.parseDouble(matcher.group(1));
            double partMillis = amount * switch (matcher.group(2)) {
                case "h" -> 3_600_000L;
                case "m" -> 60_000L;
                case "s" -> 1_000L;
                default -> 1L;
            };
            // checked per part so that neither the rounding nor the sum can overflow
            if (partMillis > MAX.toMillis() || millis + Math.round(partMillis) > MAX.toMillis()) {
                throw tooLong(text);
            }
            millis += Math.round(partMillis);
            end = matcher.end();
        }
        if (end != value.length() || end == 0) {
            throw new IllegalArgumentException("'" + ConfigException.abbreviate(text)
                    + "' is not a duration (use e.g. 90s, 10m, 1h30m)");
        }
        return Duration.ofMillis(millis);
    }

    private static IllegalArgumentException tooLong(String text) {
        return new IllegalArgumentException("'" + ConfigException.abbreviate(text) + "' is too long (at most "
                + format(MAX) + ")");
    }

    /** The shortest Go-style form: {@code 1h30m}, {@code 45s}, {@code 1.5s}, {@code 500ms}, {@code 0s}. */
    public static String format(Duration duration) {
        long millis = duration.toMillis();
        if (millis == 0) {
            return "0s";
        }
        if (millis < 1000) {
            return millis + "ms";
        }
        long seconds = millis / 1000;
        long fraction = millis % 1000;
        StringBuilder out = new StringBuilder();
        if (seconds >= 3600) {
            out.append(seconds / 3600).append('h');
            seconds %= 3600;
        }
        if (seconds >= 60) {
            out.append(seconds / 60).append('m');
            seconds %= 60;
        }
        if (seconds > 0 || fraction > 0) {
            out.append(seconds);
            if (fraction > 0) {
                out.append('.').append(String.format("%03d", fraction).replaceFirst("0+$", ""));
            }
            out.append('s');
        }
        return out.toString();
    }
}
