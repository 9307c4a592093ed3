package io.runnerscale.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.simulate.SimulatedFleet;
import io.runnerscale.testing.SharedFiles;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code runnerscale serve} in this JVM, over HTTP: the real webhook service, DynamoDB Local and
 * the simulated fleet (1 s boot, 1 s tick), fed GitLab's documented hook payloads.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServeEndToEndTest {
    private static final Path FIXTURES = SharedFiles.fixture("gitlab");
    private static final String TOKEN = "s3cret-hook-token";
    private static final Duration DEADLINE = Duration.ofSeconds(15);

    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private ServeCommand.Running serve;
    private URI base;
    private String output;
    private String lastOutput;

    @BeforeAll
    void start() throws Exception {
        serve = startServe();
        output = lastOutput;
        base = URI.create("http://127.0.0.1:" + serve.port());
    }

    @AfterAll
    void stop() {
        if (serve != null) {
            serve.close();
        }
    }

    private ServeCommand.Running startServe() throws Exception {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        ServeCommand.Running running = ServeCommand.start(List.of("--port", "0", "--webhook-token", TOKEN,
                "--boot", "1s", "--tick", "1s", "--in-memory"), new PrintStream(buffer, true, StandardCharsets.UTF_8));
        lastOutput = buffer.toString(StandardCharsets.UTF_8);
        return running;
    }

    // -- HTTP helpers ----------------------------------------------------------------------------

    private HttpResponse<String> post(String body, Map<String, String> headers) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve("/webhook"))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> jobHook(String body) throws IOException, InterruptedException {
        return post(body, Map.of("X-Gitlab-Event", "Job Hook", "X-Gitlab-Token", TOKEN));
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private JsonNode getJson(String path, int expectedStatus) throws IOException, InterruptedException {
        HttpResponse<String> response = get(path);
        assertEquals(expectedStatus, response.statusCode(), path + ": " + response.body());
        assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(""));
        return json.readTree(response.body());
    }

    private JsonNode pool(String name) throws IOException, InterruptedException {
        for (JsonNode pool : getJson("/status", 200).get("pools")) {
            if (pool.get("name").asText().equals(name)) {
                return pool;
            }
        }
        return fail("no pool " + name + " in /status");
    }

    /** Polls GET /status until the pool satisfies the condition; fails with the last answer at the deadline. */
    private JsonNode awaitPool(String name, Predicate<JsonNode> condition, String what) throws Exception {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        JsonNode last;
        do {
            last = pool(name);
            if (condition.test(last)) {
                return last;
            }
            Thread.sleep(25);
        } while (System.nanoTime() < deadline);
        return fail(what + " within " + DEADLINE + "; last /status for " + name + ": " + last);
    }

    private ObjectNode fixture(String name) throws IOException {
        return (ObjectNode) json.readTree(Files.readString(FIXTURES.resolve(name)));
    }

    private ObjectNode jobHookFixture(long jobId, String status) throws IOException {
        ObjectNode hook = fixture("gitlab-doc_job_hook.json");
        hook.put("build_id", jobId).put("build_status", status);
        return hook;
    }

    // -- tests -----------------------------------------------------------------------------------

    @Test
    void printsWhereItServes() {
        assertTrue(output.contains("runnerscale serving on http://127.0.0.1:" + serve.port()), output);
        assertTrue(output.contains("webhook token: as given"), output);
        assertTrue(output.contains("state: in memory (lost when serve stops)"), output);
        assertFalse(output.contains(TOKEN), "a given token is never echoed");
        assertNotEquals(0, serve.port());
    }

    @Test
    void pendingJobScalesOutAndMovesOnlyForward() throws Exception {
        // GitLab's documented Job Hook, as it looks when the job starts waiting for a runner
        HttpResponse<String> response = jobHook(jobHookFixture(1977, "pending").toString());
        assertEquals(200, response.statusCode(), response.body());
        JsonNode result = json.readTree(response.body()).get("jobs").get(0);
        assertEquals("applied", result.get("result").asText(), response.body());
        assertEquals("default", result.get("pool").asText());

        JsonNode job = getJson("/jobs/380/1977", 200);
        assertEquals("pending", job.get("status").asText());
        assertEquals("default", job.get("pool").asText(), "no GitLab API: the pool for untagged jobs");
        assertEquals(2366, job.get("pipelineId").asLong());

        JsonNode pool = awaitPool("default", p -> p.get("pending").asInt() == 1 && p.get("desired").asInt() >= 1,
                "pending 1 and desired >= 1");
        assertEquals(0, pool.get("running").asInt());
        awaitPool("default", p -> p.get("ready").asInt() >= 1, "an instance ready after the 1 s boot");

        // a runner on that instance picks the job: the runner's description is the instance id
        SimulatedFleet.Instance instance = serve.fleet().members("default").getFirst();
        ObjectNode running = jobHookFixture(1977, "running");
        ((ObjectNode) running.get("runner")).put("description", instance.id());
        running.put("build_started_at", "2021-02-23 02:59:53 UTC");
        assertEquals(200, jobHook(running.toString()).statusCode());
        job = getJson("/jobs/380/1977", 200);
        assertEquals("running", job.get("status").asText());
        assertEquals(instance.id(), job.get("instanceId").asText());
        awaitPool("default", p -> p.get("pending").asInt() == 0 && p.get("running").asInt() == 1, "running 1");

        // a late pending delivery (GitLab guarantees no order) is answered 200 and changes nothing
        HttpResponse<String> late = jobHook(jobHookFixture(1977, "pending").toString());
        assertEquals(200, late.statusCode());
        assertEquals("stale", json.readTree(late.body()).get("jobs").get(0).get("result").asText(), late.body());
        assertEquals("running", getJson("/jobs/380/1977", 200).get("status").asText());

        ObjectNode success = jobHookFixture(1977, "success");
        ((ObjectNode) success.get("runner")).put("description", instance.id());
        success.put("build_finished_at", "2021-02-23 03:05:00 UTC");
        assertEquals(200, jobHook(success.toString()).statusCode());
        assertEquals("success", getJson("/jobs/380/1977", 200).get("status").asText());
        awaitPool("default", p -> p.get("pending").asInt() == 0 && p.get("running").asInt() == 0, "no live jobs");
    }

    @Test
    void wrongOrMissingTokenIs401AndStoresNothing() throws Exception {
        String body = jobHookFixture(4001, "pending").toString();
        HttpResponse<String> wrong = post(body, Map.of("X-Gitlab-Event", "Job Hook", "X-Gitlab-Token", "guess"));
        assertEquals(401, wrong.statusCode(), wrong.body());
        HttpResponse<String> missing = post(body, Map.of("X-Gitlab-Event", "Job Hook"));
        assertEquals(401, missing.statusCode(), missing.body());
        getJson("/jobs/380/4001", 404);
    }

    @Test
    void unknownJobIs404() throws Exception {
        JsonNode body = getJson("/jobs/380/999999", 404);
        assertTrue(body.get("error").asText().contains("unknown"), body.toString());
    }

    @Test
    void nonJsonBodyIs400() throws Exception {
        HttpResponse<String> response = jobHook("this is not json");
        assertEquals(400, response.statusCode(), response.body());
        assertTrue(json.readTree(response.body()).has("error"));

        HttpResponse<String> missingField = jobHook("{\"object_kind\": \"build\", \"project_id\": 380}");
        assertEquals(400, missingField.statusCode(), missingField.body());
        assertEquals("build_id", json.readTree(missingField.body()).get("field").asText());
    }

    @Test
    void otherEndpointsAndMethods() throws Exception {
        assertEquals(405, get("/webhook").statusCode());
        assertEquals(404, get("/nope").statusCode());
    }

    @Test
    void pipelineHookStoresEveryBuild() throws Exception {
        ObjectNode hook = fixture("gitlab-doc_pipeline_hook.json");
        HttpResponse<String> response = post(hook.toString(), Map.of("X-Gitlab-Event", "Pipeline Hook", "X-Gitlab-Token", TOKEN));
        assertEquals(200, response.statusCode(), response.body());
        JsonNode body = json.readTree(response.body());
        assertEquals(hook.get("builds").size(), body.get("applied").asInt(), response.body());

        long projectId = hook.at("/project/id").asLong();
        for (JsonNode build : hook.get("builds")) {
            JsonNode job = getJson("/jobs/" + projectId + "/" + build.get("id").asLong(), 200);
            assertEquals(build.get("status").asText(), job.get("status").asText(), job.toString());
            assertEquals(hook.at("/object_attributes/id").asLong(), job.get("pipelineId").asLong());
        }
    }

    @Test
    void duplicateDeliveryWithTheSameIdempotencyKeyIsAcknowledgedOnce() throws Exception {
        String body = jobHookFixture(5005, "success").toString();
        Map<String, String> headers = Map.of("X-Gitlab-Event", "Job Hook", "X-Gitlab-Token", TOKEN,
                "Idempotency-Key", UUID.randomUUID().toString());
        HttpResponse<String> first = post(body, headers);
        HttpResponse<String> second = post(body, headers);
        assertEquals(200, first.statusCode());
        assertEquals(1, json.readTree(first.body()).get("applied").asInt(), first.body());
        assertEquals(200, second.statusCode());
        assertTrue(json.readTree(second.body()).get("duplicate").asBoolean(), second.body());
    }

    @Test
    void stopsCleanlyAndReleasesItsPorts() throws Exception {
        ServeCommand.Running other = startServe();
        int port = other.port();
        Matcher dynamo = Pattern.compile("DynamoDB Local at http://127\\.0\\.0\\.1:(\\d+)").matcher(lastOutput);
        assertTrue(dynamo.find(), lastOutput);
        int dynamoPort = Integer.parseInt(dynamo.group(1));
        HttpResponse<String> status = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/status"))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, status.statusCode());

        other.close();
        other.close(); // idempotent

        for (int released : new int[]{port, dynamoPort}) {
            try (ServerSocket socket = new ServerSocket(released, 1, InetAddress.getLoopbackAddress())) {
                assertEquals(released, socket.getLocalPort());
            }
        }
    }
}
