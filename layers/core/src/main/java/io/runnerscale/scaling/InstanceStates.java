package io.runnerscale.scaling;

import io.runnerscale.store.TaskRecord;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pool's instances by state as a decision leaves them: the {@code Instances} metric's
 * {@code State}. Every state of the pool's kind is given, zeros included, so a gauge whose last
 * instance left reads 0 rather than its last count.
 */
public final class InstanceStates {
    /** An Auto Scaling pool's states. */
    public static final List<String> ASG = List.of("booting", "idle", "busy", "draining");
    /** A Fargate pool's task states (stopped tasks are not counted). */
    public static final List<String> TASKS = List.of("starting", "running", "stopping");

    private InstanceStates() {
    }

    /**
     * An Auto Scaling pool's listed instances, from the scaler's view: {@code draining} when a drain
     * runs on it or this decision starts one, else {@code booting} while not in service, else
     * {@code busy} with a running job, else {@code idle}.
     */
    public static Map<String, Integer> of(PoolSnapshot snapshot, ScalingDecision decision) {
        Set<String> drainedNow = new HashSet<>();
        for (ScalingAction action : decision.actions()) {
            if (action instanceof ScalingAction.DrainInstance drain) {
                drainedNow.add(drain.instanceId());
            }
        }
        Map<String, Integer> counts = zeros(ASG);
        for (InstanceView instance : snapshot.instances()) {
            String state;
            if (instance.draining() || drainedNow.contains(instance.id())) {
                state = "draining";
            } else if (!instance.ready()) {
                state = "booting";
            } else if (instance.busy()) {
                state = "busy";
            } else {
                state = "idle";
            }
            counts.merge(state, 1, Integer::sum);
        }
        return counts;
    }

    /**
     * A Fargate pool's tasks: {@code starting} (claimed, or provisioning in ECS, and the tasks this
     * decision launched), {@code running}, {@code stopping}; stopped ones are gone.
     *
     * @param tasks    the pool's task records the decision read
     * @param launched tasks the decision claimed and started (not in {@code tasks})
     */
    public static Map<String, Integer> ofTasks(List<TaskRecord> tasks, int launched) {
        Map<String, Integer> counts = zeros(TASKS);
        counts.merge("starting", launched, Integer::sum);
        for (TaskRecord task : tasks) {
            switch (task.state()) {
                case CLAIMED, STARTING -> counts.merge("starting", 1, Integer::sum);
                case RUNNING -> counts.merge("running", 1, Integer::sum);
                case STOPPING -> counts.merge("stopping", 1, Integer::sum);
                case STOPPED -> {
                    // gone: no capacity, no cost
                }
            }
        }
        return counts;
    }

    private static Map<String, Integer> zeros(List<String> states) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        states.forEach(state -> counts.put(state, 0));
        return counts;
    }
}
