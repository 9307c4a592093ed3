package io.runnerscale.lifecycle;

import io.runnerscale.gitlab.RunnerOwner;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LifecycleSettingsTest {
    static final String ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:drain";

    @Test
    void defaultsAreInstanceRunnersAndAnHourForJobs() {
        LifecycleSettings settings = LifecycleSettings.from(Map.of("RUNNER_TOKEN_PREFIX", "/runnerscale/s/runners/",
                "DRAIN_STATE_MACHINE_ARN", ARN));
        assertEquals(RunnerOwner.instance(), settings.runnerOwner());
        assertEquals(Duration.ofHours(1), settings.jobTimeout());
        assertEquals("/runnerscale/s/runners/", settings.runnerTokenPrefix());
        assertEquals(null, settings.runnerTokenKmsKeyId(), "SSM's default key");
        assertEquals(null, LifecycleSettings.from(Map.of("RUNNER_TOKEN_PREFIX", "/r/", "DRAIN_STATE_MACHINE_ARN", ARN,
                "RUNNER_TOKEN_KMS_KEY_ID", "  ")).runnerTokenKmsKeyId(), "the template passes an empty parameter");
        assertEquals("arn:aws:kms:us-east-1:123456789012:key/k", LifecycleSettings.from(Map.of("RUNNER_TOKEN_PREFIX", "/r/",
                "DRAIN_STATE_MACHINE_ARN", ARN, "RUNNER_TOKEN_KMS_KEY_ID", "arn:aws:kms:us-east-1:123456789012:key/k"))
                .runnerTokenKmsKeyId());
        assertEquals(null, settings.webhookUrl(), "no hook URL: the reconciler checks no hook");
        assertEquals("https://a.execute-api.eu-west-1.amazonaws.com/webhook", LifecycleSettings.from(Map.of(
                "RUNNER_TOKEN_PREFIX", "/r/", "DRAIN_STATE_MACHINE_ARN", ARN,
                "WEBHOOK_URL", " https://a.execute-api.eu-west-1.amazonaws.com/webhook ")).webhookUrl());
    }

    @Test
    void ownerAndJobTimeoutAreRead() {
        LifecycleSettings settings = LifecycleSettings.from(Map.of("RUNNER_TOKEN_PREFIX", "/r/", "DRAIN_STATE_MACHINE_ARN", ARN,
                "RUNNER_OWNER", "group:42", "DRAIN_JOB_TIMEOUT_MINUTES", "180"));
        assertEquals(RunnerOwner.group(42), settings.runnerOwner());
        assertEquals(Duration.ofHours(3), settings.jobTimeout());
        assertEquals(RunnerOwner.project(7), LifecycleSettings.owner("project:7"));
    }

    @Test
    void mistakesNameTheVariable() {
        assertTrue(assertThrows(IllegalStateException.class, () -> LifecycleSettings.from(Map.of("DRAIN_STATE_MACHINE_ARN", ARN)))
                .getMessage().startsWith("RUNNER_TOKEN_PREFIX"));
        assertTrue(assertThrows(IllegalStateException.class, () -> LifecycleSettings.from(Map.of("RUNNER_TOKEN_PREFIX", "/r")))
                .getMessage().startsWith("RUNNER_TOKEN_PREFIX"), "a prefix ends with /");
        assertTrue(assertThrows(IllegalStateException.class, () -> LifecycleSettings.from(Map.of("RUNNER_TOKEN_PREFIX", "/r/")))
                .getMessage().startsWith("DRAIN_STATE_MACHINE_ARN"));
        assertTrue(assertThrows(IllegalStateException.class, () -> LifecycleSettings.owner("group:0"))
                .getMessage().startsWith("RUNNER_OWNER"));
        assertTrue(assertThrows(IllegalStateException.class, () -> LifecycleSettings.owner("team:" + "9".repeat(300)))
                .getMessage().length() < 200, "abbreviated");
        assertTrue(assertThrows(IllegalStateException.class, () -> LifecycleSettings.from(Map.of("RUNNER_TOKEN_PREFIX", "/r/",
                "DRAIN_STATE_MACHINE_ARN", ARN, "DRAIN_JOB_TIMEOUT_MINUTES", "soon"))).getMessage()
                .startsWith("DRAIN_JOB_TIMEOUT_MINUTES"));
    }

    @Test
    void instanceArnFollowsThePartition() {
        assertEquals("arn:aws:ec2:us-east-1:123456789012:instance/i-0abc1234def567890",
                InstanceArns.of("us-east-1", "123456789012", "i-0abc1234def567890"));
        assertEquals("arn:aws-cn:ec2:cn-north-1:123456789012:instance/i-0abc1234",
                InstanceArns.of("cn-north-1", "123456789012", "i-0abc1234"));
        assertEquals("arn:aws-us-gov:ec2:us-gov-west-1:123456789012:instance/i-0abc1234",
                InstanceArns.of("us-gov-west-1", "123456789012", "i-0abc1234"));
        assertThrows(IllegalArgumentException.class, () -> InstanceArns.of("us-east-1", "1234", "i-0abc1234"));
        assertThrows(IllegalArgumentException.class, () -> InstanceArns.of("us-east-1", "123456789012", "i-0abc/../x"));
    }
}
