package io.runnerscale.compute;

import io.runnerscale.job.JobKey;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One task launch: the job a Fargate task was started for and the attempt number (from 1). It names
 * the task everywhere: ECS's {@code startedBy} (so every "ECS Task State Change" event names it
 * back), the RunTask {@code clientToken} (so a retried call starts no second task) and the store's
 * {@code TASK#} item (whose conditional put is the claim).
 */
public record TaskKey(JobKey job, int attempt) {
    /** Every task runnerscale starts has a {@code startedBy} with this prefix (the EventBridge rule filters on it). */
    public static final String STARTED_BY_PREFIX = "runnerscale/";
    private static final Pattern STARTED_BY = Pattern.compile("runnerscale/([0-9]{1,19})/([0-9]{1,19})/([0-9]{1,4})");

    public TaskKey {
        if (job == null) {
            throw new IllegalArgumentException("a task key needs a job");
        }
        if (attempt < 1) {
            throw new IllegalArgumentException("task attempts count from 1, got " + attempt);
        }
    }

    /** ECS {@code startedBy}: at most 128 letters, digits, hyphens, underscores and slashes. */
    public String startedBy() {
        return STARTED_BY_PREFIX + job.projectId() + "/" + job.jobId() + "/" + attempt;
    }

    /**
     * RunTask's {@code clientToken} (at most 64 characters) for one capacity provider: each provider
     * gets its own, since ECS refuses a token reused with different parameters.
     */
    public String clientToken(String capacityProvider) {
        return "runnerscale-" + job.projectId() + "-" + job.jobId() + "-" + attempt + "-"
                + capacityProvider.toLowerCase(Locale.ROOT).replace("fargate_", "").replace("fargate", "od");
    }

    /** The key an ECS {@code startedBy} names, or empty for a task runnerscale did not start. */
    public static Optional<TaskKey> fromStartedBy(String startedBy) {
        if (startedBy == null) {
            return Optional.empty();
        }
        Matcher m = STARTED_BY.matcher(startedBy);
        if (!m.matches()) {
            return Optional.empty();
        }
        Optional<Long> project = JobKey.parseId(m.group(1));
        Optional<Long> job = JobKey.parseId(m.group(2));
        int attempt = Integer.parseInt(m.group(3));
        if (project.isEmpty() || job.isEmpty() || attempt < 1) {
            return Optional.empty();
        }
        return Optional.of(new TaskKey(new JobKey(project.get(), job.get()), attempt));
    }

    /**
     * The GitLab runner system id the task's entrypoint derives from its task id ({@code s_} and the
     * first 12 characters, GitLab's format {@code ^[sr]_[0-9a-zA-Z]{12}$}), so GitLab's
     * {@code GET /runners/:id/jobs?system_id=} names the job a task runs. Empty for an ARN without a task id.
     */
    public static Optional<String> systemId(String taskArn) {
        if (taskArn == null) {
            return Optional.empty();
        }
        String id = taskArn.substring(taskArn.lastIndexOf('/') + 1);
        if (id.length() < 12 || !id.substring(0, 12).matches("[0-9a-zA-Z]{12}")) {
            return Optional.empty();
        }
        return Optional.of("s_" + id.substring(0, 12));
    }

    @Override
    public String toString() {
        return job.projectId() + "/" + job.jobId() + "#" + attempt;
    }
}
