package io.runnerscale.store;

import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Job, instance and delivery state (one DynamoDB table in AWS). */
public interface JobStore {

    /**
     * Records the event if it moves the job forward (one conditional write). A finished job on one
     * of runnerscale's instances also counts a use of that instance, in the same write, and makes
     * the instance idle since {@code now}: decisions use the time the event was received, never a
     * time from the payload, which could lie in the future (an instance kept for good) or far in
     * the past (one terminated at once); the payload's times are stored as sent.
     *
     * @param pool the job's pool, or null when no pool takes it
     */
    ApplyOutcome apply(JobEvent event, String pool, Instant now);

    Optional<JobRecord> find(JobKey key);

    /** Marks a delivery as processed; false when it was marked before (a duplicate). */
    boolean claimDelivery(String deliveryId, Instant now);

    /**
     * Whether a delivery was already processed: a consistent read, so a resend is answered without
     * applying it again. Stores that cannot tell cheaply answer false (the delivery is then applied
     * again, which changes nothing, and {@link #claimDelivery} reports the duplicate).
     */
    default boolean deliveryRecorded(String deliveryId) {
        return false;
    }

    /** Undoes {@link #claimDelivery} when the delivery could not be stored, so a resend is processed. */
    void releaseDelivery(String deliveryId);

    /** Pending and running jobs of a pool. */
    List<JobRecord> liveJobs(String pool);

    /** Instances runnerscale has seen in a pool. */
    List<InstanceRecord> instances(String pool);

    /** Remembers an instance the first time it is seen (no-op when already known). */
    default boolean recordInstance(String pool, String instanceId, Instant launchedAt) {
        return recordInstance(pool, instanceId, launchedAt, null);
    }

    /**
     * Remembers an instance the first time it is seen.
     *
     * @param unknownSince non-null when runnerscale may have missed its jobs (see {@link InstanceRecord#unknownSince()})
     * @return false (nothing written) when the instance is gone already (its record is a tombstone,
     *         out of the pool's index) though its group still lists it: it is leaving
     */
    boolean recordInstance(String pool, String instanceId, Instant launchedAt, Instant unknownSince);

    /** Marks a known instance as possibly busy with jobs runnerscale did not see, from {@code since}. */
    void markStateUnknown(String instanceId, Instant since);

    /**
     * Records that a decision for the pool looked at its instances now, and returns when the
     * previous one did (empty the first time): a long gap means job events may have been missed.
     */
    Optional<Instant> observePool(String pool, Instant now);

    /** Forgets an instance that left its group. */
    void forgetInstance(String instanceId);

    sealed interface ApplyOutcome {
        /** The job moved from {@code previous} (null when new) to the event's status. */
        record Applied(JobStatus previous, JobRecord record) implements ApplyOutcome {
        }

        /** The record is already at {@code current}, as far or further than the event: nothing written. */
        record Stale(JobStatus current) implements ApplyOutcome {
        }
    }
}
