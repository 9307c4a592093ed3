package io.runnerscale.cli;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code serve --gitlab-url}: the reconciler reads back a job whose "running" webhook never came and
 * stores what GitLab says, through the webhook's own write; and what GitLab's answers did is scraped
 * from {@code GET /metrics}.
 */
class ServeReconcileTest {
    static final String TOKEN = "hook-token";
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    /** What the fake GitLab says job 42/71 is. */
    final AtomicReference<String> gitlabStatus = new AtomicReference<>("pending");
    /** Calls for the job the fake GitLab answers 503 before it answers at all. */
    final AtomicInteger unavailableAnswers = new AtomicInteger();
    HttpServer gitlab;
    ServeCommand.Running serve;

    @AfterEach
    void stop() {
        if (serve != null) {
            serve.close();
        }
        if (gitlab != null) {
            gitlab.stop(0);
        }
    }

    /** A fake GitLab answering job 42/71 as {@link #gitlabStatus} says, and serve reconciling every second. */
    void startGitLabAndServe() throws Exception {
        gitlab = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        gitlab.createContext("/api/v4/projects/42/jobs/71", exchange -> {
            if (unavailableAnswers.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                exchange.sendResponseHeaders(503, -1);
                exchange.close();
                return;
            }
            String body = """
                    {"id": 71, "status": "%s", "stage": "test", "name": "unit", "tag_list": [],
                     "created_at": "2026-01-07T11:59:00.000Z", "started_at": %s, "queued_duration": 4.2,
                     "pipeline": {"id": 9}, "project": {"id": 42},
                     "runner": %s}""".formatted(gitlabStatus.get(),
                    gitlabStatus.get().equals("running") ? "\"" + Instant.now() + "\"" : "null",
                    gitlabStatus.get().equals("running") ? "{\"id\": 7, \"description\": \"i-0abc\"}" : "null");
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        gitlab.start();
        serve = ServeCommand.start(List.of("--port", "0", "--webhook-token", TOKEN, "--in-memory",
                        "--gitlab-url", "http://127.0.0.1:" + gitlab.getAddress().getPort(),
                        "--reconcile-every", "1s", "--reconcile-pending-after", "1s"),
                new PrintStream(new ByteArrayOutputStream()), Map.of("GITLAB_TOKEN", "glpat-test"));
    }

    /** Job 42/71's pending webhook, delivered and stored. */
    void deliverPending() throws Exception {
        String pending = """
                {"object_kind":"build","build_id":71,"project_id":42,"build_status":"pending","pipeline_id":9,
                 "build_created_at":"2026-01-07 11:59:00 UTC","runner":null}""";
        HttpResponse<String> stored = http.send(HttpRequest.newBuilder(URI.create(base() + "/webhook"))
                .header("X-Gitlab-Token", TOKEN).header("X-Gitlab-Event", "Job Hook")
                .POST(HttpRequest.BodyPublishers.ofString(pending)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, stored.statusCode(), stored.body());
    }

    @Test
    void aLostRunningWebhookIsRepairedFromGitLab() throws Exception {
        startGitLabAndServe();
        deliverPending();
        // GitLab ran the job; its "running" webhook never arrived
        gitlabStatus.set("running");
        Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
        String job = "";
        while (Instant.now().isBefore(deadline)) {
            job = http.send(HttpRequest.newBuilder(URI.create(base() + "/jobs/42/71")).GET().build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            if (job.contains("\"running\"")) {
                assertTrue(job.contains("i-0abc") || job.contains("\"runnerId\":7"), job);
                return;
            }
            Thread.sleep(200);
        }
        fail("the job was not repaired from GitLab: " + job);
    }

    /**
     * A tag lookup GitLab cannot answer is a GitLab API error, and the reconciler's repair of the job
     * (its running webhook lost) a reconciler repair.
     */
    @Test
    void gitlabErrorsAndRepairsAreScraped() throws Exception {
        // the webhook's tag lookup (the first call) finds GitLab down; the reconciler finds the job running
        unavailableAnswers.set(1);
        gitlabStatus.set("running");
        startGitLabAndServe();
        deliverPending();

        List<String> wanted = List.of("runnerscale_gitlab_api_errors_total{kind=\"unavailable\"} 1.0",
                "runnerscale_reconciler_repairs_total{kind=\"TO_RUNNING\"} 1.0");
        Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
        List<String> lines = List.of();
        while (Instant.now().isBefore(deadline)) {
            lines = Arrays.asList(http.send(HttpRequest.newBuilder(URI.create(base() + "/metrics")).GET().build(),
                    HttpResponse.BodyHandlers.ofString()).body().split("\n"));
            if (lines.containsAll(wanted)) {
                return;
            }
            Thread.sleep(200);
        }
        fail("not all of " + wanted + " in GET /metrics:\n" + String.join("\n", lines));
    }

    String base() {
        return "http://127.0.0.1:" + serve.port();
    }
}
