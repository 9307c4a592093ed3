package io.runnerscale.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigParser;
import io.runnerscale.testing.SharedFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static io.runnerscale.cli.MainRun.main;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line as a user runs it: {@link Main#run} with its exit code, stdout and stderr. */
class MainTest {
    private static final Path RUNNER_FIXTURES = SharedFiles.fixture("gitlab-runner");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** 40 jobs in GitLab's jobs-API shape: bursts of 4 every 5 minutes, some queued, one never started. */
    private Path smallTrace() throws IOException {
        StringBuilder lines = new StringBuilder();
        Instant start = Instant.parse("2020-05-05T09:00:00Z");
        for (int i = 0; i < 40; i++) {
            Instant started = start.plusSeconds((i / 4) * 300L + (i % 4) * 7L);
            lines.append(String.format("{\"id\": %d, \"status\": \"success\", \"created_at\": \"%s\", \"started_at\": \"%s\", "
                    + "\"duration\": %d.0, \"queued_duration\": %d.5, \"tag_list\": []}%n",
                    i + 1, started, started, 60 + (i * 53) % 400, i % 3));
        }
        lines.append("{\"id\": 99, \"status\": \"canceled\", \"started_at\": null, \"duration\": null}\n");
        Path trace = dir.resolve("small.jsonl");
        Files.writeString(trace, lines);
        return trace;
    }

    // -- top level -------------------------------------------------------------------------------

    @Test
    void noArgumentsPrintsUsageAndExits2() {
        MainRun r = main();
        assertEquals(2, r.code());
        assertTrue(r.out().contains("usage: runnerscale <command>"), r.out());
        for (String command : List.of("serve", "simulate", "import-config", "bench-webhook")) {
            assertTrue(r.out().contains("  " + command + " "), "usage lists " + command);
        }
    }

    @Test
    void helpExits0() {
        assertEquals(0, main("--help").code());
        MainRun r = main("simulate", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("--trace"), r.out());
    }

    @Test
    void unknownCommandExits2() {
        MainRun r = main("deploy");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown command 'deploy'"), r.err());
    }

    // -- simulate --------------------------------------------------------------------------------

    @Test
    void simulateJsonHasEveryKeyWithSaneValues() throws Exception {
        MainRun r = main("simulate", "--trace", smallTrace().toString(), "--json", "--no-progress", "--price", "0.1");
        assertEquals(0, r.code(), r.err());
        JsonNode root = JSON.readTree(r.out());

        assertEquals(40, root.get("jobs").asInt(), "the job that never started is skipped");
        assertTrue(root.get("trace").asText().contains("1 skipped"), root.get("trace").asText());
        assertSummary(root, 40);
        JsonNode baselines = root.get("baselines");
        for (String baseline : List.of("oracle", "always_on", "gitlab_taskscaler")) {
            assertTrue(baselines.has(baseline), "baselines." + baseline + " in " + baselines);
            assertSummary(baselines.get(baseline), 40);
        }
        JsonNode oracle = baselines.get("oracle");
        for (String p : List.of("p50", "p95", "p99", "max")) {
            assertEquals(0.0, oracle.get("wait_seconds").get(p).asDouble(), "oracle never waits: " + p);
        }
        assertEquals(0.0, oracle.get("idle_instance_hours").asDouble());
        assertEquals(0.0, baselines.get("always_on").get("wait_seconds").get("max").asDouble());
        // runnerscale's jobs waited for boots at least once (no warm capacity in the default pool)
        assertTrue(root.get("wait_seconds").get("max").asDouble() >= 40, root.get("wait_seconds").toString());
        assertTrue(root.has("forecast"), "the variant with forecast on is reported too");
    }

    private static void assertSummary(JsonNode node, int jobs) {
        for (String key : List.of("jobs", "wait_seconds", "instance_hours", "idle_instance_hours", "peak_instances", "cost_usd")) {
            assertTrue(node.has(key), key + " missing in " + node);
        }
        assertEquals(jobs, node.get("jobs").asInt(), node.toString());
        JsonNode w = node.get("wait_seconds");
        double p50 = w.get("p50").asDouble(), p95 = w.get("p95").asDouble(), p99 = w.get("p99").asDouble(), max = w.get("max").asDouble();
        assertTrue(0 <= p50 && p50 <= p95 && p95 <= p99 && p99 <= max, w.toString());
        double hours = node.get("instance_hours").asDouble();
        assertTrue(hours > 0, node.toString());
        double idle = node.get("idle_instance_hours").asDouble();
        assertTrue(idle >= 0 && idle <= hours + 0.01, node.toString());
        assertTrue(node.get("peak_instances").asInt() >= 1, node.toString());
        assertEquals(hours * 0.1, node.get("cost_usd").asDouble(), 0.01, "cost = instance-hours x price");
    }

    @Test
    void simulateWithoutPriceReportsNullCostAndTableByDefault() throws Exception {
        Path trace = smallTrace();
        MainRun json = main("simulate", "--trace", trace.toString(), "--json", "--no-progress");
        assertEquals(0, json.code(), json.err());
        assertTrue(JSON.readTree(json.out()).get("cost_usd").isNull());

        MainRun table = main("simulate", "--trace", trace.toString(), "--no-progress");
        assertEquals(0, table.code(), table.err());
        for (String policy : List.of("runnerscale", "gitlab_taskscaler", "oracle", "always_on")) {
            assertTrue(table.out().contains("\n" + policy + " "), policy + " row in\n" + table.out());
        }
    }

    @Test
    void simulateReportWritesHtmlWithEveryPolicy() throws Exception {
        Path report = dir.resolve("report.html");
        MainRun r = main("simulate", "--trace", smallTrace().toString(), "--report", report.toString(), "--no-progress");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("report written to"), r.err());
        String html = Files.readString(report);
        assertTrue(html.startsWith("<!DOCTYPE html>") || html.startsWith("<!doctype html>"), html.substring(0, 40));
        for (String policy : List.of("runnerscale", "gitlab_taskscaler", "oracle", "always_on")) {
            assertTrue(html.contains(policy), "report names " + policy);
        }
    }

    @Test
    void simulateUnknownOptionExits2NamingIt() throws Exception {
        MainRun r = main("simulate", "--trace", smallTrace().toString(), "--fast");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--fast"), r.err());
        assertTrue(r.err().contains("usage: runnerscale simulate"), r.err());
    }

    @Test
    void simulateWithoutTraceExits2() {
        MainRun r = main("simulate", "--json");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--trace FILE is required"), r.err());
    }

    @Test
    void simulateMissingTraceFileSaysSo() {
        Path missing = dir.resolve("nope.jsonl");
        MainRun r = main("simulate", "--trace", missing.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains(missing + " does not exist"), r.err());
    }

    @Test
    void simulateBrokenTraceExits1NamingTheFile() throws Exception {
        Path broken = dir.resolve("broken.jsonl");
        Files.writeString(broken, "{\"id\": 1, \"started_at\": ");
        MainRun r = main("simulate", "--trace", broken.toString(), "--no-progress");
        assertEquals(1, r.code());
        assertTrue(r.err().contains(broken.toString()), r.err());
    }

    @Test
    void simulateBadConfigExits1NamingPoolAndField() throws Exception {
        Path config = dir.resolve("pools.yaml");
        Files.writeString(config, """
                pools:
                  - name: docker-spot
                    match: {tags: [docker]}
                    backend: {type: ec2-asg, asg: runners}
                    capacity_per_instance: 0
                    policy:
                      - {idle_count: 1, idle_tme: 5m}
                """);
        MainRun r = main("simulate", "--trace", smallTrace().toString(), "--config", config.toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(config.toString()), r.err());
        assertTrue(r.err().contains("pool 'docker-spot': capacity_per_instance"), r.err());
        assertTrue(r.err().contains("pool 'docker-spot': policy[0].idle_tme"), r.err());
    }

    @Test
    void simulateBadNumberExits2() throws Exception {
        MainRun r = main("simulate", "--trace", smallTrace().toString(), "--price", "cheap");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--price"), r.err());
    }

    @Test
    void simulateIsDeterministic() throws Exception {
        Path trace = smallTrace();
        MainRun a = main("simulate", "--trace", trace.toString(), "--json", "--no-progress", "--seed", "7");
        MainRun b = main("simulate", "--trace", trace.toString(), "--json", "--no-progress", "--seed", "7");
        assertEquals(0, a.code(), a.err());
        assertEquals(a.out(), b.out());
    }

    // -- import-config ---------------------------------------------------------------------------

    @Test
    void importConfigPrintsYamlThatLoadsAsPools() throws Exception {
        Path toml = RUNNER_FIXTURES.resolve("docker-autoscaler.config.toml");
        MainRun r = main("import-config", toml.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("setting(s) not mapped"), r.err());

        PoolsConfig pools = PoolsConfigParser.parse(r.out(), "import-config output");
        assertEquals(List.of("ci-instance", "ci-docker"), pools.pools().stream().map(PoolConfig::name).toList());
        PoolConfig docker = pools.pool("ci-docker").orElseThrow();
        assertEquals(5, docker.capacityPerInstance());
        assertEquals(25, docker.maxInstances());
        assertFalse(docker.match().runUntagged());
        assertEquals(List.of(), docker.match().tags());
        assertEquals("ci-instance", pools.untaggedPool().orElseThrow().name());
    }

    @Test
    void importConfigOfDockerMachineLoadsAsPools() throws Exception {
        Path out = dir.resolve("pools.yaml");
        MainRun r = main("import-config", RUNNER_FIXTURES.resolve("docker-machine.config.toml").toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.out(), "with --out nothing goes to stdout");
        PoolsConfig pools = PoolsConfigParser.parse(Files.readString(out), out.toString());
        PoolConfig pool = pools.pools().getFirst();
        assertEquals(2, pool.policy().size(), "base entry plus the off-peak entry");
        // and serve/simulate accept it as --config
        MainRun simulate = main("simulate", "--trace", smallTrace().toString(), "--config", out.toString(), "--json", "--no-progress");
        assertEquals(0, simulate.code(), simulate.err());
    }

    @Test
    void importConfigMissingFileExits1() {
        MainRun r = main("import-config", dir.resolve("config.toml").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("config.toml") && r.err().contains("not found"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void importConfigNeedsExactlyOneFile() {
        assertEquals(2, main("import-config").code());
    }

    // -- serve (argument errors only; the server itself: ServeEndToEndTest) --------------------

    @Test
    void serveRejectsBadOptionsBeforeStartingAnything() throws Exception {
        MainRun unknown = main("serve", "--prot", "8080");
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("--prot"), unknown.err());

        MainRun compute = main("serve", "--compute", "k8s");
        assertEquals(2, compute.code());
        assertTrue(compute.err().contains("--compute"), compute.err());

        MainRun tick = main("serve", "--tick", "0s");
        assertEquals(2, tick.code());
        assertTrue(tick.err().contains("--tick"), tick.err());

        Path config = dir.resolve("bad.yaml");
        Files.writeString(config, "pools:\n  - name: x\n    backend: {type: lambda}\n");
        MainRun bad = main("serve", "--config", config.toString());
        assertEquals(1, bad.code());
        assertTrue(bad.err().contains("pool 'x': backend.type"), bad.err());
    }

    // -- bench-webhook (a tiny run: it works end to end; the numbers are for humans) -----------

    @Test
    void benchWebhookRunsEndToEnd() {
        MainRun r = main("bench-webhook", "--deliveries", "90", "--warmup", "30", "--concurrency", "2", "--scale-jobs", "5");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("latency ms (1 client):   p50 "), r.out());
        assertTrue(r.out().contains("deliveries/s (2 concurrent clients)"), r.out());
        assertTrue(r.out().contains("desired capacity raised") && r.out().contains("5 jobs:"), r.out());
        assertFalse(r.out().contains("without a launch"), r.out());
        java.util.regex.Matcher dup = java.util.regex.Pattern.compile("(\\d+) duplicates; (\\d+) answered as duplicates").matcher(r.out());
        assertTrue(dup.find(), r.out());
        assertEquals(dup.group(1), dup.group(2), "every resend is recognised by its Idempotency-Key");
    }

    @Test
    void benchWebhookRejectsZeroDeliveries() {
        MainRun r = main("bench-webhook", "--deliveries", "0");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--deliveries"), r.err());
    }
}
