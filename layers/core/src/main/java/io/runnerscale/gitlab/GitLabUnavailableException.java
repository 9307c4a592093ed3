package io.runnerscale.gitlab;

public final class GitLabUnavailableException extends RuntimeException {
    public GitLabUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
