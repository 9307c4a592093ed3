package io.runnerscale.text;

/**
 * How any input is quoted in a message, a log line or an answer: at most {@value #MAX_LENGTH}
 * characters, control characters replaced (no forged log lines), and the length said when cut.
 * One rule for the webhook, the lifecycle function and the local server.
 */
public final class Quoted {
    /** Longest part of an input value a message quotes. */
    public static final int MAX_LENGTH = 100;

    private Quoted() {
    }

    /** {@code value} bounded for a message; {@code "null"} for null. */
    public static String abbreviate(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(Math.min(value.length(), MAX_LENGTH) + 24);
        String head = cut(value, MAX_LENGTH);
        head.codePoints().forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        if (head.length() < value.length()) {
            out.append("... (").append(value.length()).append(" chars)");
        }
        return out.toString();
    }

    /** The first {@code max} characters of {@code text}, one fewer when the cut would split a surrogate pair. */
    public static String cut(String text, int max) {
        if (text == null || text.length() <= max) {
            return text;
        }
        int end = Character.isHighSurrogate(text.charAt(max - 1)) ? max - 1 : max;
        return text.substring(0, end);
    }
}
