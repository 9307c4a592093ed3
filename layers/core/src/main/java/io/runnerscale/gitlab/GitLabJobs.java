package io.runnerscale.gitlab;

import io.runnerscale.job.JobKey;

/**
 * Reading one job back from GitLab ({@code GET /projects/:id/jobs/:job_id}): what the reconciler
 * asks when a job's webhooks may have been lost. A port of its own, apart from {@link GitLab}, so
 * the webhook's tag lookup stays a one-method interface.
 */
public interface GitLabJobs {

    /**
     * The job as GitLab has it now.
     *
     * @return {@link JobLookup.Found} with the job as a {@link io.runnerscale.job.JobEvent} (the same
     *         shape a hook gives), {@link JobLookup.Gone} for a 404, {@link JobLookup.Unreadable}
     *         for a 200 whose answer says nothing usable about this job
     * @throws GitLabUnavailableException when GitLab cannot answer now (down, slow, 5xx, 429 with
     *                                    its {@code Retry-After}): worth asking again later
     * @throws GitLabRejectedException    when GitLab refuses the request (401, 403, another 4xx):
     *                                    every other job would get the same answer
     */
    JobLookup job(JobKey key);
}
