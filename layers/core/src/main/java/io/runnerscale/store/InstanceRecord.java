package io.runnerscale.store;

import java.time.Instant;

/**
 * What runnerscale remembers of an instance between decisions: when it came, how often it was used.
 *
 * @param unknownSince set when runnerscale could have missed jobs on the instance (it was already
 *                     there when runnerscale began watching its pool, or the pool went unwatched for
 *                     a while): from then until a job is seen finishing on it, nothing says it is
 *                     idle. Null when its state is known.
 */
public record InstanceRecord(String instanceId, String pool, Instant launchedAt, int useCount,
                             Instant lastJobFinishedAt, Instant unknownSince) {

    public InstanceRecord(String instanceId, String pool, Instant launchedAt, int useCount, Instant lastJobFinishedAt) {
        this(instanceId, pool, launchedAt, useCount, lastJobFinishedAt, null);
    }

    /** Whether its jobs are known: never in doubt, or a job finished on it after the doubt began. */
    public boolean stateKnown() {
        return unknownSince == null || lastJobFinishedAt != null && !lastJobFinishedAt.isBefore(unknownSince);
    }
}
