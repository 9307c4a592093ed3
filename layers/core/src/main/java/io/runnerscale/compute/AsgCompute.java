package io.runnerscale.compute;

import io.runnerscale.pool.PoolConfig;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.autoscaling.model.AutoScalingGroup;
import software.amazon.awssdk.services.autoscaling.model.DescribeAutoScalingGroupsResponse;
import software.amazon.awssdk.services.autoscaling.model.LifecycleState;

import java.util.List;

/** Pools backed by an EC2 Auto Scaling group. */
public final class AsgCompute implements Compute {
    private final AutoScalingClient autoScaling;

    public AsgCompute(AutoScalingClient autoScaling) {
        this.autoScaling = autoScaling;
    }

    @Override
    public GroupState describe(PoolConfig pool) {
        String name = asg(pool);
        DescribeAutoScalingGroupsResponse response =
                autoScaling.describeAutoScalingGroups(r -> r.autoScalingGroupNames(name));
        if (response.autoScalingGroups().isEmpty()) {
            throw new IllegalStateException("pool '" + pool.name() + "': Auto Scaling group '" + name + "' does not exist");
        }
        AutoScalingGroup group = response.autoScalingGroups().getFirst();
        List<GroupState.Instance> instances = group.instances().stream()
                .filter(i -> !isLeaving(i.lifecycleState()))
                .map(i -> new GroupState.Instance(i.instanceId(), i.lifecycleState() == LifecycleState.IN_SERVICE, null))
                .toList();
        return new GroupState(group.desiredCapacity(), instances);
    }

    @Override
    public void setDesiredCapacity(PoolConfig pool, int desired) {
        autoScaling.setDesiredCapacity(r -> r.autoScalingGroupName(asg(pool)).desiredCapacity(desired).honorCooldown(false));
    }

    private static boolean isLeaving(LifecycleState state) {
        return switch (state) {
            case TERMINATING, TERMINATING_WAIT, TERMINATING_PROCEED, TERMINATED, DETACHING, DETACHED,
                 ENTERING_STANDBY, STANDBY -> true;
            default -> false;
        };
    }

    private static String asg(PoolConfig pool) {
        if (pool.backend() instanceof PoolConfig.Ec2Asg asg) {
            return asg.asg();
        }
        throw new IllegalArgumentException("pool '" + pool.name() + "' has backend " + pool.backend().type()
                + ", not ec2-asg (Fargate pools arrive with the Fargate issue)");
    }
}
