package io.runnerscale.scaling;

import java.time.Duration;
import java.time.Instant;

/**
 * One instance of a pool as the scaling policy sees it.
 *
 * @param ready        the instance is in service (its runner can take jobs); false while booting
 * @param launchedAt   when it was launched (or first seen), null if unknown
 * @param runningJobs  jobs running on it now
 * @param lastJobFinishedAt when its last job finished; null if it never ran one
 * @param useCount     jobs it has finished
 * @param stateKnown   false while it may run jobs runnerscale has not seen (it was there before
 *                     runnerscale watched its pool, or the pool went unwatched): never scaled in then
 * @param draining     a drain runs on it: it takes no new job and is leaving, so it gives no slots
 *                     and is never chosen again (its drain decides when it goes)
 * @param outdated     launched from a launch template version its group no longer launches: it gives
 *                     no slots and retires once idle (a rolling upgrade)
 * @param interrupted  draining after a spot interruption warning: its running jobs will be cancelled
 *                     and retried, so they are not served there but need slots elsewhere at once
 */
public record InstanceView(String id, boolean ready, Instant launchedAt, int runningJobs,
                           Instant lastJobFinishedAt, int useCount, boolean stateKnown, boolean draining,
                           boolean outdated, boolean interrupted) {

    public InstanceView(String id, boolean ready, Instant launchedAt, int runningJobs, Instant lastJobFinishedAt,
                        int useCount, boolean stateKnown, boolean draining, boolean outdated) {
        this(id, ready, launchedAt, runningJobs, lastJobFinishedAt, useCount, stateKnown, draining, outdated, false);
    }

    /** An instance whose jobs runnerscale has seen all along, not draining. */
    public InstanceView(String id, boolean ready, Instant launchedAt, int runningJobs, Instant lastJobFinishedAt,
                        int useCount) {
        this(id, ready, launchedAt, runningJobs, lastJobFinishedAt, useCount, true, false, false);
    }

    /** Not draining. */
    public InstanceView(String id, boolean ready, Instant launchedAt, int runningJobs, Instant lastJobFinishedAt,
                        int useCount, boolean stateKnown) {
        this(id, ready, launchedAt, runningJobs, lastJobFinishedAt, useCount, stateKnown, false, false);
    }

    /** Not outdated. */
    public InstanceView(String id, boolean ready, Instant launchedAt, int runningJobs, Instant lastJobFinishedAt,
                        int useCount, boolean stateKnown, boolean draining) {
        this(id, ready, launchedAt, runningJobs, lastJobFinishedAt, useCount, stateKnown, draining, false);
    }

    public boolean busy() {
        return runningJobs > 0;
    }

    /** How long it has been idle: since its last job, or since launch if it never ran one. */
    public Duration idleFor(Instant now) {
        if (busy()) {
            return Duration.ZERO;
        }
        Instant since = lastJobFinishedAt != null ? lastJobFinishedAt : launchedAt;
        if (since == null || since.isAfter(now)) {
            return Duration.ZERO;
        }
        return Duration.between(since, now);
    }
}
