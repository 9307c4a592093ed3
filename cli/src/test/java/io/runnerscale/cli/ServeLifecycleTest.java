package io.runnerscale.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.local.SimulatedGitLabRunners;
import io.runnerscale.pool.PoolsConfigParser;
import io.runnerscale.scaling.ScalingAction;
import io.runnerscale.simulate.SimulatedFleet;
import io.runnerscale.testing.SharedFiles;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code serve}'s instance lifecycle over HTTP, on DynamoDB Local and the simulated fleet: the launch
 * flow (runner created, instance ready), drains run by the packaged drain definition with every task
 * answered by the lifecycle function's code, {@code POST /events} with AWS's documented events, and
 * {@code GET /status}. Drain waits are scaled down ({@code --drain-wait-factor}); deadlines are not.
 */
@Timeout(120)
class ServeLifecycleTest {
    static final Path GITLAB = SharedFiles.fixture("gitlab");
    static final Path AWS = SharedFiles.fixture("aws");
    static final String TOKEN = "s3cret-hook-token";
    static final Duration DEADLINE = Duration.ofSeconds(20);
    static final long PROJECT = 380;

    final ObjectMapper json = new ObjectMapper();
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    ServeCommand.Running serve;
    URI base;

    @TempDir
    Path temp;

    @AfterEach
    void stop() {
        if (serve != null) {
            serve.close();
        }
    }

    /** One pool for every job; {@code idleTime} decides when the scaler lets an idle instance go. */
    void start(String idleTime, String waitFactor) throws Exception {
        String pools = """
                pools:
                  - name: default
                    match: {run_untagged: true}
                    backend: {type: ec2-asg, asg: gitlab-runners}
                    capacity_per_instance: 1
                    max_instances: 5
                    policy:
                      - {idle_count: 0, idle_time: %s}
                """.formatted(idleTime);
        PoolsConfigParser.parse(pools, "test");
        Path config = temp.resolve("pools.yaml");
        Files.writeString(config, pools);
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        serve = ServeCommand.start(List.of("--port", "0", "--webhook-token", TOKEN, "--boot", "1s", "--tick", "1s",
                "--in-memory", "--config", config.toString(), "--drain-wait-factor", waitFactor),
                new PrintStream(buffer, true, StandardCharsets.UTF_8), Map.of());
        String output = buffer.toString(StandardCharsets.UTF_8);
        assertTrue(output.contains("runners: simulated, drains: the drain state machine run locally"), output);
        base = URI.create("http://127.0.0.1:" + serve.port());
    }

    // ------------------------------------------------------------------ HTTP

    HttpResponse<String> post(String path, String body, Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(request::header);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> event(JsonNode event) throws Exception {
        return post("/events", event.toString(), Map.of("X-Gitlab-Token", TOKEN));
    }

    void job(long jobId, String status, String instanceId) throws Exception {
        ObjectNode hook = (ObjectNode) json.readTree(Files.readString(GITLAB.resolve("gitlab-doc_job_hook.json")));
        hook.put("build_id", jobId).put("build_status", status);
        if (instanceId != null) {
            ((ObjectNode) hook.get("runner")).put("description", instanceId);
        }
        HttpResponse<String> response = post("/webhook", hook.toString(),
                Map.of("X-Gitlab-Event", "Job Hook", "X-Gitlab-Token", TOKEN));
        assertEquals(200, response.statusCode(), response.body());
    }

    JsonNode get(String path) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(base.resolve(path))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
        return response.statusCode() == 404 ? null : json.readTree(response.body());
    }

    JsonNode status() throws Exception {
        return get("/status");
    }

    JsonNode member(JsonNode status, String instanceId) {
        for (JsonNode m : status.get("pools").get(0).get("members")) {
            if (m.get("id").asText().equals(instanceId)) {
                return m;
            }
        }
        return null;
    }

