package io.runnerscale.gitlab;

/**
 * A runner as GitLab lists it: enough for the orphan sweep to match a runner to an instance by its
 * description.
 *
 * @param description may be empty: GitLab allows a runner without one
 */
public record RunnerInfo(long id, String description, RunnerType type, boolean paused) {
}
