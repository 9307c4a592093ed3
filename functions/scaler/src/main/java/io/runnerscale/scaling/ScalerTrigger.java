package io.runnerscale.scaling;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import io.runnerscale.job.JobKey;
import io.runnerscale.webhook.DeferredJobUpdatesCodec;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What woke the scaler, read from the raw event. */
sealed interface ScalerTrigger {

    /**
     * SQS messages, grouped by the pool they ask about (message group id, or the body's pool),
     * with the jobs the messages name.
     */
    record QueueBatch(Map<String, List<String>> messageIdsByPool, Map<String, Set<JobKey>> jobsByPool,
                      List<QueuedJobUpdates> jobUpdates) implements ScalerTrigger {
        QueueBatch(Map<String, List<String>> messageIdsByPool, Map<String, Set<JobKey>> jobsByPool) {
            this(messageIdsByPool, jobsByPool, List.of());
        }
    }

    /** A message of job updates the webhook deferred (a big delivery), to be applied, not decided. */
    record QueuedJobUpdates(String messageId, JsonNode body) {
    }

    /** The EventBridge schedule. */
    record Schedule() implements ScalerTrigger {
    }

    /** {@code {"pool": "name"}} from an operator. */
    record Direct(String pool) implements ScalerTrigger {
    }

    ObjectMapper JSON = new ObjectMapper();

    static ScalerTrigger from(JsonNode event) {
        if (event.has("Records")) {
            Map<String, List<String>> byPool = new LinkedHashMap<>();
            Map<String, Set<JobKey>> jobs = new LinkedHashMap<>();
            List<QueuedJobUpdates> updates = new ArrayList<>();
            for (JsonNode record : event.get("Records")) {
                JsonNode body = body(record.path("body").asText(""));
                if (DeferredJobUpdatesCodec.isDeferredUpdates(body)) {
                    updates.add(new QueuedJobUpdates(record.path("messageId").asText(), body));
                    continue;
                }
                String pool = record.path("attributes").path("MessageGroupId").asText("");
                if (pool.isEmpty()) {
                    pool = body.path("pool").asText("");
                }
                byPool.computeIfAbsent(pool, p -> new ArrayList<>()).add(record.path("messageId").asText());
                Set<JobKey> poolJobs = jobs.computeIfAbsent(pool, p -> new LinkedHashSet<>());
                for (JsonNode job : body.path("jobs")) {
                    jobKey(job.asText()).ifPresent(poolJobs::add);
                }
            }
            return new QueueBatch(byPool, jobs, updates);
        }
        if ("Scheduled Event".equals(event.path("detail-type").asText()) || event.has("source")
                && event.path("source").asText().startsWith("aws.")) {
            return new Schedule();
        }
        if (event.hasNonNull("pool")) {
            return new Direct(event.get("pool").asText());
        }
        throw new IllegalArgumentException("unknown scaler event: expected SQS records, a scheduled event or {\"pool\": ...}");
    }

    private static JsonNode body(String body) {
        try {
            JsonNode node = JSON.readTree(body);
            return node == null ? JSON.createObjectNode() : node;
        } catch (IOException e) {
            return JSON.createObjectNode();
        }
    }

    /** {@code "380/1977"}, as {@link JobKey#toString()} writes it. */
    private static Optional<JobKey> jobKey(String text) {
        return JobKey.parse(text);
    }
}
