package io.runnerscale.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.local.EmbeddedDynamo;
import io.runnerscale.testing.SharedFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Where {@code serve} keeps its state: a locked data directory that survives a restart, or memory. */
@Timeout(120)
class ServeStateTest {
    private static final Path FIXTURES = SharedFiles.fixture("gitlab");
    private static final String TOKEN = "s3cret-hook-token";

    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private String output;

    @TempDir
    Path temp;

    private ServeCommand.Running serve(String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("--port", "0", "--webhook-token", TOKEN, "--tick", "1h"));
        args.addAll(List.of(extra));
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        ServeCommand.Running running = ServeCommand.start(args, new PrintStream(buffer, true, StandardCharsets.UTF_8),
                Map.of());
        output = buffer.toString(StandardCharsets.UTF_8);
        return running;
    }

    private HttpResponse<String> deliver(ServeCommand.Running serve, String body, String idempotencyKey)
            throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + serve.port() + "/webhook"))
                .timeout(Duration.ofSeconds(10))
                .header("X-Gitlab-Event", "Job Hook").header("X-Gitlab-Token", TOKEN)
                .header("Idempotency-Key", idempotencyKey)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(ServeCommand.Running serve, String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + serve.port() + path))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private String pendingJob(long jobId) throws IOException {
        ObjectNode hook = (ObjectNode) json.readTree(Files.readString(FIXTURES.resolve("gitlab-doc_job_hook.json")));
        return hook.put("build_id", jobId).put("build_status", "pending").toString();
    }

    @Test
    void jobsAndDeliveriesSurviveARestartOnTheSameDataDirectory() throws Exception {
        Path dataDir = temp.resolve("state");
        String body = pendingJob(7001);
        try (ServeCommand.Running first = serve("--data-dir", dataDir.toString())) {
            assertTrue(output.contains("state: " + dataDir + " (kept across restarts)"), output);
            HttpResponse<String> applied = deliver(first, body, "delivery-7001");
            assertEquals(200, applied.statusCode(), applied.body());
            assertEquals("applied", json.readTree(applied.body()).at("/jobs/0/result").asText(), applied.body());
        }
        assertTrue(Files.isRegularFile(dataDir.resolve("dynamodb").resolve(EmbeddedDynamo.DB_FILE)),
                "DynamoDB Local's file in the data directory");

        try (ServeCommand.Running second = serve("--data-dir", dataDir.toString())) {
            HttpResponse<String> job = get(second, "/jobs/380/7001");
            assertEquals(200, job.statusCode(), "the job stored before the restart: " + job.body());
            assertEquals("pending", json.readTree(job.body()).get("status").asText());

            HttpResponse<String> resent = deliver(second, body, "delivery-7001");
            assertEquals(200, resent.statusCode(), resent.body());
            JsonNode answer = json.readTree(resent.body());
            assertTrue(answer.path("duplicate").asBoolean(), "the same delivery after a restart: " + resent.body());
        }
    }

    @Test
    void aSecondServeOnALockedDataDirectoryIsRefusedNamingIt() throws Exception {
        Path dataDir = temp.resolve("shared");
        try (ServeCommand.Running first = serve("--data-dir", dataDir.toString())) {
            Main.Failure refused = assertThrows(Main.Failure.class, () -> serve("--data-dir", dataDir.toString()));
            assertTrue(refused.getMessage().contains("data directory " + dataDir + " is in use by another runnerscale serve"),
                    refused.getMessage());
            assertTrue(refused.getMessage().contains("pid " + ProcessHandle.current().pid()), refused.getMessage());
            assertEquals(200, get(first, "/status").statusCode(), "the first serve is unharmed");
        }
        // released on close: the directory can be used again
        try (ServeCommand.Running again = serve("--data-dir", dataDir.toString())) {
            assertEquals(200, get(again, "/status").statusCode());
        }
    }

    @Test
    void inMemoryKeepsNothingAndSaysSo() throws Exception {
        String body = pendingJob(7002);
        try (ServeCommand.Running first = serve("--in-memory")) {
            assertTrue(output.contains("state: in memory (lost when serve stops)"), output);
            assertEquals(200, deliver(first, body, "delivery-7002").statusCode());
        }
        try (ServeCommand.Running second = serve("--in-memory")) {
            assertEquals(404, get(second, "/jobs/380/7002").statusCode());
        }
    }

    @Test
    void dataDirectoryDefaultsFollowTheEnvironment() {
        Path explicit = temp.resolve("explicit");
        assertEquals(explicit, ServeCommand.dataDirectory(null, Map.of("RUNNERSCALE_DATA_DIR", explicit.toString(),
                "XDG_DATA_HOME", temp.resolve("xdg").toString())));
        assertEquals(temp.resolve("xdg").resolve("runnerscale"),
                ServeCommand.dataDirectory(null, Map.of("XDG_DATA_HOME", temp.resolve("xdg").toString())));
        assertEquals(temp.resolve("home/.local/share/runnerscale"), ServeCommand.dataDirectory(null,
                Map.of("HOME", temp.resolve("home").toString(), "XDG_DATA_HOME", "relative/is/ignored")));
        Path given = temp.resolve("given");
        assertEquals(given, ServeCommand.dataDirectory(given.toString(), Map.of("RUNNERSCALE_DATA_DIR", "/elsewhere")));
        assertTrue(Files.isDirectory(given), "created");
    }

    @Test
    void aBigPipelineHookIsAnsweredAtOnceAndEveryJobIsStoredSoonAfter() throws Exception {
        ObjectNode hook = (ObjectNode) json.readTree(Files.readString(FIXTURES.resolve("gitlab-doc_pipeline_hook.json")));
        JsonNode template = hook.get("builds").get(0);
        var builds = hook.putArray("builds");
        for (int i = 1; i <= 300; i++) {
            builds.add(((ObjectNode) template.deepCopy()).put("id", 90_000 + i).put("status", "pending"));
        }
        long project = hook.path("project").path("id").asLong();
        try (ServeCommand.Running serve = serve("--data-dir", temp.resolve("big").toString())) {
            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + serve.port() + "/webhook"))
                    .timeout(Duration.ofSeconds(10))
                    .header("X-Gitlab-Event", "Pipeline Hook").header("X-Gitlab-Token", TOKEN)
                    .header("Idempotency-Key", "big-1")
                    .POST(HttpRequest.BodyPublishers.ofString(hook.toString())).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(202, answer.statusCode(), answer.body());
            assertEquals(300, json.readTree(answer.body()).path("queued").asInt());

            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            int stored = 0;
            for (int i = 1; i <= 300 && System.nanoTime() < deadline; ) {
                if (get(serve, "/jobs/" + project + "/" + (90_000 + i)).statusCode() == 200) {
                    stored++;
                    i++;
                } else {
                    Thread.sleep(50);
                }
            }
            assertEquals(300, stored, "every acknowledged job stored");
            assertEquals(300, json.readTree(get(serve, "/status").body()).at("/pools/0/pending").asInt());
        }
    }
}
