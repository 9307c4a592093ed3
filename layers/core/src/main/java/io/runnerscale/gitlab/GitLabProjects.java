package io.runnerscale.gitlab;

import io.runnerscale.job.JobEvent;

import java.util.List;

/**
 * What the reconciler asks GitLab about whole projects: their pending and running jobs (jobs whose
 * webhooks never arrived: GitLab has no instance-wide list of them), a group's projects, and the project
 * hooks that deliver to runnerscale. Each call is one request; lists come a page at a time.
 *
 * <p>Every method throws {@link GitLabUnavailableException} when GitLab cannot answer now (down,
 * slow, 5xx, 429 with its {@code Retry-After}, or the client holding back because GitLab's
 * {@code RateLimit-Remaining} is nearly spent) and {@link GitLabRejectedException} when it refuses
 * (401, 403, 404 and other 4xx).
 */
public interface GitLabProjects {

    /** Largest page asked for (GitLab's own maximum). */
    int PER_PAGE = 100;

    /**
     * One page of a project's pending and running jobs
     * ({@code GET /projects/:id/jobs?scope[]=pending&scope[]=running}), each as the {@link JobEvent} a
     * hook gives (tags when readable). Running ones too: a job whose pending and running hooks were
     * both lost holds a runner runnerscale would otherwise count idle.
     *
     * @param page 1 for the first page
     */
    Page<JobEvent> liveJobs(long projectId, int page);

    /**
     * One page of the ids of a group's projects, its subgroups' included, archived ones left out
     * ({@code GET /groups/:id/projects}).
     *
     * @param group the group's id or full path ({@code my-org/ci})
     */
    Page<Long> groupProjects(String group, int page);

    /** The project's hooks ({@code GET /projects/:id/hooks}; needs the Maintainer role). */
    List<ProjectHook> hooks(long projectId);

    /**
     * One page of a list.
     *
     * @param nextPage the next page's number, null when this is the last one
     */
    record Page<T>(List<T> items, Integer nextPage) {
        public Page {
            items = List.copyOf(items);
        }
    }
}
