package io.runnerscale.pool;

import java.time.ZonedDateTime;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;

/**
 * A 5-field cron expression used as a time range ({@code "* 8-18 * * mon-fri"}): a moment is inside
 * the period when its minute matches. Day-of-month and day-of-week follow classic cron: when both
 * are restricted, either may match.
 */
public final class CronPeriod {
    private static final List<String> DAYS = List.of("sun", "mon", "tue", "wed", "thu", "fri", "sat");
    private static final List<String> MONTHS =
            List.of("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec");

    private final String expression;
    private final BitSet minutes;
    private final BitSet hours;
    private final BitSet daysOfMonth;
    private final BitSet months;
    private final BitSet daysOfWeek;
    private final boolean domRestricted;
    private final boolean dowRestricted;

    private CronPeriod(String expression, String[] fields) {
        this.expression = expression;
        this.minutes = parseField(fields[0], 0, 59, List.of(), 0, "minute");
        this.hours = parseField(fields[1], 0, 23, List.of(), 0, "hour");
        this.daysOfMonth = parseField(fields[2], 1, 31, List.of(), 0, "day of month");
        this.months = parseField(fields[3], 1, 12, MONTHS, 1, "month");
        BitSet dow = parseField(fields[4], 0, 7, DAYS, 0, "day of week");
        if (dow.get(7)) {
            dow.set(0); // 7 is Sunday too
        }
        this.daysOfWeek = dow;
        // Vixie cron: a field starting with '*' (even "*/2") does not restrict the day.
        this.domRestricted = !fields[2].startsWith("*");
        this.dowRestricted = !fields[4].startsWith("*");
    }

    public static CronPeriod parse(String expression) {
        if (expression == null) {
            throw new IllegalArgumentException("period is empty");
        }
        String[] fields = expression.trim().split("\\s+");
        if (fields.length != 5) {
            throw new IllegalArgumentException("'" + ConfigException.abbreviate(expression)
                    + "' must have 5 fields (minute hour day-of-month month day-of-week), has " + fields.length);
        }
        return new CronPeriod(expression.trim(), fields);
    }

    public boolean contains(ZonedDateTime time) {
        if (!minutes.get(time.getMinute()) || !hours.get(time.getHour()) || !months.get(time.getMonthValue())) {
            return false;
        }
        boolean dom = daysOfMonth.get(time.getDayOfMonth());
        boolean dow = daysOfWeek.get(time.getDayOfWeek().getValue() % 7);
        if (domRestricted && dowRestricted) {
            return dom || dow;
        }
        return dom && dow;
    }

    public String expression() {
        return expression;
    }

    @Override
    public String toString() {
        return expression;
    }

    private static BitSet parseField(String field, int min, int max, List<String> names, int nameBase, String what) {
        BitSet bits = new BitSet(max + 1);
        for (String rawPart : field.toLowerCase(Locale.ROOT).split(",")) {
            String part = ConfigException.abbreviate(rawPart);
            int step = 1;
            String range = rawPart;
            int slash = rawPart.indexOf('/');
            if (slash >= 0) {
                range = rawPart.substring(0, slash);
                String stepText = rawPart.substring(slash + 1);
                // a step beyond the field's span selects only the start, and a huge one would overflow the loops below
                int stepLimit = max - min + 1;
                if (stepText.matches("\\d+") && (stepText.length() > 9 || Integer.parseInt(stepText) > stepLimit)) {
                    throw new IllegalArgumentException(what + " step must be at most " + stepLimit + " in '" + part + "'");
                }
                step = number(stepText, names, nameBase, what, part, min, max);
                if (step <= 0) {
                    throw new IllegalArgumentException(what + " step must be positive in '" + part + "'");
                }
            }
            int from;
            int to;
            if (range.equals("*")) {
                from = min;
                to = max;
            } else if (range.contains("-")) {
                String[] ends = range.split("-", 2);
                from = number(ends[0], names, nameBase, what, part, min, max);
                to = number(ends[1], names, nameBase, what, part, min, max);
            } else {
                from = number(range, names, nameBase, what, part, min, max);
                to = slash >= 0 ? max : from;
            }
            if (from < min || from > max || to < min || to > max) {
                throw new IllegalArgumentException(what + " '" + part + "' is outside " + min + "-" + max);
            }
            // Day of week wraps around a 7-day cycle (7 is Sunday again): sun(7)-tue is 0-2, fri-mon/2 is fri,sun.
            int top = max;
            if (names == DAYS && from > to) {
                top = 6;
                from %= 7;
            }
            if (from <= to) {
                for (int value = from; value <= to; value += step) {
                    bits.set(value);
                }
            } else { // wrap-around such as fri-mon or 22-6
                int span = top - min + 1;
                int length = (top - from) + (to - min) + 2;
                for (int offset = 0; offset < length; offset += step) {
                    bits.set(min + (from - min + offset) % span);
                }
            }
        }
        return bits;
    }

    private static int number(String token, List<String> names, int nameBase, String what, String part,
                              int min, int max) {
        int named = names.indexOf(token);
        if (named >= 0) {
            return named + nameBase;
        }
        try {
            return Integer.parseInt(token);
        } catch (NumberFormatException e) {
            if (token.matches("[+-]?\\d+")) {
                throw new IllegalArgumentException(what + " '" + part + "' is outside " + min + "-" + max);
            }
            throw new IllegalArgumentException(what + " '" + part + "' is not a number"
                    + (names.isEmpty() ? "" : " or a name (" + String.join(",", names) + ")"));
        }
    }
}
