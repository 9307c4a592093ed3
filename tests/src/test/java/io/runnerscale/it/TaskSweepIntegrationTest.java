package io.runnerscale.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ecs.model.Task;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The lifecycle function's scheduled sweep with a Fargate pool, on moto's ECS, DynamoDB Local and a
 * WireMock GitLab: the handler built with an EcsClient runs the task sweep after the EC2 one and
 * reports it.
 *
 * <p>moto's tasks carry neither {@code createdAt} nor {@code startedAt}, and their UUID ids give no
 * runner system id, so no moto task is ever old enough to stop: the stop path is covered by
 * {@code TaskSweepTest} (fakes) and {@code EcsFargateTasksIntegrationTest} (StopTask on moto). What this
 * shows is the wiring: the pool's cluster is listed in ECS, only the task runnerscale claimed for the
 * pool is counted, other tasks of the cluster are never looked at, and a task of unknown age is kept
 * without asking GitLab.
 */
class TaskSweepIntegrationTest {
    static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z");
    static final String POOL = "fargate-small";

    MotoFargate place;
    TestStack stack;
    MutableClock clock;

    @BeforeEach
    void setUp() {
        place = MotoFargate.create(MotoServer.shared());
        stack = TestStack.create("""
                pools:
                  - name: fargate-small
                    match: {tags: [fargate]}
                    max_instances: 5
                """ + place.backendYaml(false, 3));
        clock = new MutableClock(T0);
        // the EC2 sweep lists the owner's runners: none
        stack.gitlab.stubFor(get(urlPathEqualTo("/api/v4/runners/all")).willReturn(aResponse().withStatus(200)
                .withHeader("content-type", "application/json").withBody("[]")));
    }

    @AfterEach
    void tearDown() {
        stack.close();
        place.close();
    }

    @Test
    void theScheduledSweepListsThePoolsClusterAndCountsOnlyItsOwnTask() {
        stack.store.apply(new JobEvent(new JobKey(7, 1), JobStatus.PENDING, 70L, "build", "test", T0, null, null, null,
                null, null, null, List.of("fargate")), POOL, T0);
        TestStack.invoke(stack.scalerHandler(clock, place.ecs), Fixtures.JSON.createObjectNode().put("pool", POOL));
        // another job of the pool runs on the pool's runner: its id is known
        stack.store.apply(new JobEvent(new JobKey(7, 2), JobStatus.RUNNING, 70L, "build", "test", T0, T0, null, null,
                4242L, "runnerscale fargate-small", null, List.of("fargate")), POOL, T0);
        place.runForeignTask("ecs-svc/1234567890123456789");
        place.runForeignTask("runnerscale/9/9/1");     // runnerscale's form, another stack's claim
        List<String> before = place.running().stream().map(Task::taskArn).sorted().toList();
        assertEquals(3, before.size());

        clock.set(T0.plus(Duration.ofHours(3)));
        JsonNode answer = TestStack.invoke(stack.lifecycleHandler(clock, place.ecs),
                Fixtures.JSON.createObjectNode().put("sweep", true));

        assertEquals("SWEPT", answer.path("result").asText(), answer.toString());
        JsonNode tasks = answer.path("tasks");
        assertEquals(1, tasks.path("seen").asInt(), answer.toString());
        assertEquals(0, tasks.path("stopped").path("count").asInt());
        assertEquals(0, tasks.path("unchecked").path("count").asInt(), "unknown age: young, not unchecked");
        assertFalse(tasks.path("cutShort").asBoolean(), answer.toString());
        assertEquals(before, place.running().stream().map(Task::taskArn).sorted().toList(), "all still running");
        stack.gitlab.verify(0, anyRequestedFor(urlPathMatching("/api/v4/runners/4242/.*")));

        // built without ECS (the earlier constructor): the EC2 sweep alone, as before
        JsonNode withoutEcs = TestStack.invoke(stack.lifecycleHandler(clock),
                Fixtures.JSON.createObjectNode().put("sweep", true));
        assertEquals("SWEPT", withoutEcs.path("result").asText());
        assertFalse(withoutEcs.has("tasks"), withoutEcs.toString());
    }
}
