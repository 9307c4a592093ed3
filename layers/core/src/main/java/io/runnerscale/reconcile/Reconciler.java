package io.runnerscale.reconcile;

import io.runnerscale.gitlab.GitLabJobs;
import io.runnerscale.gitlab.GitLabProjects;
import io.runnerscale.gitlab.ProjectHook;
import io.runnerscale.gitlab.GitLabRejectedException;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.gitlab.JobLookup;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.reconcile.ReconcilePolicy.PoolJob;
import io.runnerscale.reconcile.ReconcileReport.Kind;
import io.runnerscale.reconcile.ReconcileReport.Repair;
import io.runnerscale.reconcile.ReconcileReport.Stop;
import io.runnerscale.store.JobStore;
import io.runnerscale.store.JobStore.ApplyOutcome;
import io.runnerscale.store.ProjectRecord;
import io.runnerscale.store.ProjectStore;
import io.runnerscale.text.Quoted;
import io.runnerscale.webhook.JobUpdateService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
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
 * <p>With a {@link Discovery}, a run also lists the pending and running jobs of the projects
 * runnerscale heard from (and those the pools file names): a job whose webhooks never arrived is
 * stored as if its last hook had, which asks for capacity when it is pending
 * ({@link ReconcileReport.Kind#DISCOVERED}); a live job listed ahead of the store is moved forward. It also
 * reads those projects' hooks and logs, with the command to re-enable it, every hook to runnerscale
 * that GitLab has disabled.
 *
 * <p>GitLab's API is bounded: at most {@link ReconcileSettings#budget()} calls a run, shared out as
 * {@link ReconcilePolicy#shares} says. A 429, a 5xx or a 401 ends the run at once: nothing read is
 * lost (each job is written as soon as it is read), and what was not done is first the next run
 * (the oldest stale jobs, the least recently listed projects and checked hooks). A 403 or 404 on
 * one project or group skips it. After a 429 with
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
    /** A group's projects are listed again after this (a new project of the group waits that long at worst). */
    static final Duration GROUPS_KEPT = Duration.ofHours(1);
    /** Most projects taken from one group. */
    static final int MAX_GROUP_PROJECTS = 5_000;
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
    private final Map<String, GroupProjects> groupProjects = new HashMap<>();

    /**
     * Listing projects' pending jobs and checking their hooks, beside reading stale jobs back.
     *
     * @param gitlab  GitLab's project lists
     * @param store   where the projects seen are remembered, with when they were listed and checked
     * @param hookUrl runnerscale's webhook URL (the deployment's); the pools file's {@code reconcile.hook_url}
     *                wins; null with neither: hooks are not checked
     */
    public record Discovery(GitLabProjects gitlab, ProjectStore store, String hookUrl) {
    }

    private final Discovery discovery;

    /** Reads stale live jobs back only: no project is listed, no hook checked. */
    public Reconciler(PoolsConfigSource pools, JobStore store, GitLabJobs gitlab, JobUpdateService updates,
                      Clock clock, ReconcileSettings settings) {
        this(pools, store, gitlab, null, updates, clock, settings);
    }

    /** @param discovery null: no project is listed, no hook checked */
    public Reconciler(PoolsConfigSource pools, JobStore store, GitLabJobs gitlab, Discovery discovery,
                      JobUpdateService updates, Clock clock, ReconcileSettings settings) {
        this.pools = pools;
        this.store = store;
        this.gitlab = gitlab;
        this.discovery = discovery;
        this.updates = updates;
        this.clock = clock;
        this.settings = settings;
    }

    /** One run, with no deadline but the budget ({@code serve}, tests). */
    public ReconcileReport run() {
        return run(null);
    }

    /**
     * One run: stale live jobs read back, projects' pending jobs listed, hooks checked (see
     * {@link ReconcilePolicy} for the order and the shares of the budget).
     *
     * @param deadline when the run must have ended (a Lambda's remaining time), or null: no GitLab call
     *                 is started within {@link #ONE_JOB} of it, so the report is always returned
     * @throws RuntimeException when the pools configuration, the store's live jobs or its projects
     *                          cannot be read (nothing was done)
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
        List<ProjectRecord> remembered = discovery == null ? List.of() : discovery.store().projects();
        Run run = new Run(stale, now, deadline);
        String hookUrl = hookUrl(config);
        if (pausedUntil != null && now.isBefore(pausedUntil)) {
            run.stopped = new Stopped(Stop.RATE_LIMITED, Duration.between(now, pausedUntil),
                    "GitLab asked to wait until " + pausedUntil);
            return run.report(remembered, List.of(), hookUrl != null);
        }
        pausedUntil = null;
        ReconcilePolicy.Shares shares = ReconcilePolicy.shares(settings.budget(), discovery != null);
        List<Long> due = List.of();
        List<Long> hooksDue = List.of();
        Map<JobKey, JobStatus> liveStatus = new HashMap<>();
        live.forEach(j -> liveStatus.put(j.job().key(), j.job().status()));
        try {
            readBack(run, shares.staleFirst());
            if (discovery != null) {
                List<Long> named = new ArrayList<>(config.reconcile().projects());
                named.addAll(groupProjects(run, config.reconcile().groups(), now));
                Set<Long> scope = ReconcilePolicy.inScope(remembered, named, now);
                due = ReconcilePolicy.toList(scope, remembered);
                hooksDue = hookUrl == null ? List.of() : ReconcilePolicy.hooksDue(scope, remembered, now);
                listProjects(run, due, liveStatus, config, run.calls + shares.listing());
                checkHooks(run, hooksDue, hookUrl, run.calls + shares.hooks());
            }
            // what a share left unused goes to the others, in the same order
            readBack(run, settings.budget());
            listProjects(run, due, liveStatus, config, settings.budget());
            checkHooks(run, hooksDue, hookUrl, settings.budget());
            if (run.next < stale.size() || run.listNext < due.size() || run.hookNext < hooksDue.size()) {
                throw new Stopped(Stop.BUDGET, null, null);
            }
        } catch (Stopped stopped) {
            run.stopped = stopped;
        }
        return run.report(remembered, due, hookUrl != null);
    }

    /** Reads stale jobs back, in order, while fewer than {@code callsUpTo} calls were made this run. */
    private void readBack(Run run, int callsUpTo) {
        Instant now = run.started;
        while (run.next < run.stale.size() && run.calls < callsUpTo) {
            PoolJob candidate = run.stale.get(run.next);
            JobRecord job = candidate.job();
            if (run.projectsMissing.contains(job.key().projectId())) {
                run.next++;
                run.skipped++;
                continue;
            }
            JobLookup lookup;
            try {
                lookup = call(run, () -> gitlab.job(job.key()));
            } catch (GitLabRejectedException e) {
                throw new Stopped(Stop.REJECTED, null, e.getMessage());
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
                    run.projectsMissing.add(job.key().projectId());
                    LOG.warn("reconciler: GitLab does not find project {} of job {} in pool {} ({}); deleted, or the "
                                    + "token cannot see it: its jobs are taken for gone {} after their last event",
                            job.key().projectId(), job.key(), candidate.pool(), g.message(),
                            settings.projectGoneAfter());
                    run.count(Kind.PROJECT_MISSING);
                    run.next++;
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
                    run.next++;
                    continue;
                }
            }
            // received now, as the lost hook would have been: the instance is idle from the repair
            JobUpdateService.Outcome outcome = write(List.of(event)).getFirst();
            run.next++;
            if (outcome.outcome() instanceof ApplyOutcome.Applied applied) {
                Kind kind = gone ? Kind.GONE : ReconcilePolicy.repairKind(event.status());
                run.repair(new Repair(job.key(), candidate.pool(),
                        applied.previous() == null ? job.status() : applied.previous(), event.status(), kind));
                quietUntil.remove(job.key());
            } else {
                quiet(job, now);
                run.count(Kind.UNCHANGED);
            }
        }
    }

    /** The groups' projects, each group listed at most every {@link #GROUPS_KEPT}. */
    private List<Long> groupProjects(Run run, List<String> groups, Instant now) {
        List<Long> ids = new ArrayList<>();
        for (String group : groups) {
            GroupProjects known = groupProjects.get(group);
            if (known == null || known.nextPage() != null || !known.listedAt().plus(GROUPS_KEPT).isAfter(now)) {
                // a listing the budget or the deadline cut short is taken up at its next page: a group of
                // more pages than one run can spare is still listed, over several runs
                boolean resuming = known != null && known.nextPage() != null;
                List<Long> listed = new ArrayList<>(resuming ? known.projects() : List.of());
                Integer page = resuming ? known.nextPage() : 1;
                try {
                    while (page != null && listed.size() < MAX_GROUP_PROJECTS) {
                        int asked = page;
                        GitLabProjects.Page<Long> answer = call(run, () -> discovery.gitlab().groupProjects(group, asked));
                        listed.addAll(answer.items());
                        page = answer.nextPage();
                    }
                    known = new GroupProjects(now, List.copyOf(listed), null);
                    groupProjects.put(group, known);
                } catch (Stopped stopped) {
                    groupProjects.put(group, new GroupProjects(now, List.copyOf(listed), page));
                    throw stopped;
                } catch (GitLabRejectedException e) {
                    rejectedUnlessToken(e);
                    LOG.warn("reconciler: group {} cannot be listed: {}", Quoted.abbreviate(group), e.getMessage());
                    continue;
                }
            }
            ids.addAll(known.projects());
        }
        return ids;
    }

    /**
     * Lists each due project's pending and running jobs to the last page, while fewer than
     * {@code callsUpTo} calls were made; a project cut short is taken up again at its next page.
     */
    private void listProjects(Run run, List<Long> due, Map<JobKey, JobStatus> liveStatus, PoolsConfig config,
                              int callsUpTo) {
        while (run.listNext < due.size() && run.calls < callsUpTo) {
            long project = due.get(run.listNext);
            try {
                while (run.listPage != null) {
                    if (run.calls >= callsUpTo) {
                        return;
                    }
                    int page = run.listPage;
                    GitLabProjects.Page<JobEvent> answer = call(run, () -> discovery.gitlab().liveJobs(project, page));
                    applyListed(run, answer.items(), liveStatus, config);
                    run.listPage = answer.nextPage();
                }
            } catch (GitLabRejectedException e) {
                rejectedUnlessToken(e);
                LOG.warn("reconciler: project {}'s jobs cannot be listed: {}", project, e.getMessage());
            }
            run.listNext++;
            run.listPage = 1;
            remember(project, () -> discovery.store().projectListed(project, clock.instant()));
        }
    }

    /**
     * Writes the listed jobs the store does not hold as listed, through the webhook's own write. A job
     * no pool takes would only be stored to no use.
     */
    private void applyListed(Run run, List<JobEvent> listed, Map<JobKey, JobStatus> liveStatus, PoolsConfig config) {
        List<JobEvent> ahead = listed.stream().filter(job -> liveStatus.get(job.key()) != job.status()
                && (job.tags() == null || config.poolFor(job.tags()).isPresent())).toList();
        if (ahead.isEmpty()) {
            return;
        }
        for (JobUpdateService.Outcome outcome : write(ahead)) {
            if (outcome.outcome() instanceof ApplyOutcome.Applied applied && outcome.resolution().pool() != null) {
                JobStatus status = outcome.event().status();
                run.repair(new Repair(outcome.event().key(), outcome.resolution().pool(), applied.previous(), status,
                        applied.previous() == null ? Kind.DISCOVERED : ReconcilePolicy.repairKind(status)));
                quietUntil.remove(outcome.event().key());
            }
        }
    }

    /** Reads the due projects' hooks and notes runnerscale's disabled ones, while fewer than {@code callsUpTo} calls. */
    private void checkHooks(Run run, List<Long> due, String hookUrl, int callsUpTo) {
        while (run.hookNext < due.size() && run.calls < callsUpTo) {
            long project = due.get(run.hookNext);
            int disabled;
            try {
                List<ProjectHook> own = ReconcilePolicy.ownHooks(call(run, () -> discovery.gitlab().hooks(project)),
                        hookUrl);
                disabled = 0;
                for (ProjectHook hook : own) {
                    if (hook.disabled()) {
                        disabled++;
                        LOG.warn("reconciler: GitLab has {} runnerscale's hook {} in project {}{}: its job events are "
                                        + "lost until then (the reconciler finds the jobs later). Re-enable it by "
                                        + "sending a test event: curl -X POST -H \"PRIVATE-TOKEN: $TOKEN\" "
                                        + "\"$GITLAB_URL/api/v4/projects/{}/hooks/{}/test/job_events\"",
                                "disabled".equals(hook.alertStatus()) ? "disabled" : "temporarily disabled",
                                hook.id(), project,
                                hook.disabledUntil() == null ? "" : " until " + hook.disabledUntil(), project, hook.id());
                    }
                }
            } catch (GitLabRejectedException e) {
                rejectedUnlessToken(e);
                LOG.warn("reconciler: project {}'s hooks cannot be read: {}", project, e.getMessage());
                disabled = -1;
            }
            run.hookNext++;
            run.hooks.put(project, disabled);
            int found = disabled;
            remember(project, () -> discovery.store().hooksChecked(project, clock.instant(), found));
        }
    }

    private static void remember(long project, Runnable write) {
        try {
            write.run();
        } catch (RuntimeException e) {
            LOG.error("reconciler: project {} could not be written", project, e);
            throw new Stopped(Stop.STORE_FAILED, null, "project " + project + ": " + Quoted.abbreviate(e.toString()));
        }
    }

    /** A 401 is the token itself: every other call would get it too, so the run ends. */
    private static void rejectedUnlessToken(GitLabRejectedException e) {
        if (e.status() == 401) {
            throw new Stopped(Stop.REJECTED, null, e.getMessage());
        }
    }

    /** The pools file's {@code reconcile.hook_url}, else the deployment's; null when neither says (or no discovery). */
    private String hookUrl(PoolsConfig config) {
        if (discovery == null) {
            return null;
        }
        String url = config.reconcile().hookUrl() != null ? config.reconcile().hookUrl() : discovery.hookUrl();
        return url == null || url.isBlank() ? null : url;
    }

    /**
     * One GitLab call, when the budget and the deadline allow it. GitLab unavailable ends the run
     * (after a 429, no call until its {@code Retry-After}); a refusal is the caller's to judge.
     */
    private <T> T call(Run run, java.util.function.Supplier<T> request) {
        if (run.calls >= settings.budget()) {
            throw new Stopped(Stop.BUDGET, null, null);
        }
        if (run.deadline != null && clock.instant().plus(ONE_JOB).isAfter(run.deadline)) {
            throw new Stopped(Stop.TIME_UP, null, null);
        }
        run.calls++;
        try {
            return request.get();
        } catch (GitLabUnavailableException e) {
            if (e.retryAfter().isPresent()) {
                pausedUntil = clock.instant().plus(e.retryAfter().get());
                throw new Stopped(Stop.RATE_LIMITED, e.retryAfter().get(), e.getMessage());
            }
            throw new Stopped(Stop.UNAVAILABLE, null, e.getMessage());
        }
    }

    private List<JobUpdateService.Outcome> write(List<JobEvent> events) {
        try {
            return updates.apply(events, clock.instant());
        } catch (RuntimeException e) {
            LOG.error("reconciler: job {} could not be written", events.getFirst().key(), e);
            throw new Stopped(Stop.STORE_FAILED, null, "job " + events.getFirst().key() + ": "
                    + Quoted.abbreviate(e.toString()));
        }
    }

    /** Why a run ended before its work was done. */
    private static final class Stopped extends RuntimeException {
        final Stop stop;
        final Duration retryAfter;

        Stopped(Stop stop, Duration retryAfter, String message) {
            super(message, null, false, false);
            this.stop = stop;
            this.retryAfter = retryAfter;
        }
    }

    /** @param nextPage the page a listing cut short goes on from, or null once the listing is whole */
    private record GroupProjects(Instant listedAt, List<Long> projects, Integer nextPage) {
    }

    private void quiet(JobRecord job, Instant now) {
        Duration threshold = ReconcilePolicy.threshold(job.status(), settings);
        if (threshold != null) {
            quietUntil.put(job.key(), now.plus(threshold));
        }
    }

    /** One run's tallies. */
    private final class Run {
        final List<PoolJob> stale;
        final Instant deadline;
        final Instant started;
        final Map<Kind, Integer> counts = new EnumMap<>(Kind.class);
        final List<Repair> repairs = new ArrayList<>();
        final Set<Long> projectsMissing = new HashSet<>();
        final Map<Long, Integer> hooks = new HashMap<>();
        int next;
        int listNext;
        Integer listPage = 1;
        int hookNext;
        int skipped;
        int calls;
        int notListed;
        Stopped stopped;

        Run(List<PoolJob> stale, Instant started, Instant deadline) {
            this.stale = stale;
            this.started = started;
            this.deadline = deadline;
        }

        void count(Kind kind) {
            counts.merge(kind, 1, Integer::sum);
        }

        void repair(Repair repair) {
            count(repair.kind());
            if (repairs.size() < settings.maxListedRepairs()) {
                repairs.add(repair);
                LOG.info("reconciler: job {} in pool {}: {} -> {} ({})", repair.job(), repair.pool(),
                        repair.from() == null ? "unknown" : repair.from().wireName(), repair.to().wireName(),
                        repair.kind());
            } else {
                notListed++;
            }
        }

        ReconcileReport report(List<ProjectRecord> remembered, List<Long> due, boolean hookUrl) {
            Stop stop = stopped == null ? Stop.COMPLETE : stopped.stop;
            Duration retryAfter = stopped == null ? null : stopped.retryAfter;
            String message = stopped == null ? null : stopped.getMessage();
            int left = skipped + stale.size() - next;
            Map<Long, Integer> disabled = new HashMap<>();
            for (ProjectRecord project : remembered) {
                if (project.hooksCheckedAt() != null) {
                    disabled.put(project.projectId(), project.disabledHooks());
                }
            }
            disabled.putAll(hooks);
            ReconcileReport.Projects projects = new ReconcileReport.Projects(listNext, due.size() - listNext,
                    hookNext,
                    hookUrl ? disabled.values().stream().filter(n -> n > 0).mapToInt(Integer::intValue).sum() : 0,
                    hookUrl ? (int) disabled.values().stream().filter(n -> n < 0).count() : 0, hookUrl);
            // messages are runnerscale's own, GitLab's part of them already abbreviated
            ReconcileReport report = new ReconcileReport(stale.size(), counts, left, stop, retryAfter, message,
                    repairs, notListed, projects);
            if (stop == Stop.COMPLETE || stop == Stop.BUDGET || stop == Stop.TIME_UP) {
                LOG.info(report.summary());
            } else {
                LOG.warn(report.summary());
            }
            return report;
        }
    }
}
