package io.runnerscale.it;

import io.runnerscale.it.CfnTemplate.Statement;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.runnerscale.it.CfnTemplate.REGION;
import static io.runnerscale.it.CfnTemplate.asMap;
import static io.runnerscale.it.CfnTemplate.statements;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * template.yaml's warm pool parts, evaluated for given parameter values (see {@link CfnTemplate}): the
 * example group's optional AWS::AutoScaling::WarmPool, the rule that forbids it with Spot, and the
 * lifecycle function's grants (PutWarmPool on the pool groups only, never DeleteWarmPool).
 */
class TemplateWarmPoolTest {
    private static Map<String, Object> example(Map<String, Object> more) {
        Map<String, Object> parameters = new HashMap<>(Map.of(
                "VpcSubnetIds", List.of("subnet-a"),
                "RunnerAmiId", "ami-0123456789abcdef0",
                "RunnerGitLabUrl", "https://gitlab.example.com",
                "AsgNames", List.of("rs-runners", "other-runners")));
        parameters.putAll(more);
        return parameters;
    }

    @Test
    void byDefaultTheExampleGroupHasNoWarmPool() throws IOException {
        CfnTemplate template = CfnTemplate.load(example(Map.of()));
        template.resource("ExampleRunnerGroup");
        assertFalse(template.resources().containsKey("ExampleRunnerWarmPool"));
        assertEquals("", environment(template).get("STACK_WARM_POOL_GROUPS"));
        assertEquals(List.of(), template.failedRules());
    }

    @Test
    void theWarmPoolParametersMakeTheExampleGroupsWarmPool() throws IOException {
        CfnTemplate template = CfnTemplate.load(example(Map.of("WarmPoolState", "Stopped", "WarmPoolMinSize", "2",
                "WarmPoolMaxPrepared", "6", "WarmPoolReuseOnScaleIn", "true")));
        Map<String, Object> properties = asMap(template.resource("ExampleRunnerWarmPool").get("Properties"));
        assertEquals(Map.of("AutoScalingGroupName", "{ref:ExampleRunnerGroup}", "PoolState", "Stopped",
                "MinSize", "2", "MaxGroupPreparedCapacity", "6",
                "InstanceReusePolicy", Map.of("ReuseOnScaleIn", true)), properties);
        // the stack is its only writer: the lifecycle function is told to leave it
        assertEquals("rs-runners", environment(template).get("STACK_WARM_POOL_GROUPS"));
        assertEquals(List.of(), template.failedRules());
    }

    @Test
    void maxPreparedMinusOneLeavesItToAwsAndReuseDefaultsToFalse() throws IOException {
        CfnTemplate template = CfnTemplate.load(example(Map.of("WarmPoolState", "Hibernated")));
        Map<String, Object> properties = asMap(template.resource("ExampleRunnerWarmPool").get("Properties"));
        assertFalse(properties.containsKey("MaxGroupPreparedCapacity"), properties.toString());
        assertEquals("Hibernated", properties.get("PoolState"));
        assertEquals(Map.of("ReuseOnScaleIn", false), properties.get("InstanceReusePolicy"));
    }

    @Test
    void aWarmPoolWithSpotIsRejectedBeforeAnythingIsCreated() throws IOException {
        CfnTemplate template = CfnTemplate.load(example(Map.of("WarmPoolState", "Stopped",
                "RunnerPurchaseOption", "spot")));
        assertEquals(List.of("WarmPoolState needs RunnerPurchaseOption on-demand: AWS allows no warm pool on an Auto"
                + " Scaling group with Spot or a mixed instances policy."), template.failedRules());
    }

    @Test
    void reuseNeedsAStoppedWarmPool() throws IOException {
        String why = "WarmPoolReuseOnScaleIn needs WarmPoolState Stopped: a running or hibernated instance goes back to"
                + " the warm pool and out again without a boot, so nothing would reset its runner.";
        for (String state : List.of("Running", "Hibernated")) {
            CfnTemplate template = CfnTemplate.load(example(Map.of("WarmPoolState", state,
                    "WarmPoolReuseOnScaleIn", "true")));
            assertEquals(List.of(why), template.failedRules(), state);
        }
    }

