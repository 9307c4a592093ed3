package io.runnerscale.it;

import io.runnerscale.gitlab.GitLabRunners;
import io.runnerscale.gitlab.RunnerOwner;
import io.runnerscale.lifecycle.Drain;
import io.runnerscale.lifecycle.DrainOutcome;
import io.runnerscale.lifecycle.DrainReason;
import io.runnerscale.lifecycle.DrainStarter;
import io.runnerscale.lifecycle.InstanceState;
import io.runnerscale.lifecycle.LifecycleService;
import io.runnerscale.lifecycle.RunnerTokens;
import io.runnerscale.lifecycle.aws.AsgLifecycleActions;
import io.runnerscale.lifecycle.aws.AsgScaleInReturns;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigParser;
import io.runnerscale.store.DynamoJobStore;
import io.runnerscale.store.InMemoryJobStore;
import io.runnerscale.store.InstanceLifecycleStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.autoscaling.model.AutoScalingGroup;
import software.amazon.awssdk.services.autoscaling.model.Instance;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.InstanceType;

import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A scale-in drain's return to the warm pool against real parts: moto_server's Auto Scaling and EC2
 * (the protection and desired-capacity calls, the group's choice) and DynamoDB Local (the record).
 *
 * <p>moto 5.2.1 honours scale-in protection when desired capacity drops (it removes only unprotected
 * instances, none if none is) but keeps no instances in a warm pool: the instance the group lets go is
 * terminated there, where AWS would stop it in the warm pool and send the terminate hook (whose
 * handling {@code WarmReturnTest} covers; moto answers CompleteLifecycleAction with 500).
 */
class WarmReturnIntegrationTest {
    static final Instant NOW = Instant.parse("2026-01-07T12:00:00Z");

    final MotoServer moto = MotoServer.shared();
    final AutoScalingClient autoScaling = moto.autoScaling();
    final Ec2Client ec2 = moto.client(Ec2Client.builder());
    final String id = UUID.randomUUID().toString().substring(0, 8);
    final String table = SharedDynamo.newTable("warmreturn");
    final DynamoJobStore store = new DynamoJobStore(SharedDynamo.client(), table, Duration.ofDays(7));

    @AfterEach
    void drop() {
        SharedDynamo.dropTable(table);
    }

    @Test
    void lowerDesiredTakesExactlyTheReleasedInstanceAndNeverAProtectedOne() {
        String group = protectedGroup("return", 3);
        List<String> before = instanceIds(group);
        String victim = before.get(1);
        store.recordRunner(victim, "ci", null, InstanceState.DRAINING, NOW);

        Drain after = service(group).task("Terminate", scaleInDrain(victim, group));

        assertEquals(DrainOutcome.TERMINATED, after.outcome());
        AutoScalingGroup g = describe(group);
        assertEquals(2, g.desiredCapacity(), "desired capacity one lower");
        Map<String, Boolean> left = g.instances().stream()
                .collect(Collectors.toMap(Instance::instanceId, Instance::protectedFromScaleIn));
        assertEquals(Map.of(before.get(0), true, before.get(2), true), left,
                "exactly the released instance left; the others are still there and still protected");
        assertEquals("terminated", ec2State(victim), "moto has no warm pool instances: it terminates the one it took");
        assertEquals(InstanceState.RETURNING, store.lifecycle(victim).orElseThrow().state());
        assertEquals(Optional.of(NOW), store.returningSince(victim));
    }

    @Test
    void anotherUnprotectedInstanceMakesTheDrainTerminateItsOwnInstanceInstead() {
        String group = protectedGroup("fallback", 3);
        List<String> before = instanceIds(group);
        String victim = before.get(0);
        String unprotected = before.get(2);   // lifted by someone else: lowering desired might take it
        autoScaling.setInstanceProtection(r -> r.autoScalingGroupName(group).instanceIds(unprotected)
                .protectedFromScaleIn(false));
        store.recordRunner(victim, "ci", null, InstanceState.DRAINING, NOW);

        service(group).task("Terminate", scaleInDrain(victim, group));

        AutoScalingGroup g = describe(group);
        assertEquals(2, g.desiredCapacity());
        assertEquals(java.util.Set.of(before.get(1), unprotected), g.instances().stream().map(Instance::instanceId)
                .collect(Collectors.toSet()), "TerminateInstanceInAutoScalingGroup took the drained instance; the"
                + " unprotected one stays");
        assertEquals(InstanceState.GONE, store.lifecycle(victim).orElseThrow().state(), "terminated, not returning");
    }

    @Test
    void aGroupThatDoesNotProtectNewInstancesNeverHasItsDesiredLowered() {
        String group = "rs-" + id + "-open";
        autoScaling.createAutoScalingGroup(r -> r.autoScalingGroupName(group)
                .launchTemplate(t -> t.launchTemplateId(template("open")).version("$Default"))
                .minSize(0).maxSize(5).desiredCapacity(2).availabilityZones("us-east-1a"));
        List<String> before = instanceIds(group);
        String victim = before.get(1);
        store.recordRunner(victim, "ci", null, InstanceState.DRAINING, NOW);

        service(group).task("Terminate", scaleInDrain(victim, group));

        AutoScalingGroup g = describe(group);
        assertEquals(List.of(before.get(0)), g.instances().stream().map(Instance::instanceId).toList(),
                "TerminateInstanceInAutoScalingGroup took the drained instance itself");
        assertEquals(1, g.desiredCapacity());
        assertEquals(InstanceState.GONE, store.lifecycle(victim).orElseThrow().state());
    }

    /** markReturning, returningSince and returnToWarm on DynamoDB Local answer as the in-memory store does. */
    @Test
    void theReturningRecordOnDynamoMatchesTheInMemoryStore() {
        for (InstanceLifecycleStore s : List.of(store, new InMemoryJobStore())) {
            String name = s.getClass().getSimpleName();
            s.recordRunner("i-0aaaaaaaaaaaaaaa1", "ci", null, InstanceState.DRAINING, NOW);
            assertTrue(s.markReturning("i-0aaaaaaaaaaaaaaa1", NOW), name);
            assertTrue(s.markReturning("i-0aaaaaaaaaaaaaaa1", NOW.plusSeconds(30)), name + ": a repeat is fine");
            assertEquals(Optional.of(NOW), s.returningSince("i-0aaaaaaaaaaaaaaa1"), name + ": the first time counts");
            assertEquals(InstanceState.RETURNING, s.lifecycle("i-0aaaaaaaaaaaaaaa1").orElseThrow().state(), name);
            s.returnToWarm("i-0aaaaaaaaaaaaaaa1", "ci", NOW.plusSeconds(60));
            assertEquals(InstanceState.WARM, s.lifecycle("i-0aaaaaaaaaaaaaaa1").orElseThrow().state(), name);
            assertEquals(Optional.empty(), s.returningSince("i-0aaaaaaaaaaaaaaa1"), name + ": cleared when warm");

            s.recordRunner("i-0bbbbbbbbbbbbbbb2", "ci", 7L, InstanceState.INTERRUPTED, NOW);
            assertFalse(s.markReturning("i-0bbbbbbbbbbbbbbb2", NOW), name + ": a spot warning owns it");
            assertEquals(InstanceState.INTERRUPTED, s.lifecycle("i-0bbbbbbbbbbbbbbb2").orElseThrow().state(), name);
            assertFalse(s.markReturning("i-0ccccccccccccccc3", NOW), name + ": unknown");
            assertTrue(s.lifecycle("i-0ccccccccccccccc3").isEmpty(), name + ": nothing written");
        }
    }

    private LifecycleService service(String group) {
        PoolsConfig pools = PoolsConfigParser.parse("""
                pools:
                  - name: ci
                    match: {tags: [ci]}
                    backend: {type: ec2-asg, asg: %s}
                    warm_pool: {state: stopped, reuse_on_scale_in: true}
                """.formatted(group), "test");
        return new LifecycleService(() -> pools, store, nothing(GitLabRunners.class), nothing(RunnerTokens.class),
                new AsgLifecycleActions(autoScaling), nothing(DrainStarter.class), (pool, reason, dedupe) -> { },
                RunnerOwner.instance(), Duration.ofHours(1), Clock.fixed(NOW, ZoneOffset.UTC),
                new AsgScaleInReturns(autoScaling));
    }

    private static Drain scaleInDrain(String instanceId, String group) {
        // its runner deleted already (DeleteRunner came first)
        return Drain.start(instanceId, "ci", group, null, DrainReason.SCALE_IN, null, NOW, Duration.ofHours(1), 60,
                List.of());
    }

    /** A port the Terminate step must not touch (GitLab, tokens, drain starts). */
    private static <T> T nothing(Class<T> port) {
        return port.cast(Proxy.newProxyInstance(port.getClassLoader(), new Class<?>[]{port}, (proxy, method, args) -> {
            if (method.getDeclaringClass() == Object.class) {
                return method.invoke(port, args);
            }
            throw new AssertionError("Terminate called " + port.getSimpleName() + "." + method.getName());
        }));
    }

    private String protectedGroup(String name, int desired) {
        String group = "rs-" + id + "-" + name;
        String template = template(name);
        autoScaling.createAutoScalingGroup(r -> r.autoScalingGroupName(group)
                .launchTemplate(t -> t.launchTemplateId(template).version("$Default"))
                .minSize(0).maxSize(5).desiredCapacity(desired).availabilityZones("us-east-1a")
                .newInstancesProtectedFromScaleIn(true));
        AutoScalingGroup g = describe(group);
        assertEquals(desired, g.instances().size());
        assertTrue(g.instances().stream().allMatch(Instance::protectedFromScaleIn), "moto protects new instances");
        return group;
    }

    private String template(String name) {
        return ec2.createLaunchTemplate(r -> r.launchTemplateName("rs-" + id + "-" + name + "-lt")
                .launchTemplateData(d -> d.imageId("ami-12c6146b").instanceType(InstanceType.T3_MEDIUM)))
                .launchTemplate().launchTemplateId();
    }

    private AutoScalingGroup describe(String group) {
        return autoScaling.describeAutoScalingGroups(r -> r.autoScalingGroupNames(group)).autoScalingGroups().getFirst();
    }

    private List<String> instanceIds(String group) {
        return describe(group).instances().stream().map(Instance::instanceId).toList();
    }

    private String ec2State(String instanceId) {
        return ec2.describeInstances(r -> r.instanceIds(instanceId)).reservations().getFirst().instances().getFirst()
                .state().nameAsString();
    }
}
