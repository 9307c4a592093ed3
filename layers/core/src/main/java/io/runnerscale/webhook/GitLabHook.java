package io.runnerscale.webhook;

import io.runnerscale.job.JobEvent;

import java.util.List;

/**
 * A parsed webhook delivery. Its notes and reasons go into responses, so each is bounded to
 * {@link BadRequestException#MAX_MESSAGE_LENGTH} characters whoever built it.
 */
public sealed interface GitLabHook {

    /** Job updates: one for a Job Hook, one per listed build for a Pipeline Hook. */
    record JobUpdates(String kind, List<JobEvent> events, List<String> skipped) implements GitLabHook {
        public JobUpdates {
            events = List.copyOf(events);
            skipped = skipped.stream().map(note -> BadRequestException.cut(note, BadRequestException.MAX_MESSAGE_LENGTH))
                    .toList();
        }
    }

    /** An authentic delivery runnerscale has no use for (answered 200 so GitLab keeps the hook enabled). */
    record Ignored(String reason) implements GitLabHook {
        public Ignored {
            reason = BadRequestException.cut(reason, BadRequestException.MAX_MESSAGE_LENGTH);
        }
    }
}
