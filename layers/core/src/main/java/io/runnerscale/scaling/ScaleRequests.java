package io.runnerscale.scaling;

import io.runnerscale.job.JobKey;

import java.util.List;

/**
 * Asks for a scaling decision for one pool soon (the fast path). Implementations never run two
 * decisions for one pool at once: an SQS FIFO message group per pool in AWS, one worker per pool locally.
 */
public interface ScaleRequests {

    /** @param dedupeId requests with the same id within a few minutes collapse into one */
    void request(String pool, String reason, String dedupeId);

    /**
     * Same, naming the jobs that prompted it, so the decision can read them directly: a
     * secondary index (how a decision finds live jobs) may lag a write by a moment.
     */
    default void request(String pool, String reason, String dedupeId, List<JobKey> jobs) {
        request(pool, reason, dedupeId);
    }
}
