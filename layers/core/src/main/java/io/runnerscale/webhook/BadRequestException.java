package io.runnerscale.webhook;

/**
 * A delivery that cannot be understood; answered with 400 and this message.
 *
 * <p>The message goes back to whoever sent the delivery and may be logged, so it never carries a
 * value of the delivery whole: values are {@linkplain #abbreviate abbreviated}, and the message
 * as a whole is cut at {@link #MAX_MESSAGE_LENGTH} characters.
 */
public final class BadRequestException extends RuntimeException {
    /** Longest message (and longest ignored reason or skipped note) a response carries. */
    public static final int MAX_MESSAGE_LENGTH = 300;
    /** Longest part of an input value a message quotes. */
    public static final int MAX_QUOTED_LENGTH = 100;

    private final String field;

    public BadRequestException(String message, String field) {
        super(cut(message, MAX_MESSAGE_LENGTH));
        this.field = field == null ? null : cut(field, MAX_QUOTED_LENGTH);
    }

    /** The JSON field that was missing or wrong, or null when the body as a whole was bad. */
    public String field() {
        return field;
    }

    /**
     * An input value as a message may quote it: at most {@link #MAX_QUOTED_LENGTH} of its
     * characters, then how long it was; control characters (line breaks that would forge log lines)
     * become {@code ?}.
     */
    public static String abbreviate(String value) {
        if (value == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder(Math.min(value.length(), MAX_QUOTED_LENGTH) + 24);
        String head = cut(value, MAX_QUOTED_LENGTH);
        head.codePoints().forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        if (head.length() < value.length()) {
            out.append("... (").append(value.length()).append(" chars)");
        }
        return out.toString();
    }

    /** The first {@code max} characters of {@code text}, one fewer when the cut would split a surrogate pair. */
    static String cut(String text, int max) {
        if (text == null || text.length() <= max) {
            return text;
        }
        int end = Character.isHighSurrogate(text.charAt(max - 1)) ? max - 1 : max;
        return text.substring(0, end);
    }
}
