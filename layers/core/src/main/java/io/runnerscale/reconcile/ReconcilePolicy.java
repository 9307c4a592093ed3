package io.runnerscale.reconcile;

import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The reconciler's decisions, pure: which live jobs to read back, in which order, and what a job
 * GitLab no longer has becomes.
 *
 * <ul>
 *   <li>A live job is <em>stale</em> when its last event ({@link JobRecord#updatedAt()}, the time
 *       runnerscale last wrote it) is at least the threshold of its status old: pending
 *       {@link ReconcileSettings#pendingAfter()}, running {@link ReconcileSettings#runningAfter()},
 *       canceling {@link ReconcileSettings#cancelingAfter()}. A record without that time is stale.</li>
 *   <li>A job found unchanged is left alone until its threshold has passed again ({@code quietUntil}):
 *       a long job legitimately running past the threshold would otherwise be the oldest every run
 *       and spend the budget that stale pending jobs need.</li>
 *   <li>Stale jobs of all pools are read back oldest last event first, across pools, so one busy
 *       pool cannot starve another, and a run cut short (budget, 429, 5xx) resumes with the oldest
 *       next time without remembering anything.</li>
 *   <li>A job GitLab answers 404 for is gone: it becomes {@link JobStatus#CANCELED} with failure
 *       reason {@value #GONE_REASON}. Canceled, because it will never run or finish: failed would
 *       count as a job failure, success would be a lie, and leaving it live would keep capacity
 *       (and money) for it forever. When GitLab says the <em>project</em> is not found (deleted, or
 *       the token cannot see it: the same 404), only once the last event is
 *       {@link ReconcileSettings#projectGoneAfter()} old.</li>
 * </ul>
 */
public final class ReconcilePolicy {
    /** The failure reason a gone job's record carries: not one of GitLab's, so it is told apart. */
    public static final String GONE_REASON = "runnerscale_gone_from_gitlab";

    private ReconcilePolicy() {
    }

    /** A live job of a pool. */
    public record PoolJob(String pool, JobRecord job) {
    }

    /** @return how old a job's last event must be for it to be read back; null for a status that is not live */
    public static Duration threshold(JobStatus status, ReconcileSettings settings) {
        return switch (status) {
            case PENDING -> settings.pendingAfter();
            case RUNNING -> settings.runningAfter();
            case CANCELING -> settings.cancelingAfter();
            default -> null;
        };
    }

    public static boolean isStale(JobRecord job, Instant now, ReconcileSettings settings) {
        Duration threshold = threshold(job.status(), settings);
        if (threshold == null) {
            return false;
        }
        return job.updatedAt() == null || !job.updatedAt().plus(threshold).isAfter(now);
    }

    /**
     * The stale jobs to read back, oldest last event first (ties by job key, so the order is the
     * same every run); jobs found unchanged earlier are skipped until their {@code quietUntil}.
     */
    public static List<PoolJob> stale(List<PoolJob> live, Instant now, ReconcileSettings settings,
                                      Map<JobKey, Instant> quietUntil) {
        List<PoolJob> stale = new ArrayList<>();
        for (PoolJob candidate : live) {
            JobRecord job = candidate.job();
            Instant quiet = quietUntil.get(job.key());
            if (isStale(job, now, settings) && (quiet == null || !now.isBefore(quiet))) {
                stale.add(candidate);
            }
        }
        stale.sort(Comparator.comparing((PoolJob c) -> c.job().updatedAt() == null ? Instant.MIN : c.job().updatedAt())
                .thenComparingLong(c -> c.job().key().projectId())
                .thenComparingLong(c -> c.job().key().jobId()));
        return stale;
    }

    /** Whether a job whose project GitLab does not find is taken for gone now. */
    public static boolean projectGone(JobRecord job, Instant now, ReconcileSettings settings) {
        return job.updatedAt() == null || !job.updatedAt().plus(settings.projectGoneAfter()).isAfter(now);
    }

    /**
     * The event that ends a job GitLab no longer has: canceled, with what the record knows. Its
     * instance (when it ran on one) is named, so the store counts the use and the instance is idle
     * from now, as after any finished job; no finish time is made up.
     */
    public static JobEvent goneEvent(JobRecord job) {
        return new JobEvent(job.key(), JobStatus.CANCELED, job.pipelineId(), job.name(), null, job.createdAt(),
                job.startedAt(), null, null, job.runnerId(), job.instanceId(), GONE_REASON, job.tags());
    }

    /** What kind of repair moving a job to {@code to} is. */
    public static ReconcileReport.Kind repairKind(JobStatus to) {
        if (to.isTerminal()) {
            return ReconcileReport.Kind.TO_FINISHED;
        }
        return switch (to) {
            case RUNNING -> ReconcileReport.Kind.TO_RUNNING;
            case CANCELING -> ReconcileReport.Kind.TO_CANCELING;
            // a live job moves only forward: pending, running, canceling or finished
            default -> ReconcileReport.Kind.UNCHANGED;
        };
    }
}
