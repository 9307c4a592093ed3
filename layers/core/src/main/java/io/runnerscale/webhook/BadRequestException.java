package io.runnerscale.webhook;

/** A delivery that cannot be understood; answered with 400 and this message. */
public final class BadRequestException extends RuntimeException {
    private final String field;

    public BadRequestException(String message, String field) {
        super(message);
        this.field = field;
    }

    /** The JSON field that was missing or wrong, or null when the body as a whole was bad. */
    public String field() {
        return field;
    }
}
