package io.runnerscale.gitlab;

import io.runnerscale.job.JobKey;

import java.util.List;
import java.util.Optional;

/**
 * The parts of GitLab's REST API that create, drain and delete the per-instance runners.
 *
 * <p>Every method throws {@link GitLabUnavailableException} when asking again later may help
 * (429 with its {@code Retry-After}, 409, 5xx, unreachable, slow, an answer that cannot be read)
 * and {@link GitLabRejectedException} when GitLab refused the request (401/403 naming the token
 * scope and role needed, 400, 404 where a missing thing is an error, 422).
 *
 * <p>Tokens: {@code create_runner} for {@link #createRunner}; {@code manage_runner} for the
 * {@code /runners/:id} calls; {@code api} for job cancel and retry; {@code read_api} for listing a
 * group's, project's or the instance's runners. A token with {@code api} covers all of them.
 */
public interface GitLabRunners {

    /** {@code POST /user/runners}: a new runner, unlocked and not paused, and its token. */
    CreatedRunner createRunner(RunnerSpec spec);

    /** {@code PUT /runners/:id} with {@code paused}: a paused runner takes no new job. */
    void setPaused(long runnerId, boolean paused);

    /**
     * {@code GET /runners/:id/jobs?status=running}, every page. GitLab lists only jobs of projects
     * the token's user can read (Reporter or more); an administrator's token sees all.
     */
    List<JobKey> runningJobs(long runnerId);

    /**
     * {@code GET /runners/:id/jobs?status=running&system_id=}: the running jobs of one runner manager,
     * a process sharing the runner's token (GitLab 16.9 and later; a Fargate task, whose system id its
     * entrypoint derives from the task id).
     */
    default List<JobKey> runningJobs(long runnerId, String systemId) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not list a runner manager's jobs");
    }

    /** {@code DELETE /runners/:id}. A runner already gone (404) counts as deleted: drains repeat it. */
    void deleteRunner(long runnerId);

    /**
     * {@code POST /projects/:id/jobs/:job_id/cancel}. A job already finished stays as it is (GitLab
     * answers 201 all the same); a job that no longer exists (404) counts as cancelled.
     */
    void cancelJob(JobKey job);

    /**
     * {@code POST /projects/:id/jobs/:job_id/retry}: the new job, or empty when there is nothing to
     * retry: the job no longer exists (404) or GitLab says it is not retryable (403 "Job is not
     * retryable": still running or canceling, or retried already).
     */
    Optional<JobKey> retryJob(JobKey job);

    /**
     * The runners of one owner, every page: {@code GET /runners/all?type=instance_type} (needs an
     * administrator), {@code GET /groups/:id/runners?type=group_type} or
     * {@code GET /projects/:id/runners?type=project_type}. GitLab's REST API cannot filter runners
     * by description, so matching is done here; a project's list also shows runners of other
     * projects assigned to it, filtered out by their type.
     */
    List<RunnerInfo> runnersOf(RunnerOwner owner);

    /**
     * The runners of {@code owner} whose description is exactly {@code description}: normally
     * one, none once deleted, more when a create was retried after GitLab had already created one.
     */
    default List<RunnerInfo> findRunnersByDescription(RunnerOwner owner, String description) {
        return runnersOf(owner).stream().filter(runner -> runner.description().equals(description)).toList();
    }
}
