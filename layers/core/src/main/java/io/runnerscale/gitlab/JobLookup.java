package io.runnerscale.gitlab;

import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;

import java.util.Objects;

/** What GitLab answered about one job. */
public sealed interface JobLookup {

    JobKey key();

    /** GitLab has the job: its state now, with its tags when the answer listed readable ones (else null). */
    record Found(JobEvent event) implements JobLookup {
        public Found {
            Objects.requireNonNull(event, "event");
        }

        @Override
        public JobKey key() {
            return event.key();
        }
    }

    /**
     * GitLab answered 404. {@code projectMissing} when GitLab said the project is not found
     * ({@code 404 Project Not Found}): the project was deleted, or the token cannot see it, which
     * GitLab does not tell apart. Otherwise the project is there and the job is not (its pipeline
     * was deleted).
     *
     * @param message GitLab's own message, abbreviated
     */
    record Gone(JobKey key, boolean projectMissing, String message) implements JobLookup {
    }

    /** GitLab answered 200 with something that is not this job (no or an unknown status, another id, not JSON). */
    record Unreadable(JobKey key, String problem) implements JobLookup {
    }
}
