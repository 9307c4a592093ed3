package io.runnerscale.reconcile;

import io.runnerscale.gitlab.GitLabJobs;
import io.runnerscale.gitlab.GitLabRejectedException;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.gitlab.JobLookup;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.reconcile.ReconcilePolicy.PoolJob;
import io.runnerscale.reconcile.ReconcileReport.Kind;
import io.runnerscale.reconcile.ReconcileReport.Repair;
import io.runnerscale.reconcile.ReconcileReport.Stop;
import io.runnerscale.store.JobStore;
import io.runnerscale.store.JobStore.ApplyOutcome;
import io.runnerscale.text.Quoted;
import io.runnerscale.webhook.JobUpdateService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads stale live jobs back from GitLab and corrects the store: the webhooks GitLab sends once
 * and may drop (a disabled hook, a failed delivery) would otherwise keep a finished job running
 * forever (its capacity never scaled in) or a started one pending.
 *
 * <p>Which jobs, in which order and what a gone job becomes is {@link ReconcilePolicy}. Each job
 * read back is applied through {@link JobUpdateService}, the webhook's own path: the same
 * forward-only write, pool resolution, instance use count and scale requests, so a repair is
 * exactly what the lost hook would have done (received now). An answer that is not ahead of the
 * store changes nothing.
 *
 * <p>GitLab's API is bounded: at most {@link ReconcileSettings#budget()} calls a run. A 429, a 5xx
 * or a refused token ends the run at once: nothing read is lost (each job is written as soon as it
 * is read), and the jobs not read are the oldest of the next run. After a 429 with
 * {@code Retry-After} no call is made until that time has passed (remembered by this instance; a
 * new one asks once and is told again). Never sleeps: a scheduled function has no time to wait.
 *
 * <p>One instance serves the runs of one process (a warm Lambda, {@code serve}); runs must not
 * overlap (the schedule's one-at-a-time guarantee, or one thread in {@code serve}).
 */
public final class Reconciler {
    /** Jobs remembered as found unchanged; beyond this the oldest memories go (costing a call each at worst). */
    static final int QUIET_MEMORY = 10_000;
    /**
     * Time kept for one more job: GitLabApiClient's 2 s to connect, 2 s for the headers and 2 s to
     * read, and the store's write. A run does not start a call it may not finish before its deadline.
     */
    static final Duration ONE_JOB = Duration.ofSeconds(7);
    private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);

    private final PoolsConfigSource pools;
    private final JobStore store;
    private final GitLabJobs gitlab;
    private final JobUpdateService updates;
    private final Clock clock;
    private final ReconcileSettings settings;
    private final Map<JobKey, Instant> quietUntil = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<JobKey, Instant> eldest) {
            return size() > QUIET_MEMORY;
        }
    };
    private Instant pausedUntil;

    public Reconciler(PoolsConfigSource pools, JobStore store, GitLabJobs gitlab, JobUpdateService updates,
                      Clock clock, ReconcileSettings settings) {
        this.pools = pools;
        this.store = store;
        this.gitlab = gitlab;
        this.updates = updates;
        this.clock = clock;
        this.settings = settings;
    }

    /** One run over every pool's live jobs, with no deadline but the budget ({@code serve}, tests). */
    public ReconcileReport run() {
        return run(null);
    }

    /**
     * One run over every pool's live jobs.
     *
     * @param deadline when the run must have ended (a Lambda's remaining time), or null: no job is
     *                 started within {@link #ONE_JOB} of it, so the report is always returned
     * @throws RuntimeException when the pools configuration or the store's live jobs cannot be read
     *                          (nothing was done)
     */
    public synchronized ReconcileReport run(Instant deadline) {
        Instant now = clock.instant();
        PoolsConfig config = pools.current();
        List<PoolJob> live = new ArrayList<>();
        for (PoolConfig pool : config.pools()) {
            for (JobRecord job : store.liveJobs(pool.name())) {
                live.add(new PoolJob(pool.name(), job));
            }
        }
        List<PoolJob> stale = ReconcilePolicy.stale(live, now, settings, quietUntil);
        Run run = new Run(stale.size());
        if (pausedUntil != null && now.isBefore(pausedUntil)) {
            return run.stop(Stop.RATE_LIMITED, Duration.between(now, pausedUntil),
                    "GitLab asked to wait until " + pausedUntil, stale.size());
        }
        pausedUntil = null;
        Set<Long> projectsMissing = new HashSet<>();
        int calls = 0;
        for (int i = 0; i < stale.size(); i++) {
            PoolJob candidate = stale.get(i);
            JobRecord job = candidate.job();
            if (projectsMissing.contains(job.key().projectId())) {
                run.left++;
                continue;
            }
            if (calls >= settings.budget()) {
                return run.stop(Stop.BUDGET, null, null, run.left + stale.size() - i);
            }
            if (deadline != null && clock.instant().plus(ONE_JOB).isAfter(deadline)) {
                return run.stop(Stop.TIME_UP, null, null, run.left + stale.size() - i);
            }
            calls++;
            JobLookup lookup;
            try {
                lookup = gitlab.job(job.key());
            } catch (GitLabUnavailableException e) {
                int left = run.left + stale.size() - i;
                if (e.retryAfter().isPresent()) {
                    pausedUntil = clock.instant().plus(e.retryAfter().get());
                    return run.stop(Stop.RATE_LIMITED, e.retryAfter().get(), e.getMessage(), left);
                }
                return run.stop(Stop.UNAVAILABLE, null, e.getMessage(), left);
            } catch (GitLabRejectedException e) {
                return run.stop(Stop.REJECTED, null, e.getMessage(), run.left + stale.size() - i);
            }
            JobEvent event;
            boolean gone = false;
            switch (lookup) {
                case JobLookup.Found found -> {
                    // tags the answer could not give are the ones already known: no second call to find the pool
                    event = found.event().tags() == null && job.tags() != null
                            ? found.event().withTags(job.tags()) : found.event();
                }
                case JobLookup.Gone g when g.projectMissing() && !ReconcilePolicy.projectGone(job, now, settings) -> {
                    projectsMissing.add(job.key().projectId());
                    LOG.warn("reconciler: GitLab does not find project {} of job {} in pool {} ({}); deleted, or the "
                                    + "token cannot see it: its jobs are taken for gone {} after their last event",
                            job.key().projectId(), job.key(), candidate.pool(), g.message(),
                            settings.projectGoneAfter());
                    run.count(Kind.PROJECT_MISSING);
                    continue;
                }
                case JobLookup.Gone g -> {
                    event = ReconcilePolicy.goneEvent(job);
                    gone = true;
                }
                case JobLookup.Unreadable u -> {
                    LOG.warn("reconciler: GitLab's answer for job {} in pool {} cannot be read: {}", job.key(),
                            candidate.pool(), u.problem());
                    quiet(job, now);
                    run.count(Kind.UNREADABLE);
                    continue;
                }
            }
            ApplyOutcome outcome;
            try {
                // received now, as the lost hook would have been: the instance is idle from the repair
                outcome = updates.apply(List.of(event), clock.instant()).getFirst().outcome();
            } catch (RuntimeException e) {
                LOG.error("reconciler: job {} could not be written", job.key(), e);
                return run.stop(Stop.STORE_FAILED, null, "job " + job.key() + ": " + Quoted.abbreviate(e.toString()),
                        run.left + stale.size() - i);
            }
            if (outcome instanceof ApplyOutcome.Applied applied) {
                Kind kind = gone ? Kind.GONE : ReconcilePolicy.repairKind(event.status());
                run.repair(new Repair(job.key(), candidate.pool(),
                        applied.previous() == null ? job.status() : applied.previous(), event.status(), kind));
                quietUntil.remove(job.key());
            } else {
                quiet(job, now);
                run.count(Kind.UNCHANGED);
            }
        }
        return run.stop(Stop.COMPLETE, null, null, run.left);
    }

    private void quiet(JobRecord job, Instant now) {
        Duration threshold = ReconcilePolicy.threshold(job.status(), settings);
        if (threshold != null) {
            quietUntil.put(job.key(), now.plus(threshold));
        }
    }

    /** One run's tallies. */
    private final class Run {
        final int stale;
        final Map<Kind, Integer> counts = new EnumMap<>(Kind.class);
        final List<Repair> repairs = new ArrayList<>();
        int notListed;
        int left;

        Run(int stale) {
            this.stale = stale;
        }

        void count(Kind kind) {
            counts.merge(kind, 1, Integer::sum);
        }

        void repair(Repair repair) {
            count(repair.kind());
            if (repairs.size() < settings.maxListedRepairs()) {
                repairs.add(repair);
                LOG.info("reconciler: job {} in pool {}: {} -> {} ({})", repair.job(), repair.pool(),
                        repair.from().wireName(), repair.to().wireName(), repair.kind());
            } else {
                notListed++;
            }
        }

        ReconcileReport stop(Stop stop, Duration retryAfter, String message, int leftOver) {
            // messages are runnerscale's own, GitLab's part of them already abbreviated
            ReconcileReport report = new ReconcileReport(stale, counts, leftOver, stop, retryAfter, message, repairs,
                    notListed);
            if (stop == Stop.COMPLETE || stop == Stop.BUDGET || stop == Stop.TIME_UP) {
                LOG.info(report.summary());
            } else {
                LOG.warn(report.summary());
            }
            return report;
        }
    }
}
