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
}
