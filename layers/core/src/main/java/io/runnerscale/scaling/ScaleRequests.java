package io.runnerscale.scaling;

/**
 * Asks for a scaling decision for one pool soon (the fast path). Implementations never run two
 * decisions for one pool at once: an SQS FIFO message group per pool in AWS, one worker per pool locally.
 */
public interface ScaleRequests {

    /** @param dedupeId requests with the same id within a few minutes collapse into one */
    void request(String pool, String reason, String dedupeId);
}
