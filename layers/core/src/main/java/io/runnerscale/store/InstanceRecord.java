package io.runnerscale.store;

import io.runnerscale.lifecycle.InstanceState;

import java.time.Instant;

/**
 * What runnerscale remembers of an instance between decisions: when it came, how often it was used.
 *
 * @param unknownSince set when runnerscale could have missed jobs on the instance (it was already
 *                     there when runnerscale began watching its pool, or the pool went unwatched for
 *                     a while): from then until a job is seen finishing on it, nothing says it is
 *                     idle. Null when its state is known.
 * @param state        its lifecycle state ({@link InstanceLifecycle}); null for an instance only the
 *                     scaler has seen (no runner created by runnerscale)
 */
public record InstanceRecord(String instanceId, String pool, Instant launchedAt, int useCount,
                             Instant lastJobFinishedAt, Instant unknownSince, InstanceState state) {

    public InstanceRecord(String instanceId, String pool, Instant launchedAt, int useCount, Instant lastJobFinishedAt) {
        this(instanceId, pool, launchedAt, useCount, lastJobFinishedAt, null, null);
    }

    public InstanceRecord(String instanceId, String pool, Instant launchedAt, int useCount, Instant lastJobFinishedAt,
                          Instant unknownSince) {
        this(instanceId, pool, launchedAt, useCount, lastJobFinishedAt, unknownSince, null);
    }

    /** Whether its jobs are known: never in doubt, or a job finished on it after the doubt began. */
    public boolean stateKnown() {
        return unknownSince == null || lastJobFinishedAt != null && !lastJobFinishedAt.isBefore(unknownSince);
    }

    /** A drain owns it: the scaler neither counts it as capacity nor chooses it again. */
    public boolean draining() {
        return state != null && state.draining();
    }

    /**
     * Leaving: a drain owns it, or it is gone already though its group still lists it (terminating,
     * or a launch abandoned after a spot warning). The scaler gives it no slots and never picks it.
     */
    public boolean leaving() {
        return draining() || state == InstanceState.GONE;
    }

    /** Interrupted (spot): its running jobs will be retried elsewhere, so they need capacity now. */
    public boolean interrupted() {
        return state == InstanceState.INTERRUPTED;
    }

    /**
     * Whether the scaler may forget it once its group no longer lists it: only an instance that never
     * had lifecycle state (no runner of runnerscale's). A terminating instance leaves the group's list
     * while its drain still needs the record, the orphan sweep cleans up after failed ones, and a gone
     * instance's record is its tombstone: a launch event handled late (Lambda retries it for minutes)
     * must find the instance gone, or it would create a runner nobody deletes. Tombstones leave the
     * pool's index at once and expire by TTL.
     */
    public boolean forgettable() {
        return state == null;
    }
}
