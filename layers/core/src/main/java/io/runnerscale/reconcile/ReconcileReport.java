package io.runnerscale.reconcile;

import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;

import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What one reconciler run did.
 *
 * @param stale            live jobs found stale this run (all pools)
 * @param counts           jobs read back, by what came of them
 * @param left             stale jobs not read back this run (budget, a stop, or their project not found):
 *                         the oldest of the next run
 * @param stop             why the run ended
 * @param retryAfter       how long GitLab asked to wait (a 429), when it said
 * @param stopMessage      what stopped the run, for the log; null when it completed
 * @param repairs          the repairs, at most {@link ReconcileSettings#maxListedRepairs()}
 * @param repairsNotListed repairs beyond that
 * @param projects         what the run learnt of whole projects: pending jobs listed, hooks checked
 */
public record ReconcileReport(
        int stale,
        Map<Kind, Integer> counts,
        int left,
        Stop stop,
        Duration retryAfter,
        String stopMessage,
        List<Repair> repairs,
        int repairsNotListed,
        Projects projects) {

    public ReconcileReport(int stale, Map<Kind, Integer> counts, int left, Stop stop, Duration retryAfter,
                           String stopMessage, List<Repair> repairs, int repairsNotListed) {
        this(stale, counts, left, stop, retryAfter, stopMessage, repairs, repairsNotListed, Projects.NONE);
    }

    /**
     * What one run did with whole projects.
     *
     * @param listed          projects whose pending jobs were listed to the last page
     * @param notListed       projects due for listing that were not (budget, a stop): first next run
     * @param hooksChecked    projects whose hooks were read
     * @param disabledHooks   runnerscale's hooks GitLab has disabled, over every project as last checked
     * @param hooksUnreadable projects whose hooks could not be read (the token lacks the Maintainer role)
     * @param hookUrl         whether runnerscale's hook URL is known: without it no hook is checked
     */
    public record Projects(int listed, int notListed, int hooksChecked, int disabledHooks, int hooksUnreadable,
                           boolean hookUrl) {
        public static final Projects NONE = new Projects(0, 0, 0, 0, 0, false);
    }

    public ReconcileReport {
        projects = projects == null ? Projects.NONE : projects;
        EnumMap<Kind, Integer> all = new EnumMap<>(Kind.class);
        for (Kind kind : Kind.values()) {
            all.put(kind, counts.getOrDefault(kind, 0));
        }
        counts = java.util.Collections.unmodifiableMap(all);
        repairs = List.copyOf(repairs);
    }

    /** What came of reading one job back. */
    public enum Kind {
        /** pending (its {@code running} lost) and running now */
        TO_RUNNING,
        /** pending or running, canceling now */
        TO_CANCELING,
        /** finished in GitLab (success, failed, canceled, skipped) with its hook lost */
        TO_FINISHED,
        /** GitLab no longer has it (404): canceled by runnerscale */
        GONE,
        /** the store already had GitLab's state */
        UNCHANGED,
        /** GitLab answered 200 with something that is not this job */
        UNREADABLE,
        /** GitLab does not find the job's project, and the job is not yet old enough to be taken for gone */
        PROJECT_MISSING,
        /** pending or running in GitLab, never heard of (its hooks lost): stored as if they had arrived */
        DISCOVERED;

        public boolean isRepair() {
            return this == TO_RUNNING || this == TO_CANCELING || this == TO_FINISHED || this == GONE
                    || this == DISCOVERED;
        }
    }

    /** Why a run ended. */
    public enum Stop {
        /** every stale job was read back, every project due listed and its hooks checked */
        COMPLETE,
        /** the budget of GitLab calls was spent */
        BUDGET,
        /** the run's deadline was near (a Lambda's remaining time) */
        TIME_UP,
        /** GitLab answered 429 (or the last run's {@code Retry-After} has not passed): no call until it has */
        RATE_LIMITED,
        /** GitLab could not answer (5xx, timeout, unreachable) */
        UNAVAILABLE,
        /** GitLab refused the token (401, 403): every call would get the same */
        REJECTED,
        /** the store could not be written */
        STORE_FAILED;

        public boolean cutShort() {
            return this != COMPLETE;
        }
    }

    /** One job the run corrected. */
    public record Repair(JobKey job, String pool, JobStatus from, JobStatus to, Kind kind) {
    }

    public int count(Kind kind) {
        return counts.get(kind);
    }

    /** Jobs read back from GitLab this run (discovered ones are not read back: they were listed). */
    public int checked() {
        return counts.entrySet().stream().filter(e -> e.getKey() != Kind.DISCOVERED)
                .mapToInt(Map.Entry::getValue).sum();
    }

    /** Jobs corrected this run. */
    public int repaired() {
        return counts.entrySet().stream().filter(e -> e.getKey().isRepair()).mapToInt(Map.Entry::getValue).sum();
    }

    public Optional<Duration> retryAfterIfSaid() {
        return Optional.ofNullable(retryAfter);
    }

    /** One line for the log. */
    public String summary() {
        return "reconciler: " + stale + " stale, " + checked() + " checked, " + repaired() + " repaired " + counts
                + ", " + left + " left for the next run; projects: " + projects.listed() + " listed, "
                + projects.notListed() + " left, hooks " + (projects.hookUrl()
                ? projects.hooksChecked() + " checked, " + projects.disabledHooks() + " disabled"
                + (projects.hooksUnreadable() > 0 ? ", " + projects.hooksUnreadable() + " projects unreadable" : "")
                : "not checked (no hook URL)") + "; " + stop
                + (retryAfter == null ? "" : " (retry after " + retryAfter.toSeconds() + " s)")
                + (stopMessage == null ? "" : ": " + stopMessage);
    }
}
