package io.runnerscale.compute;

import java.time.Instant;
import java.util.List;

/** A group's desired capacity and its instances that are launching or in service. */
public record GroupState(int desiredCapacity, List<Instance> instances) {
    public GroupState {
        instances = List.copyOf(instances);
    }

    /** @param launchedAt null when the backend does not say (the store then remembers when it was first seen) */
    public record Instance(String id, boolean ready, Instant launchedAt) {
    }
}
