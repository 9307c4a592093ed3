package io.runnerscale.lifecycle;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.job.JobKey;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link Drain} as the drain state machine's JSON (issue 7's contract):
 * <pre>{"instanceId", "pool", "asg", "runnerId": number|null, "reason": "scale-in"|...,
 *  "lifecycleHook": null|{"name","token"[,"toWarmPool": true]}, "startedAt": ISO-8601, "deadline": ISO-8601,
 *  "heartbeatSeconds": number, "runningJobs": [{"project":N,"job":N}], "jobStartedDuringDrain": bool,
 *  "cancelledJobs": [{"project":N,"job":N}], "outcome": null|"terminated"|"abandoned"|"timed-out-cleaned",
 *  "next": null|"Pause"|"WaitForJobs"|"Abandon"|"CancelAndRetry"|"DeleteRunner"|"Terminate"}</pre>
 * Reading ignores fields it does not know (a Catch adds {@code "error"}); a missing optional field
 * reads as null, false or empty. A bad field fails naming the field, with its value abbreviated.
 */
public final class DrainCodec {
    private static final int MAX_ECHO = 100;

    private final ObjectMapper json;

    public DrainCodec(ObjectMapper json) {
        this.json = json;
    }

    public ObjectNode toJson(Drain drain) {
        ObjectNode node = json.createObjectNode();
        node.put("instanceId", drain.instanceId());
        node.put("pool", drain.pool());
        node.put("asg", drain.asg());
        if (drain.runnerId() == null) {
            node.putNull("runnerId");
        } else {
            node.put("runnerId", drain.runnerId());
        }
        node.put("reason", drain.reason().wireName());
        if (drain.lifecycleHook() == null) {
            node.putNull("lifecycleHook");
        } else {
            ObjectNode hook = node.putObject("lifecycleHook");
            hook.put("name", drain.lifecycleHook().name());
            hook.put("token", drain.lifecycleHook().token());
            if (drain.lifecycleHook().toWarmPool()) {
                hook.put("toWarmPool", true);
            }
        }
        node.put("startedAt", drain.startedAt().toString());
        node.put("deadline", drain.deadline().toString());
        node.put("heartbeatSeconds", drain.heartbeatSeconds());
        jobs(node.putArray("runningJobs"), drain.runningJobs());
        node.put("jobStartedDuringDrain", drain.jobStartedDuringDrain());
        jobs(node.putArray("cancelledJobs"), drain.cancelledJobs());
        if (drain.outcome() == null) {
            node.putNull("outcome");
        } else {
            node.put("outcome", drain.outcome().wireName());
        }
        if (drain.next() == null) {
            node.putNull("next");
        } else {
            node.put("next", drain.next());
        }
        return node;
    }

    public String write(Drain drain) {
        return toJson(drain).toString();
    }

    public Drain read(String text) {
        JsonNode node;
        try {
            node = json.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("drain: not JSON (" + e.getOriginalMessage() + ")");
        }
        return fromJson(node);
    }

    public Drain fromJson(JsonNode node) {
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("drain: expected a JSON object, got " + echo(node));
        }
        String reasonName = text(node, "reason", true);
        DrainReason reason = DrainReason.fromWireName(reasonName)
                .orElseThrow(() -> bad("reason", node.get("reason")));
        JsonNode outcomeNode = node.get("outcome");
        DrainOutcome outcome = isAbsent(outcomeNode) ? null : DrainOutcome.fromWireName(outcomeNode.asText())
                .filter(o -> outcomeNode.isTextual())
                .orElseThrow(() -> bad("outcome", outcomeNode));
        JsonNode heartbeat = node.get("heartbeatSeconds");
        if (heartbeat == null || !heartbeat.canConvertToInt() || !heartbeat.isIntegralNumber() || heartbeat.asInt() < 1) {
            throw bad("heartbeatSeconds", heartbeat);
        }
        JsonNode runner = node.get("runnerId");
        Long runnerId = null;
        if (!isAbsent(runner)) {
            if (!runner.isIntegralNumber() || !runner.canConvertToLong() || !JobKey.isValidId(runner.asLong())) {
                throw bad("runnerId", runner);
            }
            runnerId = runner.asLong();
        }
        JsonNode started = node.get("jobStartedDuringDrain");
        if (!isAbsent(started) && !started.isBoolean()) {
            throw bad("jobStartedDuringDrain", started);
        }
        JsonNode next = node.get("next");
        if (!isAbsent(next) && !next.isTextual()) {
            throw bad("next", next);
        }
        return new Drain(
                text(node, "instanceId", true),
                text(node, "pool", true),
                text(node, "asg", true),
                runnerId,
                reason,
                hook(node.get("lifecycleHook")),
                instant(node, "startedAt"),
                instant(node, "deadline"),
                heartbeat.asInt(),
                jobs(node, "runningJobs"),
                !isAbsent(started) && started.asBoolean(),
                jobs(node, "cancelledJobs"),
                outcome,
                isAbsent(next) ? null : next.asText());
    }

    private static void jobs(ArrayNode array, List<JobKey> jobs) {
        for (JobKey job : jobs) {
            ObjectNode entry = array.addObject();
            entry.put("project", job.projectId());
            entry.put("job", job.jobId());
        }
    }

    private static List<JobKey> jobs(JsonNode node, String field) {
        JsonNode array = node.get(field);
        if (isAbsent(array)) {
            return List.of();
        }
        if (!array.isArray()) {
            throw bad(field, array);
        }
        List<JobKey> jobs = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            JsonNode entry = array.get(i);
            JsonNode project = entry.get("project");
            JsonNode job = entry.get("job");
            if (!entry.isObject() || !validId(project) || !validId(job)) {
                throw bad(field + "[" + i + "]", entry);
            }
            jobs.add(new JobKey(project.asLong(), job.asLong()));
        }
        return jobs;
    }

    private static boolean validId(JsonNode id) {
        return id != null && id.isIntegralNumber() && id.canConvertToLong() && JobKey.isValidId(id.asLong());
    }

    private static LifecycleHook hook(JsonNode node) {
        if (isAbsent(node)) {
            return null;
        }
        if (!node.isObject() || !node.path("name").isTextual() || !node.path("token").isTextual()) {
            throw bad("lifecycleHook", node);
        }
        return new LifecycleHook(node.get("name").asText(), node.get("token").asText(),
                node.path("toWarmPool").asBoolean(false));
    }

    private static Instant instant(JsonNode node, String field) {
        String value = text(node, field, true);
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException notUtc) {
            try {
                return OffsetDateTime.parse(value).toInstant();
            } catch (DateTimeParseException e) {
                throw bad(field, node.get(field));
            }
        }
    }

    private static String text(JsonNode node, String field, boolean required) {
        JsonNode value = node.get(field);
        if (isAbsent(value)) {
            if (required) {
                throw new IllegalArgumentException("drain." + field + " is missing");
            }
            return null;
        }
        if (!value.isTextual() || value.asText().isBlank()) {
            throw bad(field, value);
        }
        return value.asText();
    }

    private static boolean isAbsent(JsonNode value) {
        return value == null || value.isNull();
    }

    private static IllegalArgumentException bad(String field, JsonNode value) {
        return new IllegalArgumentException("drain." + field + " is not valid: " + echo(value));
    }

    private static String echo(JsonNode value) {
        String text = value == null ? "missing" : value.toString();
        return text.length() > MAX_ECHO ? text.substring(0, MAX_ECHO) + "..." : text;
    }
}
