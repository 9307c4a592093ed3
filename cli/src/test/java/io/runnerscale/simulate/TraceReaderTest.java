package io.runnerscale.simulate;

import io.runnerscale.testing.SharedFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TraceReaderTest {
    private static final Path REAL_TRACE = SharedFiles.root().resolve("traces/linkerd2-ci-jobs-2020-05.jsonl");

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
        assertEquals(3, trace.notStarted() + 1);
        assertTrue(trace.problems().getFirst().startsWith("inline.json:4: job 4: no duration"), trace.problems().getFirst());
    }

    @Test
    void badTimestampSkipsTheJobNamingFileAndJob() throws IOException {
        TraceReader.Trace trace = read(job(1, "yesterday", 0, 10) + "\n" + job(2, "2020-05-05T10:00:00Z", 0, 10));

        assertEquals(1, trace.jobs().size());
        assertEquals(1, trace.skipped());
        assertTrue(trace.problems().getFirst().startsWith("inline.json:1: job 1: started_at"), trace.problems().getFirst());
    }

    @Test
    void aFileWhereNoLineIsJsonIsAnIOExceptionNamingTheFileAndWhatATraceIs() throws IOException {
        Path csv = file("jobs.csv", "id,started_at\n1,2020-05-05\n");
        IOException e = assertThrows(IOException.class, () -> new TraceReader().read(csv));
        assertTrue(e.getMessage().startsWith(csv + ": no line is JSON"), e.getMessage());
        assertTrue(e.getMessage().contains("JSON array") && e.getMessage().contains(csv + ":1: not JSON"), e.getMessage());
    }

    @Test
    void aByteOrderMarkAndWindowsLineEndsAreFine() throws IOException {
        TraceReader.Trace lines = read("\uFEFF" + ok(1, 0) + "\r\n" + ok(2, 1) + "\r\n");
        assertEquals(List.of(1L, 2L), lines.jobs().stream().map(TraceJob::id).toList());
        TraceReader.Trace array = read("\uFEFF [" + ok(1, 0) + "]");
        assertEquals(List.of(1L), array.jobs().stream().map(TraceJob::id).toList());
    }

    @Test
    void aPageOfJobsOnOneLineIsReadAsJobs() throws IOException {
        TraceReader.Trace trace = read(ok(1, 0) + "\n[" + ok(2, 1) + "," + ok(3, 2) + "]\n");
        assertEquals(List.of(1L, 2L, 3L), trace.jobs().stream().map(TraceJob::id).toList());
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

    // -- hostile input (issue 6) ---------------------------------------------------------------

    private static String ok(long id, int minute) {
        return job(id, String.format("2020-05-05T10:%02d:00Z", minute), 0, 10);
    }

    private static boolean anyProblem(TraceReader.Trace trace, String... parts) {
        return trace.problems().stream().anyMatch(p -> Stream.of(parts).allMatch(p::contains));
    }

    @Test
    void jsonLinesBadLineIsSkippedNamingItsLineAndTheRestIsRead() throws IOException {
        TraceReader.Trace trace = read(ok(1, 0) + "\n"
                + "this is not json\n"
                + ok(3, 2) + "\n"
                + "{\"id\": 4, \"started_at\": \n"
                + ok(5, 4) + "\n");

        assertEquals(List.of(1L, 3L, 5L), trace.jobs().stream().map(TraceJob::id).toList());
        assertTrue(anyProblem(trace, "inline.json:2:", "not JSON"), trace.problems().toString());
        assertTrue(anyProblem(trace, "inline.json:4:", "not JSON"), trace.problems().toString());
        assertEquals(2, trace.skipped());
    }

    @Test
    void aBadLineIsAbbreviatedAndControlCharactersAreNotEchoed() throws IOException {
        String huge = "\u001b[31m" + "x".repeat(100_000);
        TraceReader.Trace trace = read(ok(1, 0) + "\n" + huge + "\n" + ok(2, 1) + "\n");

        assertEquals(2, trace.jobs().size());
        String problem = trace.problems().getFirst();
        assertTrue(problem.startsWith("inline.json:2:"), problem);
        assertTrue(problem.length() < 300, "abbreviated: " + problem.length() + " chars");
        assertTrue(problem.chars().noneMatch(c -> c < 0x20), "no control characters: " + problem);
    }

    @Test
    void warningsAreBoundedButEveryBadLineIsCounted() throws IOException {
        StringBuilder text = new StringBuilder(ok(1, 0)).append('\n');
        for (int i = 0; i < 500; i++) {
            text.append("garbage ").append(i).append('\n');
        }
        text.append(ok(2, 1)).append('\n');
        TraceReader.Trace trace = read(text.toString());

        assertEquals(2, trace.jobs().size());
        assertEquals(500, trace.skipped());
        assertEquals(TraceReader.MAX_PROBLEMS, trace.problems().size());
        assertEquals(500 - TraceReader.MAX_PROBLEMS, trace.moreProblems());
    }

    @Test
    void jsonArraySyntaxErrorNamesLineAndColumn() {
        String text = "[\n" + ok(1, 0) + ",\n" + "{\"id\": 2, \"started_at\": nope}\n]";
        IOException e = assertThrows(IOException.class, () -> read(text));
        assertTrue(e.getMessage().startsWith("inline.json:3:"), e.getMessage());
        assertTrue(e.getMessage().contains("not JSON"), e.getMessage());
    }

    @Test
    void scalarsInAnArrayAreSkippedNamingTheirPosition() throws IOException {
        TraceReader.Trace trace = read("[" + ok(1, 0) + ", 42, \"x\", " + ok(2, 1) + "]");

        assertEquals(List.of(1L, 2L), trace.jobs().stream().map(TraceJob::id).toList());
        assertEquals(2, trace.skipped());
        assertTrue(anyProblem(trace, "inline.json:1:", "expected a job object"), trace.problems().toString());
    }

    @Test
    void durationsThatAreNotNonNegativeFiniteNumbersSkipTheJobNamingTheField() throws IOException {
        String[][] cases = {
                {"duration", "\"abc\""}, {"duration", "-5"}, {"duration", "1e400"}, {"duration", "2600000"},
                {"duration", "true"}, {"queued_duration", "\"abc\""}, {"queued_duration", "-10"},
                {"queued_duration", "1e12"}, {"queued_duration", "{}"},
        };
        for (String[] c : cases) {
            String duration = c[0].equals("duration") ? c[1] : "10";
            String queued = c[0].equals("queued_duration") ? c[1] : "0";
            String bad = "{\"id\": 2, \"started_at\": \"2020-05-05T10:01:00Z\", \"duration\": " + duration
                    + ", \"queued_duration\": " + queued + ", \"tag_list\": []}";
            TraceReader.Trace trace = read(ok(1, 0) + "\n" + bad + "\n" + ok(3, 2) + "\n");

            String what = c[0] + " = " + c[1];
            assertEquals(List.of(1L, 3L), trace.jobs().stream().map(TraceJob::id).toList(), what);
            assertEquals(1, trace.skipped(), what);
            assertTrue(anyProblem(trace, "inline.json:2:", "job 2", c[0]), what + ": " + trace.problems());
        }
    }

    @Test
    void numericStringsAndNullsKeepTheirMeaning() throws IOException {
        TraceReader.Trace trace = read("{\"id\": 1, \"started_at\": \"2020-05-05T10:00:00Z\", \"duration\": \"12.5\", \"queued_duration\": null}");

        assertEquals(Duration.ofMillis(12_500), trace.jobs().getFirst().duration());
        assertEquals(Instant.parse("2020-05-05T10:00:00Z"), trace.jobs().getFirst().requestedAt());
    }

    @Test
    void aDuplicatedJobIdIsCountedOnceKeepingTheFirstRecordThatStarted() throws IOException {
        TraceReader.Trace trace = read("{\"id\": 7, \"status\": \"pending\", \"started_at\": null}\n"
                + job(7, "2020-05-05T10:00:00Z", 0, 10) + "\n"
                + job(7, "2020-05-05T10:00:00Z", 0, 99) + "\n"
                + ok(8, 1) + "\n"
                + job(7, "2020-05-05T10:05:00Z", 0, 10) + "\n");

        assertEquals(List.of(7L, 8L), trace.jobs().stream().map(TraceJob::id).toList());
        assertEquals(Duration.ofSeconds(10), trace.jobs().getFirst().duration(), "the first record that started");
        assertTrue(anyProblem(trace, "2 duplicate"), trace.problems().toString());
        assertEquals(2, trace.duplicates());
        assertEquals(1, trace.notStarted());
        assertEquals(5, trace.records());
    }

    @Test
    void aMissingOrInvalidIdSkipsTheJob() throws IOException {
        String[] ids = {null, "0", "-3", "\"abc\"", "1.5", "99999999999999999999", "null", "[1]"};
        for (String id : ids) {
            String bad = "{" + (id == null ? "" : "\"id\": " + id + ", ")
                    + "\"started_at\": \"2020-05-05T10:01:00Z\", \"duration\": 10}";
            TraceReader.Trace trace = read(ok(1, 0) + "\n" + bad + "\n");

            assertEquals(List.of(1L), trace.jobs().stream().map(TraceJob::id).toList(), "id " + id);
            assertTrue(anyProblem(trace, "inline.json:2:", "id"), "id " + id + ": " + trace.problems());
        }
        // GitLab's ids as digit strings are still ids
        TraceReader.Trace trace = read("{\"id\": \"42\", \"started_at\": \"2020-05-05T10:01:00Z\", \"duration\": 10}");
        assertEquals(42, trace.jobs().getFirst().id());
    }

    @Test
    void aJobInTheYear2999OrBefore2000IsSkippedNamingIt() throws IOException {
        TraceReader.Trace trace = read(ok(1, 0) + "\n"
                + job(2, "2999-01-01T00:00:00Z", 0, 10) + "\n"
                + job(3, "1970-01-01T00:00:00Z", 0, 10) + "\n"
                + ok(4, 1) + "\n");

        assertEquals(List.of(1L, 4L), trace.jobs().stream().map(TraceJob::id).toList());
        assertTrue(anyProblem(trace, "job 2", "2999"), trace.problems().toString());
        assertTrue(anyProblem(trace, "job 3", "1970"), trace.problems().toString());
    }

    @Test
    void aJobFarFromTheRestOfTheTraceIsSkippedSoTheSpanStaysBounded() throws IOException {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 10; i++) {
            text.append(ok(i + 1, i)).append('\n');
        }
        text.append(job(99, "2024-01-01T00:00:00Z", 0, 10)).append('\n');
        TraceReader.Trace trace = read(text.toString());

        assertEquals(10, trace.jobs().size());
        assertTrue(trace.jobs().stream().noneMatch(j -> j.id() == 99));
        assertTrue(anyProblem(trace, "job 99", "366 days"), trace.problems().toString());
    }

    @Test
    void anObjectThatIsNotAJobIsReportedNotSilentlyDropped() throws IOException {
        TraceReader.Trace trace = read("{\"jobs\": [" + ok(1, 0) + "]}\n");

        assertEquals(0, trace.jobs().size());
        assertTrue(anyProblem(trace, "inline.json:1:", "not a GitLab job", "jobs"), trace.problems().toString());
    }

    @Test
    void aTimestampThatIsHugeOrOutOfRangeIsAbbreviatedAndSkipsOnlyItsJob() throws IOException {
        TraceReader.Trace trace = read(job(1, "y".repeat(50_000), 0, 10) + "\n"
                + job(2, "2021-01-13 17:57:05 +99:00", 0, 10) + "\n"
                + ok(3, 0) + "\n");

        assertEquals(List.of(3L), trace.jobs().stream().map(TraceJob::id).toList());
        assertTrue(anyProblem(trace, "job 1", "started_at"), trace.problems().toString());
        assertTrue(anyProblem(trace, "job 2", "started_at"), trace.problems().toString());
        assertTrue(trace.problems().stream().allMatch(p -> p.length() < 300), trace.problems().toString());
    }

    @Test
    void tagListThatIsNotAListOfStringsSkipsTheJob() throws IOException {
        TraceReader.Trace trace = read(ok(1, 0) + "\n"
                + "{\"id\": 2, \"started_at\": \"2020-05-05T10:01:00Z\", \"duration\": 10, \"tag_list\": \"docker\"}\n");

        assertEquals(List.of(1L), trace.jobs().stream().map(TraceJob::id).toList());
        assertTrue(anyProblem(trace, "job 2", "tag_list"), trace.problems().toString());
    }

    @Test
    void anEmptyFileHoldsNoJobs() throws IOException {
        TraceReader.Trace trace = new TraceReader().read(file("empty.jsonl", ""));
        assertEquals(0, trace.records());
        assertEquals(0, trace.jobs().size());
        assertEquals(0, trace.skipped());
        TraceReader.Trace blank = read("\n  \n\t\n");
        assertEquals(0, blank.jobs().size());
    }

    @Test
    void theFutureRuleIsADayAfterTheReadersNow() throws IOException {
        Clock now = Clock.fixed(Instant.parse("2020-05-05T10:00:00Z"), ZoneOffset.UTC);
        String text = job(1, "2020-05-05T09:00:00Z", 0, 10) + "\n"
                + job(2, "2020-05-06T09:59:00Z", 0, 10) + "\n"
                + job(3, "2020-05-06T10:01:00Z", 0, 10) + "\n";
        TraceReader.Trace trace = new TraceReader(now).read(new BufferedReader(new StringReader(text)), "inline.json");

        assertEquals(List.of(1L, 2L), trace.jobs().stream().map(TraceJob::id).toList());
        assertTrue(anyProblem(trace, "inline.json:3: job 3", "later than a day from now"), trace.problems().toString());
    }

    @Test
    void aLineLongerThanTheLimitIsSkippedWithoutKeepingIt() throws IOException {
        String tooLong = "{\"id\": 5, \"name\": \"" + "n".repeat(TraceReader.MAX_LINE_CHARS) + "\"}";
        TraceReader.Trace trace = read(ok(1, 0) + "\n" + tooLong + "\n" + ok(2, 1) + "\n");

        assertEquals(List.of(1L, 2L), trace.jobs().stream().map(TraceJob::id).toList());
        assertTrue(anyProblem(trace, "inline.json:2: longer than"), trace.problems().toString());
        assertTrue(trace.problems().getFirst().length() < 300, trace.problems().getFirst());
    }
}
