package io.runnerscale.lifecycle;

import java.util.List;
import java.util.Optional;

/**
 * The instances of an Auto Scaling group as the group lists them, leaving and standby ones included
 * (the orphan sweep decides which to look at), and whether the group has runnerscale's launch hook.
 *
 * <p>Implementations throw {@link RetryableError} when asking again later may help.
 */
public interface GroupMembers {

    /** The group, or empty when no group has that name. */
    Optional<Group> describe(String asg);

    /**
     * @param launchHook whether the group has the lifecycle hook {@code runnerscale-launch}: only then
     *                   does runnerscale create its instances' runners, so only then is an instance
     *                   without a runner record an orphan
     */
    record Group(String asg, boolean launchHook, List<Member> members, boolean newInstancesProtectedFromScaleIn,
                 int desiredCapacity, int minSize) {
        public Group {
            members = List.copyOf(members);
        }

        /** A group as the orphan sweep reads it (protection and capacity unknown: unprotected, 0). */
        public Group(String asg, boolean launchHook, List<Member> members) {
            this(asg, launchHook, members, false, 0, 0);
        }
    }

    /**
     * @param lifecycleState       the group's word for it: {@code InService}, {@code Pending:Wait},
     *                             {@code Terminating:Wait}, {@code Warmed:Stopped}, ...
     * @param protectedFromScaleIn the instance's scale-in protection: the group's own scale-in never picks it
     */
    record Member(String instanceId, String lifecycleState, boolean protectedFromScaleIn) {
        public Member(String instanceId, String lifecycleState) {
            this(instanceId, lifecycleState, false);
        }

        public boolean inService() {
            return "InService".equals(lifecycleState);
        }

        /** In the warm pool ({@code Warmed:*}): not one of the instances the group's scale-in picks from. */
        public boolean warmed() {
            return lifecycleState != null && lifecycleState.startsWith("Warmed:");
        }

        /** Leaving already ({@code Terminating*}): the group's scale-in cannot pick it again. */
        public boolean terminating() {
            return lifecycleState != null && lifecycleState.startsWith("Terminating");
        }
    }
}
