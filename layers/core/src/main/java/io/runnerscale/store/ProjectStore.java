package io.runnerscale.store;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The GitLab projects runnerscale has heard from, on the job table ({@code PROJECT#<id>} items,
 * indexed under {@code PROJECTS}, expiring a week after a project was last seen): the reconciler
 * lists their pending jobs, since GitLab has no instance-wide list of them, and checks their hooks.
 * {@link DynamoJobStore} and {@link InMemoryJobStore} implement it.
 */
public interface ProjectStore {

    /** How long a project is remembered after its last job was seen (and its item kept). */
    Duration REMEMBERED = Duration.ofDays(7);

    /** A job of the project was seen now: remembered (or remembered longer). */
    void projectSeen(long projectId, Instant now);

    /** Every project remembered, in no particular order. */
    List<ProjectRecord> projects();

    /** The project's pending jobs were listed, to its last page, at {@code at}. */
    void projectListed(long projectId, Instant at);

    /**
     * The project's hooks were checked at {@code at}.
     *
     * @param disabledHooks runnerscale's hooks in it GitLab has disabled, or -1 when they could not be
     *                      read (the token lacks the Maintainer role there)
     */
    void hooksChecked(long projectId, Instant at, int disabledHooks);
}
