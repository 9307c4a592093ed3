package io.runnerscale.lifecycle;

import java.util.Optional;
import java.util.function.Predicate;

/**
 * Whether a drained instance goes back to its group's warm pool or is terminated: the rule of a
 * drain's last step ({@code Terminate}), pure, one place.
 *
 * <p><b>The rule.</b> An instance is <b>returned</b> only when all of these hold; otherwise it is
 * terminated ({@code TerminateInstanceInAutoScalingGroup}, desired capacity − 1), as every drain did
 * before:
 * <ol>
 *   <li>the drain is a scale-in ({@link DrainReason#SCALE_IN}): a retired, outdated, broken
 *       (boot timeout), interrupted or rebalanced instance, or one AWS terminates (terminate hook),
 *       must never come back;</li>
 *   <li>its pool's {@code warm_pool.reuse_on_scale_in} is true;</li>
 *   <li>no lifecycle action holds it (a drain of the terminate hook completes the action: the group
 *       decides where the instance goes, warm pool included);</li>
 *   <li>its group can be described, lists it in service, and its desired capacity is above its min
 *       size (lowering it below is refused);</li>
 *   <li>the group's {@code NewInstancesProtectedFromScaleIn} is true, and every <em>other</em>
 *       instance of the group that its scale-in could pick is protected from scale-in, or is itself
 *       returning (drained by another return, no runner). Instances the scale-in cannot pick do not
 *       count: those in the warm pool ({@code Warmed:*}) and those already leaving
 *       ({@code Terminating*}).</li>
 * </ol>
 * <b>Why this is safe.</b> Returning means: lift this instance's scale-in protection, then lower the
 * group's desired capacity by one. The group then takes out one unprotected instance, and by
 * rule 5 every unprotected instance it may pick has no runner (this one, whose runner the drain
 * deleted, or another returning one): a busy instance is never picked. Desired capacity has no
 * atomic decrement, so a scaler decision or another return writing at the same moment may lose this
 * decrement; that costs capacity (an idle, runner-less instance left in service, which the scaler
 * does not count and the orphan sweep terminates after a grace time), never a job. Rule 5's
 * group setting matters because instances leaving the warm pool inherit it: without it a resumed
 * instance would be unprotected, and a later return could make the group pick it while it runs a job.
 */
public final class WarmReturnPolicy {

    private WarmReturnPolicy() {
    }

    public enum Decision {
        RETURN,
        TERMINATE_NOT_SCALE_IN,
        TERMINATE_NO_REUSE,
        TERMINATE_HOOK_HELD,
        TERMINATE_NO_GROUP,
        TERMINATE_NOT_IN_SERVICE,
        TERMINATE_AT_MIN_SIZE,
        TERMINATE_GROUP_UNPROTECTED,
        TERMINATE_OTHER_UNPROTECTED;

        public boolean returns() {
            return this == RETURN;
        }
    }

    /** @param why for the log (the fallback's cause); empty for a return */
    public record Verdict(Decision decision, String why) {
    }

    /**
     * Rules 1–3, which need no call to AWS: false means terminate without describing the group.
     */
    public static boolean candidate(DrainReason reason, boolean reuseOnScaleIn, boolean hookHeld) {
        return precheck(reason, reuseOnScaleIn, hookHeld) == null;
    }

    /**
     * The whole rule.
     *
     * @param group     the group as described now (empty: it could not be)
     * @param returning whether an instance's record says {@link InstanceState#RETURNING}: asked only for
     *                  the other unprotected instances of rule 5, until one is not (each answer is a store read)
     */
    public static Verdict decide(DrainReason reason, boolean reuseOnScaleIn, boolean hookHeld, String instanceId,
                                 Optional<GroupMembers.Group> group, Predicate<String> returning) {
        Verdict early = precheck(reason, reuseOnScaleIn, hookHeld);
        if (early != null) {
            return early;
        }
        if (group.isEmpty()) {
            return new Verdict(Decision.TERMINATE_NO_GROUP, "its Auto Scaling group could not be described");
        }
        GroupMembers.Group g = group.get();
        boolean inService = g.members().stream().anyMatch(m -> m.instanceId().equals(instanceId) && m.inService());
        if (!inService) {
            return new Verdict(Decision.TERMINATE_NOT_IN_SERVICE, "the group does not list it in service");
        }
        if (g.desiredCapacity() - 1 < g.minSize()) {
            return new Verdict(Decision.TERMINATE_AT_MIN_SIZE, "desired capacity " + g.desiredCapacity()
                    + " cannot go below the group's min size " + g.minSize());
        }
        if (!g.newInstancesProtectedFromScaleIn()) {
            return new Verdict(Decision.TERMINATE_GROUP_UNPROTECTED, "the group's NewInstancesProtectedFromScaleIn"
                    + " is off (instances leaving the warm pool would be unprotected)");
        }
        for (GroupMembers.Member other : g.members()) {
            if (other.instanceId().equals(instanceId) || other.warmed() || other.terminating()
                    || other.protectedFromScaleIn() || returning.test(other.instanceId())) {
                continue;
            }
            return new Verdict(Decision.TERMINATE_OTHER_UNPROTECTED, "instance " + other.instanceId() + " ("
                    + other.lifecycleState() + ") is not protected from scale-in; the group could pick it");
        }
        return new Verdict(Decision.RETURN, "");
    }

    private static Verdict precheck(DrainReason reason, boolean reuseOnScaleIn, boolean hookHeld) {
        if (reason != DrainReason.SCALE_IN) {
            return new Verdict(Decision.TERMINATE_NOT_SCALE_IN, "a " + reason.wireName() + " drain never returns");
        }
        if (!reuseOnScaleIn) {
            return new Verdict(Decision.TERMINATE_NO_REUSE, "the pool's warm pool does not reuse on scale-in");
        }
        if (hookHeld) {
            return new Verdict(Decision.TERMINATE_HOOK_HELD, "a lifecycle action holds it");
        }
        return null;
    }
}
