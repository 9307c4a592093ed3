package io.runnerscale.metrics;

import io.runnerscale.gitlab.CreatedRunner;
import io.runnerscale.gitlab.GitLab;
import io.runnerscale.gitlab.GitLabJobs;
import io.runnerscale.gitlab.GitLabProjects;
import io.runnerscale.gitlab.GitLabRejectedException;
import io.runnerscale.gitlab.GitLabRunners;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.gitlab.JobLookup;
import io.runnerscale.gitlab.ProjectHook;
import io.runnerscale.gitlab.RunnerInfo;
import io.runnerscale.gitlab.RunnerOwner;
import io.runnerscale.gitlab.RunnerSpec;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;

import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * {@code GitLabApiErrors} counted in one place: decorators of the GitLab ports that count each
 * failed call by {@link #kind kind} and rethrow it unchanged, so the clients and their callers stay
 * as they are. Wrap only clients that call a real GitLab (not the stand-ins that refuse every call
 * when no GitLab is configured: those are no GitLab error).
 */
public final class MeteredGitLab {
    public static final String RATE_LIMITED = "rate_limited";
    public static final String UNAVAILABLE = "unavailable";
    public static final String REJECTED = "rejected";

    private MeteredGitLab() {
    }

    /**
     * The {@code Kind} of a GitLab failure, or empty for anything else: {@code rate_limited} when
     * GitLab, or the client holding back, said how long to wait (a 429's {@code Retry-After}: every
     * {@link GitLabUnavailableException} with {@link GitLabUnavailableException#retryAfter()});
     * {@code unavailable} for another {@link GitLabUnavailableException} (down, slow, 5xx, a 429
     * without {@code Retry-After}); {@code rejected} for a {@link GitLabRejectedException}.
     */
    public static Optional<String> kind(RuntimeException failure) {
        if (failure instanceof GitLabUnavailableException unavailable) {
            return Optional.of(unavailable.retryAfter().isPresent() ? RATE_LIMITED : UNAVAILABLE);
        }
        if (failure instanceof GitLabRejectedException) {
            return Optional.of(REJECTED);
        }
        return Optional.empty();
    }

    /** The webhook's tag lookup. */
    public static GitLab tags(GitLab gitlab, RunnerscaleMetrics metrics) {
        return job -> counted(metrics, () -> gitlab.jobTags(job));
    }

    /** The reconciler's job reads. */
    public static GitLabJobs jobs(GitLabJobs gitlab, RunnerscaleMetrics metrics) {
        return key -> counted(metrics, () -> gitlab.job(key));
    }

    /** The reconciler's project listings and hook checks. */
    public static GitLabProjects projects(GitLabProjects gitlab, RunnerscaleMetrics metrics) {
        return new GitLabProjects() {
            @Override
            public Page<JobEvent> liveJobs(long projectId, int page) {
                return counted(metrics, () -> gitlab.liveJobs(projectId, page));
            }

            @Override
            public Page<Long> groupProjects(String group, int page) {
                return counted(metrics, () -> gitlab.groupProjects(group, page));
            }

            @Override
            public List<ProjectHook> hooks(long projectId) {
                return counted(metrics, () -> gitlab.hooks(projectId));
            }
        };
    }

    /** The lifecycle's runner calls (create, pause, list, delete, cancel, retry). */
    public static GitLabRunners runners(GitLabRunners gitlab, RunnerscaleMetrics metrics) {
        return new GitLabRunners() {
            @Override
            public CreatedRunner createRunner(RunnerSpec spec) {
                return counted(metrics, () -> gitlab.createRunner(spec));
            }

            @Override
            public void setPaused(long runnerId, boolean paused) {
                counted(metrics, () -> {
                    gitlab.setPaused(runnerId, paused);
                    return null;
                });
            }

            @Override
            public List<JobKey> runningJobs(long runnerId) {
                return counted(metrics, () -> gitlab.runningJobs(runnerId));
            }

            @Override
            public List<JobKey> runningJobs(long runnerId, String systemId) {
                return counted(metrics, () -> gitlab.runningJobs(runnerId, systemId));
            }

            @Override
            public void deleteRunner(long runnerId) {
                counted(metrics, () -> {
                    gitlab.deleteRunner(runnerId);
                    return null;
                });
            }

            @Override
            public void cancelJob(JobKey job) {
                counted(metrics, () -> {
                    gitlab.cancelJob(job);
                    return null;
                });
            }

            @Override
            public Optional<JobKey> retryJob(JobKey job) {
                return counted(metrics, () -> gitlab.retryJob(job));
            }

            @Override
            public List<RunnerInfo> runnersOf(RunnerOwner owner) {
                return counted(metrics, () -> gitlab.runnersOf(owner));
            }

            @Override
            public List<RunnerInfo> findRunnersByDescription(RunnerOwner owner, String description) {
                // the client's own (it may ask GitLab differently than listing all): one call, counted once
                return counted(metrics, () -> gitlab.findRunnersByDescription(owner, description));
            }
        };
    }

    private static <T> T counted(RunnerscaleMetrics metrics, Supplier<T> call) {
        try {
            return call.get();
        } catch (RuntimeException e) {
            kind(e).ifPresent(kind -> metrics.count(MetricName.GITLAB_API_ERRORS, kind));
            throw e;
        }
    }
}
