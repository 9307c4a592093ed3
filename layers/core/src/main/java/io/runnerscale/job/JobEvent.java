package io.runnerscale.job;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One job's state as reported by a GitLab hook (a Job Hook, or one entry of a Pipeline Hook's
 * {@code builds[]}). Fields GitLab did not send are null.
 *
 * @param tags             the job's tags when the payload carries them (GitLab's hooks usually
 *                         don't: then null, and the pool is found through the API)
 * @param runnerDescription for runnerscale's own runners, the EC2 instance id or task id
 */
public record JobEvent(
        JobKey key,
        JobStatus status,
        Long pipelineId,
        String name,
        String stage,
        Instant createdAt,
        Instant startedAt,
        Instant finishedAt,
        Double queuedDurationSeconds,
        Long runnerId,
        String runnerDescription,
        String failureReason,
        List<String> tags) {

    public JobEvent {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(status, "status");
        tags = tags == null ? null : List.copyOf(tags);
    }

    public JobEvent withTags(List<String> knownTags) {
        return new JobEvent(key, status, pipelineId, name, stage, createdAt, startedAt, finishedAt,
                queuedDurationSeconds, runnerId, runnerDescription, failureReason, knownTags);
    }

    /** The EC2 instance id the job runs on, when its runner is one of runnerscale's per-instance runners. */
    public String instanceId() {
        return InstanceIds.isInstanceId(runnerDescription) ? runnerDescription.trim() : null;
    }
}
