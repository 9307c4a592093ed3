package io.runnerscale.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.gitlab.RunnerOwner;
import io.runnerscale.lifecycle.LifecycleHandler;
import io.runnerscale.lifecycle.LifecycleSettings;
import io.runnerscale.lifecycle.RetryableError;
import io.runnerscale.testing.SharedFiles;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.sfn.SfnClient;
import software.amazon.awssdk.services.sfn.model.DescribeExecutionResponse;
import software.amazon.awssdk.services.sfn.model.ExecutionListItem;
import software.amazon.awssdk.services.ssm.model.ParameterNotFoundException;
import software.amazon.awssdk.services.ssm.model.ParameterType;
import software.amazon.awssdk.services.ssm.model.ResourceTypeForTagging;
import software.amazon.awssdk.services.ssm.model.Tag;

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
import java.util.List;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lifecycle function through its Lambda entry point on real parts: DynamoDB Local, moto_server
 * (SSM SecureStrings and tags, Auto Scaling groups and TerminateInstanceInAutoScalingGroup, Step
 * Functions StartExecution of the deployed drain definition, which moto stores but is not asked to
 * run) and a WireMock GitLab, driven by AWS's documented EventBridge events.
 *
 * <p>Not covered here: CompleteLifecycleAction and RecordLifecycleActionHeartbeat, which moto answers
 * with 500 (their request shape is tested in layers/core {@code AsgLifecycleActionsTest}).
 */
class LifecycleHandlerIntegrationTest {
    static final Instant NOW = Instant.parse("2025-03-01T10:00:00Z");
    static final String POOLS = """
            pools:
              - name: docker
                match: {tags: [docker, linux], run_untagged: true}
                backend: {type: ec2-asg, asg: rs-@ID@-docker, drain_on_rebalance: true}
                capacity_per_instance: 2
                max_instances: 5
            """;

    TestStack stack;
    SfnClient sfn;
    String stateMachineArn;
    String tokenPrefix;
    LifecycleHandler handler;
    String asg;
    String instanceId;

    @BeforeEach
    void setUp() throws IOException {
        stack = TestStack.create(POOLS);
        sfn = stack.moto.client(SfnClient.builder());
        String definition = Files.readString(repoFile("statemachine/drain.asl.json"))
                .replace("${LifecycleFunctionArn}", "arn:aws:lambda:us-east-1:123456789012:function:rs-" + stack.id + "-lifecycle");
        stateMachineArn = sfn.createStateMachine(r -> r.name("rs-" + stack.id + "-drain").definition(definition)
                .roleArn("arn:aws:iam::123456789012:role/rs-drain")).stateMachineArn();
        tokenPrefix = "/runnerscale/rs-" + stack.id + "/runners/";
        handler = new LifecycleHandler(stack.settings,
                new LifecycleSettings(tokenPrefix, stateMachineArn, RunnerOwner.instance(), Duration.ofHours(1)),
                stack.dynamo, stack.ssm, stack.autoScaling, stack.moto.client(Ec2Client.builder()), sfn,
                stack.secretsManager, stack.sqs, Clock.fixed(NOW, ZoneOffset.UTC));
        asg = stack.createAsg("docker", 3);
        stack.autoScaling.setDesiredCapacity(r -> r.autoScalingGroupName(asg).desiredCapacity(1));
        instanceId = stack.instances("docker").getFirst();

        stack.gitlab.stubFor(post(urlPathEqualTo("/api/v4/user/runners")).willReturn(aResponse().withStatus(201)
                .withHeader("content-type", "application/json").withBody("{\"id\": 501, \"token\": \"glrt-s3cret-501\"}")));
        stack.gitlab.stubFor(get(urlPathEqualTo("/api/v4/runners/501/jobs")).willReturn(aResponse().withStatus(200)
                .withHeader("content-type", "application/json").withBody("[]")));
        stack.gitlab.stubFor(put(urlPathEqualTo("/api/v4/runners/501")).willReturn(aResponse().withStatus(200)
                .withHeader("content-type", "application/json").withBody("{\"id\": 501, \"paused\": true}")));
        stack.gitlab.stubFor(delete(urlPathEqualTo("/api/v4/runners/501")).willReturn(aResponse().withStatus(204)));
    }