    @Test
    void aWarmPoolWithoutTheExampleGroupIsRejected() throws IOException {
        CfnTemplate template = CfnTemplate.load(Map.of("WarmPoolState", "Running"));
        assertEquals(List.of("WarmPoolState needs VpcSubnetIds (the warm pool is the example group's)."),
                template.failedRules());
        assertFalse(template.resources().containsKey("ExampleRunnerWarmPool"));
    }

    @Test
    void onlyTheLifecycleFunctionMayPutAWarmPoolAndOnlyOnThePoolGroups() throws IOException {
        CfnTemplate template = CfnTemplate.load(example(Map.of()));
        List<Statement> lifecycle = statements(template.resource("LifecycleFunctionRole"));
        List<Statement> put = lifecycle.stream().filter(s -> s.actions().contains("autoscaling:PutWarmPool")).toList();
        assertEquals(1, put.size(), lifecycle.toString());
        assertEquals(List.of("autoscaling:PutWarmPool"), put.getFirst().actions());
        assertEquals(List.of("arn:*:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/rs-runners",
                "arn:*:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/other-runners"), put.getFirst().resources());
        assertEquals(List.of(REGION), put.getFirst().condition("StringEquals", "aws:RequestedRegion"));
        // the same groups as the other lifecycle writes
        Statement terminate = lifecycle.stream()
                .filter(s -> s.actions().contains("autoscaling:TerminateInstanceInAutoScalingGroup")).findFirst().orElseThrow();
        assertEquals(terminate.resources(), put.getFirst().resources());
        assertTrue(lifecycle.stream().anyMatch(s -> s.actions().contains("autoscaling:DescribeWarmPool")));
        assertTrue(lifecycle.stream().anyMatch(s -> s.actions().contains("ec2:DescribeLaunchTemplateVersions")));

        template.resources().forEach((id, resource) -> {
            if ("AWS::IAM::Role".equals(resource.get("Type"))) {
                for (Statement s : statements(resource)) {
                    assertFalse(s.actions().contains("autoscaling:DeleteWarmPool"), id + ": " + s);
                    if (!id.equals("LifecycleFunctionRole")) {
                        assertFalse(s.actions().contains("autoscaling:PutWarmPool"), id + ": " + s);
                    }
                }
            }
        });
    }

    /**
     * A scale-in drain of a reuse pool returns its instance: SetInstanceProtection and SetDesiredCapacity
     * for the lifecycle function, on the pool groups only (the same ARNs and region condition as its
     * TerminateInstanceInAutoScalingGroup), and the example group protects new instances.
     */
    @Test
    void theLifecycleFunctionMayReleaseProtectionAndLowerDesiredOnThePoolGroupsOnly() throws IOException {
        CfnTemplate template = CfnTemplate.load(example(Map.of("WarmPoolState", "Stopped",
                "WarmPoolReuseOnScaleIn", "true")));
        List<Statement> lifecycle = statements(template.resource("LifecycleFunctionRole"));
        Statement terminate = lifecycle.stream()
                .filter(s -> s.actions().contains("autoscaling:TerminateInstanceInAutoScalingGroup")).findFirst().orElseThrow();
        for (String action : List.of("autoscaling:SetInstanceProtection", "autoscaling:SetDesiredCapacity")) {
            List<Statement> granting = lifecycle.stream().filter(s -> s.actions().contains(action)).toList();
            assertEquals(1, granting.size(), action + ": " + lifecycle);
            assertEquals(List.of("arn:*:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/rs-runners",
                    "arn:*:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/other-runners"),
                    granting.getFirst().resources(), action);
            assertEquals(terminate.resources(), granting.getFirst().resources());
            assertEquals(List.of(REGION), granting.getFirst().condition("StringEquals", "aws:RequestedRegion"));
        }
        assertEquals(true, asMap(template.resource("ExampleRunnerGroup").get("Properties"))
                .get("NewInstancesProtectedFromScaleIn"), "returns need the group to protect its instances");
        // nobody else may lift a protection
        template.resources().forEach((id, resource) -> {
            if ("AWS::IAM::Role".equals(resource.get("Type")) && !id.equals("LifecycleFunctionRole")) {
                for (Statement s : statements(resource)) {
                    assertFalse(s.actions().contains("autoscaling:SetInstanceProtection"), id + ": " + s);
                }
            }
        });
    }

    private static Map<String, Object> environment(CfnTemplate template) {
        return asMap(asMap(asMap(template.resource("LifecycleFunction").get("Properties")).get("Environment"))
                .get("Variables"));
    }
}
