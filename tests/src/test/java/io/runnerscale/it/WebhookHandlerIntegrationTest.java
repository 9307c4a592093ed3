package io.runnerscale.it;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.client.WireMock;
import io.runnerscale.config.Settings;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.webhook.WebhookHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The webhook function on real parts: DynamoDB Local, moto (Secrets Manager, SSM, SQS FIFO) and a
 * WireMock GitLab, driven through its Lambda entry point with API Gateway HTTP API events.
 */
@ExtendWith(MotoServer.ResetBetweenTests.class)
class WebhookHandlerIntegrationTest {
    static final String POOLS = """
            pools:
              - name: docker
                match: {tags: [docker, linux]}
                backend: {type: ec2-asg, asg: rs-@ID@-docker}
                capacity_per_instance: 2
                max_instances: 10
              - name: gpu
                match: {tags: [gpu]}
                backend: {type: ec2-asg, asg: rs-@ID@-gpu}
                max_instances: 4
              - name: general
                match: {tags: [general], run_untagged: true}
                backend: {type: ec2-asg, asg: rs-@ID@-general}
                capacity_per_instance: 4
                max_instances: 10
            """;

    TestStack stack;
    WebhookHandler webhook;

    @BeforeEach
    void setUp() {
        stack = TestStack.create(POOLS);
        webhook = stack.webhookHandler();
    }

    @AfterEach
    void tearDown() {
        stack.close();
    }

    static List<Path> gitlabHooks() {
        return Fixtures.gitlabHooks();
    }

    /** Tags the WireMock GitLab gives the fixtures' jobs, and the pool each set leads to. */
    static final Map<Long, List<String>> FIXTURE_TAGS = Map.of(480896L, List.of("gpu"), 480897L, List.of());
    static final List<String> DEFAULT_TAGS = List.of("docker");

    @ParameterizedTest(name = "{0}")
    @MethodSource("gitlabHooks")
    void everyRealPayloadIsAnsweredAndStored(Path fixture) {
        stack.stubJobTags(105, "480896", FIXTURE_TAGS.get(480896L));
        stack.stubJobTags(105, "480897", FIXTURE_TAGS.get(480897L));
        stack.gitlab.stubFor(WireMock.get(urlPathMatching("/api/v4/projects/\\d+/jobs/\\d+")).atPriority(10)
                .willReturn(aResponse().withStatus(200).withHeader("content-type", "application/json")
                        .withBody("{\"id\":1,\"tag_list\":[\"docker\"]}")));

        JsonNode payload = Fixtures.json("gitlab/" + fixture.getFileName());
        String kind = payload.get("object_kind").asText();
        String event = kind.equals("build") ? "Job Hook" : "Pipeline Hook";
        List<Expected> expected = expectedJobs(payload);
        assertFalse(expected.isEmpty(), "fixture lists no job");

        APIGatewayV2HTTPResponse response = TestStack.deliver(webhook,
                Fixtures.gitlabHeaders(event, TestStack.WEBHOOK_TOKEN, UUID.randomUUID().toString()),
                Fixtures.text("gitlab/" + fixture.getFileName()));

        assertEquals(200, response.getStatusCode(), response.getBody());
        JsonNode body = TestStack.body(response);
        assertEquals(event, body.path("event").asText(), response.getBody());
        assertEquals(expected.size(), body.path("applied").asInt(), response.getBody());
        for (Expected job : expected) {
            JobRecord record = stack.store.find(job.key).orElseThrow(() -> new AssertionError(job.key + " not stored"));
            assertEquals(job.status, record.status(), job.key + " status");
            // Live jobs get their pool from GitLab's tags, and so do jobs first seen finished (their
            // record and instance belong to a pool); not-yet-pending ones need none.
            String pool = needsPool(job.status) ? poolForTags(FIXTURE_TAGS.getOrDefault(job.key.jobId(), DEFAULT_TAGS)) : null;
            assertEquals(pool, record.pool(), job.key + " pool");
            if (needsPool(job.status)) {
                stack.gitlab.verify(1, getRequestedFor(urlPathEqualTo(
                        "/api/v4/projects/" + job.key.projectId() + "/jobs/" + job.key.jobId()))
                        .withHeader("PRIVATE-TOKEN", equalTo(TestStack.GITLAB_TOKEN)));
            }
        }
        long lookups = expected.stream().filter(j -> needsPool(j.status)).count();
        assertEquals(lookups, stack.gitlab.getAllServeEvents().size(), "GitLab asked only for live and finished jobs");
        long pendingPools = expected.stream().filter(j -> j.status == JobStatus.PENDING)
                .map(j -> poolForTags(FIXTURE_TAGS.getOrDefault(j.key.jobId(), DEFAULT_TAGS))).distinct().count();
        assertEquals((int) pendingPools, stack.queueDepth(), "one scale request per pool with a new pending job");
    }

