package io.runnerscale.webhook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link DeferredJobUpdates} as JSON messages ({@code {"type": "job-updates", ...}}), split so that
 * each message stays under a size (SQS takes 256 KiB). Every field of a {@link JobEvent} survives
 * the round trip.
 */
public final class DeferredJobUpdatesCodec {
    public static final String TYPE = "job-updates";
    /** Leaves room under SQS's 256 KiB for attributes and the envelope. */
    public static final int DEFAULT_MAX_BYTES = 200 * 1024;

    private final ObjectMapper json;

    public DeferredJobUpdatesCodec(ObjectMapper json) {
        this.json = json;
    }

    /** True for a message this codec wrote. */
    public static boolean isDeferredUpdates(JsonNode message) {
        return message != null && TYPE.equals(message.path("type").asText());
    }

    /**
     * The updates as messages of at most {@code maxBytes} each (UTF-8), parts numbered from 0 in
     * event order. A single event larger than that still gets a message of its own.
     */
    public List<String> encode(DeferredJobUpdates updates, int maxBytes) {
        List<String> messages = new ArrayList<>();
        List<String> encodedEvents = new ArrayList<>();
        for (JobEvent event : updates.events()) {
            encodedEvents.add(event(event).toString());
        }
        int envelope = envelope(updates, 0).toString().getBytes(StandardCharsets.UTF_8).length + 16;
        List<String> part = new ArrayList<>();
        int size = envelope;
        for (String event : encodedEvents) {
            int bytes = event.getBytes(StandardCharsets.UTF_8).length + 1;
            if (!part.isEmpty() && size + bytes > maxBytes) {
                messages.add(message(updates, messages.size(), part));
                part = new ArrayList<>();
                size = envelope;
            }
            part.add(event);
            size += bytes;
        }
        if (!part.isEmpty() || messages.isEmpty()) {
            messages.add(message(updates, messages.size(), part));
        }
        return messages;
    }

    /** @throws IllegalArgumentException naming what is wrong when the message is not one of ours */
    public DeferredJobUpdates decode(String message) {
        JsonNode root;
        try {
            root = json.readTree(message);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("deferred job updates: not JSON: " + e.getOriginalMessage());
        }
        return decode(root);
    }

    public DeferredJobUpdates decode(JsonNode root) {
        if (!isDeferredUpdates(root)) {
            throw new IllegalArgumentException("not a deferred job updates message (type must be " + TYPE + ")");
        }
        List<JobEvent> events = new ArrayList<>();
        JsonNode list = root.path("events");
        if (!list.isArray()) {
            // a part without its list is damaged, not empty: applying it as "no jobs" would drop its jobs
            throw new IllegalArgumentException("deferred job updates: events must be a list");
        }
        for (int i = 0; i < list.size(); i++) {
            events.add(event(list.get(i), i));
        }
        return new DeferredJobUpdates(required(root, "delivery"), root.path("kind").asText(""),
                instant(root, "receivedAt", true), root.path("part").asInt(0), events);
    }

    private String message(DeferredJobUpdates updates, int part, List<String> events) {
        // the events are already JSON: splice them in rather than parse them again
        String head = envelope(updates, part).toString();
        return head.substring(0, head.length() - 1) + ",\"events\":[" + String.join(",", events) + "]}";
    }

    private ObjectNode envelope(DeferredJobUpdates updates, int part) {
        return json.createObjectNode().put("type", TYPE).put("delivery", updates.deliveryId())
                .put("kind", updates.kind()).put("receivedAt", updates.receivedAt().toString()).put("part", part);
    }

    private ObjectNode event(JobEvent e) {
        ObjectNode node = json.createObjectNode().put("project", e.key().projectId()).put("job", e.key().jobId())
                .put("status", e.status().wireName());
        if (e.pipelineId() != null) {
            node.put("pipeline", e.pipelineId());
        }
        putText(node, "name", e.name());
        putText(node, "stage", e.stage());
        putText(node, "createdAt", e.createdAt());
        putText(node, "startedAt", e.startedAt());
        putText(node, "finishedAt", e.finishedAt());
        if (e.queuedDurationSeconds() != null) {
            node.put("queuedSeconds", e.queuedDurationSeconds());
        }
        if (e.runnerId() != null) {
            node.put("runnerId", e.runnerId());
        }
        putText(node, "runnerDescription", e.runnerDescription());
        putText(node, "failureReason", e.failureReason());
        if (e.tags() != null) {
            ArrayNode tags = node.putArray("tags");
            e.tags().forEach(tags::add);
        }
        return node;
    }

    private static JobEvent event(JsonNode node, int index) {
        String at = "events[" + index + "]";
        if (!node.isObject()) {
            throw new IllegalArgumentException(at + " must be an object");
        }
        JobStatus status = JobStatus.fromWire(node.path("status").asText(""))
                .orElseThrow(() -> new IllegalArgumentException(at + ".status is not a job status"));
        if (!node.path("project").canConvertToLong() || !node.path("job").canConvertToLong()) {
            throw new IllegalArgumentException(at + ": project and job must be whole numbers");
        }
        JobKey key;
        try {
            key = new JobKey(node.path("project").asLong(), node.path("job").asLong());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(at + ": " + e.getMessage());
        }
        List<String> tags = null;
        if (node.has("tags")) {
            // read leniently, "docker" would become no tags at all: an untagged job, sent to another pool
            JsonNode list = node.get("tags");
            if (!list.isArray()) {
                throw new IllegalArgumentException(at + ".tags must be a list of strings");
            }
            tags = new ArrayList<>();
            for (JsonNode tag : list) {
                if (!tag.isTextual()) {
                    throw new IllegalArgumentException(at + ".tags must be a list of strings");
                }
                tags.add(tag.asText());
            }
        }
        return new JobEvent(key, status,
                node.has("pipeline") ? node.get("pipeline").asLong() : null,
                text(node, "name"), text(node, "stage"),
                instant(node, "createdAt", false), instant(node, "startedAt", false), instant(node, "finishedAt", false),
                node.has("queuedSeconds") ? node.get("queuedSeconds").asDouble() : null,
                node.has("runnerId") ? node.get("runnerId").asLong() : null,
                text(node, "runnerDescription"), text(node, "failureReason"), tags);
    }

    private static void putText(ObjectNode node, String field, Object value) {
        if (value != null) {
            node.put(field, value.toString());
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }

    private static String required(JsonNode node, String field) {
        String value = text(node, field);
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("deferred job updates: missing " + field);
        }
        return value;
    }

    private static Instant instant(JsonNode node, String field, boolean required) {
        String value = text(node, field);
        if (value == null) {
            if (required) {
                throw new IllegalArgumentException("deferred job updates: missing " + field);
            }
            return null;
        }
        try {
            return Instant.parse(value);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("deferred job updates: " + field + " is not an ISO-8601 instant");
        }
    }
}
