package io.runnerscale.store;

import java.time.Instant;

/**
 * A remembered project.
 *
 * @param seenAt          when a job of it was last seen by a webhook (null: only named in the config)
 * @param listedAt        when its pending jobs were last listed to the end, null if never
 * @param hooksCheckedAt  when its hooks were last checked, null if never
 * @param disabledHooks   runnerscale's hooks in it that GitLab had disabled at that check; -1 when they
 *                        could not be read, 0 before any check
 */
public record ProjectRecord(long projectId, Instant seenAt, Instant listedAt, Instant hooksCheckedAt,
                            int disabledHooks) {

    public static ProjectRecord named(long projectId) {
        return new ProjectRecord(projectId, null, null, null, 0);
    }
}
