package io.runnerscale.it;

import io.runnerscale.compute.AsgWarmPools;
import io.runnerscale.compute.WarmPoolApplier;
import io.runnerscale.compute.WarmPoolPolicy.Kind;
import io.runnerscale.compute.WarmPools;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigParser;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.autoscaling.model.WarmPoolConfiguration;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.InstanceType;
import software.amazon.awssdk.services.ec2.model.MarketType;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Warm pools applied to real (moto) Auto Scaling groups: moto 5.2.1 stores a warm pool's
 * configuration (no instances) and accepts PutWarmPool on any group, Spot or not, so what keeps a
 * warm pool off a Spot or mixed group here is runnerscale's own check. Unique group names: the shared
 * moto is not reset.
 */
class AsgWarmPoolsIntegrationTest {
    final MotoServer moto = MotoServer.shared();
    final AutoScalingClient autoScaling = moto.autoScaling();
    final Ec2Client ec2 = moto.client(Ec2Client.builder());
    final String id = UUID.randomUUID().toString().substring(0, 8);
    final List<String> writes = new ArrayList<>();

    @Test
    void aPlainGroupGetsTheConfiguredWarmPoolAndASecondRunWritesNothing() {
        String group = plainGroup("plain");
        WarmPoolApplier applier = applier(pools(group, "{state: stopped, min_size: 1, max_prepared: 4,"
                + " reuse_on_scale_in: true}"));

        WarmPoolApplier.Report first = applier.run();
        assertEquals(Kind.PUT, first.outcomes().getFirst().kind(), first.toString());
        WarmPoolConfiguration config = autoScaling.describeWarmPool(r -> r.autoScalingGroupName(group))
                .warmPoolConfiguration();
        assertEquals("Stopped", config.poolStateAsString());
        assertEquals(1, config.minSize());
        assertEquals(4, config.maxGroupPreparedCapacity());
        assertEquals(true, config.instanceReusePolicy().reuseOnScaleIn());
        assertEquals(List.of("putWarmPool"), writes);

        WarmPoolApplier.Report second = applier.run();
        assertEquals(Kind.UNCHANGED, second.outcomes().getFirst().kind(), second.toString());
        assertEquals(List.of("putWarmPool"), writes, "the second run writes nothing");
    }

    @Test
    void aChangedPoolsFileUpdatesTheWarmPoolAndAbsentMaxPreparedIsTheDefault() {
        String group = plainGroup("change");
        applier(pools(group, "{state: running, min_size: 2, max_prepared: 3}")).run();
        WarmPoolApplier applier = applier(pools(group, "{state: stopped, min_size: 0}"));
        assertEquals(Kind.PUT, applier.run().outcomes().getFirst().kind());
        WarmPoolConfiguration config = autoScaling.describeWarmPool(r -> r.autoScalingGroupName(group))
                .warmPoolConfiguration();
        assertEquals("Stopped", config.poolStateAsString());
        assertEquals(0, config.minSize());
        assertTrue(config.maxGroupPreparedCapacity() == null || config.maxGroupPreparedCapacity() == -1,
                "back to the group's max size: " + config.maxGroupPreparedCapacity());
        assertEquals(Kind.UNCHANGED, applier.run().outcomes().getFirst().kind(), "-1 read back equals absent");
    }

    @Test
    void aMixedInstancesGroupGetsNoWarmPoolAndTheErrorNamesThePool() {
        String template = template("mixed");
        String group = "rs-" + id + "-mixed";
        autoScaling.createAutoScalingGroup(r -> r.autoScalingGroupName(group).minSize(0).maxSize(5)
                .desiredCapacity(0).availabilityZones("us-east-1a")
                .mixedInstancesPolicy(m -> m.launchTemplate(t -> t
                                .launchTemplateSpecification(s -> s.launchTemplateId(template).version("$Latest"))
                                .overrides(o -> o.instanceType("t3.medium"), o -> o.instanceType("t3a.medium")))
                        .instancesDistribution(d -> d.onDemandBaseCapacity(0)
                                .onDemandPercentageAboveBaseCapacity(0))));
        WarmPoolApplier.Report report = applier(pools(group, "{state: stopped}")).run();

        WarmPoolApplier.Outcome outcome = report.outcomes().getFirst();
        assertEquals(Kind.REFUSED, outcome.kind());
        assertTrue(outcome.message().startsWith("pool 'ci': warm_pool: Auto Scaling group '" + group
                + "' has a mixed instances policy"), outcome.message());
        assertEquals(List.of(), writes, "PutWarmPool not called");
        assertNull(warmPool(group), "no warm pool on the group");
    }

    @Test
    void aLaunchTemplateAskingForSpotIsRefusedAtTheVersionTheGroupUses() {
        // version 1 On-Demand, version 2 (made $Default) asks for Spot: the group uses $Default
        String group = plainGroup("spot");
        String template = group + "-lt";
        long v2 = ec2.createLaunchTemplateVersion(r -> r.launchTemplateName(template).sourceVersion("1")
                        .launchTemplateData(d -> d.instanceMarketOptions(m -> m.marketType(MarketType.SPOT))))
                .launchTemplateVersion().versionNumber();
        WarmPoolApplier applier = applier(pools(group, "{state: stopped}"));
        assertEquals(Kind.PUT, applier.run().outcomes().getFirst().kind(), "$Default is still version 1");

        ec2.modifyLaunchTemplate(r -> r.launchTemplateName(template).defaultVersion(Long.toString(v2)));
        autoScaling.deleteWarmPool(r -> r.autoScalingGroupName(group));
        writes.clear();
        WarmPoolApplier.Outcome outcome = applier.run().outcomes().getFirst();
        assertEquals(Kind.REFUSED, outcome.kind());
        assertTrue(outcome.message().contains("pool 'ci'") && outcome.message().contains("launches Spot instances")
                && outcome.message().contains("version " + v2), outcome.message());
        assertEquals(List.of(), writes);
        assertNull(warmPool(group));
    }

