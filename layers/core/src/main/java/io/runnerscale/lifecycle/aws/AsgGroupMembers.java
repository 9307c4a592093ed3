package io.runnerscale.lifecycle.aws;

import io.runnerscale.lifecycle.GroupMembers;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.autoscaling.model.AutoScalingGroup;

import java.util.Optional;

/**
 * {@code DescribeAutoScalingGroups} (every instance, whatever its lifecycle state: unlike
 * {@link io.runnerscale.compute.AsgCompute}, which leaves out the leaving ones) and
 * {@code DescribeLifecycleHooks} for the {@code runnerscale-launch} hook.
 */
public final class AsgGroupMembers implements GroupMembers {
    public static final String LAUNCH_HOOK = "runnerscale-launch";

    private final AutoScalingClient autoScaling;

    public AsgGroupMembers(AutoScalingClient autoScaling) {
        this.autoScaling = autoScaling;
    }

    @Override
    public Optional<Group> describe(String asg) {
        try {
            var groups = autoScaling.describeAutoScalingGroups(r -> r.autoScalingGroupNames(asg)).autoScalingGroups();
            if (groups.isEmpty()) {
                return Optional.empty();
            }
            AutoScalingGroup group = groups.getFirst();
            boolean hook = autoScaling.describeLifecycleHooks(r -> r.autoScalingGroupName(asg)).lifecycleHooks().stream()
                    .anyMatch(h -> LAUNCH_HOOK.equals(h.lifecycleHookName())
                            && "autoscaling:EC2_INSTANCE_LAUNCHING".equals(h.lifecycleTransition()));
            return Optional.of(new Group(asg, hook, group.instances().stream()
                    .map(i -> new Member(i.instanceId(), i.lifecycleStateAsString(),
                            Boolean.TRUE.equals(i.protectedFromScaleIn())))
                    .toList(), Boolean.TRUE.equals(group.newInstancesProtectedFromScaleIn()),
                    group.desiredCapacity() == null ? 0 : group.desiredCapacity(),
                    group.minSize() == null ? 0 : group.minSize()));
        } catch (SdkException e) {
            throw AwsFailures.classify("Auto Scaling describe " + asg, e);
        }
    }
}
