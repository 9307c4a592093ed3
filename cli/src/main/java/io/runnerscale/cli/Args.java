package io.runnerscale.cli;

import io.runnerscale.pool.Durations;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/** {@code --name value}, {@code --name=value} and {@code --flag} options plus positional arguments, checked against what a command accepts. */
final class Args {
    private final Map<String, String> options = new HashMap<>();
    private final List<String> positional = new ArrayList<>();

    private Args() {
    }

    static Args parse(List<String> raw, Set<String> valued, Set<String> flags) {
        Args args = new Args();
        for (int i = 0; i < raw.size(); i++) {
            String arg = raw.get(i);
            if (!arg.startsWith("--")) {
                args.positional.add(arg);
                continue;
            }
            String name = arg.substring(2);
            String value = null;
            int equals = name.indexOf('=');
            if (equals >= 0) {
                value = name.substring(equals + 1);
                name = name.substring(0, equals);
            }
            if (flags.contains(name)) {
                if (value != null) {
                    throw new UsageException("--" + name + " takes no value");
                }
                args.options.put(name, "true");
            } else if (valued.contains(name)) {
                if (value == null) {
                    if (i + 1 >= raw.size()) {
                        throw new UsageException("--" + name + " needs a value");
                    }
                    value = raw.get(++i);
                }
                args.options.put(name, value);
            } else {
                throw new UsageException("unknown option --" + name);
            }
        }
        return args;
    }

    boolean flag(String name) {
        return options.containsKey(name);
    }

    String get(String name, String fallback) {
        return options.getOrDefault(name, fallback);
    }

    int integer(String name, int fallback) {
        return parsed(name, fallback, Integer::parseInt, "is not a whole number");
    }

    double number(String name, double fallback) {
        return parsed(name, fallback, Double::parseDouble, "is not a number");
    }

    Duration duration(String name, Duration fallback) {
        return parsed(name, fallback, Durations::parse, "is not a duration (use e.g. 90s, 10m, 1h30m)");
    }

    /** The option's value read by {@code parser}, or a usage error naming the option and the value. */
    private <T> T parsed(String name, T fallback, Function<String, T> parser, String problem) {
        String value = options.get(name);
        if (value == null) {
            return fallback;
        }
        try {
            return parser.apply(value);
        } catch (IllegalArgumentException e) { // NumberFormatException is one
            throw new UsageException("--" + name + ": '" + value + "' " + problem);
        }
    }

    List<String> positional() {
        return positional;
    }

    /** A command line that cannot run; printed with the command's usage, exit code 2. */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    /**
     * A finite number from {@code min} to {@code max}, or a usage error naming the option and the
     * range. NaN and the infinities are never in range, whatever the bounds.
     */
    double numberIn(String name, double fallback, double min, double max, String unit) {
        String value = options.get(name);
        if (value == null) {
            return fallback;
        }
        double number;
        try {
            number = Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            number = Double.NaN;
        }
        if (!(number >= min && number <= max)) { // also false for NaN
            throw new UsageException("--" + name + ": '" + shownValue(value) + "' is not a number from " + plain(min)
                    + " to " + plain(max) + " (" + unit + ")");
        }
        return number;
    }

    /** A duration from {@code min} to {@code max}, or a usage error naming the option and the range. */
    Duration durationIn(String name, Duration fallback, Duration min, Duration max) {
        String value = options.get(name);
        if (value == null) {
            return fallback;
        }
        Duration duration = null;
        try {
            duration = Durations.parse(value);
        } catch (IllegalArgumentException e) { // NumberFormatException is one
            // reported below with the range
        }
        if (duration == null || duration.compareTo(min) < 0 || duration.compareTo(max) > 0) {
            throw new UsageException("--" + name + ": '" + shownValue(value) + "' is not a duration from "
                    + Durations.format(min) + " to " + Durations.format(max) + " (use e.g. 90s, 10m, 1h30m)");
        }
        return duration;
    }

    /** Any whole number a {@code long} holds, or a usage error naming the option. */
    long longNumber(String name, long fallback) {
        String value = options.get(name);
        if (value == null) {
            return fallback;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + ": '" + shownValue(value) + "' is not a whole number from "
                    + Long.MIN_VALUE + " to " + Long.MAX_VALUE);
        }
    }

    /** An option value as a message may show it: at most 40 characters, no control characters. */
    static String shownValue(String value) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < value.length() && out.length() < 40; i++) {
            char c = value.charAt(i);
            out.append(Character.isISOControl(c) || Character.getType(c) == Character.FORMAT ? '?' : c);
        }
        return value.length() > 40 ? out + "... (" + value.length() + " chars)" : out.toString();
    }

    private static String plain(double number) {
        return java.math.BigDecimal.valueOf(number).stripTrailingZeros().toPlainString();
    }
}
