package io.runnerscale.it;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.fasterxml.jackson.databind.JsonNode;
import io.runnerscale.scaling.ScalerHandler;
import io.runnerscale.webhook.WebhookHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The fast path end to end on the real queue: webhook → SQS FIFO message (moto) → the event Lambda's
 * SQS source would build from it → scaler → SetDesiredCapacity on the group (moto). The time from the
 * webhook call to the capacity change is printed, not asserted: it is a figure for the README, and
 * Lambda's own polling delay is not part of it.
 */
@ExtendWith(MotoServer.ResetBetweenTests.class)
class FastPathEndToEndTest {
    static final String POOLS = """
            pools:
              - name: docker
                match: {tags: [docker], run_untagged: true}
                backend: {type: ec2-asg, asg: rs-@ID@-docker}
                capacity_per_instance: 1
                max_instances: 5
            """;

    TestStack stack;

    @AfterEach
    void tearDown() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void pendingJobToDesiredCapacity() {
        stack = TestStack.create(POOLS);
        stack.createAsg("docker", 5);
        stack.stubJobTags(380, "\\d+", List.of("docker"));
        // fresh function instances: the first pass includes their cold start (secrets, pools, classes)
        WebhookHandler webhook = stack.webhookHandler();
        ScalerHandler scaler = stack.scalerHandler(Clock.systemUTC());

        for (int job = 1; job <= 3; job++) {
            Timing timing = fastPath(webhook, scaler, 10_000 + job);
            assertEquals(job, stack.desired("docker"), "one more pending job, one more instance");
            assertEquals(job, stack.instances("docker").size());
            System.out.printf("fast path (%s): webhook %d ms + queue %d ms + scaler %d ms = %d ms from webhook call "
                            + "to SetDesiredCapacity done%n", job == 1 ? "cold" : "warm", timing.webhook.toMillis(),
                    timing.queue.toMillis(), timing.scaler.toMillis(), timing.total().toMillis());
        }
    }

    record Timing(Duration webhook, Duration queue, Duration scaler) {
        Duration total() {
            return webhook.plus(queue).plus(scaler);
        }
    }

    private Timing fastPath(WebhookHandler webhook, ScalerHandler scaler, long jobId) {
        long t0 = System.nanoTime();
        APIGatewayV2HTTPResponse response = TestStack.deliverJobHook(webhook, Fixtures.jobHook(380, jobId, "pending"));
        long t1 = System.nanoTime();
        assertEquals(200, response.getStatusCode(), response.getBody());

        List<Message> messages = List.of();
        Instant deadline = Instant.now().plusSeconds(10);
        while (messages.isEmpty() && Instant.now().isBefore(deadline)) {
            messages = stack.sqs.receiveMessage(r -> r.queueUrl(stack.queueUrl).maxNumberOfMessages(10)
                    .waitTimeSeconds(1).messageSystemAttributeNames(MessageSystemAttributeName.ALL)).messages();
        }
        assertEquals(1, messages.size(), "one scale request");
        assertEquals("docker", messages.getFirst().attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID));
        JsonNode event = stack.sqsEvent(messages);
        long t2 = System.nanoTime();

        JsonNode answer = TestStack.invoke(scaler, event);
        long t3 = System.nanoTime();
        stack.delete(messages);       // what Lambda does after a successful batch
        assertEquals(0, answer.path("batchItemFailures").size(), answer.toString());
        assertEquals(Map.of("docker", (int) (jobId - 10_000)), ScalerHandlerIntegrationTest.decided(answer));
        return new Timing(Duration.ofNanos(t1 - t0), Duration.ofNanos(t2 - t1), Duration.ofNanos(t3 - t2));
    }
}
