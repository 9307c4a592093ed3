package io.runnerscale.store;

import io.runnerscale.lifecycle.InstanceState;

import java.time.Instant;
import java.util.Optional;

/**
 * The lifecycle function's part of {@code INST#<id>}: the instance's runner, its state, whether its
 * runner is paused and its drain attempt. A separate port from {@link JobStore} so the job store's
 * other implementations need nothing new; {@link DynamoJobStore} and {@link InMemoryJobStore}
 * implement both on the same items.
 */
public interface InstanceLifecycleStore {

    Optional<InstanceLifecycle> lifecycle(String instanceId);

    /**
     * Records the instance in {@code pool} (indexed like {@link JobStore#recordInstance}, launched
     * {@code now} unless known) with {@code state} and {@code runnerId}; a null runner id removes it.
     */
    void recordRunner(String instanceId, String pool, Long runnerId, InstanceState state, Instant now);

    /**
     * Claims the launch of an instance for one handler: succeeds when the instance has no state yet,
     * or is still launching and its previous claim is older than {@code lease} (that handler died).
     * Two copies of a launch event handled at once: only one creates a runner.
     *
     * @return false when another handler holds a live claim, or the instance is past launching
     */
    boolean claimLaunch(String instanceId, String pool, Instant now, java.time.Duration lease);

    /**
     * Records an instance launched into the Auto Scaling group's warm pool: state warm, no runner.
     * Only when the instance has no state yet or is warm already: a late or repeated warm-launch event
     * must not undo a resume, a drain or a tombstone that came after it.
     *
     * @param since when it went warm (the warm-launch event's time): a resume event from before that
     *              is stale ({@link #resumeFromWarm})
     * @return false (nothing written) when the instance is past that, or went warm again after {@code since}
     */
    boolean markWarm(String instanceId, String pool, Instant since);

    /**
     * A drained instance the group returns to its warm pool: state warm (its runner is deleted already),
     * warm {@code since} now; the next drain of it needs a new execution name, so its attempt moves on.
     */
    void returnToWarm(String instanceId, String pool, Instant since);

    /**
     * A drained instance whose scale-in drain returns it to the warm pool: state returning, since
     * {@code since} (what the orphan sweep's grace time counts from). Only from draining or returning
     * (a repeated Terminate task): a spot warning (interrupted) or a drain's end that came meanwhile
     * owns the instance, and then it is terminated as usual.
     *
     * @return false (nothing written) when the instance is in another state; a repeat keeps the first {@code since}
     */
    boolean markReturning(String instanceId, Instant since);

    /** When the instance was marked returning ({@link #markReturning}), or empty. */
    Optional<Instant> returningSince(String instanceId);

    /**
     * A warm instance leaves the warm pool for the group: warm → launching, with {@code now} as its
     * launch time and no job finished on it yet, so the scaler's boot timeout and idle clock start at
     * the resume, not at its first launch into the warm pool (possibly days ago). Any launch claim left
     * from its first life is dropped.
     *
     * @param eventTime the resume event's time: an event from before the instance last went warm is a
     *                  late copy of an earlier resume (the instance is stopped in the warm pool now, and a
     *                  runner made for it would sit there unused); null skips the check
     * @return false (nothing written) when the instance is not warm, or the event is stale
     */
    boolean resumeFromWarm(String instanceId, Instant now, Instant eventTime);

    /** Gives a claim up early (its handler failed), so a retry of the event need not wait out the lease. */
    void releaseLaunch(String instanceId);

    /** Moves a known instance from {@code expected} to {@code next}; false (nothing written) when it is not in {@code expected}. */
    boolean advanceState(String instanceId, InstanceState expected, InstanceState next);

    /** Sets the state of a known instance; false (nothing written) when the instance is unknown. */
    boolean setState(String instanceId, InstanceState state);

    /** Remembers whether runnerscale paused the instance's runner (an unknown instance is recorded bare). */
    void setRunnerPaused(String instanceId, boolean paused);

    /** The runner was deleted: forget its id and pause. */
    void clearRunner(String instanceId);

    /**
     * Records an instance without lifecycle state (none, or only the scaler's view of it) as gone: a
     * spot warning that came before its launch event was handled, so a launch handled later creates
     * no runner for it. The record leaves the pool's index, as every gone instance's does.
     *
     * @return false (nothing written) when the instance has lifecycle state
     */
    boolean markGoneIfUnknown(String instanceId, Instant now);

    /** Moves the drain attempt on by one (from 1) and returns the new number. */
    int nextDrainAttempt(String instanceId);
}
