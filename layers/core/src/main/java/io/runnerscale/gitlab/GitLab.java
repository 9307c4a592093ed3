package io.runnerscale.gitlab;

import io.runnerscale.job.JobKey;

import java.util.List;

/** The parts of GitLab's REST API runnerscale reads. */
public interface GitLab {

    /**
     * The job's {@code tag_list} from {@code GET /projects/:id/jobs/:job_id}.
     *
     * @throws GitLabUnavailableException when the API cannot answer (down, slow, unauthorized, unknown job)
     */
    List<String> jobTags(JobKey job);
}
