package io.runnerscale.it;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.config.Settings;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.scaling.ScalerHandler;
import io.runnerscale.webhook.DeferredJobUpdatesCodec;
import io.runnerscale.webhook.WebhookHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Pipeline Hook too big to store within GitLab's timeout, through the real parts: the webhook
 * function answers 202 once the jobs are messages on the scale queue (moto), the scaler function
 * applies them to DynamoDB Local (tags from WireMock's GitLab) and asks for the scale-out, whose
 * decision raises the group's capacity (moto).
 */
@ExtendWith(MotoServer.ResetBetweenTests.class)
class BigPipelineHookIntegrationTest {
    static final String POOLS = """
            pools:
              - name: docker
                match: {tags: [docker], run_untagged: true}
                backend: {type: ec2-asg, asg: rs-@ID@-docker}
                max_instances: 500
            """;
    static final int BUILDS = 900;

    TestStack stack;

    @AfterEach
    void tearDown() {
        if (stack != null) {
            stack.close();
        }
    }

    /** The documented Pipeline Hook listing {@code builds} jobs of project 380: every tenth pending, every 20th finished. */
    static String pipelineHook(int builds) {
        ObjectNode hook = (ObjectNode) Fixtures.json("gitlab/gitlab-doc_pipeline_hook.json").deepCopy();
        ((ObjectNode) hook.get("project")).put("id", 380);
        JsonNode template = hook.get("builds").get(0);
        ArrayNode list = hook.putArray("builds");
        for (int i = 1; i <= builds; i++) {
            ObjectNode build = template.deepCopy();
            String status = i % 10 == 0 ? "pending" : i % 20 == 5 ? "success" : "created";
            // long names: the delivery needs several queue messages
            build.put("id", 50_000 + i).put("status", status).put("name", "integration " + i + " " + "x".repeat(200));
            if (status.equals("success")) {
                build.put("started_at", "2016-08-12 15:24:00 UTC").put("finished_at", "2016-08-12 15:25:00 UTC");
            }
            list.add(build);
        }
        return hook.toString();
    }

    @Test
    void aBigPipelineHookIsAcknowledgedQueuedAppliedAndScaledOut() {
        stack = TestStack.create(POOLS);
        stack.createAsg("docker", 500);
        stack.stubJobTags(380, "\\d+", List.of("docker"));
        WebhookHandler webhook = stack.webhookHandler();
        ScalerHandler scaler = stack.scalerHandler(Clock.systemUTC());

        APIGatewayV2HTTPResponse response = TestStack.deliver(webhook,
                Fixtures.gitlabHeaders("Pipeline Hook", TestStack.WEBHOOK_TOKEN, UUID.randomUUID().toString()),
                pipelineHook(BUILDS));
        assertEquals(202, response.getStatusCode(), response.getBody());
        assertEquals(BUILDS, TestStack.body(response).path("queued").asInt());
        assertTrue(stack.store.find(new JobKey(380, 50_010)).isEmpty(), "nothing applied before the scaler runs");

        List<Message> parts = receiveAll();
        assertTrue(parts.size() >= 2, "a delivery this big is split into several messages: " + parts.size());
        parts.forEach(m -> assertTrue(m.attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID)
                .startsWith("job-updates-"), "own message groups: pools' decisions are not held up"));

        JsonNode answer = TestStack.invoke(scaler, stack.sqsEvent(parts));
        assertEquals(0, answer.path("batchItemFailures").size(), answer.toString());
        int applied = 0;
        for (JsonNode part : answer.path("applied")) {
            applied += part.path("applied").asInt();
        }
        assertEquals(BUILDS, applied, answer.toString());
        stack.delete(parts);

        for (int i = 1; i <= BUILDS; i++) {
            JobRecord job = stack.store.find(new JobKey(380, 50_000 + i)).orElseThrow(() -> new AssertionError("job lost"));
            JobStatus expected = i % 10 == 0 ? JobStatus.PENDING : i % 20 == 5 ? JobStatus.SUCCESS : JobStatus.CREATED;
            assertEquals(expected, job.status());
            if (expected != JobStatus.CREATED) {
                assertEquals("docker", job.pool(), "live and finished jobs get their pool");
            }
        }

        // the scale requests went back through the queue, in the pool's own message group
        List<Message> requests = receiveAll();
        assertTrue(!requests.isEmpty());
        requests.forEach(m -> assertEquals("docker", m.attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID)));
        JsonNode decision = TestStack.invoke(scaler, stack.sqsEvent(requests));
        stack.delete(requests);
        assertEquals(BUILDS / 10, stack.desired("docker"), decision.toString());

        // SQS delivers at least once: the same parts again change nothing
        JsonNode redelivered = TestStack.invoke(scaler, stack.sqsEvent(parts));
        for (JsonNode part : redelivered.path("applied")) {
            assertEquals(0, part.path("applied").asInt(), redelivered.toString());
        }
    }

    @Test
    void partsThatCannotBeStoredAreReturnedToTheQueue() {
        stack = TestStack.create(POOLS);
        stack.stubJobTags(380, "\\d+", List.of("docker"));
        APIGatewayV2HTTPResponse response = TestStack.deliver(stack.webhookHandler(),
                Fixtures.gitlabHeaders("Pipeline Hook", TestStack.WEBHOOK_TOKEN, UUID.randomUUID().toString()),
                pipelineHook(60));
        assertEquals(202, response.getStatusCode(), response.getBody());
        List<Message> parts = receiveAll();
        assertEquals(1, parts.size());

        Settings broken = new Settings("rs-no-such-table", stack.settings.poolsParameter(), stack.settings.webhookSecretId(),
                stack.settings.gitlabSecretId(), stack.settings.scaleQueueUrl(), stack.settings.jobTtl());
        ScalerHandler scaler = new ScalerHandler(broken,
                new io.runnerscale.lifecycle.LifecycleSettings.DrainSettings(stack.drainStateMachineArn, java.time.Duration.ofHours(1)),
                stack.dynamo, stack.autoScaling, stack.ssm, stack.sqs, stack.secretsManager, stack.sfn, Clock.systemUTC());
        JsonNode answer = TestStack.invoke(scaler, stack.sqsEvent(parts));

        assertEquals(1, answer.path("batchItemFailures").size(), answer.toString());
        assertEquals(parts.getFirst().messageId(), answer.path("batchItemFailures").get(0).path("itemIdentifier").asText());
    }

    @Test
    void anUnreadableUpdatesMessageIsDroppedNotRetriedForever() {
        stack = TestStack.create(POOLS);
        stack.sqs.sendMessage(r -> r.queueUrl(stack.queueUrl).messageGroupId("job-updates-x")
                .messageDeduplicationId("bad").messageBody("{\"type\":\"" + DeferredJobUpdatesCodec.TYPE
                        + "\",\"delivery\":\"d\",\"events\":[{\"project\":0,\"job\":1,\"status\":\"pending\"}]}"));
        List<Message> parts = receiveAll();
        JsonNode answer = TestStack.invoke(stack.scalerHandler(Clock.systemUTC()), stack.sqsEvent(parts));
        assertEquals(0, answer.path("batchItemFailures").size(), answer.toString());
        assertEquals(0, answer.path("applied").size(), answer.toString());
    }

    private List<Message> receiveAll() {
        List<Message> all = new ArrayList<>();
        for (int attempt = 0; attempt < 5; attempt++) {
            List<Message> batch = stack.receive();
            all.addAll(batch);
            if (batch.isEmpty() && !all.isEmpty()) {
                break;
            }
        }
        return all;
    }
}
