package io.runnerscale.store;

import java.time.Instant;

/** What runnerscale remembers of an instance between decisions: when it came, how often it was used. */
public record InstanceRecord(String instanceId, String pool, Instant launchedAt, int useCount,
                             Instant lastJobFinishedAt) {
}
