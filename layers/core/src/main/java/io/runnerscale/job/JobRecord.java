package io.runnerscale.job;

import java.time.Instant;
import java.util.List;

/**
 * What runnerscale knows about one job.
 *
 * @param pool null when no pool takes the job (or it was never needed)
 * @param tags null when unknown (GitLab's API could not be asked): the pool is then a fallback
 */
public record JobRecord(
        JobKey key,
        JobStatus status,
        String pool,
        List<String> tags,
        Long pipelineId,
        String name,
        Instant createdAt,
        Instant pendingAt,
        Instant startedAt,
        Instant finishedAt,
        Long runnerId,
        String instanceId,
        Instant updatedAt) {

    public JobRecord {
        tags = tags == null ? null : List.copyOf(tags);
    }
}
