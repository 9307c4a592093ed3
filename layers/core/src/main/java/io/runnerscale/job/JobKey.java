package io.runnerscale.job;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A GitLab job is unique by project and job id.
 *
 * <p>The one rule for GitLab ids everywhere (webhook, local server, scaler messages, traces): a
 * whole number from 1 to {@link Long#MAX_VALUE}. GitLab never issues 0 or negative ids, and its
 * API cannot read a job by one, so such an id is bad input, not a job.
 */
public record JobKey(long projectId, long jobId) {
    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,19}");

    public JobKey {
        if (!isValidId(projectId)) {
            throw new IllegalArgumentException("project id must be a whole number from 1, got " + projectId);
        }
        if (!isValidId(jobId)) {
            throw new IllegalArgumentException("job id must be a whole number from 1, got " + jobId);
        }
    }

    /** True for ids GitLab can issue: 1 to {@link Long#MAX_VALUE}. */
    public static boolean isValidId(long id) {
        return id > 0;
    }

    /** The id written in decimal digits, when it is a valid id; empty for anything else. */
    public static Optional<Long> parseId(String text) {
        if (text == null || !DIGITS.matcher(text).matches()) {
            return Optional.empty();
        }
        try {
            long id = Long.parseLong(text);
            return isValidId(id) ? Optional.of(id) : Optional.empty();
        } catch (NumberFormatException tooLarge) {
            return Optional.empty();
        }
    }

    /** {@code "380/1977"}, as {@link #toString()} writes it; empty for anything else. */
    public static Optional<JobKey> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        int slash = text.indexOf('/');
        if (slash < 0) {
            return Optional.empty();
        }
        Optional<Long> project = parseId(text.substring(0, slash));
        Optional<Long> job = parseId(text.substring(slash + 1));
        return project.isPresent() && job.isPresent() ? Optional.of(new JobKey(project.get(), job.get())) : Optional.empty();
    }

    /** {@code 380/1977}: the form used in logs, messages and the local server's URLs. */
    @Override
    public String toString() {
        return projectId + "/" + jobId;
    }
}
