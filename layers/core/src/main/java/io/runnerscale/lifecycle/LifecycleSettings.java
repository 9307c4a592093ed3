package io.runnerscale.lifecycle;

import io.runnerscale.text.Quoted;

import io.runnerscale.gitlab.RunnerOwner;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * The lifecycle function's own environment, on top of {@link io.runnerscale.config.Settings}.
 *
 * @param runnerTokenPrefix  {@code RUNNER_TOKEN_PREFIX}, e.g. {@code /runnerscale/<stack>/runners/}
 * @param drainStateMachineArn {@code DRAIN_STATE_MACHINE_ARN}
 * @param runnerOwner        {@code RUNNER_OWNER}: {@code instance} (default), {@code group:<id>} or
 *                           {@code project:<id>}: where the per-instance runners are created
 * @param jobTimeout         {@code DRAIN_JOB_TIMEOUT_MINUTES} (default 60, GitLab's default job
 *                           timeout): how long a drain waits for a running job before it cancels and
 *                           retries it
 * @param runnerTokenKmsKeyId {@code RUNNER_TOKEN_KMS_KEY_ID}: the customer managed key for the token
 *                           SecureStrings, or null for SSM's default {@code aws/ssm}
 * @param webhookUrl         {@code WEBHOOK_URL}: the stack's webhook URL, by which the reconciler tells
 *                           runnerscale's project hooks; null when not set
 */
public record LifecycleSettings(String runnerTokenPrefix, String drainStateMachineArn, RunnerOwner runnerOwner,
                                Duration jobTimeout, String runnerTokenKmsKeyId, String webhookUrl) {

    public LifecycleSettings(String runnerTokenPrefix, String drainStateMachineArn, RunnerOwner runnerOwner,
                             Duration jobTimeout) {
        this(runnerTokenPrefix, drainStateMachineArn, runnerOwner, jobTimeout, null, null);
    }

    public LifecycleSettings(String runnerTokenPrefix, String drainStateMachineArn, RunnerOwner runnerOwner,
                             Duration jobTimeout, String runnerTokenKmsKeyId) {
        this(runnerTokenPrefix, drainStateMachineArn, runnerOwner, jobTimeout, runnerTokenKmsKeyId, null);
    }
    public static final Duration DEFAULT_JOB_TIMEOUT = Duration.ofHours(1);

    public LifecycleSettings {
        Objects.requireNonNull(runnerOwner, "runnerOwner");
        if (runnerTokenPrefix == null || !runnerTokenPrefix.startsWith("/") || !runnerTokenPrefix.endsWith("/")) {
            throw new IllegalStateException("RUNNER_TOKEN_PREFIX must be an SSM path that starts and ends with '/', got '"
                    + Quoted.abbreviate(runnerTokenPrefix) + "'");
        }
        // the part the scaler shares, validated in one place
        new DrainSettings(drainStateMachineArn, jobTimeout);
    }

    public static LifecycleSettings from(Map<String, String> env) {
        String kmsKey = env.getOrDefault("RUNNER_TOKEN_KMS_KEY_ID", "").strip();
        String webhookUrl = env.getOrDefault("WEBHOOK_URL", "").strip();
        return new LifecycleSettings(env.get("RUNNER_TOKEN_PREFIX"), env.get("DRAIN_STATE_MACHINE_ARN"),
                owner(env.getOrDefault("RUNNER_OWNER", "")), jobTimeout(env), kmsKey.isEmpty() ? null : kmsKey,
                webhookUrl.isEmpty() ? null : webhookUrl);
    }

    /**
     * The part the scaler needs to start drains: the state machine's ARN and the job timeout, validated
     * as {@link #from} does.
     */
    public record DrainSettings(String drainStateMachineArn, Duration jobTimeout) {
        public DrainSettings {
            if (drainStateMachineArn == null || !drainStateMachineArn.startsWith("arn:")) {
                throw new IllegalStateException("DRAIN_STATE_MACHINE_ARN must be a state machine ARN, got '"
                        + Quoted.abbreviate(drainStateMachineArn) + "'");
            }
            if (jobTimeout == null || jobTimeout.isNegative() || jobTimeout.isZero()) {
                throw new IllegalStateException("DRAIN_JOB_TIMEOUT_MINUTES must be a positive number of minutes");
            }
        }

        public static DrainSettings from(Map<String, String> env) {
            return new DrainSettings(env.get("DRAIN_STATE_MACHINE_ARN"), LifecycleSettings.jobTimeout(env));
        }
    }

    /** {@code DRAIN_JOB_TIMEOUT_MINUTES}, default {@link #DEFAULT_JOB_TIMEOUT}. */
    static Duration jobTimeout(Map<String, String> env) {
        String minutes = env.getOrDefault("DRAIN_JOB_TIMEOUT_MINUTES", "");
        try {
            return minutes.isBlank() ? DEFAULT_JOB_TIMEOUT : Duration.ofMinutes(Long.parseLong(minutes.strip()));
        } catch (NumberFormatException e) {
            throw new IllegalStateException("DRAIN_JOB_TIMEOUT_MINUTES must be a whole number of minutes, got '"
                    + Quoted.abbreviate(minutes) + "'");
        }
    }

    /** {@code instance}, {@code group:<id>} or {@code project:<id>}; blank is {@code instance}. */
    public static RunnerOwner owner(String text) {
        String value = text == null ? "" : text.strip();
        try {
            if (value.isEmpty() || value.equals("instance")) {
                return RunnerOwner.instance();
            }
            if (value.startsWith("group:")) {
                return RunnerOwner.group(Long.parseLong(value.substring("group:".length())));
            }
            if (value.startsWith("project:")) {
                return RunnerOwner.project(Long.parseLong(value.substring("project:".length())));
            }
        } catch (IllegalArgumentException e) {
            // a bad number, or an id RunnerOwner refuses: reported below
        }
        throw new IllegalStateException("RUNNER_OWNER must be instance, group:<id> or project:<id>, got '"
                + Quoted.abbreviate(value) + "'");
    }
}
