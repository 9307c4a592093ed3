package io.runnerscale.simulate;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.webhook.Timestamps;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Reads job history in the shape of GitLab's {@code GET /projects/:id/jobs}: a JSON array (one
 * page or several concatenated) or JSON Lines. A job asked for a runner at
 * {@code started_at − queued_duration}; jobs that never started are skipped and counted.
 */
public final class TraceReader {
    private final ObjectMapper json = new ObjectMapper();

    public record Trace(List<TraceJob> jobs, int skipped, List<String> problems) {
    }

    public Trace read(Path file) throws IOException {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return read(new BufferedReader(reader), file.toString());
        }
    }

    public Trace read(BufferedReader reader, String name) throws IOException {
        List<TraceJob> jobs = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        int[] skipped = {0};
        try (JsonParser parser = json.getFactory().createParser(reader)) {
            JsonToken token;
            int index = 0;
            while ((token = parser.nextToken()) != null) {
                if (token == JsonToken.START_ARRAY || token == JsonToken.END_ARRAY) {
                    continue; // pages of an array, or several arrays back to back
                }
                if (token != JsonToken.START_OBJECT) {
                    throw new IOException(name + ": expected job objects, found " + token + " at " + parser.currentLocation());
                }
                JsonNode node = json.readTree(parser);
                index++;
                try {
                    TraceJob job = job(node);
                    if (job == null) {
                        skipped[0]++;
                    } else {
                        jobs.add(job);
                    }
                } catch (IllegalArgumentException e) {
                    skipped[0]++;
                    if (problems.size() < 5) {
                        problems.add(name + ": job #" + index + ": " + e.getMessage());
                    }
                }
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(name + ": not a JSON array or JSON Lines of GitLab jobs: " + e.getOriginalMessage(), e);
        }
        jobs.sort(Comparator.comparing(TraceJob::requestedAt).thenComparingLong(TraceJob::id));
        return new Trace(jobs, skipped[0], problems);
    }

    private static TraceJob job(JsonNode node) {
        JsonNode started = node.get("started_at");
        if (started == null || started.isNull()) {
            return null; // never ran: asked for nothing a simulator can replay
        }
        Instant startedAt = Timestamps.parse(started.asText());
        double queued = node.path("queued_duration").asDouble(0);
        Double duration = node.hasNonNull("duration") ? node.get("duration").asDouble() : null;
        if (duration == null && node.hasNonNull("finished_at")) {
            duration = Duration.between(startedAt, Timestamps.parse(node.get("finished_at").asText())).toMillis() / 1000.0;
        }
        if (duration == null || duration < 0) {
            throw new IllegalArgumentException("no duration or finished_at");
        }
        List<String> tags = new ArrayList<>();
        node.path("tag_list").forEach(t -> tags.add(t.asText()));
        Instant requested = startedAt.minusMillis(Math.round(queued * 1000));
        return new TraceJob(node.path("id").asLong(), requested, Duration.ofMillis(Math.round(duration * 1000)), tags);
    }
}
