package io.runnerscale.compute;

import java.time.Instant;
import java.util.List;

/** A group's desired capacity and its instances that are launching or in service. */
public record GroupState(int desiredCapacity, List<Instance> instances) {
    public GroupState {
        instances = List.copyOf(instances);
    }

    /**
     * @param launchedAt null when the backend does not say (the store then remembers when it was first seen)
     * @param outdated   launched from a launch template (or launch configuration) the group no longer
     *                   launches: it retires once idle, so a new AMI or runner version rolls through the
     *                   pool. False when the backend cannot tell.
     */
    public record Instance(String id, boolean ready, Instant launchedAt, boolean outdated) {

        /** Not outdated (or a backend without versions). */
        public Instance(String id, boolean ready, Instant launchedAt) {
            this(id, ready, launchedAt, false);
        }
    }
}
