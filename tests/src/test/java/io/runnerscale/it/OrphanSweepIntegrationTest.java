package io.runnerscale.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.runnerscale.gitlab.RunnerOwner;
import io.runnerscale.lifecycle.InstanceState;
import io.runnerscale.lifecycle.LifecycleHandler;
import io.runnerscale.lifecycle.LifecycleSettings;
import io.runnerscale.lifecycle.aws.SsmRunnerTokens;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.sfn.SfnClient;
import software.amazon.awssdk.services.sfn.model.ExecutionListItem;
import software.amazon.awssdk.services.ssm.model.ParameterType;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The orphan sweep through the lifecycle function's entry point on real parts: moto_server (Auto
 * Scaling groups and their lifecycle hooks, EC2 DescribeInstances of terminated instances, SSM
 * GetParametersByPath over several pages, Step Functions StartExecution), DynamoDB Local and a
 * WireMock GitLab.
 *
 * <p>moto quirks, worked around here: its instances launch at the real time (the function's clock is
 * set two hours later, so they are past the launch timeout), and TerminateInstanceInAutoScalingGroup
 * removes the {@code aws:autoscaling:groupName} tag, which EC2 keeps (so the terminated instance's
 * record and token are what show the runner is runnerscale's).
 */
class OrphanSweepIntegrationTest {
    static final String POOLS = """
            pools:
              - name: docker
                match: {tags: [docker, linux], run_untagged: true}
                backend: {type: ec2-asg, asg: rs-@ID@-docker}
                capacity_per_instance: 2
                max_instances: 5
            """;
    /** An instance id no EC2 knows: a hand-registered runner's description that merely looks like one. */
    static final String STRANGER = "i-0123456789abcdef0";

    TestStack stack;
    SfnClient sfn;
    Ec2Client ec2;
    String stateMachineArn;
    String tokenPrefix;
    LifecycleHandler handler;
    String asg;

    @BeforeEach
    void setUp() throws IOException {
        stack = TestStack.create(POOLS);
        sfn = stack.moto.client(SfnClient.builder());
        ec2 = stack.moto.client(Ec2Client.builder());
        String definition = Files.readString(repoFile("statemachine/drain.asl.json"))
                .replace("${LifecycleFunctionArn}", "arn:aws:lambda:us-east-1:123456789012:function:rs-" + stack.id + "-lifecycle");
        stateMachineArn = sfn.createStateMachine(r -> r.name("rs-" + stack.id + "-drain").definition(definition)
                .roleArn("arn:aws:iam::123456789012:role/rs-drain")).stateMachineArn();
        tokenPrefix = "/runnerscale/rs-" + stack.id + "/runners/";
        // moto's instances launch now, in real time: two hours on, they are past the launch hook's timeout
        Clock later = Clock.fixed(Instant.now().plus(Duration.ofHours(2)), ZoneOffset.UTC);
        handler = new LifecycleHandler(stack.settings,
                new LifecycleSettings(tokenPrefix, stateMachineArn, RunnerOwner.instance(), Duration.ofHours(1)),
                stack.dynamo, stack.ssm, stack.autoScaling, ec2, sfn, stack.secretsManager, stack.sqs, later);
        asg = stack.createAsg("docker", 5);
        stack.autoScaling.putLifecycleHook(r -> r.autoScalingGroupName(asg).lifecycleHookName("runnerscale-launch")
                .lifecycleTransition("autoscaling:EC2_INSTANCE_LAUNCHING").heartbeatTimeout(600).defaultResult("ABANDON"));
        stack.gitlab.stubFor(get(urlPathEqualTo("/api/v4/runners/501/jobs")).willReturn(json("[]")));
        stack.gitlab.stubFor(delete(urlPathEqualTo("/api/v4/runners/501")).willReturn(aResponse().withStatus(204)));
    }

    @AfterEach
    void tearDown() {
        ec2.close();
        sfn.close();
        stack.close();
    }

    @Test
    void aTerminatedInstancesLeftoversAreCleanedAndHandRegisteredRunnersUntouched() {
        stack.autoScaling.setDesiredCapacity(r -> r.autoScalingGroupName(asg).desiredCapacity(3));
        List<String> instances = stack.instances("docker");
        String gone = instances.get(0);
        String adoptable = instances.get(1);
        String runnerless = instances.get(2);
        // the gone instance as its launch left it: runner 501 recorded, its token stored
        stack.store.recordRunner(gone, "docker", 501L, InstanceState.READY, Instant.now());
        new SsmRunnerTokens(stack.ssm, tokenPrefix).put(gone, "glrt-s3cret-501",
                "arn:aws:ec2:us-east-1:123456789012:instance/" + gone);
        // tokens of instances EC2 never heard of (more than one page of GetParametersByPath)
        List<String> strays = IntStream.range(0, 12).mapToObj(n -> String.format("i-0eeeeeeeeeeeee%03d", n)).toList();
        for (String stray : strays) {
            stack.ssm.putParameter(r -> r.name(tokenPrefix + stray).type(ParameterType.SECURE_STRING).value("glrt-x"));
        }
        // AWS terminates it without a drain (the drain never ran): its leftovers stay
        stack.autoScaling.terminateInstanceInAutoScalingGroup(r -> r.instanceId(gone).shouldDecrementDesiredCapacity(true));
        assertEquals("terminated", ec2.describeInstances(r -> r.instanceIds(gone)).reservations().getFirst()
                .instances().getFirst().state().nameAsString());
        stack.gitlab.stubFor(get(urlPathEqualTo("/api/v4/runners/all")).willReturn(json("""
                [{"id": 501, "description": "%s", "runner_type": "instance_type", "paused": false},
                 {"id": 502, "description": "%s", "runner_type": "instance_type", "paused": false},
                 {"id": 777, "description": "build box in the basement", "runner_type": "instance_type", "paused": false},
                 {"id": 778, "description": "%s", "runner_type": "instance_type", "paused": false}]
                """.formatted(gone, adoptable, STRANGER))));

        JsonNode answer = invoke("{\"sweep\": true}");

        assertEquals("SWEPT", answer.path("result").asText());
        JsonNode report = answer.path("report");
        assertEquals(List.of("501"), texts(report.path("runnersDeleted").path("ids")));
        stack.gitlab.verify(1, deleteRequestedFor(urlPathEqualTo("/api/v4/runners/501")));
        List<String> expectedTokens = new ArrayList<>(strays);
        expectedTokens.add(gone);
        expectedTokens.sort(null);
        assertEquals(expectedTokens, texts(report.path("tokensDeleted").path("ids")));
        assertTrue(stack.ssm.getParametersByPath(r -> r.path(tokenPrefix)).parameters().isEmpty());
        assertEquals(List.of(gone), texts(report.path("recordsForgotten").path("ids")));
        assertTrue(stack.store.lifecycle(gone).isEmpty());
        // in the group: a runner described by the instance id is adopted; an instance without one is drained
        assertEquals(List.of(adoptable), texts(report.path("adopted").path("ids")));
        assertEquals(502L, stack.store.lifecycle(adoptable).orElseThrow().runnerId());
        assertEquals(List.of(runnerless), texts(report.path("drainsStarted").path("ids")));
        assertEquals(List.of("drain-" + runnerless + "-boot-timeout-1"), sfn.listExecutions(r -> r
                .stateMachineArn(stateMachineArn)).executions().stream().map(ExecutionListItem::name).toList());
        // hand-registered runners: never asked about, never deleted
        assertEquals(List.of(STRANGER), texts(report.path("unclaimed").path("ids")));
        for (long runner : List.of(502L, 777L, 778L)) {
            stack.gitlab.verify(0, getRequestedFor(urlPathEqualTo("/api/v4/runners/" + runner + "/jobs")));
            stack.gitlab.verify(0, deleteRequestedFor(urlPathEqualTo("/api/v4/runners/" + runner)));
        }
        assertFalse(report.path("cutShort").asBoolean());

        // a second run finds nothing more to do (the drain started is running)
        stack.gitlab.stubFor(get(urlPathEqualTo("/api/v4/runners/all")).willReturn(json("""
                [{"id": 502, "description": "%s", "runner_type": "instance_type", "paused": false},
                 {"id": 777, "description": "build box in the basement", "runner_type": "instance_type", "paused": false},
                 {"id": 778, "description": "%s", "runner_type": "instance_type", "paused": false}]
                """.formatted(adoptable, STRANGER))));
        JsonNode again = invoke("{\"detail-type\": \"Scheduled Event\", \"source\": \"aws.events\", \"detail\": {}}")
                .path("report");
        for (String kind : List.of("adopted", "runnersDeleted", "tokensDeleted", "recordsForgotten")) {
            assertEquals(0, again.path(kind).path("count").asInt(), kind + " in " + again);
        }
        stack.gitlab.verify(1, deleteRequestedFor(anyUrl()));
        // the same drain asked for again (the fixed clock makes its input identical, so Step Functions
        // answers with the running execution): still one execution
        assertEquals(1, sfn.listExecutions(r -> r.stateMachineArn(stateMachineArn)).executions().size());
    }

    // ------------------------------------------------------------------ helpers

    static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder json(String body) {
        return aResponse().withStatus(200).withHeader("content-type", "application/json").withBody(body);
    }

    static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(node -> texts.add(node.asText()));
        return texts;
    }

    JsonNode invoke(String input) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            handler.handleRequest(new ByteArrayInputStream(input.getBytes(java.nio.charset.StandardCharsets.UTF_8)), out,
                    new LambdaTestContext("lifecycle"));
            return Fixtures.JSON.readTree(out.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path repoFile(String relative) {
        return LifecycleHandlerIntegrationTest.repoFile(relative);
    }
}
