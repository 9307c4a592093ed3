package io.runnerscale.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static io.runnerscale.cli.MainRun.main;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code runnerscale simulate} given hostile options and traces: a plain message, the right exit code, no hang. */
class SimulateInputTest {
    @TempDir
    Path dir;

    private static String job(long id, Instant started, int duration) {
        return String.format("{\"id\": %d, \"status\": \"success\", \"started_at\": \"%s\", \"duration\": %d.0, "
                + "\"queued_duration\": 0.5, \"tag_list\": []}", id, started, duration);
    }

    /** 20 good jobs, a minute apart, then {@code extra} lines. */
    private Path trace(String... extra) throws IOException {
        StringBuilder lines = new StringBuilder();
        Instant start = Instant.parse("2020-05-05T09:00:00Z");
        for (int i = 0; i < 20; i++) {
            lines.append(job(i + 1, start.plusSeconds(60L * i), 90)).append('\n');
        }
        for (String line : extra) {
            lines.append(line).append('\n');
        }
        return write("trace.jsonl", lines.toString());
    }

    private Path write(String name, String text) throws IOException {
        Path path = dir.resolve(name);
        Files.writeString(path, text, StandardCharsets.UTF_8);
        return path;
    }

    /** The text with line breaks as spaces: the drain note is wrapped. */
    private static String oneLine(String text) {
        return text.replaceAll("\\s+", " ");
    }

    private static void assertPlainError(MainRun r) {
        assertFalse(r.err().contains("Exception"), "no exception class names: " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    // -- options ---------------------------------------------------------------------------------

    @Test
    void outOfRangeOrNonFiniteOptionsExit2NamingTheOptionAndTheRange() throws IOException {
        String trace = trace().toString();
        List<List<String>> cases = List.of(
                List.of("--price", "-1"), List.of("--price", "NaN"), List.of("--price", "Infinity"), List.of("--price", "5000"),
                List.of("--spot-rate", "-1"), List.of("--spot-rate", "NaN"), List.of("--spot-rate", "11"),
                List.of("--spot-interruptions", "-0.01"), List.of("--spot-interruptions", "NaN"),
                List.of("--spot-interruptions", "11"), List.of("--spot-interruptions", "often"),
                List.of("--drain-time", "-1s"), List.of("--drain-time", "11m"), List.of("--drain-time", "soon"),
                List.of("--boot-jitter", "50"), List.of("--boot-jitter", "-0.1"), List.of("--boot-jitter", "-Infinity"),
                List.of("--boot", "0s"), List.of("--boot", "2h"), List.of("--boot", "99999999999999999h"));
        for (List<String> option : cases) {
            MainRun r = main("simulate", "--trace", trace, "--no-progress", option.get(0), option.get(1));

            assertEquals(2, r.code(), option + ": " + r.err());
            assertTrue(r.err().contains(option.get(0)), option + ": " + r.err());
            assertTrue(r.err().contains("from") && r.err().contains("to"), "names the range: " + r.err());
            assertTrue(r.err().contains("usage: runnerscale simulate"), r.err());
            assertEquals("", r.out(), option.toString());
        }
    }

    @Test
    void anOptionValueIsAbbreviatedInTheMessage() throws IOException {
        MainRun r = main("simulate", "--trace", trace().toString(), "--price", "9".repeat(5000) + "x");

        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().lines().allMatch(l -> l.length() < 300), r.err());
    }

    @Test
    void anyLongIsASeedAndOptionsAtTheirBoundsRun() throws IOException {
        MainRun r = main("simulate", "--trace", trace().toString(), "--no-progress", "--seed", "-9223372036854775808",
                "--boot-jitter", "1", "--boot", "1h", "--price", "1000", "--spot-rate", "0");

        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("20 jobs"), r.out());
    }

