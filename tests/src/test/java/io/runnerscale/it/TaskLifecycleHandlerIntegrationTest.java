package io.runnerscale.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.compute.TaskState;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.lifecycle.LifecycleHandler;
import io.runnerscale.store.TaskRecord;
import io.runnerscale.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * "ECS Task State Change" events through the lifecycle function's Lambda entry point, built from AWS's
 * documented example event (shared/fixtures/aws/ecs-task-state-change.awsdocs.json), on real parts:
 * the task records in DynamoDB Local, the scale queue (FIFO SQS) in moto, GitLab in WireMock.
 */
class TaskLifecycleHandlerIntegrationTest {
    static final Instant NOW = Instant.parse("2026-03-02T10:05:00Z");
    static final String POOL = "fargate-small";
    static final String POOLS = """
            pools:
              - name: fargate-small
                match: {tags: [fargate]}
                max_instances: 50
                backend: {type: fargate, cluster: FargateCluster, task_definition: gitlab-runner-fargate,
                          subnets: [subnet-abcd1234], security_groups: [sg-1], spot: true, max_task_attempts: 3}
            """;
    static final TaskKey KEY = new TaskKey(new JobKey(42, 1001), 1);
    /** The fixture's task: its runner manager's system id is s_ and the first 12 characters of its id. */
    static final String ARN = "arn:aws:ecs:us-west-2:111122223333:task/FargateCluster/c13b4cb40f1f4fe4a2971f76ae5a47ad";
    static final String SYSTEM_ID = "s_c13b4cb40f1f";
    static final long RUNNER = 4242;

    TestStack stack;
    LifecycleHandler handler;

    @BeforeEach
    void setUp() {
        stack = TestStack.create(POOLS);
        handler = stack.lifecycleHandler(new MutableClock(NOW));
    }

    @AfterEach
    void tearDown() {
        stack.close();
    }

    @Test
    void aTaskThatFailedToStartIsStoredFailedWithECSsReasonAndTheScalerIsAsked() {
        started(KEY);
        assertEquals("STARTING", invoke(event(KEY.startedBy(), 2, "PROVISIONING", "RUNNING")).path("result").asText());

        ObjectNode failed = event(KEY.startedBy(), 3, "STOPPED", "STOPPED");
        ObjectNode detail = (ObjectNode) failed.get("detail");
        detail.put("stopCode", "TaskFailedToStart").put("stoppedReason",
                "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
                        + "registry.example.com/runner:alpine: not found");
        ((ObjectNode) detail.get("containers").get(0)).put("lastStatus", "STOPPED")
                .put("reason", "CannotPullContainerError: failed to resolve ref registry.example.com/runner:alpine");

        assertEquals("FAILED", invoke(failed).path("result").asText());

        TaskRecord record = stack.store.task(KEY).orElseThrow();
        assertEquals(TaskState.STOPPED, record.state());
        assertTrue(record.failed(), "counts against max_task_attempts");
        assertFalse(record.interrupted());
        assertTrue(record.reason().startsWith("TaskFailedToStart: CannotPullContainerError: pull image manifest"),
                record.reason());
        assertEquals(NOW, record.stoppedAt());
        assertEquals(3, record.eventVersion());
        List<JsonNode> requests = scaleRequests();
        assertEquals(1, requests.size(), requests.toString());
        assertEquals(POOL, requests.getFirst().path("pool").asText());
        assertTrue(requests.getFirst().path("reason").asText().contains("stopped"), requests.toString());

        // EventBridge delivers at least once: the same event again changes nothing and asks nothing
        assertEquals("STALE", invoke(failed).path("result").asText());
        assertEquals(record, stack.store.task(KEY).orElseThrow());
        assertEquals(List.of(), scaleRequests());
    }