    JsonNode drainOf(JsonNode status, String instanceId) {
        JsonNode found = null;
        for (JsonNode d : status.get("drains")) {
            if (d.get("instanceId").asText().equals(instanceId)) {
                found = d;
            }
        }
        return found;
    }

    <T> T await(ThrowingSupplier<T> probe, Predicate<T> done, String what) throws Exception {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        T last;
        do {
            last = probe.get();
            if (last != null && done.test(last)) {
                return last;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        return fail(what + " within " + DEADLINE + "; last: " + last + "; status: " + status());
    }

    interface ThrowingSupplier<T> {
        T get() throws Exception;
    }

    /** Pending jobs until that many instances are ready in the store's eyes (runner created, booted). */
    List<SimulatedFleet.Instance> readyInstances(int count, long firstJob) throws Exception {
        for (int i = 0; i < count; i++) {
            job(firstJob + i, "pending", null);
        }
        await(this::status, s -> {
            int ready = 0;
            for (JsonNode m : s.get("pools").get(0).get("members")) {
                if (m.get("state").asText().equals("ready") && !m.get("runnerId").isNull()) {
                    ready++;
                }
            }
            return ready == count;
        }, count + " instance(s) ready with a runner");
        return serve.fleet().members("default");
    }

    ObjectNode awsEvent(String fixture) throws IOException {
        return (ObjectNode) json.readTree(Files.readString(AWS.resolve(fixture)));
    }

    // ------------------------------------------------------------------ tests

    @Test
    void aSpotWarningDrainsTheInstanceCancelsAndRetriesItsJobAndTerminatesIt() throws Exception {
        start("10m", "0.01");   // spot heartbeats of 0.1 s
        SimulatedFleet.Instance instance = readyInstances(1, 1977).getFirst();
        job(1977, "running", instance.id());
        JsonNode before = await(this::status, s -> member(s, instance.id()).get("runningJobs").size() == 1,
                "the job shown running on its instance");
        JsonNode m = member(before, instance.id());
        assertEquals("ready", m.get("state").asText(), m.toString());
        assertEquals("[\"380/1977\"]", m.get("runningJobs").toString());
        assertTrue(m.get("inGroup").asBoolean());

        // AWS's documented event, for this instance; warned 99 s ago, so the 100 s deadline is 1 s away
        ObjectNode spot = awsEvent("ec2-spot-instance-interruption-warning.awsdocs.json");
        ((ObjectNode) spot.get("detail")).put("instance-id", instance.id());
        spot.put("time", Instant.now().minusSeconds(99).toString());
        HttpResponse<String> answer = event(spot);
        assertEquals(200, answer.statusCode(), answer.body());
        assertEquals("STARTED", json.readTree(answer.body()).get("result").asText());

        JsonNode draining = await(this::status, s -> member(s, instance.id()) != null
                && member(s, instance.id()).get("state").asText().equals("interrupted"), "the instance interrupted");
        JsonNode drain = drainOf(draining, instance.id());
        assertEquals("drain-" + instance.id() + "-spot-1", drain.get("name").asText());
        assertEquals("spot", drain.get("reason").asText());

        JsonNode retried = await(() -> get("/jobs/380/" + SimulatedGitLabRunners.FIRST_RETRY_JOB_ID),
                j -> true, "the retried job");
        assertEquals("pending", retried.get("status").asText(), retried.toString());
        assertEquals("default", retried.get("pool").asText());
        JsonNode cancelled = get("/jobs/380/1977");
        assertEquals("canceled", cancelled.get("status").asText(), cancelled.toString());

        JsonNode ended = await(this::status, s -> drainOf(s, instance.id()).get("status").asText().equals("succeeded"),
                "the drain to end");
        assertEquals("terminated", drainOf(ended, instance.id()).get("outcome").asText());
        assertNotNull(instance.terminatedAt(), "terminated");
        assertFalse(instance.terminatedAt().isBefore(Instant.parse(cancelled.get("finishedAt").asText())),
                "never terminated before its job was cancelled");
        assertTrue(instance.terminatedAt().isBefore(Instant.parse(spot.get("time").asText()).plusSeconds(120)),
                "within the two minutes");
        // spot: the group replaces the instance (desired capacity not lowered); the scaler, which stopped counting
        // the draining instance, may have added one for the retried job already: it corrects the number later
        assertTrue(serve.fleet().members("default").stream().noneMatch(i -> i.id().equals(instance.id())));
        await(() -> serve.fleet().members("default"), list -> !list.isEmpty(), "a replacement instance");
    }

    @Test
    void scaleInDrainsOnlyTheIdleInstanceAndTerminatesItOnceItsJobFinished() throws Exception {
        start("1s", "0.01");
        List<SimulatedFleet.Instance> two = readyInstances(2, 2001);
        SimulatedFleet.Instance idle = two.get(0);
        SimulatedFleet.Instance busy = two.get(1);
        job(2001, "running", idle.id());
        job(2002, "running", busy.id());
        Thread.sleep(1500);   // past idle_time: only the job keeps each instance
        assertEquals(2, serve.fleet().members("default").size(), "instances with running jobs are kept");
        Instant finished = Instant.now();
        job(2001, "success", idle.id());

        JsonNode ended = await(this::status, s -> drainOf(s, idle.id()) != null
                && drainOf(s, idle.id()).get("status").asText().equals("succeeded"), "the idle instance's drain to end");
        JsonNode drain = drainOf(ended, idle.id());
        assertEquals("drain-" + idle.id() + "-scale-in-1", drain.get("name").asText());
        assertEquals("terminated", drain.get("outcome").asText());
        assertFalse(idle.terminatedAt().isBefore(finished), "terminated only after its job finished");
        assertEquals(List.of(busy.id()), serve.fleet().members("default").stream().map(SimulatedFleet.Instance::id).toList());
        JsonNode kept = member(ended, busy.id());
        assertEquals("ready", kept.get("state").asText(), kept.toString());
        assertEquals("[\"380/2002\"]", kept.get("runningJobs").toString());
        assertEquals(null, drainOf(ended, busy.id()), "the busy instance was never drained");
        assertEquals(1, serve.fleet().members("default").size());
    }

    @Test
    void aJobThatStartsDuringAScaleInDrainAbandonsItAndKeepsTheInstance() throws Exception {
        start("10m", "0.05");   // scale-in heartbeats of 3 s
        SimulatedFleet.Instance instance = readyInstances(1, 3001).getFirst();
        job(3001, "running", instance.id());
        await(this::status, s -> member(s, instance.id()).get("runningJobs").size() == 1, "the job running");
        // what the scaler asks; the running job is the drain's baseline, so it waits for it
        serve.drainRequests().drain(io.runnerscale.pool.PoolsConfigParser.parse(Files.readString(temp.resolve("pools.yaml")),
                "test").pools().getFirst(), instance.id(), ScalingAction.Reason.IDLE);
        await(this::status, s -> drainOf(s, instance.id()) != null && drainOf(s, instance.id()).has("waitingUntil"),
                "the drain waiting for the job");
        assertEquals("draining", member(status(), instance.id()).get("state").asText());
        // the job finishes and another starts on the instance (it took the job before the pause)
        job(3001, "success", instance.id());
        job(3002, "running", instance.id());

        JsonNode ended = await(this::status, s -> drainOf(s, instance.id()).get("status").asText().equals("succeeded"),
                "the drain to end");
        JsonNode drain = drainOf(ended, instance.id());
        assertEquals("Abandoned", drain.get("state").asText(), drain.toString());
        assertEquals("abandoned", drain.get("outcome").asText());
        JsonNode kept = member(ended, instance.id());
        assertEquals("ready", kept.get("state").asText(), kept.toString());
        assertFalse(kept.get("runnerPaused").asBoolean(), "unpaused");
        assertEquals(List.of(instance.id()), serve.fleet().members("default").stream().map(SimulatedFleet.Instance::id).toList());
        assertEquals(null, instance.terminatedAt());
    }

    @Test
    void badEventsAreRefusedNamingTheProblem() throws Exception {
        start("10m", "0.01");
        SimulatedFleet.Instance instance = readyInstances(1, 4001).getFirst();
        List<String> problems = new ArrayList<>();
        ObjectNode unknown = awsEvent("ec2-spot-instance-interruption-warning.awsdocs.json");   // i-1234567890abcdef0
        problems.add(refused(unknown.toString(), "i-1234567890abcdef0' is not one of serve's instances"));
        problems.add(refused("not json", "not JSON"));
        problems.add(refused("[1, 2]", "JSON object"));
        ObjectNode other = awsEvent("ec2-instance-state-change-notification.awsdocs.json");
        problems.add(refused(other.toString(), "EC2 Instance State-change Notification' is not a lifecycle event"));
        ObjectNode noId = awsEvent("ec2-instance-rebalance-recommendation.awsdocs.json");
        ((ObjectNode) noId.get("detail")).remove("instance-id");
        problems.add(refused(noId.toString(), "detail.instance-id is missing"));
        ObjectNode launch = awsEvent("ec2-instance-launch-lifecycle-action.awsdocs.json");
        ((ObjectNode) launch.get("detail")).put("EC2InstanceId", instance.id()).remove("LifecycleActionToken");
        problems.add(refused(launch.toString(), "LifecycleActionToken is missing"));
        problems.add(refused("{\"task\": \"Terminate\", \"drain\": {}}", "drain tasks run inside serve"));

        HttpResponse<String> noToken = post("/events", unknown.toString(), Map.of());
        assertEquals(401, noToken.statusCode(), noToken.body());
        HttpResponse<String> big = post("/events", "{\"pad\": \"" + "x".repeat(300 * 1024) + "\"}",
                Map.of("X-Gitlab-Token", TOKEN));
        assertEquals(413, big.statusCode(), big.body());
        assertEquals(405, http.send(HttpRequest.newBuilder(base.resolve("/events")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        // nothing happened to the instance
        assertEquals("ready", member(status(), instance.id()).get("state").asText(), String.join("\n", problems));
        assertTrue(status().get("drains").isEmpty());
    }

    @Test
    void aRepeatedSpotWarningStartsNoSecondDrainAndAnIdleInstanceGoesAtOnce() throws Exception {
        start("10m", "1");   // the definition's own waits: an idle instance needs none
        SimulatedFleet.Instance instance = readyInstances(1, 5001).getFirst();
        job(5001, "running", instance.id());
        job(5001, "success", instance.id());
        ObjectNode spot = awsEvent("ec2-spot-instance-interruption-warning.awsdocs.json");
        ((ObjectNode) spot.get("detail")).put("instance-id", instance.id());
        spot.put("time", Instant.now().toString());
        assertEquals(200, event(spot).statusCode());
        HttpResponse<String> again = event(spot);
        assertEquals(200, again.statusCode(), again.body());
        String second = json.readTree(again.body()).get("result").asText();
        assertTrue(second.equals("ALREADY_RUNNING") || second.equals("IGNORED_GONE"), second);
        await(this::status, s -> drainOf(s, instance.id()).get("status").asText().equals("succeeded"), "the drain to end");
        JsonNode s = status();
        long drains = 0;
        for (JsonNode d : s.get("drains")) {
            if (d.get("instanceId").asText().equals(instance.id()) && d.get("outcome") != null
                    && d.get("outcome").asText().equals("terminated")) {
                drains++;
            }
        }
        assertEquals(1, drains, s.toString());
        assertNotNull(instance.terminatedAt());
        assertTrue(Duration.between(Instant.parse(spot.get("time").asText()), instance.terminatedAt()).toSeconds() < 10,
                "an idle instance waits for nothing");
    }

    // ------------------------------------------------------------------ measurements (RUNNERSCALE_MEASURE=1)

    /**
     * With the definition's own waits: a spot warning for an instance whose job keeps running, to the
     * retried job pending again. The drain waits for the job until the 100 s deadline (checking every
     * 10 s), then cancels and retries it.
     */
    @Test
    @EnabledIfEnvironmentVariable(named = "RUNNERSCALE_MEASURE", matches = "1")
    @Timeout(300)
    void measureSpotWarningToRetriedJobPending() throws Exception {
        start("10m", "1");
        SimulatedFleet.Instance instance = readyInstances(1, 6001).getFirst();
        job(6001, "running", instance.id());
        await(this::status, s -> member(s, instance.id()).get("runningJobs").size() == 1, "the job running");
        ObjectNode spot = awsEvent("ec2-spot-instance-interruption-warning.awsdocs.json");
        ((ObjectNode) spot.get("detail")).put("instance-id", instance.id());
        Instant warned = Instant.now();
        spot.put("time", warned.toString());
        assertEquals(200, event(spot).statusCode());
        JsonNode retried = null;
        long until = System.nanoTime() + Duration.ofSeconds(150).toNanos();
        while (retried == null && System.nanoTime() < until) {
            retried = get("/jobs/380/" + SimulatedGitLabRunners.FIRST_RETRY_JOB_ID);
            if (retried == null) {
                Thread.sleep(10);
            }
        }
        Instant seen = Instant.now();
        assertNotNull(retried, "no retried job within 150 s");
        assertEquals("pending", retried.get("status").asText());
        Instant pendingAt = Instant.parse(retried.get("pendingAt").asText());
        await(this::status, s -> drainOf(s, instance.id()).get("status").asText().equals("succeeded"), "the drain to end");
        System.out.printf("MEASURE spot warning -> retried job pending: %d ms (stored at %s; seen by a 10 ms poll"
                        + " after %d ms); instance terminated %d ms after the warning%n",
                Duration.between(warned, pendingAt).toMillis(), pendingAt, Duration.between(warned, seen).toMillis(),
                Duration.between(warned, instance.terminatedAt()).toMillis());
    }

    /** With the definition's own waits: the scaler's scale-in decision for an idle instance, to its termination. */
    @Test
    @EnabledIfEnvironmentVariable(named = "RUNNERSCALE_MEASURE", matches = "1")
    @Timeout(300)
    void measureScaleInDecisionToTermination() throws Exception {
        start("1s", "1");
        List<Long> millis = new ArrayList<>();
        for (int round = 0; round < 5; round++) {
            SimulatedFleet.Instance instance = readyInstances(1, 7001 + 10L * round).getFirst();
            job(7001 + 10L * round, "running", instance.id());
            job(7001 + 10L * round, "success", instance.id());
            JsonNode ended = await(this::status, s -> drainOf(s, instance.id()) != null
                    && drainOf(s, instance.id()).get("status").asText().equals("succeeded"), "the scale-in drain to end");
            assertEquals("terminated", drainOf(ended, instance.id()).get("outcome").asText());
            Instant decided = Instant.parse(drainOf(ended, instance.id()).get("startedAt").asText());
            millis.add(Duration.between(decided, instance.terminatedAt()).toMillis());
            await(() -> serve.fleet().members("default"), List::isEmpty, "the pool empty again");
        }
        System.out.printf("MEASURE scale-in decision -> instance terminated (idle instance, 5 rounds): %s ms%n", millis);
    }

    String refused(String body, String expected) throws Exception {
        HttpResponse<String> response = post("/events", body, Map.of("X-Gitlab-Token", TOKEN));
        assertEquals(400, response.statusCode(), body + " -> " + response.body());
        String error = json.readTree(response.body()).get("error").asText();
        assertTrue(error.contains(expected), "expected '" + expected + "' in: " + error);
        return error;
    }
}
