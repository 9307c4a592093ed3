package io.runnerscale.scaling;

import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PolicyEntry;
import io.runnerscale.scaling.ScalingAction.Reason;
import io.runnerscale.scaling.ScalingAction.SetDesiredCapacity;
import io.runnerscale.scaling.ScalingAction.DrainInstance;

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
 *   <li>scale-out raises desired capacity; scale-in drains chosen instances ({@link DrainInstance}:
 *       terminated only once GitLab lists no running job on them): idle longer than idle_time,
 *       oldest first, never one with a running job, never one whose jobs runnerscale may have missed
 *       ({@link InstanceView#stateKnown()}), never below what the forecast keeps;</li>
 *   <li>instances past max_use_count give no slots and retire (drain) once idle; instances not
 *       ready within boot_timeout give no slots and are drained, their replacement asked for at once;</li>
 *   <li>outdated instances ({@link InstanceView#outdated()}: launched from a launch template version
 *       the group no longer launches) are treated like retiring ones: they give no slots, keep
 *       serving the jobs running on them, and are drained ({@link Reason#OUTDATED}) once idle and
 *       their state known. Their replacements come from the rule above (the slots they no longer
 *       give), so the group launches them from the current template. The roll is as gradual as the
 *       fleet is busy: an idle instance goes at once (it runs no job, and capacity the pool still
 *       needs is asked for in the same decision), a busy one only after its last job; no job is
 *       ever cut short for an upgrade;</li>
 *   <li>a draining instance gives no slots and is never chosen again; its jobs are served where
 *       they run, and it still takes a place in the group (max_instances) until it is gone. An
 *       interrupted one (a spot warning) serves nothing: its running jobs will be retried, so
 *       their slots are asked for elsewhere at once, and the retried jobs find them ready.</li>
 * </ul>
 * Actions come in the order they are applied: desired capacity first, then the drains. A drain ends
 * later (when GitLab lists no job on the instance), and every drain lowers desired capacity by one
 * as it terminates the instance; so desired capacity is set to what the pool needs plus those
 * drains, never below the instances still in the group, which would let the group pick an instance
 * to terminate itself without asking GitLab.
 */
public final class ScalingPolicy {

    private ScalingPolicy() {
    }

    public static ScalingDecision decide(PoolSnapshot snapshot) {
        PoolConfig pool = snapshot.pool();
        Instant now = snapshot.now();
        PolicyEntry policy = pool.activePolicy(now);

        List<DrainInstance> drains = new ArrayList<>();
        List<InstanceView> serving = new ArrayList<>();
        int retiringBusy = 0;
        int jobsOnRetiring = 0;
        int groupDesired = Math.max(snapshot.desiredCapacity(), 0);
        // desired and listed as they will be once this decision's drains have ended (each lowers desired by one)
        int desired = groupDesired;
        int listed = snapshot.instances().size();

        for (InstanceView instance : snapshot.instances()) {
            if (instance.draining()) {
                // leaving: like a busy retiring instance, it holds its place and serves only what runs on
                // it, unless EC2 interrupts it: then those jobs will be retried and need slots elsewhere now
                retiringBusy++;
                if (!instance.interrupted()) {
                    jobsOnRetiring += instance.runningJobs();
                }
                continue;
            }
            boolean usedUp = pool.maxUseCount() > 0 && instance.useCount() >= pool.maxUseCount();
            boolean retiring = usedUp || instance.outdated();
            // an instance whose jobs are unknown may be busy: it retires only once a job is seen finishing on it
            if (retiring && (instance.busy() || !instance.stateKnown())) {
                retiringBusy++;
                jobsOnRetiring += instance.runningJobs();
            } else if (retiring) {
                drains.add(new DrainInstance(instance.id(), usedUp ? Reason.RETIRED : Reason.OUTDATED));
                desired--;
                listed--;
            } else if (!instance.ready() && instance.launchedAt() != null
                    && now.isAfter(instance.launchedAt().plus(pool.bootTimeout()))) {
                // never became ready: it goes, and the rule below asks for its replacement if one is needed
                drains.add(new DrainInstance(instance.id(), Reason.BOOT_TIMEOUT));
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
            List<InstanceView> idle = serving.stream()
                    .filter(i -> i.ready() && !i.busy() && i.stateKnown())
                    .filter(i -> i.idleFor(now).compareTo(policy.idleTime()) >= 0)
                    .sorted(Comparator.comparing(InstanceView::launchedAt,
                            Comparator.nullsLast(Comparator.naturalOrder())).thenComparing(InstanceView::id))
                    .limit(surplus)
                    .toList();
            for (InstanceView instance : idle) {
                drains.add(new DrainInstance(instance.id(), Reason.IDLE));
            }
            desiredAfter = desired - trim - idle.size();
        }
        int lowering = drains.size();
        // max_instances caps the group while the drained instances are still in it: at the cap, their
        // replacements wait for the next decision after they have gone
        int setTo = Math.min(desiredAfter + lowering, Math.max(pool.maxInstances(), groupDesired));
        List<ScalingAction> actions = new ArrayList<>();
        if (setTo != groupDesired) {
            actions.add(new SetDesiredCapacity(setTo));
        }
        actions.addAll(drains);
        return new ScalingDecision(pool.name(), neededSlots, target, setTo - lowering, actions);
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