    @AfterEach
    void tearDown() {
        sfn.close();
        stack.close();
    }

    @Test
    void launchEventCreatesTheRunnerStoresItsTokenTaggedWithTheInstanceAndRecordsIt() {
        JsonNode answer = invoke(event("ec2-instance-launch-lifecycle-action.awsdocs.json"));
        assertEquals("REGISTERED", answer.path("result").asText());

        stack.gitlab.verify(1, postRequestedFor(urlPathEqualTo("/api/v4/user/runners"))
                .withHeader("PRIVATE-TOKEN", equalTo(TestStack.GITLAB_TOKEN))
                .withRequestBody(equalToJson("{\"runner_type\": \"instance_type\", \"description\": \"" + instanceId
                        + "\", \"tag_list\": [\"docker\", \"linux\"], \"run_untagged\": true, \"locked\": false,"
                        + " \"paused\": false}")));
        var parameter = stack.ssm.getParameter(r -> r.name(tokenPrefix + instanceId).withDecryption(true)).parameter();
        assertEquals(ParameterType.SECURE_STRING, parameter.type());
        assertEquals("glrt-s3cret-501", parameter.value());
        List<Tag> tags = stack.ssm.listTagsForResource(r -> r.resourceType(ResourceTypeForTagging.PARAMETER)
                .resourceId(tokenPrefix + instanceId)).tagList();
        // the fixture's region and account
        assertEquals(List.of(Tag.builder().key("runnerscale:instance-arn")
                .value("arn:aws:ec2:us-west-2:123456789012:instance/" + instanceId).build()), tags);
        var record = stack.store.lifecycle(instanceId).orElseThrow();
        assertEquals(501L, record.runnerId());
        assertEquals("registered", record.state().wireName());
        assertEquals(List.of(instanceId), stack.store.instances("docker").stream().map(i -> i.instanceId()).toList());

        // a repeated delivery creates nothing new
        assertEquals("ALREADY_REGISTERED", invoke(event("ec2-instance-launch-lifecycle-action.awsdocs.json"))
                .path("result").asText());

        // the user data completed the action: Auto Scaling's launch-successful event (AWS's documented shape)
        ObjectNode launched = (ObjectNode) read("""
                {"version": "0", "id": "3e3c153a-8339-4e30-8c35-687ebef853fe",
                 "detail-type": "EC2 Instance Launch Successful", "source": "aws.autoscaling",
                 "account": "123456789012", "time": "2025-03-01T10:00:40Z", "region": "us-west-2",
                 "resources": [], "detail": {"StatusCode": "InProgress", "Description": "Launching a new EC2 instance",
                 "AutoScalingGroupName": "%s", "ActivityId": "4a3b6d4e-2e8e-4a4c-a41a-9b8a3c3e5f6a",
                 "Details": {"Availability Zone": "us-west-2b", "Subnet ID": "subnet-12345678"},
                 "RequestId": "4a3b6d4e-2e8e-4a4c-a41a-9b8a3c3e5f6a", "StatusMessage": "",
                 "EndTime": "2025-03-01T10:00:40Z", "EC2InstanceId": "%s", "StartTime": "2025-03-01T10:00:05Z",
                 "Cause": "At 2025-03-01T10:00:00Z an instance was started in response to a difference between desired and actual capacity"}}
                """.formatted(asg, instanceId));
        assertEquals("READY", invoke(launched).path("result").asText());
        assertEquals("ready", stack.store.lifecycle(instanceId).orElseThrow().state().wireName());
        stack.gitlab.verify(1, postRequestedFor(urlPathEqualTo("/api/v4/user/runners")));
    }