    @Test
    void aWarmPoolThePoolsFileDoesNotAskForIsLeftInPlace() {
        String group = plainGroup("foreign");
        autoScaling.putWarmPool(r -> r.autoScalingGroupName(group).minSize(1));
        WarmPoolApplier.Outcome outcome = applier(pools(group, null)).run().outcomes().getFirst();
        assertEquals(Kind.NOT_IN_POOLS_FILE, outcome.kind());
        assertTrue(outcome.message().contains("delete-warm-pool --auto-scaling-group-name " + group), outcome.message());
        assertEquals(List.of(), writes, "not deleted, not written");
        assertEquals(1, warmPool(group).minSize());
    }

    @Test
    void aMissingGroupFailsOnlyItsPool() {
        String group = plainGroup("present");
        PoolsConfig pools = PoolsConfigParser.parse("""
                pools:
                  - name: gone
                    match: {tags: [gone]}
                    backend: {type: ec2-asg, asg: rs-%s-gone}
                    warm_pool: {state: stopped}
                  - name: ci
                    match: {tags: [ci]}
                    backend: {type: ec2-asg, asg: %s}
                    warm_pool: {state: stopped}
                """.formatted(id, group), "test");
        WarmPoolApplier.Report report = applier(pools).run();
        assertEquals(Kind.NO_GROUP, report.outcomes().get(0).kind());
        assertEquals(Kind.PUT, report.outcomes().get(1).kind());
        assertEquals("Stopped", warmPool(group).poolStateAsString());
    }

    @Test
    void theLifecycleFunctionsScheduledRunAppliesTheWarmPools() {
        try (TestStack stack = TestStack.create("""
                pools:
                  - name: docker
                    match: {tags: [docker], run_untagged: true}
                    backend: {type: ec2-asg, asg: rs-@ID@-docker}
                    warm_pool: {state: stopped, min_size: 2}
                """)) {
            stack.createAsgFromTemplate("docker", 5);
            stack.gitlab.stubFor(com.github.tomakehurst.wiremock.client.WireMock.get(
                    com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo("/api/v4/runners/all"))
                    .willReturn(com.github.tomakehurst.wiremock.client.WireMock.aResponse().withStatus(200)
                            .withHeader("content-type", "application/json").withBody("[]")));
            var handler = stack.lifecycleHandler(java.time.Clock.systemUTC());
            var sweep = Fixtures.JSON.createObjectNode().put("sweep", true);

            var answer = TestStack.invoke(handler, sweep);
            assertEquals("SWEPT", answer.path("result").asText(), answer.toString());
            assertEquals("put 1, failed 0", answer.path("warmPools").asText(), answer.toString());
            WarmPoolConfiguration config = stack.autoScaling.describeWarmPool(
                    r -> r.autoScalingGroupName(stack.asgName("docker"))).warmPoolConfiguration();
            assertEquals("Stopped", config.poolStateAsString());
            assertEquals(2, config.minSize());

            assertEquals("unchanged 1, failed 0", TestStack.invoke(handler, sweep).path("warmPools").asText());
        }
    }

    // ------------------------------------------------------------------ helpers

    private WarmPoolApplier applier(PoolsConfig pools) {
        return new WarmPoolApplier(() -> pools, new AsgWarmPools(recording(autoScaling), ec2), Set.of());
    }

    private static PoolsConfig pools(String group, String warmPool) {
        return PoolsConfigParser.parse("""
                pools:
                  - name: ci
                    match: {tags: [ci]}
                    backend: {type: ec2-asg, asg: %s}
                %s""".formatted(group, warmPool == null ? "" : "    warm_pool: " + warmPool + "\n"), "test");
    }

    /** An On-Demand launch template (no InstanceMarketOptions). */
    private String template(String name) {
        return ec2.createLaunchTemplate(r -> r.launchTemplateName("rs-" + id + "-" + name + "-lt")
                .launchTemplateData(d -> d.imageId("ami-12c6146b").instanceType(InstanceType.T3_MEDIUM)))
                .launchTemplate().launchTemplateId();
    }

    private String plainGroup(String name) {
        String group = "rs-" + id + "-" + name;
        String template = template(name);
        autoScaling.createAutoScalingGroup(r -> r.autoScalingGroupName(group)
                .launchTemplate(t -> t.launchTemplateId(template).version("$Default"))
                .minSize(0).maxSize(5).desiredCapacity(0).availabilityZones("us-east-1a"));
        return group;
    }

    private WarmPoolConfiguration warmPool(String group) {
        WarmPoolConfiguration config = autoScaling.describeWarmPool(r -> r.autoScalingGroupName(group))
                .warmPoolConfiguration();
        return config == null || (config.poolState() == null && config.minSize() == null) ? null : config;
    }

    /** The client, recording every call that is not a Describe. */
    private AutoScalingClient recording(AutoScalingClient real) {
        return (AutoScalingClient) Proxy.newProxyInstance(AutoScalingClient.class.getClassLoader(),
                new Class<?>[]{AutoScalingClient.class}, (proxy, method, args) -> {
                    if (!method.getName().startsWith("describe")) {
                        writes.add(method.getName());
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