    record Expected(JobKey key, JobStatus status) {
    }

    static boolean needsPool(JobStatus status) {
        return status.isLive() || status.isTerminal();
    }

    /** What the payload says, read straight from the raw JSON. */
    static List<Expected> expectedJobs(JsonNode payload) {
        List<Expected> jobs = new ArrayList<>();
        if (payload.get("object_kind").asText().equals("build")) {
            jobs.add(new Expected(new JobKey(payload.get("project_id").asLong(), payload.get("build_id").asLong()),
                    JobStatus.fromWire(payload.get("build_status").asText()).orElseThrow()));
        } else {
            long project = payload.get("project").get("id").asLong();
            for (JsonNode build : payload.get("builds")) {
                jobs.add(new Expected(new JobKey(project, build.get("id").asLong()),
                        JobStatus.fromWire(build.get("status").asText()).orElseThrow()));
            }
        }
        return jobs;
    }

    static String poolForTags(List<String> tags) {
        if (tags.isEmpty() || tags.equals(List.of("general"))) {
            return "general";
        }
        if (List.of("docker", "linux").containsAll(tags)) {
            return "docker";
        }
        return tags.equals(List.of("gpu")) ? "gpu" : null;
    }

    @Test
    void duplicateDeliveriesChangeNothing() {
        stack.stubJobTags(380, "\\d+", List.of("docker"));
        String body = Fixtures.jobHook(380, 5001, "pending");
        Map<String, String> headers = Fixtures.gitlabHeaders("Job Hook", TestStack.WEBHOOK_TOKEN, "idem-" + stack.id);

        APIGatewayV2HTTPResponse first = TestStack.deliver(webhook, headers, body);
        assertEquals(200, first.getStatusCode(), first.getBody());
        assertEquals(1, TestStack.body(first).path("applied").asInt());
        JobRecord stored = stack.store.find(new JobKey(380, 5001)).orElseThrow();
        assertEquals(1, stack.queueDepth());

        // GitLab resends with the same Idempotency-Key (and a new event UUID); also through a new environment.
        for (WebhookHandler handler : List.of(webhook, stack.webhookHandler())) {
            Map<String, String> resend = Fixtures.gitlabHeaders("Job Hook", TestStack.WEBHOOK_TOKEN, "idem-" + stack.id);
            APIGatewayV2HTTPResponse again = TestStack.deliver(handler, resend, body);
            assertEquals(200, again.getStatusCode(), again.getBody());
            assertTrue(TestStack.body(again).path("duplicate").asBoolean(), again.getBody());
            assertEquals("idem-" + stack.id, TestStack.body(again).path("delivery").asText());
        }
        assertEquals(stored, stack.store.find(new JobKey(380, 5001)).orElseThrow(), "store unchanged");
        assertEquals(1, stack.queueDepth(), "no second scale request");
        stack.gitlab.verify(1, getRequestedFor(urlPathEqualTo("/api/v4/projects/380/jobs/5001")));

        // Older GitLab without Idempotency-Key: the same event UUID with the same body is the same delivery.
        String running = Fixtures.jobHook(380, 5002, "running", "i-0a1b2c3d4e5f60718");
        Map<String, String> old = Fixtures.gitlabHeaders("Job Hook", TestStack.WEBHOOK_TOKEN, null);
        assertEquals(1, TestStack.body(TestStack.deliver(webhook, old, running)).path("applied").asInt());
        JobRecord runningRecord = stack.store.find(new JobKey(380, 5002)).orElseThrow();
        APIGatewayV2HTTPResponse oldResend = TestStack.deliver(webhook, old, running);
        assertEquals(200, oldResend.getStatusCode());
        assertTrue(TestStack.body(oldResend).path("duplicate").asBoolean(), oldResend.getBody());
        assertEquals(runningRecord, stack.store.find(new JobKey(380, 5002)).orElseThrow());
    }

