package io.runnerscale.gitlab;

import java.time.Duration;
import java.util.Optional;

/**
 * GitLab could not answer now (down, slow, 5xx, 429, unreachable): worth asking again later.
 * When GitLab said how long to wait (a 429's {@code Retry-After}), {@link #retryAfter()} carries it.
 */
public final class GitLabUnavailableException extends RuntimeException {
    private final transient Duration retryAfter;

    public GitLabUnavailableException(String message, Throwable cause) {
        this(message, cause, null);
    }

    public GitLabUnavailableException(String message, Throwable cause, Duration retryAfter) {
        super(message, cause);
        this.retryAfter = retryAfter;
    }

    /** How long GitLab asked callers to wait before the next request, when it said. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