    @Test
    void spotOptionsAreCheckedAgainstEachOtherAndThePools() throws IOException {
        String trace = trace().toString();
        List<List<String>> cases = List.of(
                List.of("--spot-interruptions", "1", "--spot-pools", "gpu"),
                List.of("--spot-interruptions", "1", "--spot-pools", "default,"),
                List.of("--spot-pools", "default"),
                List.of("--spot-interruptions", "1", "--spot-rate", "1"));
        List<String> messages = List.of("--spot-pools: no pool 'gpu' (pools: default)", "has an empty pool name",
                "--spot-pools needs --spot-interruptions", "--spot-rate is the old name of --spot-interruptions");
        for (int i = 0; i < cases.size(); i++) {
            List<String> argv = new ArrayList<>(List.of("simulate", "--trace", trace, "--no-progress"));
            argv.addAll(cases.get(i));
            MainRun r = main(argv.toArray(String[]::new));

            assertEquals(2, r.code(), cases.get(i) + ": " + r.err());
            assertTrue(r.err().contains(messages.get(i)), cases.get(i) + ": " + r.err());
            assertEquals("", r.out(), cases.get(i).toString());
        }
    }

    @Test
    void drainsAndSpotInterruptionsAreReportedInTheTableTheJsonAndTheReport() throws IOException {
        String trace = trace().toString();
        MainRun plain = main("simulate", "--trace", trace, "--no-progress");
        assertEquals(0, plain.code(), plain.err());
        assertTrue(oneLine(plain.out()).contains("then 5s to delete the runner and terminate"), plain.out());
        assertFalse(plain.out().contains("retried"), "no spot table without spot: " + plain.out());

        MainRun table = main("simulate", "--trace", trace, "--no-progress", "--spot-interruptions", "10",
                "--drain-time", "10s");
        assertEquals(0, table.code(), table.err());
        String text = oneLine(table.out());
        assertTrue(text.contains("then 10s to delete")
                && text.contains("Spot: 10 interruption warnings per instance-hour on every pool"), table.out());
        assertTrue(table.out().contains("warnings") && table.out().contains("retried"), table.out());

        MainRun json = main("simulate", "--trace", trace, "--no-progress", "--spot-interruptions", "10", "--json");
        assertEquals(0, json.code(), json.err());
        JsonNode root = new ObjectMapper().readTree(json.out());
        assertTrue(root.get("drains").get("count").asInt() > 0, json.out());
        JsonNode spot = root.get("spot");
        assertTrue(spot.get("interruptions").asInt() > 0, "10 an hour over about an instance-hour: " + spot);
        assertEquals(spot.get("jobs_running_at_warning").asInt(),
                spot.get("finished_before_deadline").asInt() + spot.get("retried").asInt(),
                "every job hit either finished within the deadline or was retried: " + spot);
        assertEquals(20, root.get("jobs").asInt(), "retried jobs complete and count once");
        assertFalse(root.get("baselines").get("oracle").has("drains"), "a bound has no drains");

        Path report = dir.resolve("report.html");
        MainRun html = main("simulate", "--trace", trace, "--no-progress", "--spot-interruptions", "10",
                "--report", report.toString());
        assertEquals(0, html.code(), html.err());
        String page = Files.readString(report);
        assertTrue(page.contains("Drains and spot interruptions") && page.contains("Cancelled and retried"), page);
    }

