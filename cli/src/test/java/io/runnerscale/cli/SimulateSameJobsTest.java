package io.runnerscale.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigParser;
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

/**
 * Every row of {@code simulate} replays the same jobs: on a trace whose jobs carry tags some pools
 * file does not take, the policies, the bounds and the compared files all count the jobs every file
 * takes, and the rest are listed by tag set. Without {@code --config} the pools come from the trace.
 */
@Timeout(120)
class SimulateSameJobsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** 10 jobs tagged docker, 5 tagged gpu, 4 tagged docker and gpu, 3 untagged, two minutes apart. */
    private Path trace() throws IOException {
        List<List<String>> tags = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            tags.add(List.of("docker"));
        }
        for (int i = 0; i < 5; i++) {
            tags.add(List.of("gpu"));
        }
        for (int i = 0; i < 4; i++) {
            tags.add(List.of("gpu", "docker"));
        }
        for (int i = 0; i < 3; i++) {
            tags.add(List.of());
        }
        StringBuilder lines = new StringBuilder();
        Instant start = Instant.parse("2020-05-05T09:00:00Z");
        for (int i = 0; i < tags.size(); i++) {
            String list = tags.get(i).stream().map(t -> "\"" + t + "\"").reduce((a, b) -> a + ", " + b).orElse("");
            lines.append(String.format("{\"id\": %d, \"status\": \"success\", \"started_at\": \"%s\", \"duration\": 300.0, "
                    + "\"queued_duration\": 0.5, \"tag_list\": [%s]}%n", i + 1, start.plusSeconds(120L * i), list));
        }
        return write("trace.jsonl", lines.toString());
    }

    private Path write(String name, String text) throws IOException {
        Path path = dir.resolve(name);
        Files.writeString(path, text, StandardCharsets.UTF_8);
        return path;
    }

    private static String pool(String name, String match) {
        return """
                  - name: %s
                    match: %s
                    backend: {type: ec2-asg, asg: %s}
                    policy: [{idle_count: 0, idle_time: 2m}]
                """.formatted(name, match, name);
    }

    private static List<Integer> jobCounts(JsonNode root) {
        List<Integer> counts = new ArrayList<>();
        counts.add(root.get("jobs").asInt());
        root.path("compare").forEach(c -> counts.add(c.get("jobs").asInt()));
        counts.add(root.get(root.has("forecast") ? "forecast" : "no_forecast").get("jobs").asInt());
        root.get("baselines").forEach(b -> counts.add(b.get("jobs").asInt()));
        return counts;
    }

    @Test
    void everyRowReplaysTheJobsEveryPoolsFileTakesAndTheRestAreListedByTagSet() throws IOException {
        // docker (and untagged) here; docker and gpu, but not untagged, in the other file
        Path config = write("docker.yaml", "pools:\n" + pool("docker", "{tags: [docker], run_untagged: true}"));
        Path other = write("both.yaml", "pools:\n" + pool("docker", "{tags: [docker]}") + pool("gpu", "{tags: [gpu]}")
                + pool("docker-gpu", "{tags: [docker, gpu]}"));

        MainRun r = main("simulate", "--trace", trace().toString(), "--config", config.toString(), "--compare",
                other.toString(), "--json", "--no-progress", "--price", "0.0416");

        assertEquals(0, r.code(), r.err());
        JsonNode root = JSON.readTree(r.out());
        List<Integer> counts = jobCounts(root);
        assertEquals(6, counts.size(), "runnerscale, the compared file, the forecast, taskscaler, oracle, always_on");
        assertTrue(counts.stream().allMatch(c -> c == 10), "every row the 10 docker jobs both files take: " + counts);
        double oracleHours = root.get("baselines").get("oracle").get("instance_hours").asDouble();
        double comparedHours = root.get("compare").get(0).get("instance_hours").asDouble();
        assertTrue(comparedHours >= oracleHours, "no row beats the oracle on the same jobs: " + comparedHours
                + " vs " + oracleHours);

        JsonNode unmatched = root.get("unmatched");
        assertEquals(3, unmatched.size(), unmatched.toString());
        assertEquals("[\"gpu\"]", unmatched.get(0).get("tags").toString(), "most jobs first");
        assertEquals(5, unmatched.get(0).get("jobs").asInt());
        assertEquals(List.of(config.toString()), names(unmatched.get(0).get("not_taken_by")));
        assertEquals("[\"docker\",\"gpu\"]", unmatched.get(1).get("tags").toString(), "a tag set, sorted");
        assertEquals(4, unmatched.get(1).get("jobs").asInt());
        assertEquals("[]", unmatched.get(2).get("tags").toString());
        assertEquals(3, unmatched.get(2).get("jobs").asInt());
        assertEquals(List.of(other.toString()), names(unmatched.get(2).get("not_taken_by")));
        assertTrue(r.err().contains("12 job(s) left out of every row"), r.err());
        assertTrue(r.err().contains("[gpu]: 5 job(s), taken by no pool of " + config), r.err());
        assertTrue(r.err().contains("untagged: 3 job(s), taken by no pool of " + other), r.err());
    }

    private static List<String> names(JsonNode array) {
        List<String> names = new ArrayList<>();
        array.forEach(n -> names.add(n.asText()));
        return names;
    }

    @Test
    void theTableSaysHowManyJobsWereLeftOutAndWhy() throws IOException {
        Path config = write("docker.yaml", "pools:\n" + pool("docker", "{tags: [docker], run_untagged: true}"));
        MainRun r = main("simulate", "--trace", trace().toString(), "--config", config.toString(), "--no-progress");

        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("13 jobs") && r.out().contains("9 match no pool"), r.out());
        for (String row : List.of("runnerscale ", "oracle ", "always_on ", "gitlab_taskscaler ")) {
            String line = r.out().lines().filter(l -> l.startsWith(row) && !l.startsWith("runnerscale simulate"))
                    .findFirst().orElseThrow();
            assertTrue(line.matches(row.trim() + "\\s+13\\s.*"), "13 jobs in every row: " + line);
        }
    }

    @Test
    void withoutAConfigEachTagSetGetsAPoolPrintedToSaveAndEveryJobRuns() throws IOException {
        Path saved = dir.resolve("derived.yaml");
        MainRun r = main("simulate", "--trace", trace().toString(), "--json", "--no-progress", "--save-config",
                saved.toString());

        assertEquals(0, r.code(), r.err());
        JsonNode root = JSON.readTree(r.out());
        assertTrue(jobCounts(root).stream().allMatch(c -> c == 22), "every job runs: " + jobCounts(root));
        assertFalse(root.has("unmatched") && root.get("unmatched").size() > 0, r.out());
        PoolsConfig derived = PoolsConfigParser.parse(Files.readString(saved), saved.toString());
        assertEquals(List.of("default", "docker", "gpu", "docker-gpu"),
                derived.pools().stream().map(p -> p.name()).toList());
        assertEquals("default", derived.poolFor(List.of()).orElseThrow().name());
        assertEquals("docker", derived.poolFor(List.of("docker")).orElseThrow().name());
        assertEquals("gpu", derived.poolFor(List.of("gpu")).orElseThrow().name());
        assertEquals("docker-gpu", derived.poolFor(List.of("gpu", "docker")).orElseThrow().name(),
                "each tag set to its own pool, not a wider one");
        assertTrue(r.err().contains("pools derived from the trace (4, one per tag set) written to " + saved), r.err());
        assertFalse(r.err().contains("- name:"), "written, not printed: " + r.err());
        assertEquals(4, root.get("pools").size(), "a row per pool");

        // the saved file, passed back, gives the same run
        MainRun again = main("simulate", "--trace", trace().toString(), "--json", "--no-progress", "--config",
                saved.toString());
        assertEquals(0, again.code(), again.err());
        assertEquals(root.get("instance_hours"), JSON.readTree(again.out()).get("instance_hours"));
        assertFalse(again.err().contains("pools derived"), again.err());
    }

    @Test
    void anUntaggedTraceGetsTheBuiltInPoolAsBefore() throws IOException {
        Path untagged = write("untagged.jsonl", Files.readString(trace()).replaceAll("\"tag_list\": \\[[^]]*]",
                "\"tag_list\": []"));
        MainRun derived = main("simulate", "--trace", untagged.toString(), "--json", "--no-progress");
        MainRun builtIn = main("simulate", "--trace", untagged.toString(), "--json", "--no-progress", "--config",
                "../cli/src/main/resources/io/runnerscale/cli/default-pools.yaml");
        assertEquals(0, derived.code(), derived.err());
        assertEquals(0, builtIn.code(), builtIn.err());
        assertEquals(JSON.readTree(builtIn.out()), JSON.readTree(derived.out()));
        assertTrue(derived.err().contains("pools derived from the trace (one per tag set") && derived.err().contains(
                "  - name: default   # 22 job(s)\n    match: {run_untagged: true}"), "printed to save: " + derived.err());
    }
}
