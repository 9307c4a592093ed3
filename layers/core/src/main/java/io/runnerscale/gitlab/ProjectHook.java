package io.runnerscale.gitlab;

import java.time.Instant;

/**
 * A project hook as GitLab lists it.
 *
 * @param url           where it delivers (GitLab masks parts of it only when asked to)
 * @param jobEvents     whether it sends Job Hooks
 * @param alertStatus   {@code executable}, {@code temporarily_disabled} or {@code disabled} (GitLab
 *                      15.7+); null when GitLab did not say
 * @param disabledUntil when a temporarily disabled hook is tried again; null otherwise
 */
public record ProjectHook(long id, String url, boolean jobEvents, String alertStatus, Instant disabledUntil) {

    /** Whether GitLab has stopped delivering through this hook, for now or for good. */
    public boolean disabled() {
        return "temporarily_disabled".equals(alertStatus) || "disabled".equals(alertStatus);
    }
}
