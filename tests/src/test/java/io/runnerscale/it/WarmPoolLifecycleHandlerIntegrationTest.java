package io.runnerscale.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.lifecycle.LifecycleHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ssm.model.ParameterNotFoundException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A warm pool's events through the lifecycle function's Lambda entry point on real parts (DynamoDB
 * Local, moto_server SSM, Auto Scaling, EC2 and Step Functions, a WireMock GitLab), with the event
 * shapes of AWS's warm pool documentation ({@code Origin}/{@code Destination} in the detail):
 * {@code events/lifecycle-warm-launch-action.json} (EC2 → WarmPool),
 * {@code events/lifecycle-warm-resume-action.json} (WarmPool → AutoScalingGroup) and
 * {@code events/lifecycle-warm-return-action.json} (the terminate hook, AutoScalingGroup → WarmPool).
 *
 * <p>Not covered here, as in {@link LifecycleHandlerIntegrationTest}: CompleteLifecycleAction, which
 * moto answers with 500; and moto has no warm pool, so the stopped instance stands in the group.
 */
class WarmPoolLifecycleHandlerIntegrationTest {
    static final Instant NOW = Instant.parse("2025-06-02T09:14:05Z");
    static final String POOLS = """
            pools:
              - name: docker
                match: {tags: [docker, linux], run_untagged: true}
                backend: {type: ec2-asg, asg: rs-@ID@-docker}
                capacity_per_instance: 2
                max_instances: 5
            """;

    TestStack stack;
    LifecycleHandler handler;
    String asg;
    String instanceId;
    String tokenParameter;

    @BeforeEach
    void setUp() {
        stack = TestStack.create(POOLS);
        handler = stack.lifecycleHandler(Clock.fixed(NOW, ZoneOffset.UTC));
        asg = stack.createAsg("docker", 3);
        stack.autoScaling.setDesiredCapacity(r -> r.autoScalingGroupName(asg).desiredCapacity(1));
        instanceId = stack.instances("docker").getFirst();
        tokenParameter = "/runnerscale/rs-" + stack.id + "/runners/" + instanceId;
        stack.gitlab.stubFor(post(urlPathEqualTo("/api/v4/user/runners")).willReturn(aResponse().withStatus(201)
                .withHeader("content-type", "application/json").withBody("{\"id\": 601, \"token\": \"glrt-s3cret-601\"}")));
        stack.gitlab.stubFor(get(urlPathEqualTo("/api/v4/runners/601/jobs")).willReturn(aResponse().withStatus(200)
                .withHeader("content-type", "application/json").withBody("[]")));
        stack.gitlab.stubFor(put(urlPathEqualTo("/api/v4/runners/601")).willReturn(aResponse().withStatus(200)
                .withHeader("content-type", "application/json").withBody("{\"id\": 601, \"paused\": true}")));
        stack.gitlab.stubFor(delete(urlPathEqualTo("/api/v4/runners/601")).willReturn(aResponse().withStatus(204)));
    }

    @AfterEach
    void tearDown() {
        stack.close();
    }

    @Test
    void warmLaunchMakesNoRunnerResumeMakesOneAndAReturnDrainsBackToWarm() {
        assertEquals("WARM", invoke(event("lifecycle-warm-launch-action.json")).path("result").asText());
        stack.gitlab.verify(0, postRequestedFor(anyUrl()));
        assertThrows(ParameterNotFoundException.class, () -> stack.ssm.getParameter(r -> r.name(tokenParameter)),
                "no token while warm");
        assertEquals("warm", stack.store.lifecycle(instanceId).orElseThrow().state().wireName());

        // stopped in the warm pool: the orphan sweep neither drains it nor takes it for gone
        stack.ec2.stopInstances(r -> r.instanceIds(instanceId));
        JsonNode swept = invoke(read("{\"sweep\": true}"));
        assertEquals("SWEPT", swept.path("result").asText(), swept.toString());
        assertTrue(stack.drainExecutions().isEmpty(), stack.drainExecutions().toString());
        assertEquals("warm", stack.store.lifecycle(instanceId).orElseThrow().state().wireName(), swept.toString());

        // leaves the warm pool: the same runner and token as a cold launch, once for two deliveries
        stack.ec2.startInstances(r -> r.instanceIds(instanceId));
        assertEquals("REGISTERED", invoke(event("lifecycle-warm-resume-action.json")).path("result").asText());
        assertEquals("ALREADY_REGISTERED", invoke(event("lifecycle-warm-resume-action.json")).path("result").asText());
        stack.gitlab.verify(1, postRequestedFor(urlPathEqualTo("/api/v4/user/runners")));
        assertEquals("glrt-s3cret-601",
                stack.ssm.getParameter(r -> r.name(tokenParameter).withDecryption(true)).parameter().value());
        var resumed = stack.store.instances("docker").getFirst();
        assertEquals(NOW, resumed.launchedAt(), "the boot clock starts at the resume");

        // scaled in with instance reuse: the terminate hook says WarmPool; the drain holds it
        assertEquals("STARTED", invoke(event("lifecycle-warm-return-action.json")).path("result").asText());
        assertEquals(List.of("drain-" + instanceId + "-lifecycle-hook-1"), stack.drainExecutions());
        JsonNode drain = read(stack.sfn.describeExecution(r -> r.executionArn(stack.drainStateMachineArn
                .replace(":stateMachine:", ":execution:") + ":drain-" + instanceId + "-lifecycle-hook-1")).input());
        assertTrue(drain.path("lifecycleHook").path("toWarmPool").asBoolean(), drain.toString());
        for (String task : List.of("MarkDraining", "PauseRunner", "RunningJobs")) {
            drain = task(task, drain);
        }
        assertEquals("DeleteRunner", drain.path("next").asText(), drain.toString());
        drain = task("DeleteRunner", drain);
        stack.gitlab.verify(1, deleteRequestedFor(urlPathEqualTo("/api/v4/runners/601")));
        assertThrows(ParameterNotFoundException.class, () -> stack.ssm.getParameter(r -> r.name(tokenParameter)),
                "the token is gone before the instance stops");
        // (Terminate completes the held action with CONTINUE, which moto cannot answer: covered in layers/core)
    }

    // ------------------------------------------------------------------ helpers

    /** A file under events/, with this test's group and instance in it. */
    ObjectNode event(String file) {
        try {
            ObjectNode event = (ObjectNode) Fixtures.JSON.readTree(
                    Files.readString(LifecycleHandlerIntegrationTest.repoFile("events/" + file)));
            ((ObjectNode) event.get("detail")).put("EC2InstanceId", instanceId).put("AutoScalingGroupName", asg);
            return event;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    JsonNode task(String task, JsonNode drain) {
        ObjectNode payload = Fixtures.JSON.createObjectNode().put("task", task);
        payload.set("drain", drain);
        return invoke(payload);
    }

    JsonNode invoke(JsonNode input) {
        return TestStack.invoke(handler, input);
    }

    static JsonNode read(String text) {
        return LifecycleHandlerIntegrationTest.read(text);
    }
}