    @Test
    void lateEventsNeverMoveAJobBack() {
        stack.stubJobTags(380, "\\d+", List.of("docker"));
        String instance = "i-0123456789abcdef0";

        // running arrives before pending
        assertApplied(TestStack.deliverJobHook(webhook, Fixtures.jobHook(380, 6001, "running", instance)));
        APIGatewayV2HTTPResponse latePending = TestStack.deliverJobHook(webhook, Fixtures.jobHook(380, 6001, "pending"));
        assertEquals(200, latePending.getStatusCode(), latePending.getBody());
        JsonNode result = TestStack.body(latePending).path("jobs").get(0);
        assertEquals("stale", result.path("result").asText(), latePending.getBody());
        assertEquals("running", result.path("current").asText());

        // success arrives before running
        assertApplied(TestStack.deliverJobHook(webhook, Fixtures.jobHook(380, 6002, "success", instance)));
        APIGatewayV2HTTPResponse lateRunning = TestStack.deliverJobHook(webhook, Fixtures.jobHook(380, 6002, "running", instance));
        assertEquals(200, lateRunning.getStatusCode());
        assertEquals("stale", TestStack.body(lateRunning).path("jobs").get(0).path("result").asText());
        APIGatewayV2HTTPResponse latePending2 = TestStack.deliverJobHook(webhook, Fixtures.jobHook(380, 6002, "pending"));
        assertEquals(200, latePending2.getStatusCode());

        // in order, then a late duplicate of an earlier state
        for (String status : List.of("created", "pending", "running", "failed", "running", "pending")) {
            assertEquals(200, TestStack.deliverJobHook(webhook,
                    Fixtures.jobHook(380, 6003, status, status.equals("pending") || status.equals("created") ? null : instance))
                    .getStatusCode());
        }

        JobRecord job1 = stack.store.find(new JobKey(380, 6001)).orElseThrow();
        assertEquals(JobStatus.RUNNING, job1.status());
        assertEquals(instance, job1.instanceId());
        assertEquals("docker", job1.pool());
        assertEquals(JobStatus.SUCCESS, stack.store.find(new JobKey(380, 6002)).orElseThrow().status());
        assertEquals(JobStatus.FAILED, stack.store.find(new JobKey(380, 6003)).orElseThrow().status());

        List<JobRecord> live = stack.store.liveJobs("docker");
        assertEquals(List.of(new JobKey(380, 6001)), live.stream().map(JobRecord::key).toList(),
                "only the running job is live");
        assertEquals(JobStatus.RUNNING, live.getFirst().status());
        // each finished job counted one use of its instance, once, whatever came late
        var instances = stack.store.instances("docker");
        assertEquals(1, instances.size(), instances.toString());
        assertEquals(instance, instances.getFirst().instanceId());
        assertEquals(2, instances.getFirst().useCount(), "6002 and 6003 finished on " + instance);
    }