    @Test
    void lostWebhookOptionsAreCheckedAndTheirFiguresReportedInTheTableTheJsonAndTheReport() throws IOException {
        String trace = trace().toString();
        for (List<String> option : List.of(List.of("--drop-webhooks", "1.5"), List.of("--drop-webhooks", "NaN"),
                List.of("--drop-webhooks", "-0.1"), List.of("--reconcile-every", "10s"),
                List.of("--reconcile-every", "2d"), List.of("--reconcile-every", "soon"))) {
            MainRun r = main("simulate", "--trace", trace, "--no-progress", option.get(0), option.get(1));
            assertEquals(2, r.code(), option + ": " + r.err());
            assertTrue(r.err().contains(option.get(0)), option + ": " + r.err());
            assertEquals("", r.out(), option.toString());
        }
        MainRun plain = main("simulate", "--trace", trace, "--no-progress");
        assertFalse(plain.out().contains("Webhooks:"), "nothing dropped, nothing to show: " + plain.out());

        MainRun on = main("simulate", "--trace", trace, "--no-progress", "--drop-webhooks", "0.3");
        assertEquals(0, on.code(), on.err());
        String text = oneLine(on.out());
        assertTrue(text.contains("Webhooks: 30% of job webhook deliveries") && text.contains("ran every 10m"), on.out());
        assertTrue(on.out().contains("drop pend") && on.out().contains("to-fin"), "the figures' table: " + on.out());
        MainRun off = main("simulate", "--trace", trace, "--no-progress", "--drop-webhooks", "0.3",
                "--reconcile-every", "off");
        assertEquals(0, off.code(), off.err());
        assertTrue(oneLine(off.out()).contains("No reconciler"), off.out());

        MainRun json = main("simulate", "--trace", trace, "--no-progress", "--drop-webhooks", "0.3", "--json");
        assertEquals(0, json.code(), json.err());
        JsonNode hooks = new ObjectMapper().readTree(json.out()).get("webhooks");
        assertEquals(0.3, hooks.get("drop_rate").asDouble());
        assertEquals(600, hooks.get("reconcile_every_seconds").asInt());
        int dropped = hooks.get("dropped_pending").asInt() + hooks.get("dropped_running").asInt()
                + hooks.get("dropped_finished").asInt();
        assertTrue(dropped > 5 && dropped < 35, "about 30% of 60 deliveries: " + hooks);
        assertTrue(hooks.get("reconciler_runs").asInt() > 0, hooks.toString());
        assertFalse(new ObjectMapper().readTree(json.out()).get("baselines").get("gitlab_taskscaler").has("webhooks"),
                "gitlab_taskscaler has no webhooks to lose");

        Path report = dir.resolve("hooks.html");
        MainRun html = main("simulate", "--trace", trace, "--no-progress", "--drop-webhooks", "0.3",
                "--report", report.toString());
        assertEquals(0, html.code(), html.err());
        String page = Files.readString(report);
        assertTrue(page.contains("Lost webhooks and the reconciler") && page.contains("repaired to finished"), page);
    }

    // -- traces ----------------------------------------------------------------------------------

