package io.runnerscale.lifecycle;

import java.util.Optional;

/**
 * The Auto Scaling calls that hand a drained instance back to its group's warm pool (see
 * {@link WarmReturnPolicy}): read the group, lift one instance's scale-in protection, lower desired
 * capacity.
 *
 * <p>Implementations throw {@link RetryableError} when asking again later may help; an instance no
 * longer in the group counts as released (the drain repeats these calls).
 */
public interface ScaleInReturns {

    /** The group with its instances' protection, desired capacity and min size; empty when no group has that name. */
    Optional<GroupMembers.Group> describe(String asg);

    /** {@code SetInstanceProtection ProtectedFromScaleIn=false} on this one instance. */
    void releaseProtection(String asg, String instanceId);

    /** {@code SetDesiredCapacity HonorCooldown=false}. */
    void setDesiredCapacity(String asg, int desired);
}