    @Test
    void rejectsWhatItCannotTrustOrRead() {
        stack.stubJobTags(380, "\\d+", List.of("docker"));
        String body = Fixtures.jobHook(380, 7001, "pending");

        APIGatewayV2HTTPResponse wrong = TestStack.deliver(webhook,
                Fixtures.gitlabHeaders("Job Hook", "not-the-token", UUID.randomUUID().toString()), body);
        assertEquals(401, wrong.getStatusCode(), wrong.getBody());
        APIGatewayV2HTTPResponse missing = TestStack.deliver(webhook,
                Fixtures.gitlabHeaders("Job Hook", null, UUID.randomUUID().toString()), body);
        assertEquals(401, missing.getStatusCode(), missing.getBody());
        APIGatewayV2HTTPResponse empty = TestStack.deliver(webhook,
                Fixtures.gitlabHeaders("Job Hook", "", UUID.randomUUID().toString()), body);
        assertEquals(401, empty.getStatusCode(), empty.getBody());
        assertEquals(Optional.empty(), stack.store.find(new JobKey(380, 7001)), "nothing stored without auth");

        APIGatewayV2HTTPResponse notJson = TestStack.deliverJobHook(webhook, "object_kind=build&build_id=1");
        assertEquals(400, notJson.getStatusCode(), notJson.getBody());
        assertTrue(TestStack.body(notJson).path("error").asText().contains("JSON"), notJson.getBody());

        String noStatus = Fixtures.jobHook(380, 7002, "pending").replace("\"build_status\":\"pending\",", "");
        assertFalse(noStatus.contains("build_status\""), "test payload still has build_status");
        APIGatewayV2HTTPResponse missingField = TestStack.deliverJobHook(webhook, noStatus);
        assertEquals(400, missingField.getStatusCode(), missingField.getBody());
        assertEquals("build_status", TestStack.body(missingField).path("field").asText(), missingField.getBody());
        assertTrue(TestStack.body(missingField).path("error").asText().contains("build_status"));

        String huge = Fixtures.jobHook(380, 7003, "pending");
        huge = huge.substring(0, huge.length() - 1) + ",\"padding\":\"" + "x".repeat(1024 * 1024) + "\"}";
        APIGatewayV2HTTPResponse tooLarge = TestStack.deliverJobHook(webhook, huge);
        assertEquals(413, tooLarge.getStatusCode(), tooLarge.getBody().substring(0, Math.min(200, tooLarge.getBody().length())));
        assertEquals(Optional.empty(), stack.store.find(new JobKey(380, 7003)));

        APIGatewayV2HTTPResponse base64 = TestStack.deliver(webhook, Fixtures.apiGatewayEvent(
                Fixtures.gitlabHeaders("Job Hook", TestStack.WEBHOOK_TOKEN, UUID.randomUUID().toString()),
                Fixtures.jobHook(380, 7004, "pending"), true));
        assertApplied(base64);
        assertEquals(JobStatus.PENDING, stack.store.find(new JobKey(380, 7004)).orElseThrow().status());
        assertEquals("docker", stack.store.find(new JobKey(380, 7004)).orElseThrow().pool());

        // marked base64 but not base64: a 400 that says so, not a function error (API Gateway's 500)
        var notBase64 = Fixtures.apiGatewayEvent(Fixtures.gitlabHeaders("Job Hook", TestStack.WEBHOOK_TOKEN,
                UUID.randomUUID().toString()), "{not base64}", false);
        notBase64.setIsBase64Encoded(true);
        APIGatewayV2HTTPResponse badEncoding = TestStack.deliver(webhook, notBase64);
        assertEquals(400, badEncoding.getStatusCode(), badEncoding.getBody());
        assertTrue(TestStack.body(badEncoding).path("error").asText().contains("base64"), badEncoding.getBody());
        var wrongTokenToo = Fixtures.apiGatewayEvent(Fixtures.gitlabHeaders("Job Hook", "wrong-token",
                UUID.randomUUID().toString()), "{not base64}", false);
        wrongTokenToo.setIsBase64Encoded(true);
        assertEquals(401, TestStack.deliver(webhook, wrongTokenToo).getStatusCode(), "the token is checked first");

        // GitLab capitalises header names; API Gateway passes them lower-cased, but either must work
        Map<String, String> capitalised = new HashMap<>();
        Fixtures.gitlabHeaders("Job Hook", TestStack.WEBHOOK_TOKEN, UUID.randomUUID().toString())
                .forEach((k, v) -> capitalised.put(capitalise(k), v));
        assertApplied(TestStack.deliver(webhook, capitalised, Fixtures.jobHook(380, 7005, "pending")));
    }

