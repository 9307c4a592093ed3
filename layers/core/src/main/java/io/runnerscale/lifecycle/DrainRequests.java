package io.runnerscale.lifecycle;

import io.runnerscale.pool.PoolConfig;
import io.runnerscale.scaling.InstanceDrains;
import io.runnerscale.scaling.ScalingAction;
import io.runnerscale.store.InstanceLifecycle;
import io.runnerscale.store.InstanceLifecycleStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Starts drains: one execution per instance, reason and attempt
 * ({@code drain-<instance-id>-<reason>-<attempt>}), so a repeated event or decision finds the drain
 * that runs already. The lifecycle function starts drains for AWS's events (terminate hook, spot,
 * rebalance); the scaler for its own choices (scale-in, retirement, boot timeout), through
 * {@link InstanceDrains}.
 */
public final class DrainRequests implements InstanceDrains {
    private static final Logger LOG = LoggerFactory.getLogger(DrainRequests.class);
    /** How often a drain re-checks running jobs (and heartbeats a held hook: well inside its 600 s). */
    static final int HEARTBEAT_SECONDS = 60;
    /** Spot: the 100 s deadline must be noticed in time, and the 2 minutes are nearly gone by then. */
    static final int SPOT_HEARTBEAT_SECONDS = 10;
    /** A drain name that ended is skipped for the next attempt; more in a row means something else is wrong. */
    private static final int MAX_NAME_TRIES = 3;

    public enum Result {
        STARTED,
        /** A drain of this instance for this reason runs already. */
        ALREADY_RUNNING,
        /** The instance is gone already, or another drain owns it: nothing started. */
        IGNORED_GONE
    }

    private final InstanceLifecycleStore store;
    private final DrainStarter starter;
    private final Duration jobTimeout;
    private final Clock clock;

    public DrainRequests(InstanceLifecycleStore store, DrainStarter starter, Duration jobTimeout, Clock clock) {
        this.store = store;
        this.starter = starter;
        this.jobTimeout = jobTimeout;
        this.clock = clock;
    }

    /**
     * The scaler's request. An instance another drain owns already (state draining, e.g. a spot
     * drain) or that is gone is left alone: two drains of one instance could undo each other's pause.
     */
    @Override
    public void drain(PoolConfig pool, String instanceId, ScalingAction.Reason reason) {
        if (!(pool.backend() instanceof PoolConfig.Ec2Asg ec2)) {
            throw new IllegalArgumentException("pool '" + pool.name() + "' has backend " + pool.backend().type()
                    + ": only EC2 Auto Scaling pools are drained");
        }
        Optional<InstanceLifecycle> record = store.lifecycle(instanceId);
        if (record.isPresent() && record.get().state() != null && record.get().state().draining()) {
            LOG.info("pool {}: {} is draining already; no {} drain started", pool.name(), instanceId,
                    reasonOf(reason).wireName());
            return;
        }
        start(instanceId, pool.name(), ec2.asg(), reasonOf(reason), null, clock.instant(), record);
    }

    /** The drain reason of a scaler's choice. */
    public static DrainReason reasonOf(ScalingAction.Reason reason) {
        return switch (reason) {
            case IDLE -> DrainReason.SCALE_IN;
            case RETIRED -> DrainReason.RETIRED;
            case BOOT_TIMEOUT -> DrainReason.BOOT_TIMEOUT;
            case OUTDATED -> DrainReason.OUTDATED;
        };
    }

    /**
     * Starts the drain of {@code instanceId} unless one of that name runs already.
     *
     * @param hook     the terminate lifecycle action holding the instance, or null
     * @param record   the instance's lifecycle record as read by the caller
     */
    public Result start(String instanceId, String pool, String asg, DrainReason reason, LifecycleHook hook,
                        Instant startedAt, Optional<InstanceLifecycle> record) {
        if (record.isPresent() && (record.get().state() == InstanceState.GONE
                || record.get().state() == InstanceState.RETURNING)) {
            // returning: drained already (no runner, no token) and on its way to the warm pool
            return Result.IGNORED_GONE;
        }
        Drain drain = Drain.start(instanceId, pool, asg, record.map(InstanceLifecycle::runnerId).orElse(null), reason,
                hook, startedAt, jobTimeout, heartbeatSeconds(reason), List.of());
        int attempt = record.map(InstanceLifecycle::drainAttempt).orElse(1);
        for (int tries = 0; tries < MAX_NAME_TRIES; tries++) {
            switch (starter.start(drain, attempt)) {
                case STARTED -> {
                    LOG.info("drain {} started", DrainStarter.executionName(drain, attempt));
                    return Result.STARTED;
                }
                case ALREADY_RUNNING -> {
                    return Result.ALREADY_RUNNING;
                }
                case NAME_USED -> attempt = store.nextDrainAttempt(instanceId);
            }
        }
        throw new IllegalStateException("drain of " + instanceId + " (" + reason.wireName() + "): " + MAX_NAME_TRIES
                + " execution names in a row were used already");
    }

    static int heartbeatSeconds(DrainReason reason) {
        return reason == DrainReason.SPOT ? SPOT_HEARTBEAT_SECONDS : HEARTBEAT_SECONDS;
    }
}
