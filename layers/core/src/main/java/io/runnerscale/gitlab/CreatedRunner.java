package io.runnerscale.gitlab;

/**
 * A runner GitLab just created, with its authentication token ({@code glrt-...}). GitLab shows the
 * token this once: it goes straight to the instance's SSM SecureString and nowhere else.
 */
public record CreatedRunner(long id, String token) {

    /** The token is left out on purpose: records print their fields, and logs print records. */
    @Override
    public String toString() {
        return "CreatedRunner[id=" + id + "]";
    }
}
