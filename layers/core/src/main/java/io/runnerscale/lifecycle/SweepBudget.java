package io.runnerscale.lifecycle;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * One sweep run's budget of actions and time ({@link OrphanSweep}, {@link TaskSweep}): spending past
 * it ends the run by throwing {@link Spent}, which the run catches; the next run continues.
 */
final class SweepBudget {
    private static final Logger LOG = LoggerFactory.getLogger(SweepBudget.class);

    /** Thrown when the budget is spent; ends the run, not an error. */
    static final class Spent extends RuntimeException {
        Spent() {
            super(null, null, false, false);
        }
    }

    private final String sweep;
    private final Clock clock;
    private final int maxActions;
    private final Instant started;
    private final Instant deadline;
    private int actions;

    SweepBudget(String sweep, Clock clock, int maxActions, Duration timeBudget) {
        this.sweep = sweep;
        this.clock = clock;
        this.maxActions = maxActions;
        this.started = clock.instant();
        this.deadline = started.plus(timeBudget);
    }

    /** Counts one action, or ends the run before {@code what} when the budget is spent. */
    void spend(String what) {
        if (actions >= maxActions || !clock.instant().isBefore(deadline)) {
            LOG.warn("{}: cut short before {} ({} actions, {} ms); the next run continues", sweep, what, actions,
                    Duration.between(started, clock.instant()).toMillis());
            throw new Spent();
        }
        actions++;
    }
}
