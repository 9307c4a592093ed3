package io.runnerscale.it;

import com.fasterxml.jackson.databind.JsonNode;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lifecycle function's scheduled run repairs lost webhooks: a job DynamoDB still holds as running
 * long after GitLab finished it is read back (WireMock GitLab) and stored as GitLab says, through the
 * webhook's own write; the answer reports the run.
 */
class ReconcilerScheduleIntegrationTest {
    static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z");

    TestStack stack;
    MutableClock clock;

    @BeforeEach
    void setUp() {
        stack = TestStack.create("""
                pools:
                  - name: docker
                    match: {tags: [docker], run_untagged: true}
                    backend: {type: ec2-asg, asg: runners-docker}
                """);
        clock = new MutableClock(T0);
        stack.gitlab.stubFor(get(urlPathEqualTo("/api/v4/runners/all")).willReturn(aResponse().withStatus(200)
                .withHeader("content-type", "application/json").withBody("[]")));
    }

    @AfterEach
    void tearDown() {
        stack.close();
    }

    @Test
    void aJobWhoseSuccessWebhookWasLostIsFinishedFromGitLab() {
        JobKey lost = new JobKey(7, 31);
        JobKey fresh = new JobKey(7, 32);
        stack.store.apply(new JobEvent(lost, JobStatus.RUNNING, 70L, "build", "test", T0, T0, null, null,
                4242L, "i-0abc", null, List.of("docker")), "docker", T0);
        stack.gitlab.stubFor(get(urlPathEqualTo("/api/v4/projects/7/jobs/31")).willReturn(aResponse().withStatus(200)
                .withHeader("content-type", "application/json").withBody("""
                        {"id": 31, "status": "success", "stage": "test", "name": "build", "tag_list": ["docker"],
                         "created_at": "2026-03-02T09:59:00Z", "started_at": "2026-03-02T10:00:00Z",
                         "finished_at": "2026-03-02T10:20:00Z", "pipeline": {"id": 70},
                         "runner": {"id": 4242, "description": "i-0abc"}}""")));
        clock.set(T0.plus(Duration.ofHours(2)));
        stack.store.apply(new JobEvent(fresh, JobStatus.RUNNING, 70L, "build", "test", clock.instant(),
                clock.instant(), null, null, 4242L, "i-0abc", null, List.of("docker")), "docker", clock.instant());

        JsonNode answer = TestStack.invoke(stack.lifecycleHandler(clock), Fixtures.JSON.createObjectNode().put("sweep", true));

        assertEquals("SWEPT", answer.path("result").asText(), answer.toString());
        assertEquals(JobStatus.SUCCESS, stack.store.find(lost).orElseThrow().status(), answer.toString());
        assertEquals(JobStatus.RUNNING, stack.store.find(fresh).orElseThrow().status(), "a fresh job is not asked");
        stack.gitlab.verify(1, getRequestedFor(urlPathEqualTo("/api/v4/projects/7/jobs/31")));
        stack.gitlab.verify(0, getRequestedFor(urlPathEqualTo("/api/v4/projects/7/jobs/32")));
        assertTrue(answer.path("reconcile").asText().contains("1"), answer.toString());
    }
}
