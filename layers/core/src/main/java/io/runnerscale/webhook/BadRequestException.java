package io.runnerscale.webhook;

import io.runnerscale.text.Quoted;

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
    public static final int MAX_QUOTED_LENGTH = Quoted.MAX_LENGTH;

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
        return Quoted.abbreviate(value);
    }

    static String cut(String text, int max) {
        return Quoted.cut(text, max);
    }
}
