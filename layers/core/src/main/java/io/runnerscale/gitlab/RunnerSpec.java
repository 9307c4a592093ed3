package io.runnerscale.gitlab;

import io.runnerscale.job.JobTags;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The runner to create for one EC2 instance: {@code POST /user/runners} creates it unlocked and
 * not paused, with the instance id as its description and the pool's match as its tags.
 *
 * @param description     the EC2 instance id ({@code i-...}): the job hooks name the instance by it
 * @param tags            the pool's {@code match.tags}, by {@link JobTags}' rule
 * @param runUntagged     whether the runner picks jobs without tags
 * @param maximumTimeout  caps how long a job may run on the runner; GitLab wants at least 10 minutes
 */
public record RunnerSpec(RunnerOwner owner, String description, List<String> tags, boolean runUntagged,
                         Optional<Duration> maximumTimeout) {
    /** GitLab's own limit: a runner's maximum timeout below 10 minutes is refused with a 400. */
    public static final Duration MIN_MAXIMUM_TIMEOUT = Duration.ofMinutes(10);
    /** GitLab's column is a string; an instance id is 19 characters, this leaves room for any other name. */
    public static final int MAX_DESCRIPTION_LENGTH = 255;

    public RunnerSpec {
        if (owner == null) {
            throw new IllegalArgumentException("runner owner is required");
        }
        if (description == null || description.isBlank() || description.length() > MAX_DESCRIPTION_LENGTH
                || !description.strip().equals(description)) {
            throw new IllegalArgumentException("runner description must be a non-blank string of at most "
                    + MAX_DESCRIPTION_LENGTH + " characters without surrounding spaces");
        }
        tags = List.copyOf(tags);
        if (tags.size() > JobTags.MAX_TAGS) {
            throw new IllegalArgumentException("a runner has at most " + JobTags.MAX_TAGS + " tags, got " + tags.size());
        }
        for (int i = 0; i < tags.size(); i++) {
            if (!JobTags.isValidTag(tags.get(i))) {
                throw new IllegalArgumentException("runner tag " + i + " is not " + JobTags.RULE);
            }
        }
        if (tags.isEmpty() && !runUntagged) {
            throw new IllegalArgumentException("a runner without tags that runs no untagged job would never run a job");
        }
        if (maximumTimeout == null) {
            maximumTimeout = Optional.empty();
        }
        maximumTimeout.ifPresent(timeout -> {
            if (timeout.compareTo(MIN_MAXIMUM_TIMEOUT) < 0) {
                throw new IllegalArgumentException("a runner's maximum timeout must be at least 10 minutes, got "
                        + timeout.toSeconds() + " s");
            }
        });
    }
}