    @Test
    void aStaleTokenIsOverwrittenAndTaggedAgain() {
        // a token left from an interrupted launch, without its tag
        stack.ssm.putParameter(r -> r.name(tokenPrefix + instanceId).type(ParameterType.SECURE_STRING).value("glrt-old"));
        invoke(event("ec2-instance-launch-lifecycle-action.awsdocs.json"));
        assertEquals("glrt-s3cret-501", stack.ssm.getParameter(r -> r.name(tokenPrefix + instanceId).withDecryption(true))
                .parameter().value());
        assertEquals("runnerscale:instance-arn", stack.ssm.listTagsForResource(r -> r
                .resourceType(ResourceTypeForTagging.PARAMETER).resourceId(tokenPrefix + instanceId)).tagList()
                .getFirst().key());
    }

    @Test
    void spotWarningStartsANamedDrainWhoseTasksDeleteTheRunnerAndTokenAndTerminate() {
        invoke(event("ec2-instance-launch-lifecycle-action.awsdocs.json"));
        ObjectNode spot = event("ec2-spot-instance-interruption-warning.awsdocs.json");
        spot.put("time", "2025-03-01T09:59:50Z");
        assertEquals("STARTED", invoke(spot).path("result").asText());
        // a second warning for the instance (another time, so another input): the running drain, nothing new
        assertEquals("ALREADY_RUNNING", invoke(spot.deepCopy().put("time", "2025-03-01T09:59:55Z"))
                .path("result").asText());

        List<ExecutionListItem> executions = sfn.listExecutions(r -> r.stateMachineArn(stateMachineArn)).executions();
        assertEquals(List.of("drain-" + instanceId + "-spot-1"), executions.stream().map(ExecutionListItem::name).toList());
        DescribeExecutionResponse execution = sfn.describeExecution(r -> r.executionArn(executions.getFirst().executionArn()));
        JsonNode drain = read(execution.input());
        assertEquals(instanceId, drain.path("instanceId").asText());
        assertEquals("docker", drain.path("pool").asText());
        assertEquals(asg, drain.path("asg").asText());
        assertEquals(501, drain.path("runnerId").asLong());
        assertEquals("spot", drain.path("reason").asText());
        assertTrue(drain.path("lifecycleHook").isNull());
        assertEquals("2025-03-01T10:01:30Z", drain.path("deadline").asText(), "100 s after the warning");

        // the drain's tasks as the state machine calls them
        JsonNode state = task("MarkDraining", drain);
        assertEquals("interrupted", stack.store.lifecycle(instanceId).orElseThrow().state().wireName());
        state = task("PauseRunner", state);
        stack.gitlab.verify(1, putRequestedFor(urlPathEqualTo("/api/v4/runners/501")));
        state = task("RunningJobs", state);
        assertEquals("DeleteRunner", state.path("next").asText());
        state = task("DeleteRunner", state);
        stack.gitlab.verify(1, deleteRequestedFor(urlPathEqualTo("/api/v4/runners/501")));
        assertTrue(state.path("runnerId").isNull());
        assertThrows(ParameterNotFoundException.class, () -> stack.ssm.getParameter(r -> r.name(tokenPrefix + instanceId)));
        state = task("RunningJobs", state);
        assertEquals("Terminate", state.path("next").asText());
        state = task("Terminate", state);
        assertEquals("terminated", state.path("outcome").asText());
        assertEquals("gone", stack.store.lifecycle(instanceId).orElseThrow().state().wireName());
        // every drain lowers desired capacity: the replacement was asked of the scaler at the warning
        assertFalse(stack.instances("docker").contains(instanceId));
        assertEquals(0, stack.desired("docker"));
        List<JsonNode> requests = stack.drain().stream().map(m -> read(m.body())).toList();
        assertEquals(1, requests.size(), "one scale request for both warnings (same deduplication id): " + requests);
        assertEquals("docker", requests.getFirst().path("pool").asText(), requests.toString());
    }

