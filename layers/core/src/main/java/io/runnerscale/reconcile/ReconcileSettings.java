package io.runnerscale.reconcile;

import java.time.Duration;
import java.util.Objects;

/**
 * How the reconciler decides which live jobs to read back from GitLab, and how much it may ask.
 *
 * @param pendingAfter     a pending job whose last event is at least this old is read back: a lost
 *                         {@code running} (or a lost finish) leaves it waiting for capacity forever
 * @param runningAfter     the same for a running job; GitLab's default job timeout (1 h), since a
 *                         job running longer is either slow or finished with its hook lost
 * @param cancelingAfter   the same for a canceling job (GitLab cancels within minutes)
 * @param budget           most GitLab calls in one run; the stale jobs left over are the oldest next run
 * @param projectGoneAfter a job whose project GitLab says is not found is taken for gone only once its
 *                         last event is this old: GitLab answers the same 404 when the token cannot see
 *                         the project, and a token change must not finish every job of a project at once
 * @param maxListedRepairs repairs logged one by one and listed in the report; the rest are counted
 */
public record ReconcileSettings(
        Duration pendingAfter,
        Duration runningAfter,
        Duration cancelingAfter,
        int budget,
        Duration projectGoneAfter,
        int maxListedRepairs) {

    public static final ReconcileSettings DEFAULTS = new ReconcileSettings(
            Duration.ofMinutes(5), Duration.ofHours(1), Duration.ofMinutes(10), 100, Duration.ofHours(24), 50);

    public ReconcileSettings {
        Objects.requireNonNull(pendingAfter, "pendingAfter");
        Objects.requireNonNull(runningAfter, "runningAfter");
        Objects.requireNonNull(cancelingAfter, "cancelingAfter");
        Objects.requireNonNull(projectGoneAfter, "projectGoneAfter");
        if (pendingAfter.isNegative() || runningAfter.isNegative() || cancelingAfter.isNegative()
                || projectGoneAfter.isNegative()) {
            throw new IllegalArgumentException("reconciler thresholds must not be negative");
        }
        if (budget < 0 || maxListedRepairs < 0) {
            throw new IllegalArgumentException("reconciler budget and listed repairs must not be negative");
        }
    }

    public ReconcileSettings withBudget(int calls) {
        return new ReconcileSettings(pendingAfter, runningAfter, cancelingAfter, calls, projectGoneAfter,
                maxListedRepairs);
    }
}
