package io.runnerscale.simulate;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** One job of a workload: when it asked for a runner, how long it ran, its tags. */
public record TraceJob(long id, Instant requestedAt, Duration duration, List<String> tags) {
    public TraceJob {
        tags = List.copyOf(tags);
    }
}
