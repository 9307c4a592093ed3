package io.runnerscale.it;

import io.runnerscale.compute.AsgCompute;
import io.runnerscale.compute.GroupState;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfigParser;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.ec2.Ec2Client;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Auto Scaling adapter against moto: launch times from EC2, and which instances run an outdated
 * launch template version.
 */
@ExtendWith(MotoServer.ResetBetweenTests.class)
class AsgComputeIntegrationTest {
    TestStack stack;
    final List<String> ec2Calls = new ArrayList<>();

    @AfterEach
    void tearDown() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void launchTimesAreEc2sAndEachInstanceIsDescribedOnce() {
        stack = TestStack.create(pools());
        stack.createAsgFromTemplate("docker", 5);
        AsgCompute compute = new AsgCompute(stack.autoScaling, counting(stack.ec2));
        PoolConfig pool = pool();

        compute.setDesiredCapacity(pool, 2);
        GroupState first = compute.describe(pool);
        assertEquals(2, first.instances().size());
        Map<String, Instant> launchTimes = ec2LaunchTimes();
        for (GroupState.Instance instance : first.instances()) {
            assertNotNull(instance.launchedAt(), instance.id());
            assertEquals(launchTimes.get(instance.id()), instance.launchedAt(), "moto's LaunchTime of " + instance.id());
        }
        assertEquals(1, describeInstancesCalls());

        compute.describe(pool);
        assertEquals(1, describeInstancesCalls(), "known instances are not described again");

        compute.setDesiredCapacity(pool, 3);
        GroupState third = compute.describe(pool);
        assertEquals(2, describeInstancesCalls(), "one call for the one new instance");
        launchTimes = ec2LaunchTimes();
        for (GroupState.Instance instance : third.instances()) {
            assertEquals(launchTimes.get(instance.id()), instance.launchedAt());
        }
    }

    @Test
    void instancesOfAnOlderTemplateVersionAreOutdatedNewOnesAreNot() {
        stack = TestStack.create(pools());
        stack.createAsgFromTemplate("docker", 5);
        AsgCompute compute = new AsgCompute(stack.autoScaling, stack.ec2);
        PoolConfig pool = pool();
        compute.setDesiredCapacity(pool, 2);
        Set<String> old = ids(compute.describe(pool));
        assertEquals(Set.of(), outdated(compute.describe(pool)), "all on version 1, the group's $Default");

        assertEquals(2, stack.upgradeTemplate("docker"));
        assertEquals(old, outdated(compute.describe(pool)), "$Default now means version 2");

        compute.setDesiredCapacity(pool, 3);
        GroupState after = compute.describe(pool);
        Set<String> fresh = ids(after);
        fresh.removeAll(old);
        assertEquals(1, fresh.size());
        assertEquals(old, outdated(after), "the instance launched from version 2 is current: " + fresh);
    }

    @Test
    void anExplicitVersionNumberIsComparedAsItIs() {
        stack = TestStack.create(pools());
        String template = stack.createAsgFromTemplate("docker", 5);
        AsgCompute compute = new AsgCompute(stack.autoScaling, stack.ec2);
        PoolConfig pool = pool();
        compute.setDesiredCapacity(pool, 1);
        Set<String> old = ids(compute.describe(pool));
        stack.ec2.createLaunchTemplateVersion(r -> r.launchTemplateId(template).sourceVersion("1")
                .launchTemplateData(d -> d.userData("IyEvYmluL3NoCg==")));
        stack.autoScaling.updateAutoScalingGroup(r -> r.autoScalingGroupName(stack.asgName("docker"))
                .launchTemplate(t -> t.launchTemplateId(template).version("2")));
        assertEquals(old, outdated(compute.describe(pool)));
        stack.autoScaling.updateAutoScalingGroup(r -> r.autoScalingGroupName(stack.asgName("docker"))
                .launchTemplate(t -> t.launchTemplateId(template).version("1")));
        assertEquals(Set.of(), outdated(compute.describe(pool)), "rolled back: version 1 is current again");
    }

    @Test
    void withoutEc2NothingIsOutdatedAndLaunchTimesAreUnknown() {
        stack = TestStack.create(pools());
        stack.createAsgFromTemplate("docker", 5);
        AsgCompute compute = new AsgCompute(stack.autoScaling);
        PoolConfig pool = pool();
        compute.setDesiredCapacity(pool, 1);
        stack.upgradeTemplate("docker");
        GroupState state = compute.describe(pool);
        assertNull(state.instances().getFirst().launchedAt());
        assertFalse(state.instances().getFirst().outdated(), "$Default cannot be resolved without EC2: never a guess");
    }

    @Test
    void aGroupWithALaunchConfigurationHasNoOutdatedInstancesWhileItKeepsIt() {
        stack = TestStack.create(pools());
        stack.createAsg("docker", 5);
        AsgCompute compute = new AsgCompute(stack.autoScaling, stack.ec2);
        compute.setDesiredCapacity(pool(), 2);
        GroupState state = compute.describe(pool());
        assertEquals(2, state.instances().size());
        assertTrue(state.instances().stream().noneMatch(GroupState.Instance::outdated));
        assertTrue(state.instances().stream().allMatch(i -> i.launchedAt() != null));
    }

    @Test
    void azRebalanceIsSuspendedWhereItRuns() {
        stack = TestStack.create(pools());
        stack.createAsg("docker", 5);
        assertTrue(stack.group("docker").suspendedProcesses().isEmpty());
        new AsgCompute(stack.autoScaling, stack.ec2).describe(pool());
        assertEquals(List.of("AZRebalance"), stack.group("docker").suspendedProcesses().stream()
                .map(p -> p.processName()).toList(), "only AZRebalance: launches and health checks go on");
    }

    // ------------------------------------------------------------------ helpers

    private static String pools() {
        return """
                pools:
                  - name: docker
                    match: {tags: [docker], run_untagged: true}
                    backend: {type: ec2-asg, asg: rs-@ID@-docker}
                    max_instances: 5
                """;
    }

    private PoolConfig pool() {
        return PoolsConfigParser.parse(pools().replace("@ID@", stack.id), "test").pools().getFirst();
    }

    private Map<String, Instant> ec2LaunchTimes() {
        Map<String, Instant> out = new HashMap<>();
        stack.ec2.describeInstancesPaginator(r -> r.filters(f -> f.name("tag:aws:autoscaling:groupName")
                        .values(stack.asgName("docker")))).reservations()
                .forEach(reservation -> reservation.instances().forEach(i -> out.put(i.instanceId(), i.launchTime())));
        return out;
    }

    private static Set<String> ids(GroupState state) {
        return state.instances().stream().map(GroupState.Instance::id).collect(Collectors.toSet());
    }

    private static Set<String> outdated(GroupState state) {
        return state.instances().stream().filter(GroupState.Instance::outdated).map(GroupState.Instance::id)
                .collect(Collectors.toSet());
    }

    private long describeInstancesCalls() {
        return ec2Calls.stream().filter(name -> name.startsWith("describeInstances")).count();
    }

    /** The client, recording the name of each operation called on it. */
    private Ec2Client counting(Ec2Client real) {
        return (Ec2Client) Proxy.newProxyInstance(Ec2Client.class.getClassLoader(), new Class<?>[]{Ec2Client.class},
                (proxy, method, args) -> {
                    ec2Calls.add(method.getName());
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
