package io.runnerscale.scaling;

import java.util.List;

/**
 * The outcome of one decision for one pool.
 *
 * @param neededSlots     pending + running + idle slots the policy asks for
 * @param targetInstances instances that provide those slots (capped at max_instances)
 * @param desiredAfter    the group's desired capacity once this decision's drains have ended
 * @param actions         any desired capacity change first, then the drains ({@link ScalingAction.DrainInstance})
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