    @Test
    void aSpotInterruptionCancelsAndRetriesTheJobGitLabListsOnTheTasksRunnerManager() {
        // job 42/1001 runs on the pool's runner; GitLab lists it under the task's runner manager until cancelled
        stack.store.apply(new JobEvent(KEY.job(), JobStatus.RUNNING, 70L, "build", "test", NOW, NOW, null, null,
                RUNNER, "runnerscale fargate-small", null, List.of("fargate")), POOL, NOW);
        stack.gitlab.stubFor(get(urlPathEqualTo("/api/v4/runners/" + RUNNER + "/jobs"))
                .withQueryParam("status", equalTo("running")).withQueryParam("system_id", equalTo(SYSTEM_ID))
                .inScenario("job").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(json("[{\"id\": 1001, \"status\": \"running\", \"project\": {\"id\": 42}}]")));
        stack.gitlab.stubFor(get(urlPathEqualTo("/api/v4/runners/" + RUNNER + "/jobs"))
                .withQueryParam("status", equalTo("running")).withQueryParam("system_id", equalTo(SYSTEM_ID))
                .inScenario("job").whenScenarioStateIs("cancelled").willReturn(json("[]")));
        stack.gitlab.stubFor(post(urlPathEqualTo("/api/v4/projects/42/jobs/1001/cancel"))
                .inScenario("job").willSetStateTo("cancelled")
                .willReturn(json("{\"id\": 1001, \"status\": \"canceled\"}").withStatus(201)));
        stack.gitlab.stubFor(post(urlPathEqualTo("/api/v4/projects/42/jobs/1001/retry"))
                .willReturn(json("{\"id\": 1002, \"status\": \"pending\"}").withStatus(201)));
        started(KEY);
        assertEquals("RUNNING", invoke(event(KEY.startedBy(), 2, "RUNNING", "RUNNING")).path("result").asText());
        assertEquals(List.of(), requests(), "a running task asks GitLab nothing");

        ObjectNode spot = event(KEY.startedBy(), 3, "RUNNING", "STOPPED");
        ((ObjectNode) spot.get("detail")).put("stopCode", "SpotInterruption")
                .put("stoppedReason", "Your Spot Task was interrupted.").put("capacityProviderName", "FARGATE_SPOT");

        assertEquals("INTERRUPTED", invoke(spot).path("result").asText());

        assertEquals(List.of(
                "GET /api/v4/runners/4242/jobs?status=running&system_id=s_c13b4cb40f1f&per_page=100&page=1",
                "POST /api/v4/projects/42/jobs/1001/cancel",
                "POST /api/v4/projects/42/jobs/1001/retry"), requests());
        TaskRecord record = stack.store.task(KEY).orElseThrow();
        assertTrue(record.interrupted());
        assertFalse(record.failed(), "an interruption is not the task's failure");
        assertEquals(TaskState.STOPPING, record.state());
        assertEquals("FARGATE_SPOT", record.capacityProvider());
        List<JsonNode> requests = scaleRequests();
        assertTrue(requests.stream().anyMatch(r -> r.path("jobs").toString().equals("[\"42/1002\"]")),
                "the retried job is asked a task for at once: " + requests);
        assertTrue(requests.stream().allMatch(r -> r.path("pool").asText().equals(POOL)), requests.toString());

        // the same event again: the store changes no more, and no job is cancelled or retried again
        stack.gitlab.resetRequests();
        assertEquals("STALE", invoke(spot).path("result").asText());
        assertEquals(record, stack.store.task(KEY).orElseThrow());
        assertTrue(requests().stream().noneMatch(r -> r.startsWith("POST")), requests().toString());
        assertEquals(List.of(), scaleRequests());

        // the task stops: stored, still interrupted, not failed
        ObjectNode stopped = event(KEY.startedBy(), 4, "STOPPED", "STOPPED");
        ((ObjectNode) stopped.get("detail")).put("stopCode", "SpotInterruption")
                .put("stoppedReason", "Your Spot Task was interrupted.").put("capacityProviderName", "FARGATE_SPOT");
        ((ObjectNode) stopped.get("detail").get("containers").get(0)).put("lastStatus", "STOPPED").put("exitCode", 143);
        assertEquals("INTERRUPTED", invoke(stopped).path("result").asText());
        TaskRecord end = stack.store.task(KEY).orElseThrow();
        assertEquals(TaskState.STOPPED, end.state());
        assertTrue(end.interrupted());
        assertTrue(requests().stream().noneMatch(r -> r.startsWith("POST")), requests().toString());
    }

    @Test
    void anEventForATaskRunnerscaleDidNotStartIsIgnored() {
        assertEquals("IGNORED", invoke(event("ecs-svc/1234567890123456789", 2, "RUNNING", "RUNNING"))
                .path("result").asText());
        ObjectNode noStartedBy = event("x", 2, "RUNNING", "RUNNING");
        ((ObjectNode) noStartedBy.get("detail")).remove("startedBy");
        assertEquals("IGNORED", invoke(noStartedBy).path("result").asText());
        // runnerscale's form, but never claimed here (another stack sharing the cluster)
        assertEquals("IGNORED", invoke(event(KEY.startedBy(), 2, "RUNNING", "RUNNING")).path("result").asText());

        assertEquals(Optional.empty(), stack.store.task(KEY));
        assertEquals(List.of(), stack.store.tasks(POOL));
        assertEquals(List.of(), requests());
        assertEquals(List.of(), scaleRequests());
    }

    // ------------------------------------------------------------------ helpers

    /** Claimed and started by a decision, as the scaler leaves it. */
    void started(TaskKey key) {
        assertTrue(stack.store.claimTask(POOL, key, NOW.minusSeconds(60)));
        stack.store.taskStarted(key, ARN, "FARGATE_SPOT");
    }

    /** AWS's example event with this task's startedBy, version and statuses; stop code and reasons removed. */
    static ObjectNode event(String startedBy, long version, String lastStatus, String desiredStatus) {
        ObjectNode event = (ObjectNode) Fixtures.json("aws/ecs-task-state-change.awsdocs.json").deepCopy();
        event.put("time", NOW.minusSeconds(10 - version).toString());
        ObjectNode detail = (ObjectNode) event.get("detail");
        detail.put("startedBy", startedBy).put("version", version).put("lastStatus", lastStatus)
                .put("desiredStatus", desiredStatus).put("group", "family:gitlab-runner-fargate");
        detail.remove(List.of("stopCode", "stoppedReason", "stoppedAt", "stoppingAt"));
        assertEquals(ARN, detail.path("taskArn").asText(), "the fixture's task");
        return event;
    }

    JsonNode invoke(JsonNode event) {
        return TestStack.invoke(handler, event);
    }

    /** What WireMock GitLab received since the last reset, oldest first, as "METHOD url". */
    List<String> requests() {
        List<String> requests = new ArrayList<>();
        stack.gitlab.getAllServeEvents().forEach(e -> requests.addFirst(e.getRequest().getMethod() + " "
                + e.getRequest().getUrl()));
        return requests;
    }

    /** The scale requests the queue holds now (received and deleted). */
    List<JsonNode> scaleRequests() {
        List<JsonNode> bodies = new ArrayList<>();
        stack.drain().forEach(m -> bodies.add(LifecycleHandlerIntegrationTest.read(m.body())));
        return bodies;
    }

    static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder json(String body) {
        return aResponse().withStatus(200).withHeader("content-type", "application/json").withBody(body);
    }
}
