package io.runnerscale.scaling;

import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PolicyEntry;
import io.runnerscale.scaling.ScalingAction.Reason;
import io.runnerscale.scaling.ScalingAction.SetDesiredCapacity;
import io.runnerscale.scaling.ScalingAction.TerminateInstance;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * GitLab's autoscaler rule, decided for one pool at one moment. Pure: the Lambda scaler, the local
 * server and the simulator all call it.
 *
 * <ul>
 *   <li>need = pending + running + idle slots, idle from the active policy entry (or the forecast's
 *       pre-warm, if larger);</li>
 *   <li>instances = min(max_instances, ceil(need / capacity_per_instance));</li>
 *   <li>scale-out raises desired capacity; scale-in terminates chosen instances: idle longer than
 *       idle_time, oldest first, never one with a running job, never one whose jobs runnerscale may
 *       have missed ({@link InstanceView#stateKnown()}), never below what the forecast keeps;</li>
 *   <li>instances past max_use_count give no slots and retire once idle; instances not ready within
 *       boot_timeout are replaced.</li>
 * </ul>
 */
public final class ScalingPolicy {

    private ScalingPolicy() {
    }

    public static ScalingDecision decide(PoolSnapshot snapshot) {
        PoolConfig pool = snapshot.pool();
        Instant now = snapshot.now();
        PolicyEntry policy = pool.activePolicy(now);

        List<ScalingAction> actions = new ArrayList<>();
        List<InstanceView> serving = new ArrayList<>();
        int retiringBusy = 0;
        int jobsOnRetiring = 0;
        int desired = Math.max(snapshot.desiredCapacity(), 0);
        int listed = snapshot.instances().size();

        for (InstanceView instance : snapshot.instances()) {
            boolean retiring = pool.maxUseCount() > 0 && instance.useCount() >= pool.maxUseCount();
            // an instance whose jobs are unknown may be busy: it retires only once a job is seen finishing on it
            if (retiring && (instance.busy() || !instance.stateKnown())) {
                retiringBusy++;
                jobsOnRetiring += instance.runningJobs();
            } else if (retiring) {
                actions.add(new TerminateInstance(instance.id(), Reason.RETIRED, true));
                desired--;
                listed--;
            } else {
                serving.add(instance);
            }
        }

        int live = snapshot.pendingJobs() + snapshot.runningJobs();
        int policyIdle = policy.idleSlots(snapshot.runningJobs());
        int neededSlots = live + Math.max(policyIdle, snapshot.forecast().prewarm());
        int target = instancesFor(neededSlots, jobsOnRetiring, retiringBusy, pool);
        int keep = Math.max(target, instancesFor(live + snapshot.forecast().keep(), jobsOnRetiring, retiringBusy, pool));

        // Replace instances that never became ready; while they are counted, their replacements are too.
        for (InstanceView instance : serving) {
            if (!instance.ready() && instance.launchedAt() != null
                    && now.isAfter(instance.launchedAt().plus(pool.bootTimeout()))) {
                actions.add(new TerminateInstance(instance.id(), Reason.BOOT_TIMEOUT, false));
            }
        }

        int unlaunched = Math.max(0, desired - listed);
        int capacity = serving.size() + unlaunched;
        int desiredAfter = desired;
        if (target > capacity) {
            desiredAfter = Math.min(pool.maxInstances(), retiringBusy + target);
        } else if (keep < capacity) {
            int surplus = capacity - keep;
            // Capacity the group has not launched yet goes first: lowering desired to the listed count terminates nothing.
            int trim = Math.min(surplus, unlaunched);
            surplus -= trim;
            desiredAfter = desired - trim;
            List<InstanceView> idle = serving.stream()
                    .filter(i -> i.ready() && !i.busy() && i.stateKnown())
                    .filter(i -> i.idleFor(now).compareTo(policy.idleTime()) >= 0)
                    .sorted(Comparator.comparing(InstanceView::launchedAt,
                            Comparator.nullsLast(Comparator.naturalOrder())).thenComparing(InstanceView::id))
                    .limit(surplus)
                    .toList();
            for (InstanceView instance : idle) {
                actions.add(new TerminateInstance(instance.id(), Reason.IDLE, true));
            }
            if (trim > 0) {
                // Terminations lower desired capacity themselves, one by one; this also trims the unlaunched part.
                actions.add(new SetDesiredCapacity(desiredAfter - idle.size()));
            }
            desiredAfter -= idle.size();
            return new ScalingDecision(pool.name(), neededSlots, target, desiredAfter, actions);
        }
        if (desiredAfter != desired) {
            actions.add(new SetDesiredCapacity(desiredAfter));
        }
        return new ScalingDecision(pool.name(), neededSlots, target, desiredAfter, actions);
    }

    /** Serving instances for {@code slots}; jobs already on retiring instances are served there. */
    private static int instancesFor(int slots, int jobsOnRetiring, int retiringBusy, PoolConfig pool) {
        int instances = ceilDiv(Math.max(0, slots - jobsOnRetiring), pool.capacityPerInstance());
        return Math.max(0, Math.min(instances, pool.maxInstances() - retiringBusy));
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
