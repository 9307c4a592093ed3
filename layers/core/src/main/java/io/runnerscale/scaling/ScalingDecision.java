package io.runnerscale.scaling;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The outcome of one decision for one pool.
 *
 * @param neededSlots      pending + running + idle slots the policy asks for
 * @param targetInstances  instances that provide those slots (capped at max_instances)
 * @param desiredAfter     the group's desired capacity once this decision's drains have ended
 * @param actions          any desired capacity change first, then the drains ({@link ScalingAction.DrainInstance})
 * @param instancesByState the pool's instances (a Fargate pool's tasks) by state as the decision left
 *                         them ({@link InstanceStates}), for the {@code Instances} metric; empty when
 *                         not counted (the policy alone does not count them)
 */
public record ScalingDecision(String pool, int neededSlots, int targetInstances, int desiredAfter,
                              List<ScalingAction> actions, Map<String, Integer> instancesByState) {
    public ScalingDecision {
        actions = List.copyOf(actions);
        instancesByState = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(instancesByState));
    }

    public ScalingDecision(String pool, int neededSlots, int targetInstances, int desiredAfter,
                           List<ScalingAction> actions) {
        this(pool, neededSlots, targetInstances, desiredAfter, actions, Map.of());
    }

    /** This decision with its instances counted by state. */
    public ScalingDecision withInstances(Map<String, Integer> byState) {
        return new ScalingDecision(pool, neededSlots, targetInstances, desiredAfter, actions, byState);
    }

    public boolean changesNothing() {
        return actions.isEmpty();
    }
}
