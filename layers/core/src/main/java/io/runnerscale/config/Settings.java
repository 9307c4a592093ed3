package io.runnerscale.config;

import java.time.Duration;
import java.util.Map;

/** The functions' environment, read once and checked, so a deployment mistake fails with its name. */
public record Settings(String tableName, String poolsParameter, String webhookSecretId, String gitlabSecretId,
                       String scaleQueueUrl, Duration jobTtl) {

    public static Settings fromEnvironment() {
        return from(System.getenv());
    }

    public static Settings from(Map<String, String> env) {
        return new Settings(
                required(env, "TABLE_NAME"),
                required(env, "POOLS_PARAMETER"),
                env.getOrDefault("WEBHOOK_SECRET_ID", ""),
                env.getOrDefault("GITLAB_SECRET_ID", ""),
                required(env, "SCALE_QUEUE_URL"),
                Duration.ofDays(Long.parseLong(env.getOrDefault("JOB_TTL_DAYS", "7"))));
    }

    private static String required(Map<String, String> env, String name) {
        String value = env.get(name);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("environment variable " + name + " is not set");
        }
        return value;
    }
}
