package io.runnerscale.compute;

import io.runnerscale.pool.PoolConfig;
import io.runnerscale.text.Quoted;

import java.util.Objects;

/**
 * What to do with one ec2-asg pool's group so that its warm pool is what the pools file asks. Pure:
 * {@link WarmPoolApplier} runs it for every ec2-asg pool on the lifecycle function's schedule.
 *
 * <ul>
 *   <li>{@code warm_pool} set, and the group has a mixed instances policy or launches Spot (its
 *       launch template's {@code InstanceMarketOptions}, or its launch configuration's
 *       {@code SpotPrice}): {@link Kind#REFUSED}, naming the pool, the group and why. PutWarmPool
 *       is not called: AWS rejects it on such a group;</li>
 *   <li>{@code warm_pool} set and the group's warm pool already the same (state, min size, max
 *       prepared capacity with absent = -1, reuse on scale-in): {@link Kind#UNCHANGED}, no write,
 *       so a run writes nothing when nothing changed;</li>
 *   <li>{@code warm_pool} set and different, or no warm pool yet: {@link Kind#PUT} with exactly the
 *       configured fields (a field left out of PutWarmPool would fall back to AWS's default, not
 *       keep the group's value);</li>
 *   <li>the group's warm pool being deleted: {@link Kind#PENDING_DELETE}, the next run puts it;</li>
 *   <li>no {@code warm_pool} but the group has a warm pool: {@link Kind#NOT_IN_POOLS_FILE}, a
 *       warning with the command that removes it. It is never deleted here: deleting terminates
 *       the prepared instances, and the warm pool may be the user's own or a template's;</li>
 *   <li>the group's warm pool is the stack's ({@code AWS::AutoScaling::WarmPool} of the example
 *       group, {@code stackManaged}): never written, so CloudFormation stays its only writer and
 *       sees no drift; a {@code warm_pool} that differs from it is {@link Kind#STACK_MANAGED}, a
 *       warning to set the stack's parameters alike.</li>
 * </ul>
 */
public final class WarmPoolPolicy {

    private WarmPoolPolicy() {
    }

    public enum Kind {
        /** No warm pool asked for, none there. */
        NONE,
        UNCHANGED,
        PUT,
        REFUSED,
        PENDING_DELETE,
        NOT_IN_POOLS_FILE,
        STACK_MANAGED,
        /** The group does not exist. */
        NO_GROUP
    }

    /**
     * @param put     what to write (PUT only), else null
     * @param message what the log says, bounded ({@link Quoted#abbreviate}), or null when there is
     *                nothing to say
     */
    public record Decision(Kind kind, WarmPools.Settings put, String message) {
        public Decision {
            Objects.requireNonNull(kind, "kind");
            if ((kind == Kind.PUT) != (put != null)) {
                throw new IllegalArgumentException(kind + " with settings " + put);
            }
        }
    }

    /**
     * @param wanted       the pool's {@code warm_pool}, or null
     * @param group        the group as described, or null when it does not exist
     * @param stackManaged the group's warm pool is the stack's own
     */
    public static Decision decide(String pool, String groupName, PoolConfig.WarmPool wanted, WarmPools.Group group,
                                  boolean stackManaged) {
        String who = "pool '" + Quoted.abbreviate(pool) + "': ";
        String named = "Auto Scaling group '" + Quoted.abbreviate(groupName) + "'";
        if (group == null) {
            return new Decision(Kind.NO_GROUP, null, wanted == null ? null
                    : who + "warm_pool: " + named + " does not exist");
        }
        WarmPools.Settings current = group.warmPool();
        if (wanted == null) {
            if (current == null || group.pendingDelete()) {
                return new Decision(Kind.NONE, null, null);
            }
            if (stackManaged) {
                return new Decision(Kind.STACK_MANAGED, null, null);
            }
            return new Decision(Kind.NOT_IN_POOLS_FILE, null, who + named + " has a warm pool (" + current.describe()
                    + ") that the pools file does not ask for; runnerscale leaves it (deleting it terminates its"
                    + " instances). Remove it with `aws autoscaling delete-warm-pool --auto-scaling-group-name "
                    + Quoted.abbreviate(groupName) + "`, or give the pool the same warm_pool");
        }
        if (group.noWarmPool() != null) {
            return new Decision(Kind.REFUSED, null, who + "warm_pool: " + named + " " + group.noWarmPool()
                    + "; AWS allows no warm pool on it. Remove warm_pool from the pool, or launch On-Demand"
                    + " instances of one type (a launch template without Spot and no mixed instances policy)");
        }
        WarmPools.Settings desired = WarmPools.Settings.of(wanted);
        if (group.pendingDelete()) {
            return new Decision(Kind.PENDING_DELETE, null, who + named + "'s warm pool is being deleted; the next run"
                    + " creates the configured one (" + desired.describe() + ")");
        }
        if (desired.equals(current)) {
            return new Decision(Kind.UNCHANGED, null, null);
        }
        if (stackManaged) {
            return new Decision(Kind.STACK_MANAGED, null, who + "warm_pool (" + desired.describe() + ") differs from "
                    + named + "'s warm pool (" + (current == null ? "none" : current.describe()) + "), which the"
                    + " stack owns (its WarmPool* parameters): runnerscale does not write it; set the parameters and"
                    + " warm_pool alike");
        }
        return new Decision(Kind.PUT, desired, who + named + ": warm pool " + (current == null ? "created"
                : "updated from " + current.describe()) + " as " + desired.describe());
    }
}
