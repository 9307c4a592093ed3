package io.runnerscale.pool;

import java.util.List;

/** A pools file that cannot be used; every message names the pool and the field. */
public final class ConfigException extends RuntimeException {
    /** How much of a value from the file a message repeats: enough to recognise it, never the whole input. */
    static final int ECHO_LIMIT = 100;

    private final List<String> problems;

    public ConfigException(String source, List<String> problems) {
        super("invalid pools configuration " + source + ":\n  - " + String.join("\n  - ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }

    /** {@code text} on one line, cut to about 100 characters ("..." marks the cut), for error messages. */
    public static String abbreviate(String text) {
        if (text == null) {
            return "null";
        }
        String oneLine = text.replaceAll("[\\r\\n\\t]+", " ");
        return oneLine.length() <= ECHO_LIMIT ? oneLine : oneLine.substring(0, ECHO_LIMIT - 3) + "...";
    }
}
