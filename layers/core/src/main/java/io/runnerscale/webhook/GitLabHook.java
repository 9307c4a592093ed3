package io.runnerscale.webhook;

import io.runnerscale.job.JobEvent;

import java.util.List;

/** A parsed webhook delivery. */
public sealed interface GitLabHook {

    /** Job updates: one for a Job Hook, one per listed build for a Pipeline Hook. */
    record JobUpdates(String kind, List<JobEvent> events, List<String> skipped) implements GitLabHook {
        public JobUpdates {
            events = List.copyOf(events);
            skipped = List.copyOf(skipped);
        }
    }

    /** An authentic delivery runnerscale has no use for (answered 200 so GitLab keeps the hook enabled). */
    record Ignored(String reason) implements GitLabHook {
    }
}
