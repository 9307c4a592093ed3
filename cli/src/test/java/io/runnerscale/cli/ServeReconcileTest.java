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
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code serve --gitlab-url}: the reconciler reads back a job whose "running" webhook never came and
 * stores what GitLab says, through the webhook's own write.
 */
class ServeReconcileTest {
    static final String TOKEN = "hook-token";
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    final AtomicReference<String> gitlabStatus = new AtomicReference<>("pending");
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
    void aLostRunningWebhookIsRepairedFromGitLab() throws Exception {
        gitlab = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        gitlab.createContext("/api/v4/projects/42/jobs/71", exchange -> {
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
        String pending = """
                {"object_kind":"build","build_id":71,"project_id":42,"build_status":"pending","pipeline_id":9,
                 "build_created_at":"2026-01-07 11:59:00 UTC","runner":null}""";
        HttpResponse<String> stored = http.send(HttpRequest.newBuilder(URI.create(base() + "/webhook"))
                .header("X-Gitlab-Token", TOKEN).header("X-Gitlab-Event", "Job Hook")
                .POST(HttpRequest.BodyPublishers.ofString(pending)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, stored.statusCode(), stored.body());
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

    String base() {
        return "http://127.0.0.1:" + serve.port();
    }
}
