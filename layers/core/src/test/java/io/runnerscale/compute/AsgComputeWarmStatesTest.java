package io.runnerscale.compute;

import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.TestPools;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.autoscaling.model.AutoScalingGroup;
import software.amazon.awssdk.services.autoscaling.model.DescribeAutoScalingGroupsRequest;
import software.amazon.awssdk.services.autoscaling.model.DescribeAutoScalingGroupsResponse;
import software.amazon.awssdk.services.autoscaling.model.Instance;
import software.amazon.awssdk.services.autoscaling.model.LifecycleState;
import software.amazon.awssdk.services.autoscaling.model.SuspendedProcess;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** An instance listed in a warm pool state is neither capacity nor booting: no boot timeout may drain it. */
class AsgComputeWarmStatesTest {

    @Test
    void warmedInstancesAreLeftOutOfTheGroupsInstances() {
        List<Instance> listed = List.of(instance("i-0aaaaaaaaaaaaaaa1", LifecycleState.IN_SERVICE),
                instance("i-0bbbbbbbbbbbbbbb2", LifecycleState.PENDING_WAIT),
                instance("i-0ccccccccccccccc3", LifecycleState.WARMED_STOPPED),
                instance("i-0ddddddddddddddd4", LifecycleState.WARMED_PENDING_WAIT),
                instance("i-0eeeeeeeeeeeeeee5", LifecycleState.WARMED_HIBERNATED),
                instance("i-0fffffffffffffff6", LifecycleState.WARMED_RUNNING));
        AutoScalingClient autoScaling = new AutoScalingClient() {
            @Override
            public DescribeAutoScalingGroupsResponse describeAutoScalingGroups(DescribeAutoScalingGroupsRequest request) {
                return DescribeAutoScalingGroupsResponse.builder().autoScalingGroups(AutoScalingGroup.builder()
                        .autoScalingGroupName("docker-asg").desiredCapacity(2).instances(listed)
                        .suspendedProcesses(SuspendedProcess.builder().processName("AZRebalance").build()).build()).build();
            }

            @Override
            public String serviceName() {
                return "autoscaling";
            }

            @Override
            public void close() {
            }
        };
        PoolConfig pool = TestPools.asg("docker", 1, 10, 0, Duration.ofMinutes(5), TestPools.always(0, Duration.ofMinutes(10), 0, 0));

        GroupState state = new AsgCompute(autoScaling).describe(pool);

        assertEquals(List.of("i-0aaaaaaaaaaaaaaa1", "i-0bbbbbbbbbbbbbbb2"),
                state.instances().stream().map(GroupState.Instance::id).toList());
    }

    private static Instance instance(String id, LifecycleState state) {
        return Instance.builder().instanceId(id).lifecycleState(state).build();
    }
}
