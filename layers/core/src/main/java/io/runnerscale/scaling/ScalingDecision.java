package io.runnerscale.scaling;

import java.util.List;

/**
 * The outcome of one decision for one pool.
 *
 * @param neededSlots     pending + running + idle slots the policy asks for
 * @param targetInstances instances that provide those slots (capped at max_instances)
 * @param actions         terminations first (they may lower desired capacity), then any capacity change
 */
public record ScalingDecision(String pool, int neededSlots, int targetInstances, int desiredAfter,
                              List<ScalingAction> actions) {
    public ScalingDecision {
        actions = List.copyOf(actions);
    }

    public boolean changesNothing() {
        return actions.isEmpty();
    }
}
