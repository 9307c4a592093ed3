package io.runnerscale.metrics;

import io.runnerscale.gitlab.GitLab;
import io.runnerscale.gitlab.GitLabJobs;
import io.runnerscale.gitlab.GitLabProjects;
import io.runnerscale.gitlab.GitLabRejectedException;
import io.runnerscale.gitlab.GitLabRunners;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.gitlab.CreatedRunner;
import io.runnerscale.gitlab.ProjectHook;
import io.runnerscale.gitlab.RunnerInfo;
import io.runnerscale.gitlab.RunnerOwner;
import io.runnerscale.gitlab.RunnerSpec;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.reconcile.ReconcileReport;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MeteredGitLabTest {
    static final JobKey JOB = new JobKey(7, 1);
    final RecordingMetrics metrics = new RecordingMetrics();

    @Test
    void failuresAreClassifiedByKind() {
        assertEquals(Optional.of("rate_limited"), MeteredGitLab.kind(
                new GitLabUnavailableException("answered 429", null, Duration.ofSeconds(30))));
        assertEquals(Optional.of("unavailable"), MeteredGitLab.kind(new GitLabUnavailableException("answered 503", null)));
        assertEquals(Optional.of("rejected"), MeteredGitLab.kind(new GitLabRejectedException("answered 401", 401)));
        assertEquals(Optional.empty(), MeteredGitLab.kind(new IllegalStateException("a bug")));
    }

    @Test
    void aFailedCallIsCountedAndTheSameFailureRethrown() {
        GitLabUnavailableException limited = new GitLabUnavailableException("429", null, Duration.ofSeconds(5));
        GitLab tags = MeteredGitLab.tags(job -> {
            throw limited;
        }, metrics);

        assertSame(limited, assertThrows(GitLabUnavailableException.class, () -> tags.jobTags(JOB)));
        assertEquals(1.0, metrics.total(MetricName.GITLAB_API_ERRORS, "rate_limited"));
    }

    @Test
    void aSuccessfulCallCountsNothingAndAnswersAsTheClientDid() {
        GitLab tags = MeteredGitLab.tags(job -> List.of("docker"), metrics);
        assertEquals(List.of("docker"), tags.jobTags(JOB));
        assertEquals(List.of(), metrics.points());
    }

    @Test
    void everyPortIsCounted() {
        GitLabJobs jobs = MeteredGitLab.jobs(key -> {
            throw new GitLabRejectedException("403", 403);
        }, metrics);
        GitLabProjects projects = MeteredGitLab.projects(new GitLabProjects() {
            @Override
            public Page<JobEvent> liveJobs(long projectId, int page) {
                throw new GitLabUnavailableException("503", null);
            }

            @Override
            public Page<Long> groupProjects(String group, int page) {
                return new Page<>(List.of(1L), null);
            }

            @Override
            public List<ProjectHook> hooks(long projectId) {
                throw new GitLabRejectedException("403", 403);
            }
        }, metrics);
        GitLabRunners runners = MeteredGitLab.runners(new FailingRunners(), metrics);

        assertThrows(GitLabRejectedException.class, () -> jobs.job(JOB));
        assertThrows(GitLabUnavailableException.class, () -> projects.liveJobs(1, 1));
        assertEquals(List.of(1L), projects.groupProjects("g", 1).items());
        assertThrows(GitLabRejectedException.class, () -> projects.hooks(1));
        assertThrows(GitLabUnavailableException.class, () -> runners.createRunner(null));
        assertThrows(GitLabUnavailableException.class, () -> runners.deleteRunner(1));
        assertThrows(GitLabUnavailableException.class, () -> runners.cancelJob(JOB));
        assertThrows(GitLabUnavailableException.class, () -> runners.runningJobs(1, "s_1"));

        assertEquals(2.0, metrics.total(MetricName.GITLAB_API_ERRORS, "rejected"));
        assertEquals(5.0, metrics.total(MetricName.GITLAB_API_ERRORS, "unavailable"));
    }

    /** Every call: GitLab is down. */
    static final class FailingRunners implements GitLabRunners {
        private static <T> T down() {
            throw new GitLabUnavailableException("unreachable", null);
        }

        @Override
        public CreatedRunner createRunner(RunnerSpec spec) {
            return down();
        }

        @Override
        public void setPaused(long runnerId, boolean paused) {
            down();
        }

        @Override
        public List<JobKey> runningJobs(long runnerId) {
            return down();
        }

        @Override
        public List<JobKey> runningJobs(long runnerId, String systemId) {
            return down();
        }

        @Override
        public void deleteRunner(long runnerId) {
            down();
        }

        @Override
        public void cancelJob(JobKey job) {
            down();
        }

        @Override
        public Optional<JobKey> retryJob(JobKey job) {
            return down();
        }

        @Override
        public List<RunnerInfo> runnersOf(RunnerOwner owner) {
            return down();
        }
    }

    @Test
    void reconcilerRepairsAreCountedByKindAndNothingElseOfTheReport() {
        ReconcileReport report = new ReconcileReport(9, Map.of(ReconcileReport.Kind.TO_RUNNING, 2,
                ReconcileReport.Kind.GONE, 1, ReconcileReport.Kind.UNCHANGED, 5, ReconcileReport.Kind.UNREADABLE, 1),
                0, ReconcileReport.Stop.COMPLETE, null, null, List.of(), 0);

        ReconcileMetrics.record(report, metrics);

        assertEquals(2.0, metrics.total(MetricName.RECONCILER_REPAIRS, "TO_RUNNING"));
        assertEquals(1.0, metrics.total(MetricName.RECONCILER_REPAIRS, "GONE"));
        assertEquals(2, metrics.points().size(), "no points for kinds without repairs, nor for non-repairs;"
                + " no hook gauge while hooks are not checked");
    }

    @Test
    void disabledHooksAreAGaugeSentEveryRunWhileHooksAreChecked() {
        ReconcileReport report = new ReconcileReport(0, Map.of(ReconcileReport.Kind.DISCOVERED, 3), 0,
                ReconcileReport.Stop.COMPLETE, null, null, List.of(), 0,
                new ReconcileReport.Projects(4, 0, 2, 1, 0, true));
        ReconcileMetrics.record(report, metrics);
        assertEquals(3.0, metrics.total(MetricName.RECONCILER_REPAIRS, "DISCOVERED"));
        assertEquals(1.0, metrics.total(MetricName.HOOKS_DISABLED));

        ReconcileReport none = new ReconcileReport(0, Map.of(), 0, ReconcileReport.Stop.COMPLETE, null, null,
                List.of(), 0, new ReconcileReport.Projects(1, 0, 0, 0, 0, true));
        ReconcileMetrics.record(none, metrics);
        assertEquals(3, metrics.points().size(), "a zero is sent too");
    }
}
