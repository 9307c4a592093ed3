package io.runnerscale.scaling;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What woke the scaler, read from the raw event. */
sealed interface ScalerTrigger {

    /** SQS messages, grouped by the pool they ask about (message group id, or the body's pool). */
    record QueueBatch(Map<String, List<String>> messageIdsByPool) implements ScalerTrigger {
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
            for (JsonNode record : event.get("Records")) {
                String pool = record.path("attributes").path("MessageGroupId").asText("");
                if (pool.isEmpty()) {
                    pool = bodyPool(record.path("body").asText(""));
                }
                byPool.computeIfAbsent(pool, p -> new ArrayList<>()).add(record.path("messageId").asText());
            }
            return new QueueBatch(byPool);
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

    private static String bodyPool(String body) {
        try {
            return JSON.readTree(body).path("pool").asText("");
        } catch (IOException e) {
            return "";
        }
    }
}
