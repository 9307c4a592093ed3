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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code serve --gitlab-url}'s GitLab metrics: a tag lookup GitLab cannot answer is a GitLab API
 * error, and the reconciler's repair of the job (its running webhook lost) a reconciler repair.
 */
class ServeReconcileMetricsTest {
    static final String TOKEN = "hook-token";
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    final AtomicInteger asked = new AtomicInteger();
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

    @Test
    void gitlabErrorsAndRepairsAreScraped() throws Exception {
        gitlab = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        gitlab.createContext("/api/v4/projects/42/jobs/71", exchange -> {
            // the webhook's tag lookup (the first call) finds GitLab down; the reconciler finds the job running
            if (asked.getAndIncrement() == 0) {
                exchange.sendResponseHeaders(503, -1);
                exchange.close();
                return;
            }
            byte[] bytes = ("""
                    {"id": 71, "status": "running", "stage": "test", "name": "unit", "tag_list": [],
                     "created_at": "2026-01-07T11:59:00.000Z", "started_at": "%s", "queued_duration": 4.2,
                     "pipeline": {"id": 9}, "project": {"id": 42}, "runner": {"id": 7, "description": "i-0abc"}}"""
                    .formatted(Instant.now())).getBytes(StandardCharsets.UTF_8);
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
        String pending = """
                {"object_kind":"build","build_id":71,"project_id":42,"build_status":"pending","pipeline_id":9,
                 "build_created_at":"2026-01-07 11:59:00 UTC","runner":null}""";
        String base = "http://127.0.0.1:" + serve.port();
        HttpResponse<String> stored = http.send(HttpRequest.newBuilder(URI.create(base + "/webhook"))
                .header("X-Gitlab-Token", TOKEN).header("X-Gitlab-Event", "Job Hook")
                .POST(HttpRequest.BodyPublishers.ofString(pending)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, stored.statusCode(), stored.body());

        List<String> wanted = List.of("runnerscale_gitlab_api_errors_total{kind=\"unavailable\"} 1.0",
                "runnerscale_reconciler_repairs_total{kind=\"TO_RUNNING\"} 1.0");
        Instant deadline = Instant.now().plus(Duration.ofSeconds(20));
        List<String> lines = List.of();
        while (Instant.now().isBefore(deadline)) {
            lines = Arrays.asList(http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).GET().build(),
                    HttpResponse.BodyHandlers.ofString()).body().split("\n"));
            if (lines.containsAll(wanted)) {
                return;
            }
            Thread.sleep(200);
        }
        fail("not all of " + wanted + " in GET /metrics:\n" + String.join("\n", lines));
    }
}