    private static String capitalise(String header) {
        StringBuilder out = new StringBuilder();
        for (String part : header.split("-")) {
            out.append(out.isEmpty() ? "" : "-").append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
        }
        return out.toString();
    }

    @Test
    void gitlabDownSendsTheJobToTheUntaggedPool() {
        // down: connection refused
        stack.gitlab.stop();
        APIGatewayV2HTTPResponse refused = TestStack.deliverJobHook(webhook, Fixtures.jobHook(380, 8001, "pending"));
        assertFallback(refused, 8001);
    }

    @Test
    void gitlabErrorsAndTimeoutsSendTheJobToTheUntaggedPool() {
        stack.gitlab.stubFor(WireMock.get(urlPathEqualTo("/api/v4/projects/380/jobs/8002"))
                .willReturn(aResponse().withStatus(500).withBody("{\"message\":\"500 Internal Server Error\"}")));
        assertFallback(TestStack.deliverJobHook(webhook, Fixtures.jobHook(380, 8002, "pending")), 8002);

        stack.gitlab.stubFor(WireMock.get(urlPathEqualTo("/api/v4/projects/380/jobs/8003"))
                .willReturn(aResponse().withStatus(200).withFixedDelay(4_000).withBody("{\"tag_list\":[\"gpu\"]}")));
        long start = System.nanoTime();
        APIGatewayV2HTTPResponse slow = TestStack.deliverJobHook(webhook, Fixtures.jobHook(380, 8003, "pending"));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertFallback(slow, 8003);
        assertTrue(took.compareTo(Duration.ofSeconds(10)) < 0, "GitLab waits 10 s for an answer; took " + took);

        stack.gitlab.stubFor(WireMock.get(urlPathEqualTo("/api/v4/projects/380/jobs/8004"))
                .willReturn(aResponse().withStatus(200).withBody("<html>sign in</html>")));
        assertFallback(TestStack.deliverJobHook(webhook, Fixtures.jobHook(380, 8004, "pending")), 8004);
    }

    private void assertFallback(APIGatewayV2HTTPResponse response, long jobId) {
        assertEquals(200, response.getStatusCode(), response.getBody());
        JsonNode job = TestStack.body(response).path("jobs").get(0);
        assertEquals("general", job.path("pool").asText(), response.getBody());
        assertTrue(job.path("note").asText().contains("GitLab API unavailable"), response.getBody());
        JobRecord record = stack.store.find(new JobKey(380, jobId)).orElseThrow();
        assertEquals(JobStatus.PENDING, record.status());
        assertEquals("general", record.pool());
        assertNull(record.tags(), "tags unknown");
    }

