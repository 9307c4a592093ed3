package io.runnerscale.simulate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TraceReaderTest {
    private static final Path REAL_TRACE = Path.of("../../shared/traces/linkerd2-ci-jobs-2020-05.jsonl");

    @TempDir
    Path dir;

    private static String job(long id, String startedAt, double queued, double duration, String... tags) {
        String tagList = Stream.of(tags).map(t -> "\"" + t + "\"").collect(Collectors.joining(","));
        return "{\"id\": " + id + ", \"status\": \"success\", \"started_at\": \"" + startedAt + "\", \"queued_duration\": "
                + queued + ", \"duration\": " + duration + ", \"tag_list\": [" + tagList + "]}";
    }

    private static TraceReader.Trace read(String text) throws IOException {
        return new TraceReader().read(new BufferedReader(new StringReader(text)), "inline.json");
    }

    private Path file(String name, String text) throws IOException {
        Path path = dir.resolve(name);
        Files.writeString(path, text, StandardCharsets.UTF_8);
        return path;
    }

    @Test
    void readsAJsonArrayAsGitLabsJobsApiReturnsIt() throws IOException {
        Path path = file("page.json", "[" + job(7, "2020-05-05T14:52:54.000Z", 0, 30, "docker", "linux") + ",\n"
                + job(8, "2020-05-05T14:53:00.000Z", 0, 4.5) + "]");
        TraceReader.Trace trace = new TraceReader().read(path);

        assertEquals(2, trace.jobs().size());
        assertEquals(0, trace.skipped());
        TraceJob first = trace.jobs().getFirst();
        assertEquals(7, first.id());
        assertEquals(Instant.parse("2020-05-05T14:52:54Z"), first.requestedAt());
        assertEquals(Duration.ofSeconds(30), first.duration());
        assertEquals(List.of("docker", "linux"), first.tags());
        assertEquals(Duration.ofMillis(4500), trace.jobs().get(1).duration());
        assertEquals(List.of(), trace.jobs().get(1).tags());
    }

    @Test
    void readsJsonLines() throws IOException {
        TraceReader.Trace trace = read(job(1, "2020-05-05T10:00:00Z", 0, 10) + "\n"
                + job(2, "2020-05-05T10:00:05Z", 0, 10) + "\n\n"
                + job(3, "2020-05-05T10:00:09Z", 0, 10) + "\n");

        assertEquals(List.of(1L, 2L, 3L), trace.jobs().stream().map(TraceJob::id).toList());
    }

    @Test
    void readsConcatenatedPagesAndSortsByRequestTime() throws IOException {
        // pages of GET /projects/:id/jobs come newest first; two pages back to back, no separator and a newline
        TraceReader.Trace trace = read("[" + job(4, "2020-05-05T10:04:00Z", 0, 1) + "," + job(3, "2020-05-05T10:03:00Z", 0, 1) + "]"
                + "[" + job(2, "2020-05-05T10:02:00Z", 0, 1) + "]\n"
                + "[" + job(1, "2020-05-05T10:01:00Z", 0, 1) + "]");

        assertEquals(List.of(1L, 2L, 3L, 4L), trace.jobs().stream().map(TraceJob::id).toList());
    }

    @Test
    void acceptsBothGitLabTimestampForms() throws IOException {
        TraceReader.Trace trace = read(job(1, "2021-02-23T02:41:37.886Z", 0, 1) + "\n"
                + job(2, "2021-01-13 17:57:05 UTC", 0, 1) + "\n");

        assertEquals(Instant.parse("2021-01-13T17:57:05Z"), trace.jobs().get(0).requestedAt());
        assertEquals(Instant.parse("2021-02-23T02:41:37.886Z"), trace.jobs().get(1).requestedAt());
    }

    @Test
    void requestTimeIsStartedAtMinusQueuedDuration() throws IOException {
        TraceReader.Trace trace = read(job(1, "2020-05-05T10:00:00Z", 95.25, 60));

        assertEquals(Instant.parse("2020-05-05T09:58:24.750Z"), trace.jobs().getFirst().requestedAt());
        assertEquals(Duration.ofSeconds(60), trace.jobs().getFirst().duration());
    }

    @Test
    void durationFallsBackToFinishedAt() throws IOException {
        TraceReader.Trace trace = read("{\"id\": 1, \"started_at\": \"2020-05-05T10:00:00Z\", \"finished_at\": \"2020-05-05T10:02:30Z\"}");

        assertEquals(Duration.ofSeconds(150), trace.jobs().getFirst().duration());
    }

    @Test
    void jobsThatNeverStartedAreSkippedAndCounted() throws IOException {
        TraceReader.Trace trace = read(job(1, "2020-05-05T10:00:00Z", 0, 10) + "\n"
                + "{\"id\": 2, \"status\": \"canceled\", \"started_at\": null, \"duration\": null}\n"
                + "{\"id\": 3, \"status\": \"manual\"}\n"
                + "{\"id\": 4, \"status\": \"running\", \"started_at\": \"2020-05-05T10:00:00Z\"}\n");

        assertEquals(1, trace.jobs().size());
        assertEquals(3, trace.skipped(), "two never started, one has no duration yet");
        assertEquals(1, trace.problems().size(), trace.problems().toString());
        assertTrue(trace.problems().getFirst().contains("inline.json") && trace.problems().getFirst().contains("#4"),
                trace.problems().getFirst());
    }

    @Test
    void badTimestampSkipsTheJobNamingFileAndJob() throws IOException {
        TraceReader.Trace trace = read(job(1, "yesterday", 0, 10) + "\n" + job(2, "2020-05-05T10:00:00Z", 0, 10));

        assertEquals(1, trace.jobs().size());
        assertEquals(1, trace.skipped());
        assertTrue(trace.problems().getFirst().startsWith("inline.json: job #1"), trace.problems().getFirst());
    }

    @Test
    void brokenJsonIsAnIOExceptionNamingTheFile() throws IOException {
        Path truncated = file("truncated.jsonl", job(1, "2020-05-05T10:00:00Z", 0, 10) + "\n{\"id\": 2, \"started_at\": ");
        IOException e = assertThrows(IOException.class, () -> new TraceReader().read(truncated));
        assertTrue(e.getMessage().contains(truncated.toString()), e.getMessage());

        Path scalar = file("numbers.json", "[1, 2, 3]");
        IOException e2 = assertThrows(IOException.class, () -> new TraceReader().read(scalar));
        assertTrue(e2.getMessage().contains(scalar.toString()) && e2.getMessage().contains("expected job objects"), e2.getMessage());

        Path csv = file("jobs.csv", "id,started_at\n1,2020-05-05\n");
        IOException e3 = assertThrows(IOException.class, () -> new TraceReader().read(csv));
        assertTrue(e3.getMessage().contains(csv.toString()), e3.getMessage());
    }

    @Test
    void readsTheFirstLinesOfTheRealTrace() throws IOException {
        try (BufferedReader reader = Files.newBufferedReader(REAL_TRACE)) {
            String head = reader.lines().limit(200).collect(Collectors.joining("\n"));
            TraceReader.Trace trace = read(head);
            assertEquals(200, trace.jobs().size() + trace.skipped());
            assertTrue(trace.jobs().size() > 150, "most jobs of a real trace ran: " + trace.jobs().size());
            assertTrue(trace.jobs().stream().allMatch(j -> !j.duration().isNegative()));
        }
    }
}
