package io.runnerscale.webhook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns Job Hook and Pipeline Hook bodies into {@link JobEvent}s. Reads only the fields it needs,
 * so unknown and future fields are harmless; a missing required field is a 400 that names it.
 */
public final class GitLabHookParser {
    public static final String JOB_HOOK = "Job Hook";
    public static final String PIPELINE_HOOK = "Pipeline Hook";

    private final ObjectMapper json;

    public GitLabHookParser(ObjectMapper json) {
        this.json = json;
    }

    /**
     * @param eventHeader the {@code X-Gitlab-Event} header (may be null: then the body's object_kind decides)
     * @throws BadRequestException for bodies that are not JSON or lack required fields
     */
    public GitLabHook parse(String eventHeader, String body) {
        JsonNode root;
        try {
            root = json.readTree(body);
        } catch (JsonProcessingException e) {
            throw new BadRequestException("body is not valid JSON: " + e.getOriginalMessage(), null);
        }
        if (root == null || !root.isObject()) {
            throw new BadRequestException("body must be a JSON object", null);
        }
        String kind = root.path("object_kind").asText("");
        String event = eventHeader == null || eventHeader.isBlank()
                ? (kind.equals("build") ? JOB_HOOK : kind.equals("pipeline") ? PIPELINE_HOOK : "")
                : eventHeader.trim();
        return switch (event) {
            case JOB_HOOK -> jobHook(root);
            case PIPELINE_HOOK -> pipelineHook(root);
            default -> new GitLabHook.Ignored(event.isEmpty() ? "event without X-Gitlab-Event header" : event);
        };
    }

    private GitLabHook jobHook(JsonNode root) {
        long projectId = requiredLong(root, "project_id", "project_id");
        long jobId = requiredLong(root, "build_id", "build_id");
        String statusText = requiredText(root, "build_status", "build_status");
        JobStatus status = JobStatus.fromWire(statusText).orElse(null);
        if (status == null) {
            return new GitLabHook.JobUpdates(JOB_HOOK, List.of(),
                    List.of(projectId + "/" + jobId + ": unknown build_status '" + statusText + "'"));
        }
        JsonNode runner = root.path("runner");
        JobEvent event = new JobEvent(
                new JobKey(projectId, jobId),
                status,
                optionalLong(root, "pipeline_id"),
                optionalText(root, "build_name"),
                optionalText(root, "build_stage"),
                timestamp(root, "build_created_at", "build_created_at"),
                timestamp(root, "build_started_at", "build_started_at"),
                timestamp(root, "build_finished_at", "build_finished_at"),
                optionalDouble(root, "build_queued_duration"),
                optionalLong(runner, "id"),
                optionalText(runner, "description"),
                optionalText(root, "build_failure_reason"),
                tagList(root));
        return new GitLabHook.JobUpdates(JOB_HOOK, List.of(event), List.of());
    }

    private GitLabHook pipelineHook(JsonNode root) {
        JsonNode project = root.path("project");
        long projectId = requiredLong(project, "id", "project.id");
        Long pipelineId = optionalLong(root.path("object_attributes"), "id");
        JsonNode builds = root.get("builds");
        if (builds == null || builds.isNull()) {
            return new GitLabHook.JobUpdates(PIPELINE_HOOK, List.of(), List.of());
        }
        if (!builds.isArray()) {
            throw new BadRequestException("builds must be a list", "builds");
        }
        List<JobEvent> events = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (int i = 0; i < builds.size(); i++) {
            JsonNode build = builds.get(i);
            String at = "builds[" + i + "].";
            long jobId = requiredLong(build, "id", at + "id");
            String statusText = requiredText(build, "status", at + "status");
            JobStatus status = JobStatus.fromWire(statusText).orElse(null);
            if (status == null) {
                skipped.add(projectId + "/" + jobId + ": unknown status '" + statusText + "'");
                continue;
            }
            JsonNode runner = build.path("runner");
            events.add(new JobEvent(
                    new JobKey(projectId, jobId),
                    status,
                    pipelineId,
                    optionalText(build, "name"),
                    optionalText(build, "stage"),
                    timestamp(build, "created_at", at + "created_at"),
                    timestamp(build, "started_at", at + "started_at"),
                    timestamp(build, "finished_at", at + "finished_at"),
                    optionalDouble(build, "queued_duration"),
                    optionalLong(runner, "id"),
                    optionalText(runner, "description"),
                    optionalText(build, "failure_reason"),
                    tagList(build)));
        }
        return new GitLabHook.JobUpdates(PIPELINE_HOOK, events, skipped);
    }

    private static long requiredLong(JsonNode node, String name, String path) {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            throw new BadRequestException("missing required field " + path, path);
        }
        if (value.canConvertToLong() && value.isIntegralNumber()) {
            return value.asLong();
        }
        if (value.isTextual() && value.asText().matches("\\d{1,18}")) {
            return Long.parseLong(value.asText());
        }
        throw new BadRequestException(path + " must be a whole number, got " + value, path);
    }

    private static String requiredText(JsonNode node, String name, String path) {
        JsonNode value = node.get(name);
        if (value == null || value.isNull() || !value.isTextual() || value.asText().isBlank()) {
            throw new BadRequestException("missing required field " + path, path);
        }
        return value.asText();
    }

    private static Long optionalLong(JsonNode node, String name) {
        JsonNode value = node.get(name);
        return value != null && value.canConvertToLong() && value.isIntegralNumber() ? value.asLong() : null;
    }

    private static Double optionalDouble(JsonNode node, String name) {
        JsonNode value = node.get(name);
        return value != null && value.isNumber() ? value.asDouble() : null;
    }

    private static String optionalText(JsonNode node, String name) {
        JsonNode value = node.get(name);
        return value != null && value.isTextual() ? value.asText() : null;
    }

    private static Instant timestamp(JsonNode node, String name, String path) {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            return null;
        }
        try {
            return Timestamps.parse(value.asText());
        } catch (IllegalArgumentException e) {
            throw new BadRequestException(path + ": " + e.getMessage(), path);
        }
    }

    /** Hooks normally carry no job tags; honour a {@code tag_list} when one is present. */
    private static List<String> tagList(JsonNode node) {
        JsonNode value = node.get("tag_list");
        if (value == null || !value.isArray()) {
            return null;
        }
        List<String> tags = new ArrayList<>();
        value.forEach(tag -> tags.add(tag.asText()));
        return tags;
    }
}
