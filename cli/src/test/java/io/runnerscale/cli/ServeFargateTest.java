package io.runnerscale.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.pool.PoolsConfigParser;
import io.runnerscale.testing.SharedFiles;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
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
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code serve} with a Fargate pool over HTTP, on DynamoDB Local and the simulated ECS: a pending
 * job's webhook starts a task, the task runs the job the running webhook names and stops when the
 * success webhook comes; {@code GET /status} lists the pool's tasks. Every task state change went
 * through the lifecycle function's code, as an "ECS Task State Change" event.
 */
@Timeout(120)
class ServeFargateTest {
    static final Path GITLAB = SharedFiles.fixture("gitlab");
    static final String TOKEN = "s3cret-hook-token";
    static final Duration DEADLINE = Duration.ofSeconds(30);

    final ObjectMapper json = new ObjectMapper();
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    ServeCommand.Running serve;
    URI base;
    String output;

    @TempDir
    Path temp;

    @AfterEach
    void stop() {
        if (serve != null) {
            serve.close();
        }
    }

    void start(String waitTimeout) throws Exception {
        String pools = """
                pools:
                  - name: tasks
                    match: {run_untagged: true}
                    max_instances: 5
                    backend:
                      type: fargate
                      cluster: ci
                      task_definition: gitlab-runner-fargate
                      subnets: [subnet-a]
                      spot: true
                      wait_timeout: %s
                      start_time: 1s
                """.formatted(waitTimeout);
        PoolsConfigParser.parse(pools, "test");
        Path config = temp.resolve("pools.yaml");
        Files.writeString(config, pools);
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        serve = ServeCommand.start(List.of("--port", "0", "--webhook-token", TOKEN, "--tick", "1s", "--in-memory",
                "--config", config.toString()), new PrintStream(buffer, true, StandardCharsets.UTF_8), Map.of());
        output = buffer.toString(StandardCharsets.UTF_8);
        base = URI.create("http://127.0.0.1:" + serve.port());
    }

    void job(long jobId, String status) throws Exception {
        ObjectNode hook = (ObjectNode) json.readTree(Files.readString(GITLAB.resolve("gitlab-doc_job_hook.json")));
        hook.put("build_id", jobId).put("build_status", status);
        HttpRequest request = HttpRequest.newBuilder(base.resolve("/webhook")).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").header("X-Gitlab-Event", "Job Hook")
                .header("X-Gitlab-Token", TOKEN).POST(HttpRequest.BodyPublishers.ofString(hook.toString())).build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
    }

    JsonNode status() throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(base.resolve("/status"))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
        return json.readTree(response.body());
    }

    static JsonNode task(JsonNode status, String key) {
        for (JsonNode task : status.get("pools").get(0).get("tasks")) {
            if (task.get("key").asText().equals(key)) {
                return task;
            }
        }
        return null;
    }

    JsonNode awaitTask(String key, Predicate<JsonNode> done, String what) throws Exception {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        JsonNode last;
        do {
            last = status();
            JsonNode task = task(last, key);
            if (task != null && done.test(task)) {
                return task;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        return fail(what + " within " + DEADLINE + "; status: " + last);
    }

    static boolean in(JsonNode task, String... states) {
        return List.of(states).contains(task.get("state").asText());
    }

    @Test
    void aPendingJobGetsATaskThatRunsItAndStopsWhenItEnds() throws Exception {
        start("2m");
        assertTrue(output.contains("Fargate pools: simulated tasks"), output);

        job(1977, "pending");
        JsonNode started = awaitTask("380/1977#1", t -> !t.get("taskArn").isNull(), "a task started for the job");
        assertEquals("380/1977", started.get("job").asText());
        assertEquals(1, started.get("attempt").asInt());
        assertTrue(in(started, "starting", "running"), started.toString());
        String arn = started.get("taskArn").asText();
        assertTrue(arn.matches("arn:aws:ecs:us-east-1:000000000000:task/ci/[0-9a-f]{32}"), arn);
        assertEquals("FARGATE_SPOT", started.get("capacityProvider").asText(), "a Spot pool tries Fargate Spot first");
        JsonNode pool = status().get("pools").get(0);
        assertEquals("fargate", pool.get("backend").asText());
        assertFalse(pool.has("members"), "a Fargate pool has tasks, not instances");

        awaitTask("380/1977#1", t -> in(t, "running"), "the task running after its 1 s start");
        job(1977, "running");
        Thread.sleep(1000); // the task holds its job now: it keeps running however long the job takes
        JsonNode busy = task(status(), "380/1977#1");
        assertEquals("running", busy.get("state").asText(), busy.toString());
        assertEquals(1, status().get("pools").get(0).get("running").asInt());

        job(1977, "success");
        JsonNode stopped = awaitTask("380/1977#1", t -> in(t, "stopped"), "the task stopped after its job");
        assertEquals(arn, stopped.get("taskArn").asText());
        assertTrue(stopped.get("reason").asText().startsWith("EssentialContainerExited"), stopped.toString());
        assertFalse(stopped.get("failed").asBoolean(), "a runner that ran its job exits 0");
        assertFalse(stopped.get("interrupted").asBoolean());
        JsonNode after = status().get("pools").get(0);
        assertEquals(0, after.get("pending").asInt());
        assertEquals(0, after.get("running").asInt());
        assertEquals(1, after.get("tasks").size(), "no second task: the job never waited again");
        Thread.sleep(1500); // a tick or two: the scaler has forgotten the stopped task, GET /status still shows why it stopped
        JsonNode later = task(status(), "380/1977#1");
        assertEquals("stopped", later.get("state").asText(), later.toString());
        assertTrue(later.get("reason").asText().startsWith("EssentialContainerExited"), later.toString());
    }

    @Test
    void aTaskThatGetsNoJobStopsAtItsWaitTimeoutAndTheStillPendingJobGetsAnother() throws Exception {
        start("10s"); // the shortest wait_timeout the parser takes
        job(2001, "pending");
        awaitTask("380/2001#1", t -> in(t, "running"), "the task running");
        // no runner takes the job (no running webhook): the task waits out its timeout and stops itself
        JsonNode first = awaitTask("380/2001#1", t -> in(t, "stopped"), "the task stopped at its wait timeout");
        assertTrue(first.get("reason").asText().startsWith("EssentialContainerExited"), first.toString());
        assertFalse(first.get("failed").asBoolean(), "waiting out the timeout is not a failed attempt");
        // the job still waits in GitLab, so its next attempt starts
        JsonNode second = awaitTask("380/2001#2", t -> !t.get("taskArn").isNull(), "the job's second task");
        assertFalse(second.get("taskArn").asText().equals(first.get("taskArn").asText()));
    }
}
