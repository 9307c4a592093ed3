package io.runnerscale.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.store.ProjectRecord;
import io.runnerscale.testing.MutableClock;
import io.runnerscale.webhook.WebhookHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Webhooks dropped, reordered and duplicated on their way from GitLab (WireMock) to the real webhook
 * function (DynamoDB Local): after one scheduled run of the lifecycle function the store holds what
 * GitLab holds for every job of the project, including one whose every hook was lost, and the next
 * scaling decision sets the group (moto) to the jobs GitLab has waiting and running.
 */
class LostWebhooksIntegrationTest {
    static final long PROJECT = 7;
    static final String POOLS = """
            pools:
              - name: docker
                match: {tags: [docker], run_untagged: true}
                backend: {type: ec2-asg, asg: rs-@ID@-docker}
                max_instances: 10
                policy:
                  - {idle_count: 0, idle_time: 0s}
            """;

    TestStack stack;

    @BeforeEach
    void setUp() {
        stack = TestStack.create(POOLS);
        stack.gitlab.stubFor(get(urlPathEqualTo("/api/v4/runners/all")).willReturn(aResponse().withStatus(200)
                .withHeader("content-type", "application/json").withBody("[]")));
    }

    @AfterEach
    void tearDown() {
        stack.close();
    }

    /** GitLab's job as its API gives it. */
    static ObjectNode gitlabJob(long id, String status) {
        ObjectNode job = Fixtures.JSON.createObjectNode().put("id", id).put("status", status).put("name", "build")
                .put("stage", "test").put("created_at", "2026-03-02T09:59:00Z");
        job.putArray("tag_list").add("docker");
        job.putObject("pipeline").put("id", 70).put("project_id", PROJECT);
        if (!status.equals("pending")) {
            job.put("started_at", "2026-03-02T10:00:00Z");
        }
        if (List.of("success", "failed", "canceled").contains(status)) {
            job.put("finished_at", "2026-03-02T10:05:00Z");
        }
        return job;
    }

    @Test
    void afterOneRunTheStoreMatchesGitLabAndCapacityFollows() {
        stack.createAsg("docker", 10);
        // GitLab's truth, and which of each job's hooks reached runnerscale, in the order they arrived
        Map<Long, String> truth = new LinkedHashMap<>();
        Map<Long, List<String>> delivered = new LinkedHashMap<>();
        truth.put(1L, "success");
        delivered.put(1L, List.of("pending"));                       // running and success lost
        truth.put(2L, "running");
        delivered.put(2L, List.of("running", "pending", "running")); // reordered, duplicated
        truth.put(3L, "pending");
        delivered.put(3L, List.of());                                // every hook lost
        truth.put(4L, "canceled");
        delivered.put(4L, List.of("pending", "pending"));            // duplicated, cancel lost
        truth.put(5L, "pending");
        delivered.put(5L, List.of("pending"));                       // all well
        truth.put(6L, "failed");
        delivered.put(6L, List.of("failed", "pending"));             // finish before start: finish wins
        truth.put(7L, "pending");
        delivered.put(7L, List.of());                                // lost too, on the list's second page

        stack.stubJobTags(PROJECT, "\\d+", List.of("docker"));
        WebhookHandler webhook = stack.webhookHandler();
        delivered.forEach((id, statuses) -> statuses.forEach(status ->
                assertEquals(200, TestStack.deliverJobHook(webhook, Fixtures.jobHook(PROJECT, id, status)).getStatusCode())));
        // the readback of each job (more specific than the tag stub) and the project's live jobs, two pages
        truth.forEach((id, status) -> stack.gitlab.stubFor(get(urlPathEqualTo("/api/v4/projects/" + PROJECT
                + "/jobs/" + id)).atPriority(1).willReturn(aResponse().withStatus(200)
                .withHeader("content-type", "application/json").withBody(gitlabJob(id, status).toString()))));
        ArrayNode firstPage = Fixtures.JSON.createArrayNode();
        truth.forEach((id, status) -> {
            if ((status.equals("pending") || status.equals("running")) && id != 7L) {
                firstPage.add(gitlabJob(id, status));
            }
        });
        stubPendingPage(1, firstPage, "2");
        stubPendingPage(2, Fixtures.JSON.createArrayNode().add(gitlabJob(7, "pending")), "");

        List<ProjectRecord> projects = stack.store.projects();
        assertEquals(List.of(PROJECT), projects.stream().map(ProjectRecord::projectId).toList(),
                "the webhook noted the project");

        // past every threshold: pending 5 min, running 1 h
        MutableClock clock = new MutableClock(Instant.now().plus(Duration.ofHours(2)));
        JsonNode answer = TestStack.invoke(stack.lifecycleHandler(clock), Fixtures.JSON.createObjectNode()
                .put("sweep", true));

        assertTrue(answer.path("reconcile").asText().contains("projects: 1 listed"), answer.toString());
        truth.forEach((id, status) -> assertEquals(status, stack.store.find(new JobKey(PROJECT, id))
                .map(JobRecord::status).map(JobStatus::wireName).orElse("missing"), "job " + id + ": " + answer));
        assertEquals("docker", stack.store.find(new JobKey(PROJECT, 3)).orElseThrow().pool());
        assertTrue(stack.store.projects().getFirst().listedAt() != null);

        JsonNode decision = TestStack.invoke(stack.scalerHandler(clock), Fixtures.JSON.createObjectNode()
                .put("pool", "docker"));
        assertEquals(4, stack.desired("docker"), "jobs 3, 5 and 7 waiting and 2 running: " + decision);
    }

    private void stubPendingPage(int page, ArrayNode jobs, String nextPage) {
        stack.gitlab.stubFor(get(urlPathEqualTo("/api/v4/projects/" + PROJECT + "/jobs"))
                .withQueryParam("page", com.github.tomakehurst.wiremock.client.WireMock.equalTo(Integer.toString(page)))
                .willReturn(aResponse().withStatus(200).withHeader("content-type", "application/json")
                        .withHeader("X-Next-Page", nextPage).withBody(jobs.toString())));
    }
}