    @Test
    void terminateHookAndRebalanceStartDrainsNamedByReason() {
        invoke(event("ec2-instance-launch-lifecycle-action.awsdocs.json"));
        assertEquals("STARTED", invoke(event("ec2-instance-terminate-lifecycle-action.awsdocs.json")).path("result").asText());
        assertEquals("STARTED", invoke(event("ec2-instance-rebalance-recommendation.awsdocs.json")).path("result").asText());

        List<String> names = sfn.listExecutions(r -> r.stateMachineArn(stateMachineArn)).executions().stream()
                .map(ExecutionListItem::name).sorted().toList();
        assertEquals(List.of("drain-" + instanceId + "-lifecycle-hook-1", "drain-" + instanceId + "-rebalance-1"), names);
        JsonNode hookDrain = read(sfn.describeExecution(r -> r.executionArn(stateMachineArn.replace(":stateMachine:",
                ":execution:") + ":drain-" + instanceId + "-lifecycle-hook-1")).input());
        assertEquals("my-lifecycle-hook", hookDrain.path("lifecycleHook").path("name").asText());
        assertEquals("87654321-4321-4321-4321-210987654321", hookDrain.path("lifecycleHook").path("token").asText());
        assertEquals("2025-03-01T11:00:00Z", hookDrain.path("deadline").asText(), "the job timeout from now");
    }

    @Test
    void spotWarningForAnInstanceOutsideRunnerscaleIsIgnored() {
        ObjectNode spot = event("ec2-spot-instance-interruption-warning.awsdocs.json");
        assertEquals("IGNORED_UNKNOWN_INSTANCE", invoke(spot).path("result").asText());
        assertTrue(sfn.listExecutions(r -> r.stateMachineArn(stateMachineArn)).executions().isEmpty());
    }

    @Test
    void gitLabDownDuringADrainTaskIsRetryableError() {
        invoke(event("ec2-instance-launch-lifecycle-action.awsdocs.json"));
        invoke(event("ec2-spot-instance-interruption-warning.awsdocs.json"));
        JsonNode drain = read(sfn.describeExecution(r -> r.executionArn(sfn.listExecutions(l -> l
                .stateMachineArn(stateMachineArn)).executions().getFirst().executionArn())).input());
        stack.gitlab.stubFor(put(urlPathEqualTo("/api/v4/runners/501")).willReturn(aResponse().withStatus(503)));
        assertThrows(RetryableError.class, () -> task("PauseRunner", drain));
    }

    // ------------------------------------------------------------------ helpers

    /** The AWS documentation's example event, with this test's group and instance in it. */
    ObjectNode event(String fixture) {
        ObjectNode event = (ObjectNode) Fixtures.JSON.valueToTree(read(SharedFiles.read(SharedFiles.fixture("aws/" + fixture))));
        ObjectNode detail = (ObjectNode) event.get("detail");
        if (detail.has("EC2InstanceId")) {
            detail.put("EC2InstanceId", instanceId).put("AutoScalingGroupName", asg);
        } else {
            detail.put("instance-id", instanceId);
        }
        return event;
    }

    JsonNode task(String task, JsonNode drain) {
        ObjectNode payload = Fixtures.JSON.createObjectNode().put("task", task);
        payload.set("drain", drain);
        return invoke(payload);
    }

    JsonNode invoke(JsonNode input) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            handler.handleRequest(new ByteArrayInputStream(Fixtures.JSON.writeValueAsBytes(input)), out,
                    new LambdaTestContext("lifecycle"));
            return Fixtures.JSON.readTree(out.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode read(String text) {
        try {
            return Fixtures.JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path repoFile(String relative) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve(relative))) {
                return dir.resolve(relative);
            }
        }
        throw new IllegalStateException(relative + " not found above " + Path.of("").toAbsolutePath());
    }
}