    @Test
    void aLineThatIsNotJsonIsAWarningNamingTheLineNotAnAbort() throws IOException {
        MainRun r = main("simulate", "--trace", trace("{\"id\": 21, \"started_at\": ", "not json either").toString(),
                "--no-progress");

        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("trace.jsonl:21: not JSON"), r.err());
        assertTrue(r.err().contains("trace.jsonl:22: not JSON"), r.err());
        assertTrue(r.out().contains("20 jobs") && r.out().contains("2 skipped"), r.out());
    }

    @Test
    void warningsAreBoundedWithACountOfTheRest() throws IOException {
        String[] garbage = new String[200];
        for (int i = 0; i < garbage.length; i++) {
            garbage[i] = "garbage " + i;
        }
        MainRun r = main("simulate", "--trace", trace(garbage).toString(), "--no-progress");

        assertEquals(0, r.code(), r.err());
        long warnings = r.err().lines().filter(l -> l.startsWith("warning:")).count();
        assertTrue(warnings <= 12, warnings + " warning lines: " + r.err());
        assertTrue(r.err().contains("and 190 more"), r.err());
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aJobInTheYear2999IsReportedAndSkipped() throws IOException {
        MainRun r = main("simulate", "--trace", trace(job(77, Instant.parse("2999-01-01T00:00:00Z"), 60)).toString(),
                "--no-progress");

        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("job 77") && r.err().contains("2999"), r.err());
        assertTrue(r.out().contains("20 jobs") && r.out().contains("1 skipped"), r.out());
    }

    @Test
    void invalidDurationsAndDuplicateIdsAreWarningsAndDoNotCount() throws IOException {
        Instant t = Instant.parse("2020-05-05T09:30:00Z");
        MainRun r = main("simulate", "--trace", trace(
                "{\"id\": 30, \"started_at\": \"" + t + "\", \"duration\": \"abc\"}",
                job(5, t, 90), job(6, t, 90)).toString(), "--no-progress");

        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("job 30") && r.err().contains("duration"), r.err());
        assertTrue(r.err().contains("2 duplicate"), r.err());
        assertTrue(r.out().contains("20 jobs") && r.out().contains("3 skipped"), r.out());
    }

    @Test
    void everyJobUnstartedExits1Plainly() throws IOException {
        Path trace = write("unstarted.jsonl", "{\"id\": 1, \"status\": \"pending\", \"started_at\": null}\n"
                + "{\"id\": 2, \"status\": \"manual\"}\n");
        MainRun r = main("simulate", "--trace", trace.toString(), "--no-progress");

        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("unstarted.jsonl") && r.err().contains("2 never started"), r.err());
        assertPlainError(r);
        assertEquals("", r.out());
    }

    @Test
    void anEmptyTraceExits1SayingItIsEmpty() throws IOException {
        MainRun r = main("simulate", "--trace", write("empty.jsonl", "").toString(), "--no-progress");

        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("empty.jsonl") && r.err().contains("empty"), r.err());
        assertPlainError(r);
    }

    @Test
    void aJsonObjectInsteadOfAnArrayExits1NamingWhatWasExpected() throws IOException {
        Path single = write("object.json", "{\"jobs\": [" + job(1, Instant.parse("2020-05-05T09:00:00Z"), 60) + "]}");
        MainRun r = main("simulate", "--trace", single.toString(), "--no-progress");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("not a GitLab job"), r.err());
        assertPlainError(r);

        Path pretty = write("pretty.json", "{\n  \"jobs\": [\n    {\"id\": 1}\n  ]\n}\n");
        MainRun p = main("simulate", "--trace", pretty.toString(), "--no-progress");
        assertEquals(1, p.code(), p.err());
        assertTrue(p.err().contains("pretty.json") && p.err().contains("JSON array"), p.err());
        assertPlainError(p);
    }

    @Test
    void aConfigWhosePoolsMatchNoJobExits1() throws IOException {
        Path config = write("gpu.yaml", """
                pools:
                  - name: gpu
                    match: {tags: [gpu]}
                    backend: {type: ec2-asg, asg: gpu-runners}
                """);
        MainRun r = main("simulate", "--trace", trace().toString(), "--config", config.toString(), "--no-progress");

        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("no job") && r.err().contains("gpu"), r.err());
        assertPlainError(r);
    }

    @Test
    @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aPoolThatCannotLaunchFinishesAndSaysJobsNeverRan() throws IOException {
        Path config = write("none.yaml", """
                pools:
                  - name: default
                    match: {run_untagged: true}
                    backend: {type: ec2-asg, asg: runners}
                    max_instances: 0
                """);
        MainRun r = main("simulate", "--trace", trace().toString(), "--config", config.toString(), "--no-progress");

        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("20 job(s) never ran"), r.err());
        assertPlainError(r);
    }

    @Test
    void aReportToAnUnwritablePathFailsPlainlyBeforeSimulating() throws IOException {
        Path report = dir.resolve("no-such-dir").resolve("report.html");
        MainRun r = main("simulate", "--trace", trace().toString(), "--report", report.toString(), "--no-progress");

        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--report") && r.err().contains("no-such-dir"), r.err());
        assertPlainError(r);
        assertEquals("", r.out(), "nothing simulated");

        MainRun onDirectory = main("simulate", "--trace", trace().toString(), "--report", dir.toString(), "--no-progress");
        assertEquals(2, onDirectory.code(), onDirectory.err());
        assertTrue(onDirectory.err().contains("is a directory"), onDirectory.err());
    }

    @Test
    void aTraceThatIsADirectoryExits2SayingSo() {
        MainRun r = main("simulate", "--trace", dir.toString(), "--no-progress");

        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("is a directory"), r.err());
    }
}
