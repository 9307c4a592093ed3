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
    record Group(String asg, boolean launchHook, List<Member> members) {
        public Group {
            members = List.copyOf(members);
        }
    }

    /** @param lifecycleState the group's word for it: {@code InService}, {@code Pending:Wait}, {@code Terminating:Wait}, ... */
    record Member(String instanceId, String lifecycleState) {
        public boolean inService() {
            return "InService".equals(lifecycleState);
        }
    }
}