    @Test
    void gitlabTagsChooseThePool() {
        stack.stubJobTags(380, "9001", List.of("docker"));
        stack.stubJobTags(380, "9002", List.of("docker", "linux"));
        stack.stubJobTags(380, "9003", List.of("gpu"));
        stack.stubJobTags(380, "9004", List.of());
        stack.stubJobTags(380, "9005", List.of("general"));
        stack.stubJobTags(380, "9006", List.of("windows"));
        stack.stubJobTags(380, "9007", List.of("gpu", "docker"));
        Map<Long, String> expected = new java.util.LinkedHashMap<>();
        expected.put(9001L, "docker");
        expected.put(9002L, "docker");
        expected.put(9003L, "gpu");
        expected.put(9004L, "general");
        expected.put(9005L, "general");
        expected.put(9006L, null);
        expected.put(9007L, null);

        expected.forEach((job, pool) -> {
            APIGatewayV2HTTPResponse response = TestStack.deliverJobHook(webhook, Fixtures.jobHook(380, job, "pending"));
            assertEquals(200, response.getStatusCode(), response.getBody());
            assertFalse(TestStack.body(response).path("jobs").get(0).has("note"), response.getBody());
            JobRecord record = stack.store.find(new JobKey(380, job)).orElseThrow();
            assertEquals(pool, record.pool(), "job " + job);
            assertEquals(JobStatus.PENDING, record.status());
        });
        assertEquals(List.of("docker", "linux"), stack.store.find(new JobKey(380, 9002)).orElseThrow().tags());

        // the job's later events reuse its tags: GitLab is asked once per job
        assertApplied(TestStack.deliverJobHook(webhook, Fixtures.jobHook(380, 9003, "running", "i-0fedcba9876543210")));
        assertApplied(TestStack.deliver(stack.webhookHandler(),
                Fixtures.gitlabHeaders("Job Hook", TestStack.WEBHOOK_TOKEN, UUID.randomUUID().toString()),
                Fixtures.jobHook(380, 9003, "success", "i-0fedcba9876543210")));
        stack.gitlab.verify(1, getRequestedFor(urlPathEqualTo("/api/v4/projects/380/jobs/9003"))
                .withHeader("PRIVATE-TOKEN", equalTo(TestStack.GITLAB_TOKEN)));
        assertEquals("gpu", stack.store.find(new JobKey(380, 9003)).orElseThrow().pool());

        assertEquals(List.of(new JobKey(380, 9001), new JobKey(380, 9002)),
                stack.store.liveJobs("docker").stream().map(JobRecord::key).sorted(
                        java.util.Comparator.comparingLong(JobKey::jobId)).toList());
        assertEquals(List.of(), stack.store.liveJobs("gpu"));
        assertEquals(2, stack.store.liveJobs("general").size());
    }

    @Test
    void aPendingJobSendsOneScaleRequestGroupedByPool() {
        stack.stubJobTags(380, "9101", List.of("gpu"));
        assertApplied(TestStack.deliverJobHook(webhook, Fixtures.jobHook(380, 9101, "pending")));

        assertEquals(1, stack.queueDepth());
        List<Message> messages = stack.receive();
        assertEquals(1, messages.size());
        Message message = messages.getFirst();
        assertEquals("gpu", message.attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID));
        assertEquals("gpu", readTree(message.body()).path("pool").asText(), message.body());
        stack.delete(messages);

