package io.runnerscale.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.testing.SharedFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code GET /metrics} of a real {@code serve}: deliveries driven through its webhook, then scraped.
 * The tick is long, so the only decision is the one the pending job asked for.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServeMetricsTest {
    private static final String TOKEN = "metrics-hook-token";
    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private ServeCommand.Running serve;
    private URI base;

    @BeforeAll
    void start() throws Exception {
        serve = ServeCommand.start(List.of("--port", "0", "--webhook-token", TOKEN, "--boot", "1s", "--tick", "10m",
                "--in-memory"), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        base = URI.create("http://127.0.0.1:" + serve.port());
    }

    @AfterAll
    void stop() {
        if (serve != null) {
            serve.close();
        }
    }

    private int jobHook(long jobId, String status, String token) throws Exception {
        ObjectNode hook = (ObjectNode) json.readTree(Files.readString(SharedFiles.fixture("gitlab")
                .resolve("gitlab-doc_job_hook.json")));
        hook.put("build_id", jobId).put("build_status", status); // build_queued_duration: 1095.588715
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve("/webhook")).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").header("X-Gitlab-Event", "Job Hook")
                .header("X-Gitlab-Token", token).POST(HttpRequest.BodyPublishers.ofString(hook.toString()));
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
    }

    private HttpResponse<String> scrape() throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve("/metrics")).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private List<String> awaitLine(String line) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        List<String> lines;
        do {
            lines = Arrays.asList(scrape().body().split("\n"));
            if (lines.contains(line)) {
                return lines;
            }
            Thread.sleep(25);
        } while (System.nanoTime() < deadline);
        return fail("no line '" + line + "' in GET /metrics:\n" + String.join("\n", lines));
    }

    @Test
    void deliveriesDecisionsAndJobWaitsAreScraped() throws Exception {
        assertEquals(200, jobHook(5001, "pending", TOKEN));
        assertEquals(401, jobHook(5001, "pending", "guess"));

        // the decision the pending job asked for: one latency point, its gauges, every instance state
        List<String> lines = awaitLine("runnerscale_scale_latency_seconds_count{pool=\"default\"} 1");
        assertTrue(lines.contains("runnerscale_pending_jobs{pool=\"default\"} 1.0"), String.join("\n", lines));
        assertTrue(lines.contains("runnerscale_needed_slots{pool=\"default\"} 1.0"), String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("runnerscale_scale_decisions_total{pool=\"default\"} ")));
        for (String state : List.of("booting", "idle", "busy", "draining")) {
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("runnerscale_instances{pool=\"default\",state=\""
                    + state + "\"} ")), state + ":\n" + String.join("\n", lines));
        }

        // the job starts: its wait is GitLab's build_queued_duration
        assertEquals(200, jobHook(5001, "running", TOKEN));
        HttpResponse<String> response = scrape();
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                response.headers().toString());
        List<String> after = Arrays.asList(response.body().split("\n"));
        for (String line : List.of(
                "runnerscale_webhook_deliveries_total{status=\"200\"} 2.0",
                "runnerscale_webhook_deliveries_total{status=\"401\"} 1.0",
                "runnerscale_job_wait_seconds_bucket{pool=\"default\",le=\"600.0\"} 0",
                "runnerscale_job_wait_seconds_bucket{pool=\"default\",le=\"1800.0\"} 1",
                "runnerscale_job_wait_seconds_count{pool=\"default\"} 1",
                "runnerscale_job_wait_seconds_sum{pool=\"default\"} 1095.589")) {
            assertTrue(after.contains(line), "no line '" + line + "' in:\n" + response.body());
        }
    }

    @Test
    void metricsTakeOnlyGetAndHead() throws Exception {
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(base.resolve("/metrics"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
        assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElse(""));
    }
}
