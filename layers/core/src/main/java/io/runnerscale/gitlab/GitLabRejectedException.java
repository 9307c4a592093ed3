package io.runnerscale.gitlab;

/**
 * GitLab answered and refused the request (401, 403, 400, 404 where a missing thing is an error,
 * 422, a redirect): asking again with the same token and request gets the same answer, so it is
 * not retried. The message names the endpoint, the status and, for 401/403, the token scope and
 * role the call needs; never the token.
 */
public final class GitLabRejectedException extends RuntimeException {
    private final int status;

    public GitLabRejectedException(String message, int status) {
        super(message);
        this.status = status;
    }

    /** The HTTP status GitLab answered. */
    public int status() {
        return status;
    }
}
