package io.runnerscale.lifecycle;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.config.Settings;
import io.runnerscale.gitlab.RunnerOwner;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.sfn.SfnClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.ssm.SsmClient;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the handler refuses before it calls anything: its clients point at a closed port, so a call
 * would fail with an SDK error instead of the message asserted.
 */
class LifecycleHandlerTest {
    static final URI NOWHERE = URI.create("http://127.0.0.1:9");
    final ObjectMapper json = new ObjectMapper();
    final List<AutoCloseable> clients = new java.util.ArrayList<>();

    <B extends AwsClientBuilder<B, C>, C extends AutoCloseable> C client(B builder) {
        C client = builder.endpointOverride(NOWHERE).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("k", "s"))).build();
        clients.add(client);
        return client;
    }

    LifecycleHandler handler() {
        return new LifecycleHandler(new Settings("t", "/p", "", "gitlab-secret", "q", Duration.ofDays(7)),
                new LifecycleSettings("/runnerscale/s/runners/", "arn:aws:states:us-east-1:1:stateMachine:d",
                        RunnerOwner.instance(), Duration.ofHours(1)),
                client(DynamoDbClient.builder()), client(SsmClient.builder()), client(AutoScalingClient.builder()),
                client(Ec2Client.builder()), client(SfnClient.builder()), client(SecretsManagerClient.builder()),
                client(SqsClient.builder()), Clock.systemUTC());
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable client : clients) {
            client.close();
        }
    }

    @Test
    void unknownDetailTypeIsNamedAndAbbreviated() {
        ObjectNode event = json.createObjectNode().put("detail-type", "X".repeat(500));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> handler().handle(event));
        assertTrue(e.getMessage().startsWith("detail-type '" + "X".repeat(100) + "..."), e.getMessage());
        assertTrue(e.getMessage().length() < 400);
    }

    @Test
    void aMissingEventFieldIsNamed() {
        ObjectNode event = json.createObjectNode().put("detail-type", LifecycleHandler.LAUNCH);
        event.putObject("detail").put("AutoScalingGroupName", "g");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> handler().handle(event));
        assertEquals("event field EC2InstanceId is missing or not a string", e.getMessage());
    }

    @Test
    void aBadDrainInATaskIsNamedByField() {
        ObjectNode payload = json.createObjectNode().put("task", "RunningJobs");
        payload.putObject("drain").put("instanceId", "i-1").put("reason", "boredom");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> handler().handle(payload));
        assertTrue(e.getMessage().startsWith("drain.reason"), e.getMessage());
    }

    @Test
    void notAnObjectIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> handler().handle(json.createArrayNode()));
    }

    @Test
    void withoutAGitLabSecretTheFunctionDoesNotStart() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new LifecycleHandler(
                new Settings("t", "/p", "", "", "q", Duration.ofDays(7)),
                new LifecycleSettings("/runnerscale/s/runners/", "arn:aws:states:us-east-1:1:stateMachine:d",
                        RunnerOwner.instance(), Duration.ofHours(1)),
                client(DynamoDbClient.builder()), client(SsmClient.builder()), client(AutoScalingClient.builder()),
                client(Ec2Client.builder()), client(SfnClient.builder()), client(SecretsManagerClient.builder()),
                client(SqsClient.builder()), Clock.systemUTC()));
        assertTrue(e.getMessage().contains("GITLAB_SECRET_ID"), e.getMessage());
    }
}
