package io.runnerscale.reconcile;

import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;

import io.runnerscale.gitlab.ProjectHook;
import io.runnerscale.store.ProjectRecord;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

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
 *   <li>The projects whose pending jobs are listed (jobs whose webhooks never arrived) are those the
 *       pools file names, its groups' projects, and those a job was seen from in the last
 *       {@link #RECENT_PROJECTS}; never listed first, then the least recently listed, so a run cut
 *       short resumes where it stopped. Their hooks are checked the same way, each project at most
 *       every {@link #HOOK_CHECK_EVERY}.</li>
 *   <li>A run's GitLab calls are shared: stale jobs first, up to half the budget (lost finishes keep
 *       capacity running), then listing projects, keeping a tenth (at least one call) for hooks, then
 *       hooks, then the stale jobs left.</li>
 *   <li>runnerscale's hooks are those whose URL is the configured hook URL or below it (trailing
 *       slashes and the scheme's and host's case ignored).</li>
 * </ul>
 */
public final class ReconcilePolicy {
    /** The failure reason a gone job's record carries: not one of GitLab's, so it is told apart. */
    public static final String GONE_REASON = "runnerscale_gone_from_gitlab";

    private ReconcilePolicy() {
    }

    /** A project whose last job was seen longer ago than this is no longer listed (unless named). */
    public static final Duration RECENT_PROJECTS = Duration.ofHours(24);
    /** A project's hooks are read at most this often: GitLab disables a hook within minutes, for hours. */
    public static final Duration HOOK_CHECK_EVERY = Duration.ofHours(1);

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

    /** How a run's GitLab calls are shared out (see the class comment). */
    public record Shares(int staleFirst, int listing, int hooks) {
    }

    /** @param discovery whether projects are listed and hooks checked at all */
    public static Shares shares(int budget, boolean discovery) {
        if (!discovery) {
            return new Shares(budget, 0, 0);
        }
        int staleFirst = (budget + 1) / 2;
        int hooks = budget == 0 ? 0 : Math.max(1, budget / 10);
        return new Shares(staleFirst, Math.max(0, budget - staleFirst - hooks), hooks);
    }

    /**
     * The projects in scope: named ones, the groups' projects, and the remembered ones seen within
     * {@link #RECENT_PROJECTS}; each once.
     */
    public static Set<Long> inScope(List<ProjectRecord> remembered, Collection<Long> named, Instant now) {
        Set<Long> scope = new LinkedHashSet<>(named);
        for (ProjectRecord project : remembered) {
            if (project.seenAt() != null && project.seenAt().plus(RECENT_PROJECTS).isAfter(now)) {
                scope.add(project.projectId());
            }
        }
        return scope;
    }

    /** Projects in scope to list, never listed first, then least recently listed; ties by id. */
    public static List<Long> toList(Set<Long> scope, List<ProjectRecord> remembered) {
        return byOldest(scope, times(remembered, ProjectRecord::listedAt));
    }

    /** Projects in scope whose hooks are due: never checked, or checked {@link #HOOK_CHECK_EVERY} ago; oldest first. */
    public static List<Long> hooksDue(Set<Long> scope, List<ProjectRecord> remembered, Instant now) {
        Map<Long, Instant> checkedAt = times(remembered, ProjectRecord::hooksCheckedAt);
        return byOldest(scope, checkedAt).stream()
                .filter(id -> !checkedAt.containsKey(id) || !checkedAt.get(id).plus(HOOK_CHECK_EVERY).isAfter(now))
                .toList();
    }

    /** Each remembered project's time by {@code at}, those without one left out. */
    private static Map<Long, Instant> times(List<ProjectRecord> remembered, Function<ProjectRecord, Instant> at) {
        Map<Long, Instant> times = new HashMap<>();
        for (ProjectRecord project : remembered) {
            if (at.apply(project) != null) {
                times.put(project.projectId(), at.apply(project));
            }
        }
        return times;
    }

    /** The ids, those without a time first, then the oldest time; ties by id. */
    private static List<Long> byOldest(Set<Long> ids, Map<Long, Instant> at) {
        List<Long> out = new ArrayList<>(ids);
        out.sort(Comparator.comparing((Long id) -> at.getOrDefault(id, Instant.MIN)).thenComparing(id -> id));
        return out;
    }

    /** runnerscale's hooks among a project's: those delivering to {@code hookUrl} or below it. */
    public static List<ProjectHook> ownHooks(List<ProjectHook> hooks, String hookUrl) {
        if (hookUrl == null || hookUrl.isBlank()) {
            return List.of();
        }
        String base = normalized(hookUrl);
        List<ProjectHook> own = new ArrayList<>();
        for (ProjectHook hook : hooks) {
            String url = normalized(hook.url());
            if (url.equals(base) || url.startsWith(base + "/") || url.startsWith(base + "?")) {
                own.add(hook);
            }
        }
        return own;
    }

    /** Scheme and host in lower case (they are case-insensitive), trailing slashes dropped. */
    static String normalized(String url) {
        String text = url.strip();
        int scheme = text.indexOf("://");
        if (scheme >= 0) {
            int hostEnd = text.indexOf('/', scheme + 3);
            text = hostEnd < 0 ? text.toLowerCase(Locale.ROOT)
                    : text.substring(0, hostEnd).toLowerCase(Locale.ROOT) + text.substring(hostEnd);
        }
        while (text.endsWith("/")) {
            text = text.substring(0, text.length() - 1);
        }
        return text;
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
