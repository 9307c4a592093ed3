package io.runnerscale.lifecycle;

/**
 * A drain task failed for a reason that passes (GitLab 429/5xx/unreachable, AWS throttling): the
 * state machine retries it with backoff. Step Functions matches a Java Lambda's error by the
 * exception's class name, so the definition lists both {@code RetryableError} and this class's
 * full name. Any other exception is not retried.
 */
public class RetryableError extends RuntimeException {
    public RetryableError(String message) {
        super(message);
    }

    public RetryableError(String message, Throwable cause) {
        super(message, cause);
    }
}
