package io.runnerscale.webhook;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.job.JobTags;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns Job Hook and Pipeline Hook bodies into {@link JobEvent}s. Reads only the fields it needs,
 * so unknown and future fields are harmless; a missing or wrong required field is a 400 that names it.
 *
 * <p>Every value that reaches the job's record is bounded: ids follow {@link JobKey}'s rule, tags
 * {@link JobTags}' rule, text fields are cut at {@link #MAX_TEXT_LENGTH}; and no message quotes
 * more than {@link BadRequestException#MAX_QUOTED_LENGTH} characters of the delivery.
 */
public final class GitLabHookParser {
    public static final String JOB_HOOK = "Job Hook";
    public static final String PIPELINE_HOOK = "Pipeline Hook";
    /** Notes on skipped builds kept in the answer: a 1 MiB body could list thousands of bad ones. */
    static final int MAX_SKIPPED_NOTES = 20;
    /**
     * Longest job name, stage, failure reason or runner description kept. GitLab caps job and stage
     * names at 255 characters, so real values are kept whole; a longer one (a 900 KB build_name)
     * would push the job's DynamoDB item over its 400 KB limit, fail the write and lose the job.
     */
    public static final int MAX_TEXT_LENGTH = 255;

    private static final String ID_RULE = " must be a whole number from 1 to " + Long.MAX_VALUE + ", got ";

    private final ObjectMapper json;

    public GitLabHookParser(ObjectMapper json) {
        this.json = json;
    }

    /**
     * @param eventHeader the {@code X-Gitlab-Event} header (may be null: then the body's object_kind decides)
     * @throws BadRequestException for bodies that are not one JSON object or have missing or wrong required
     *                             fields; nothing else, whatever the body
     */
    public GitLabHook parse(String eventHeader, String body) {
        JsonNode root = readOneObject(body);
        String kind = root.path("object_kind").asText("");
        String event = eventHeader == null || eventHeader.isBlank()
                ? (kind.equals("build") ? JOB_HOOK : kind.equals("pipeline") ? PIPELINE_HOOK : "")
                : eventHeader.trim();
        return switch (event) {
            case JOB_HOOK -> jobHook(root);
            case PIPELINE_HOOK -> pipelineHook(root);
            default -> new GitLabHook.Ignored(event.isEmpty()
                    ? "event without X-Gitlab-Event header" : BadRequestException.abbreviate(event));
        };
    }

    /**
     * The body as one JSON object. What follows the object ({@code {...} xyz}, {@code {}{}}) is refused
     * rather than ignored, as {@link DeserializationFeature#FAIL_ON_TRAILING_TOKENS} would, but with
     * a message that says so.
     */
    private JsonNode readOneObject(String body) {
        try (JsonParser parser = json.createParser(body)) {
            JsonNode root = json.readTree(parser);
            if (root == null || !root.isObject()) {
                throw new BadRequestException("body must be a JSON object", null);
            }
            if (parser.nextToken() != null) {
                throw new BadRequestException("body is not valid JSON" + at(parser.currentTokenLocation())
                        + ": more follows the JSON object", null);
            }
            return root;
        } catch (JsonProcessingException e) {
            throw new BadRequestException("body is not valid JSON" + at(e.getLocation()) + ": "
                    + BadRequestException.abbreviate(e.getOriginalMessage()), null);
        } catch (IOException e) {
            // reading a String: only a JsonProcessingException is possible
            throw new UncheckedIOException(e);
        }
    }

    private static String at(JsonLocation location) {
        return location == null || location.getLineNr() < 1 ? ""
                : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
    }

    private GitLabHook jobHook(JsonNode root) {
        long projectId = requiredId(root, "project_id", "project_id");
        long jobId = requiredId(root, "build_id", "build_id");
        String statusText = requiredText(root, "build_status", "build_status");
        JobStatus status = JobStatus.fromWire(statusText).orElse(null);
        if (status == null) {
            return new GitLabHook.JobUpdates(JOB_HOOK, List.of(), List.of(projectId + "/" + jobId
                    + ": unknown build_status '" + BadRequestException.abbreviate(statusText) + "'"));
        }
        JsonNode runner = root.path("runner");
        JobEvent event = new JobEvent(
                new JobKey(projectId, jobId),
                status,
                optionalId(root, "pipeline_id"),
                optionalText(root, "build_name"),
                optionalText(root, "build_stage"),
                timestamp(root, "build_created_at", "build_created_at"),
                timestamp(root, "build_started_at", "build_started_at"),
                timestamp(root, "build_finished_at", "build_finished_at"),
                optionalDouble(root, "build_queued_duration"),
                optionalId(runner, "id"),
                optionalText(runner, "description"),
                optionalText(root, "build_failure_reason"),
                tagList(root, ""));
        return new GitLabHook.JobUpdates(JOB_HOOK, List.of(event), List.of());
    }

    private GitLabHook pipelineHook(JsonNode root) {
        JsonNode project = root.path("project");
        long projectId = requiredId(project, "id", "project.id");
        Long pipelineId = optionalId(root.path("object_attributes"), "id");
        JsonNode builds = root.get("builds");
        if (builds == null || builds.isNull()) {
            return new GitLabHook.JobUpdates(PIPELINE_HOOK, List.of(), List.of());
        }
        if (!builds.isArray()) {
            throw new BadRequestException("builds must be a list", "builds");
        }
        List<JobEvent> events = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        int unread = 0;
        for (int i = 0; i < builds.size(); i++) {
            // One unreadable build does not cost the others: it is skipped and named in the answer
            // (a 4xx for the whole delivery would drop every good job and count towards disabling the hook).
            try {
                JobEvent event = build(builds.get(i), "builds[" + i + "].", projectId, pipelineId, skipped);
                if (event != null) {
                    events.add(event);
                }
            } catch (BadRequestException e) {
                unread++;
                if (skipped.size() < MAX_SKIPPED_NOTES) {
                    skipped.add(e.getMessage());
                }
            }
        }
        int shown = Math.min(skipped.size(), MAX_SKIPPED_NOTES);
        if (skipped.size() > shown) {
            skipped.subList(shown, skipped.size()).clear();
        }
        if (unread > 0 && events.isEmpty() && unread == builds.size()) {
            throw new BadRequestException("no build in builds could be read; the first: " + skipped.getFirst(), "builds");
        }
        return new GitLabHook.JobUpdates(PIPELINE_HOOK, events, skipped);
    }

    /** One {@code builds[]} entry; null (with a note in {@code skipped}) for a status runnerscale does not know. */
    private JobEvent build(JsonNode build, String at, long projectId, Long pipelineId, List<String> skipped) {
        long jobId = requiredId(build, "id", at + "id");
        String statusText = requiredText(build, "status", at + "status");
        JobStatus status = JobStatus.fromWire(statusText).orElse(null);
        if (status == null) {
            if (skipped.size() < MAX_SKIPPED_NOTES) {
                skipped.add(projectId + "/" + jobId + ": unknown status '" + BadRequestException.abbreviate(statusText) + "'");
            }
            return null;
        }
        JsonNode runner = build.path("runner");
        return new JobEvent(
                new JobKey(projectId, jobId),
                status,
                pipelineId,
                optionalText(build, "name"),
                optionalText(build, "stage"),
                timestamp(build, "created_at", at + "created_at"),
                timestamp(build, "started_at", at + "started_at"),
                timestamp(build, "finished_at", at + "finished_at"),
                optionalDouble(build, "queued_duration"),
                optionalId(runner, "id"),
                optionalText(runner, "description"),
                optionalText(build, "failure_reason"),
                tagList(build, at));
    }

    /** A GitLab id by {@link JobKey}'s rule, as a JSON whole number or a string of digits. */
    private static long requiredId(JsonNode node, String name, String path) {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            throw new BadRequestException("missing required field " + path, path);
        }
        return id(value).orElseThrow(() -> new BadRequestException(
                path + ID_RULE + BadRequestException.abbreviate(value.toString()), path));
    }

    /** An optional id that breaks the rule says nothing reliable, so it is as good as absent. */
    private static Long optionalId(JsonNode node, String name) {
        JsonNode value = node.get(name);
        return value == null ? null : id(value).orElse(null);
    }

    private static Optional<Long> id(JsonNode value) {
        if (value.isIntegralNumber() && value.canConvertToLong()) {
            long id = value.asLong();
            return JobKey.isValidId(id) ? Optional.of(id) : Optional.empty();
        }
        return value.isTextual() ? JobKey.parseId(value.asText()) : Optional.empty();
    }

    private static String requiredText(JsonNode node, String name, String path) {
        JsonNode value = node.get(name);
        if (value == null || value.isNull() || !value.isTextual() || value.asText().isBlank()) {
            throw new BadRequestException("missing required field " + path, path);
        }
        return value.asText();
    }

    private static Double optionalDouble(JsonNode node, String name) {
        JsonNode value = node.get(name);
        return value != null && value.isNumber() ? value.asDouble() : null;
    }

    /** Text kept in the job's record, cut at {@link #MAX_TEXT_LENGTH}. */
    private static String optionalText(JsonNode node, String name) {
        JsonNode value = node.get(name);
        return value != null && value.isTextual() ? BadRequestException.cut(value.asText(), MAX_TEXT_LENGTH) : null;
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

    /**
     * Hooks normally carry no job tags; honour a {@code tag_list} when one is present. Its entries
     * follow {@link JobTags}' rule: any other entry is a 400 naming it, never a tag "null" or "".
     */
    private static List<String> tagList(JsonNode node, String at) {
        JsonNode value = node.get("tag_list");
        if (value == null || value.isNull()) {
            return null;
        }
        String path = at + "tag_list";
        if (!value.isArray()) {
            throw new BadRequestException(path + " must be a list of tags", path);
        }
        if (value.size() > JobTags.MAX_TAGS) {
            throw new BadRequestException(path + " has " + value.size() + " tags; at most " + JobTags.MAX_TAGS
                    + " are accepted", path);
        }
        List<String> tags = new ArrayList<>(value.size());
        for (int i = 0; i < value.size(); i++) {
            JsonNode tag = value.get(i);
            if (!tag.isTextual() || !JobTags.isValidTag(tag.asText())) {
                String entry = path + "[" + i + "]";
                throw new BadRequestException(entry + " must be " + JobTags.RULE + ", got "
                        + BadRequestException.abbreviate(tag.toString()), entry);
            }
            tags.add(tag.asText());
        }
        return tags;
    }
}