        // events that add no pending job send nothing
        assertApplied(TestStack.deliverJobHook(webhook, Fixtures.jobHook(380, 9101, "running", "i-0aaaabbbbccccdddd")));
        assertApplied(TestStack.deliverJobHook(webhook, Fixtures.jobHook(380, 9101, "success", "i-0aaaabbbbccccdddd")));
        assertEquals(0, stack.queueDepth());
    }

    @Test
    void failuresOfItsOwnParts() {
        stack.stubJobTags(380, "\\d+", List.of("docker"));
        Settings ok = stack.settings;

        // the scale queue cannot be reached: the job is still stored (the minute tick scales for it)
        WebhookHandler noQueue = handler(new Settings(ok.tableName(), ok.poolsParameter(), ok.webhookSecretId(),
                ok.gitlabSecretId(), ok.scaleQueueUrl() + "-gone", ok.jobTtl()));
        assertApplied(TestStack.deliverJobHook(noQueue, Fixtures.jobHook(380, 9201, "pending")));
        assertEquals(JobStatus.PENDING, stack.store.find(new JobKey(380, 9201)).orElseThrow().status());

        // the job store cannot be reached: 503, nothing kept, so a resend is processed
        WebhookHandler noTable = handler(new Settings(ok.tableName() + "-gone", ok.poolsParameter(),
                ok.webhookSecretId(), ok.gitlabSecretId(), ok.scaleQueueUrl(), ok.jobTtl()));
        Map<String, String> headers = Fixtures.gitlabHeaders("Job Hook", TestStack.WEBHOOK_TOKEN, "idem-9202-" + stack.id);
        APIGatewayV2HTTPResponse unavailable = TestStack.deliver(noTable, headers, Fixtures.jobHook(380, 9202, "pending"));
        assertEquals(503, unavailable.getStatusCode(), unavailable.getBody());
        assertApplied(TestStack.deliver(webhook, headers, Fixtures.jobHook(380, 9202, "pending")));

        // the webhook secret cannot be read: 503, not 401 (GitLab must not learn the token is wrong)
        WebhookHandler noSecret = handler(new Settings(ok.tableName(), ok.poolsParameter(),
                ok.webhookSecretId() + "-gone", ok.gitlabSecretId(), ok.scaleQueueUrl(), ok.jobTtl()));
        APIGatewayV2HTTPResponse noToken = TestStack.deliverJobHook(noSecret, Fixtures.jobHook(380, 9203, "pending"));
        assertEquals(503, noToken.getStatusCode(), noToken.getBody());
        assertEquals(Optional.empty(), stack.store.find(new JobKey(380, 9203)));
    }

    @Test
    void signedDeliveriesAreCheckedOnTheBodyAsSentAlsoWhenApiGatewayEncodesIt() {
        String signingSecretName = stack.settings.webhookSecretId() + "-signing";
        String signing = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        stack.secretsManager.createSecret(r -> r.name(signingSecretName).secretString(signing));
        WebhookHandler both = new WebhookHandler(stack.settings, new io.runnerscale.webhook.WebhookAuthenticator.Settings(
                io.runnerscale.webhook.WebhookAuthenticator.Mode.BOTH, signingSecretName),
                stack.dynamo, stack.secretsManager, stack.ssm, stack.sqs);
        for (boolean base64 : new boolean[]{false, true}) {
            long jobId = base64 ? 9302 : 9301;
            String body = Fixtures.jobHook(381, jobId, "pending");
            long now = java.time.Instant.now().getEpochSecond();
            Map<String, String> headers = Fixtures.gitlabHeaders("Job Hook", TestStack.WEBHOOK_TOKEN,
                    java.util.UUID.randomUUID().toString());
            headers.put("webhook-id", "msg_" + jobId);
            headers.put("webhook-timestamp", Long.toString(now));
            headers.put("webhook-signature", io.runnerscale.webhook.WebhookSignatures.of(signing)
                    .sign("msg_" + jobId, now, body.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            assertApplied(TestStack.deliver(both, Fixtures.apiGatewayEvent(headers, body, base64)));
            assertTrue(stack.store.find(new JobKey(381, jobId)).isPresent());
            // the same headers on another body: refused, nothing stored
            String forged = Fixtures.jobHook(381, jobId + 10, "pending");
            APIGatewayV2HTTPResponse refused = TestStack.deliver(both, Fixtures.apiGatewayEvent(headers, forged, base64));
            assertEquals(401, refused.getStatusCode(), refused.getBody());
            assertEquals(Optional.empty(), stack.store.find(new JobKey(381, jobId + 10)));
        }
    }

    private WebhookHandler handler(Settings settings) {
        return new WebhookHandler(settings, stack.dynamo, stack.secretsManager, stack.ssm, stack.sqs);
    }

    private static JsonNode readTree(String json) {
        try {
            return Fixtures.JSON.readTree(json);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void assertApplied(APIGatewayV2HTTPResponse response) {
        assertEquals(200, response.getStatusCode(), response.getBody());
        assertEquals(1, TestStack.body(response).path("applied").asInt(), response.getBody());
    }
}
