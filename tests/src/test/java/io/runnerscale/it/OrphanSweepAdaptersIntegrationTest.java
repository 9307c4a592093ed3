package io.runnerscale.it;

import io.runnerscale.lifecycle.Ec2Instances;
import io.runnerscale.lifecycle.GroupMembers;
import io.runnerscale.lifecycle.aws.AsgGroupMembers;
import io.runnerscale.lifecycle.aws.Ec2DescribeInstances;
import io.runnerscale.lifecycle.aws.SsmRunnerTokens;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.ParameterType;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The orphan sweep's AWS adapters against moto_server: what they ask and how they read the answers. */
@ExtendWith(MotoServer.ResetBetweenTests.class)
class OrphanSweepAdaptersIntegrationTest {
    final MotoServer moto = MotoServer.shared();
    final Ec2Client ec2 = moto.client(Ec2Client.builder());
    final AutoScalingClient autoScaling = moto.autoScaling();
    final SsmClient ssm = moto.ssm();
    final String id = UUID.randomUUID().toString().substring(0, 8);

    @AfterEach
    void close() {
        ec2.close();
        autoScaling.close();
        ssm.close();
    }

    @Test
    void describeFindsRunningAndTerminatedInstancesAndLeavesOutUnknownOnesAcrossBatches() {
        List<String> launched = ec2.runInstances(r -> r.imageId("ami-12c6146b").instanceType("t3.micro").minCount(3)
                .maxCount(3)).instances().stream().map(Instance::instanceId).toList();
        ec2.terminateInstances(r -> r.instanceIds(launched.get(0)));
        // more ids than one filter takes, the real ones in different batches, most of them unknown to EC2
        List<String> asked = new ArrayList<>(IntStream.range(0, 450).mapToObj(n -> String.format("i-0dddddddddddd%04d", n))
                .toList());
        asked.add(0, launched.get(0));
        asked.add(250, launched.get(1));
        asked.add(launched.get(2));

        Map<String, Ec2Instances.Ec2Instance> known = new Ec2DescribeInstances(ec2).describe(asked);

        assertEquals(java.util.Set.copyOf(launched), known.keySet());
        assertTrue(known.get(launched.get(0)).gone(), known.get(launched.get(0)).toString());
        assertEquals("terminated", known.get(launched.get(0)).state());
        assertFalse(known.get(launched.get(1)).gone());
        assertNotNull(known.get(launched.get(1)).launchedAt());
        assertTrue(known.get(launched.get(1)).launchedAt().isBefore(Instant.now().plusSeconds(60)));
        assertTrue(new Ec2DescribeInstances(ec2).describe(List.of()).isEmpty());
    }

    @Test
    void aGroupsInstancesTheirGroupTagAndItsLaunchHook() {
        String withHook = "rs-" + id + "-hooked";
        String withoutHook = "rs-" + id + "-plain";
        for (String name : List.of(withHook, withoutHook)) {
            autoScaling.createLaunchConfiguration(r -> r.launchConfigurationName(name + "-lc").imageId("ami-12c6146b")
                    .instanceType("t3.micro"));
            autoScaling.createAutoScalingGroup(r -> r.autoScalingGroupName(name).launchConfigurationName(name + "-lc")
                    .minSize(0).maxSize(3).desiredCapacity(2).availabilityZones("us-east-1a"));
        }
        autoScaling.putLifecycleHook(r -> r.autoScalingGroupName(withHook).lifecycleHookName("runnerscale-launch")
                .lifecycleTransition("autoscaling:EC2_INSTANCE_LAUNCHING").heartbeatTimeout(600).defaultResult("ABANDON"));
        // a terminate hook of that name is not the launch hook
        autoScaling.putLifecycleHook(r -> r.autoScalingGroupName(withoutHook).lifecycleHookName("runnerscale-launch")
                .lifecycleTransition("autoscaling:EC2_INSTANCE_TERMINATING").heartbeatTimeout(300).defaultResult("CONTINUE"));
        AsgGroupMembers groups = new AsgGroupMembers(autoScaling);

        GroupMembers.Group hooked = groups.describe(withHook).orElseThrow();
        assertTrue(hooked.launchHook());
        assertEquals(2, hooked.members().size());
        assertTrue(hooked.members().stream().allMatch(GroupMembers.Member::inService), hooked.toString());
        assertFalse(groups.describe(withoutHook).orElseThrow().launchHook());
        assertTrue(groups.describe("rs-" + id + "-none").isEmpty());

        String member = hooked.members().getFirst().instanceId();
        assertEquals(withHook, new Ec2DescribeInstances(ec2).describe(List.of(member)).get(member).group());
    }

    @Test
    void tokensAreListedOneLevelUnderThePrefixOverSeveralPages() {
        String prefix = "/runnerscale/it-" + id + "/runners/";
        SsmRunnerTokens tokens = new SsmRunnerTokens(ssm, prefix);
        List<String> ids = IntStream.range(0, 23).mapToObj(n -> String.format("i-0aaaaaaaaaaaaa%03d", n)).toList();
        for (String instance : ids) {
            tokens.put(instance, "glrt-" + instance, "arn:aws:ec2:us-east-1:123456789012:instance/" + instance);
        }
        // neither a sibling path nor a deeper one is a token of this stack
        ssm.putParameter(r -> r.name("/runnerscale/it-" + id + "/runners-old/i-0bbbbbbbbbbbbbbbb")
                .type(ParameterType.SECURE_STRING).value("x"));
        ssm.putParameter(r -> r.name(prefix + "nested/i-0ccccccccccccccc0").type(ParameterType.SECURE_STRING).value("x"));

        List<String> listed = new ArrayList<>(tokens.list());
        listed.sort(null);

        assertEquals(ids, listed);
        assertTrue(new SsmRunnerTokens(ssm, "/runnerscale/it-" + id + "-empty/runners/").list().isEmpty());
    }
}
