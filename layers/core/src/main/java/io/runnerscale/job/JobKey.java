package io.runnerscale.job;

/** A GitLab job is unique by project and job id. */
public record JobKey(long projectId, long jobId) {

    /** {@code 380/1977}: the form used in logs, messages and the local server's URLs. */
    @Override
    public String toString() {
        return projectId + "/" + jobId;
    }
}
