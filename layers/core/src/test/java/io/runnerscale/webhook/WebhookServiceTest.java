package io.runnerscale.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.gitlab.GitLab;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigParser;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.scaling.ScaleRequests;
import io.runnerscale.store.InMemoryJobStore;
import io.runnerscale.store.InstanceRecord;
import io.runnerscale.store.JobStore;
import io.runnerscale.testing.SharedFiles;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WebhookServiceTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SECRET = "s3cr3t-token";
    static final Instant NOW = Instant.parse("2026-01-07T12:00:00Z");

    /** docker-spot takes untagged jobs; gpu needs both tags; fargate-small only fargate. */
    static final PoolsConfig POOLS = PoolsConfigParser.parse("""
            pools:
              - name: docker-spot
                match: {tags: [docker], run_untagged: true}
                backend: {type: ec2-asg, asg: gitlab-runners-docker}
              - name: gpu
                match: {tags: [docker, gpu]}
                backend: {type: ec2-asg, asg: gitlab-runners-gpu}
              - name: fargate-small
                match: {tags: [fargate]}
                backend: {type: fargate, cluster: ci, task_definition: small, subnets: [subnet-1]}
            """, "test");

    record ScaleRequest(String pool, String reason, String dedupeId) {
    }

    /** GitLab's API as the resolver sees it: tags per job, or down. */
    final Map<JobKey, List<String>> gitlabTags = new HashMap<>();
    final AtomicInteger gitlabCalls = new AtomicInteger();
    boolean gitlabDown;
    final List<ScaleRequest> scaleRequests = new ArrayList<>();
    boolean scaleRequestsFail;
    String secret = SECRET;
    InMemoryJobStore store;

    final GitLab gitlab = key -> {
        gitlabCalls.incrementAndGet();
        if (gitlabDown) {
            throw new GitLabUnavailableException("connect timed out", null);
        }
        return gitlabTags.getOrDefault(key, List.of());
    };
    final ScaleRequests requests = (pool, reason, dedupeId) -> {
        if (scaleRequestsFail) {
            throw new IllegalStateException("SQS throttled");
        }
        scaleRequests.add(new ScaleRequest(pool, reason, dedupeId));
    };

    @BeforeEach
    void setUp() {
        store = new InMemoryJobStore();
    }

    WebhookService service(PoolsConfig pools, JobStore jobStore) {
        return new WebhookService(new WebhookAuthenticator(() -> secret), PoolsConfigSource.fixed(pools), jobStore,
                new PoolResolver(gitlab, jobStore, 1000), requests, JSON, Clock.fixed(NOW, ZoneOffset.UTC));
    }

    WebhookService service() {
        return service(POOLS, store);
    }

    // ---- requests ---------------------------------------------------------------------------------

    static Map<String, String> headers(String event, String... more) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("X-Gitlab-Token", SECRET);
        headers.put("X-Gitlab-Event", event);
        headers.put("Content-Type", "application/json");
        for (int i = 0; i < more.length; i += 2) {
            headers.put(more[i], more[i + 1]);
        }
        return headers;
    }

    static WebhookRequest request(Map<String, String> headers, String body) {
        return new WebhookRequest(headers, body, body.getBytes(StandardCharsets.UTF_8).length);
    }

    static ObjectNode jobHook(long job, String status, String runner) {
        ObjectNode body = JSON.createObjectNode()
                .put("object_kind", "build").put("build_id", job).put("project_id", 42)
                .put("build_status", status).put("pipeline_id", 900)
                .put("build_created_at", "2026-01-07 11:59:00 UTC");
        if (runner != null) {
            body.putObject("runner").put("id", 5).put("description", runner);
        } else {
            body.putNull("runner");
        }
        return body;
    }

    static ObjectNode pipelineHook(Object[]... builds) {
        ObjectNode body = JSON.createObjectNode().put("object_kind", "pipeline");
        body.putObject("object_attributes").put("id", 900);
        body.putObject("project").put("id", 42);
        var array = body.putArray("builds");
        for (Object[] build : builds) {
            array.addObject().put("id", (Long) build[0]).put("status", (String) build[1]).putNull("runner");
        }
        return body;
    }

    WebhookResponse deliver(String event, JsonNode body, String... headers) {
        return service().handle(request(headers(event, headers), body.toString()));
    }

    WebhookResponse job(long id, String status, String... headers) {
        return deliver("Job Hook", jobHook(id, status, null), headers);
    }

    static JsonNode body(WebhookResponse response) {
        try {
            return JSON.readTree(response.body());
        } catch (Exception e) {
            throw new AssertionError("response body is not JSON: " + response.body(), e);
        }
    }

    static JobKey key(long job) {
        return new JobKey(42, job);
    }

    JobRecord record(long job) {
        return store.find(key(job)).orElseThrow(() -> new AssertionError("job " + job + " not stored"));
    }

    List<Long> live(String pool) {
        return store.liveJobs(pool).stream().map(r -> r.key().jobId()).toList();
    }

    // ---- authentication and size ------------------------------------------------------------------

    @Test
    void missingTokenIs401AndStoresNothing() {
        Map<String, String> h = headers("Job Hook");
        h.remove("X-Gitlab-Token");
        WebhookResponse r = service().handle(request(h, jobHook(1, "pending", null).toString()));
        assertEquals(401, r.status());
        assertTrue(body(r).get("error").asText().contains("X-Gitlab-Token"), r.body());
        assertTrue(store.find(key(1)).isEmpty());
        assertTrue(scaleRequests.isEmpty());
    }

    @ParameterizedTest(name = "token ''{0}''")
    @ValueSource(strings = {"", "wrong", "s3cr3t-token ", "s3cr3t-tokenX", "s3cr3t-toke", "S3CR3T-TOKEN"})
    void wrongTokenIs401(String token) {
        WebhookResponse r = service().handle(request(headers("Job Hook", "X-Gitlab-Token", token),
                jobHook(1, "pending", null).toString()));
        assertEquals(401, r.status());
        assertTrue(store.find(key(1)).isEmpty());
    }

    @Test
    void headerNamesAreCaseInsensitive() {
        Map<String, String> h = new HashMap<>();
        h.put("x-gitlab-token", SECRET);
        h.put("x-gitlab-event", "Job Hook");
        assertEquals(200, service().handle(request(h, jobHook(1, "pending", null).toString())).status());
    }

    @Test
    void theTokenIsCheckedAgainstTheCurrentSecret() {
        WebhookService service = service();
        assertEquals(200, service.handle(request(headers("Job Hook"), jobHook(1, "pending", null).toString())).status());
        secret = "rotated";
        assertEquals(401, service.handle(request(headers("Job Hook"), jobHook(2, "pending", null).toString())).status());
        assertEquals(200, service.handle(request(headers("Job Hook", "X-Gitlab-Token", "rotated"),
                jobHook(2, "pending", null).toString())).status());
    }

    @Test
    void anEmptySecretRejectsEverythingWith503() {
        secret = "";
        WebhookResponse r = service().handle(request(headers("Job Hook", "X-Gitlab-Token", ""),
                jobHook(1, "pending", null).toString()));
        assertEquals(503, r.status());
        assertTrue(store.find(key(1)).isEmpty());
    }

    @Test
    void authenticatorComparesWholeTokens() {
        WebhookAuthenticator auth = new WebhookAuthenticator(() -> SECRET);
        assertTrue(auth.isAuthentic(SECRET));
        assertFalse(auth.isAuthentic(null));
        assertFalse(auth.isAuthentic(""));
        assertFalse(auth.isAuthentic(SECRET.substring(1)));
        assertFalse(auth.isAuthentic(SECRET + SECRET));
    }

    @Test
    void bodiesOver1MiBAre413() {
        String body = jobHook(1, "pending", null).toString();
        WebhookResponse tooBig = service().handle(new WebhookRequest(headers("Job Hook"), body, 1024 * 1024 + 1));
        assertEquals(413, tooBig.status());
        assertTrue(store.find(key(1)).isEmpty());

        WebhookResponse atLimit = service().handle(new WebhookRequest(headers("Job Hook"), body, 1024 * 1024));
        assertEquals(200, atLimit.status());
    }

    @Test
    void authenticationComesBeforeTheSizeCheck() {
        WebhookResponse r = service().handle(new WebhookRequest(headers("Job Hook", "X-Gitlab-Token", "nope"), "{}",
                10 * 1024 * 1024));
        assertEquals(401, r.status());
    }

    // ---- bad and ignored deliveries -----------------------------------------------------------------

    @ParameterizedTest(name = "without {0}")
    @ValueSource(strings = {"build_id", "project_id", "build_status"})
    void aMissingFieldIs400NamingIt(String field) {
        ObjectNode body = jobHook(1, "pending", null);
        body.remove(field);
        WebhookResponse r = deliver("Job Hook", body);
        assertEquals(400, r.status());
        assertEquals(field, body(r).get("field").asText());
        assertTrue(body(r).get("error").asText().contains(field), r.body());
    }

    @Test
    void notJsonIs400WithoutField() {
        WebhookResponse r = service().handle(request(headers("Job Hook"), "<html>"));
        assertEquals(400, r.status());
        assertTrue(body(r).has("error"));
        assertFalse(body(r).has("field"));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"Push Hook", "Merge Request Hook", "Note Hook"})
    void otherEventsAre200IgnoredAndChangeNothing(String event) {
        WebhookResponse r = deliver(event, jobHook(1, "pending", null), "Idempotency-Key", "k-1");
        assertEquals(200, r.status());
        assertEquals(event, body(r).get("ignored").asText());
        assertTrue(store.find(key(1)).isEmpty());
        assertTrue(scaleRequests.isEmpty());
        assertEquals(0, gitlabCalls.get());
    }

    // ---- duplicates ---------------------------------------------------------------------------------

    @Test
    void aDuplicateDeliveryByIdempotencyKeyChangesNothing() {
        gitlabTags.put(key(1), List.of("docker"));
        WebhookResponse first = job(1, "pending", "Idempotency-Key", "delivery-1");
        assertEquals(200, first.status());
        assertEquals(1, body(first).get("applied").asInt());
        JobRecord before = record(1);

        WebhookResponse again = job(1, "pending", "Idempotency-Key", "delivery-1");
        assertEquals(200, again.status());
        assertTrue(body(again).get("duplicate").asBoolean(), again.body());
        assertEquals("delivery-1", body(again).get("delivery").asText());
        assertEquals(before, record(1));
        assertEquals(1, scaleRequests.size());
        assertEquals(1, gitlabCalls.get());
    }

    @Test
    void aDuplicateFinishedJobDoesNotCountTheInstanceTwice() {
        String instance = "i-0123456789abcdef0";
        gitlabTags.put(key(1), List.of("docker"));
        job(1, "pending");
        deliver("Job Hook", jobHook(1, "running", instance));
        deliver("Job Hook", jobHook(1, "success", instance), "Idempotency-Key", "d-1");
        deliver("Job Hook", jobHook(1, "success", instance), "Idempotency-Key", "d-1");
        deliver("Job Hook", jobHook(1, "success", instance), "Idempotency-Key", "d-2"); // a resend with a new key
        List<InstanceRecord> instances = store.instances("docker-spot");
        assertEquals(1, instances.size(), instances.toString());
        assertEquals(1, instances.getFirst().useCount());
    }

    @Test
    void withoutIdempotencyKeyTheEventUuidAndBodyIdentifyADelivery() {
        gitlabTags.put(key(1), List.of("docker"));
        gitlabTags.put(key(2), List.of("docker"));
        assertEquals(1, body(job(1, "pending", "X-Gitlab-Event-UUID", "uuid-1")).get("applied").asInt());
        WebhookResponse duplicate = job(1, "pending", "X-Gitlab-Event-UUID", "uuid-1");
        assertTrue(body(duplicate).path("duplicate").asBoolean(), duplicate.body());
        assertTrue(body(duplicate).get("delivery").asText().startsWith("uuid-1:"), duplicate.body());

        // the same event UUID with another body is another delivery
        WebhookResponse other = job(2, "pending", "X-Gitlab-Event-UUID", "uuid-1");
        assertFalse(body(other).path("duplicate").asBoolean(), other.body());
        assertEquals(1, body(other).get("applied").asInt());
        assertEquals(2, scaleRequests.size());
    }

    @Test
    void theIdempotencyKeyWinsOverTheEventUuid() {
        job(1, "pending", "Idempotency-Key", "key-a", "X-Gitlab-Event-UUID", "uuid-1");
        WebhookResponse r = job(1, "pending", "Idempotency-Key", "key-a", "X-Gitlab-Event-UUID", "uuid-2");
        assertTrue(body(r).path("duplicate").asBoolean(), r.body());
    }

    @Test
    void withoutAnyDeliveryIdARepeatIsStaleNotDuplicate() {
        job(1, "pending");
        WebhookResponse again = job(1, "pending");
        assertEquals(200, again.status());
        assertFalse(body(again).has("duplicate"));
        assertEquals("stale", body(again).at("/jobs/0/result").asText());
        assertEquals(1, scaleRequests.size(), "a stale pending asks for nothing");
    }

    // ---- ordering -----------------------------------------------------------------------------------

    @Test
    void runningBeforePendingStaysRunning() {
        WebhookResponse running = deliver("Job Hook", jobHook(1, "running", "i-0aaaaaaaaaaaaaaaa"));
        assertEquals("applied", body(running).at("/jobs/0/result").asText());
        WebhookResponse pending = job(1, "pending");
        assertEquals(200, pending.status());
        assertEquals("stale", body(pending).at("/jobs/0/result").asText());
        assertEquals("running", body(pending).at("/jobs/0/current").asText());
        assertEquals(0, body(pending).get("applied").asInt());
        assertEquals(JobStatus.RUNNING, record(1).status());
        assertEquals("i-0aaaaaaaaaaaaaaaa", record(1).instanceId());
        assertTrue(scaleRequests.isEmpty(), "a late pending asks for no capacity: " + scaleRequests);
    }

    @Test
    void successBeforeRunningStaysSuccessAndLeavesTheLiveIndex() {
        job(1, "pending");
        assertEquals(List.of(1L), live("docker-spot"));
        job(1, "success");
        WebhookResponse lateRunning = job(1, "running");
        assertEquals("stale", body(lateRunning).at("/jobs/0/result").asText());
        assertEquals(JobStatus.SUCCESS, record(1).status());
        assertEquals(List.of(), live("docker-spot"));
    }

    @Test
    void aPipelineHookAppliesEachBuildAndSkipsStaleOnes() {
        gitlabTags.put(key(10), List.of("docker"));
        gitlabTags.put(key(11), List.of("docker"));
        job(12, "success");
        WebhookResponse r = deliver("Pipeline Hook", pipelineHook(
                new Object[]{10L, "pending"}, new Object[]{11L, "running"}, new Object[]{12L, "running"},
                new Object[]{13L, "levitating"}));
        assertEquals(200, r.status());
        JsonNode b = body(r);
        assertEquals(2, b.get("applied").asInt());
        assertEquals("stale", b.at("/jobs/2/result").asText());
        assertEquals(1, b.get("skipped").size());
        assertEquals(JobStatus.PENDING, record(10).status());
        assertEquals(JobStatus.RUNNING, record(11).status());
        assertEquals(JobStatus.SUCCESS, record(12).status());
        assertEquals(List.of(10L, 11L), live("docker-spot").stream().sorted().toList());
    }

    // ---- scale requests -----------------------------------------------------------------------------

    @Test
    void aPendingJobAsksForExactlyOneScaleDecisionForItsPool() {
        gitlabTags.put(key(1), List.of("fargate"));
        job(1, "pending");
        assertEquals(1, scaleRequests.size());
        assertEquals("fargate-small", scaleRequests.getFirst().pool());
        assertEquals("job-pending", scaleRequests.getFirst().reason());
        assertTrue(scaleRequests.getFirst().dedupeId().contains("fargate-small"), scaleRequests.toString());
    }

    @Test
    void manyPendingJobsOfOnePoolAskOnce() {
        for (long id = 1; id <= 3; id++) {
            gitlabTags.put(key(id), List.of("docker"));
        }
        gitlabTags.put(key(4), List.of("fargate"));
        deliver("Pipeline Hook", pipelineHook(new Object[]{1L, "pending"}, new Object[]{2L, "pending"},
                new Object[]{3L, "pending"}, new Object[]{4L, "pending"}, new Object[]{5L, "created"}));
        assertEquals(List.of("docker-spot", "fargate-small"), scaleRequests.stream().map(ScaleRequest::pool).toList());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"created", "running", "success", "failed", "canceled", "manual"})
    void otherStatusesAskForNoScaleDecision(String status) {
        gitlabTags.put(key(1), List.of("docker"));
        job(1, status);
        assertTrue(scaleRequests.isEmpty(), scaleRequests.toString());
    }

    @Test
    void aFailedScaleRequestStillStoresTheJob() {
        scaleRequestsFail = true;
        WebhookResponse r = job(1, "pending");
        assertEquals(200, r.status());
        assertEquals(JobStatus.PENDING, record(1).status());
        assertEquals(List.of(1L), live("docker-spot"), "the scheduled tick will find it");
    }

    // ---- pools --------------------------------------------------------------------------------------

    static Stream<Arguments> tagRouting() {
        return Stream.of(
                Arguments.of(List.of(), "docker-spot"),
                Arguments.of(List.of("docker"), "docker-spot"),
                Arguments.of(List.of("docker", "gpu"), "gpu"),
                Arguments.of(List.of("gpu"), "gpu"),
                Arguments.of(List.of("fargate"), "fargate-small"),
                Arguments.of(List.of("fargate", "docker"), null),
                Arguments.of(List.of("arm64"), null));
    }

    @ParameterizedTest(name = "tags {0} -> {1}")
    @MethodSource("tagRouting")
    void jobsGoToTheFirstPoolWhoseTagsCoverTheirs(List<String> tags, String pool) {
        gitlabTags.put(key(1), tags);
        WebhookResponse r = job(1, "pending");
        assertEquals(200, r.status());
        assertEquals(pool, record(1).pool());
        assertEquals(tags, record(1).tags());
        assertEquals(pool == null ? List.of() : List.of(pool), scaleRequests.stream().map(ScaleRequest::pool).toList());
        if (pool != null) {
            assertEquals(List.of(1L), live(pool));
        }
    }

    @Test
    void untaggedJobsNeedAPoolThatRunsUntagged() {
        PoolsConfig noUntagged = PoolsConfigParser.parse("""
                pools:
                  - {name: tagged-only, match: {tags: [docker]}, backend: {type: ec2-asg, asg: a}}
                  - {name: catch-all, match: {tags: [docker], run_untagged: true}, backend: {type: ec2-asg, asg: b}}
                """, "t");
        gitlabTags.put(key(1), List.of());
        service(noUntagged, store).handle(request(headers("Job Hook"), jobHook(1, "pending", null).toString()));
        assertEquals("catch-all", record(1).pool());
    }

    @Test
    void tagsAreLookedUpOncePerJob() {
        gitlabTags.put(key(1), List.of("gpu", "docker"));
        WebhookService service = service();
        for (String status : List.of("pending", "running", "success")) {
            service.handle(request(headers("Job Hook"), jobHook(1, status, null).toString()));
        }
        assertEquals(1, gitlabCalls.get());
        assertEquals("gpu", record(1).pool());
    }

    @Test
    void aFreshServiceFindsTagsInTheStore() {
        gitlabTags.put(key(1), List.of("fargate"));
        job(1, "pending");
        job(1, "running"); // a new service per delivery: no in-memory cache, the record has the tags
        assertEquals(1, gitlabCalls.get());
        assertEquals("fargate-small", record(1).pool());
    }

    @Test
    void aJobWhoseTagsCameWithItsCreatedEventCanBecomePending() {
        ObjectNode created = jobHook(1, "created", null);
        created.putArray("tag_list").add("fargate");
        assertEquals(200, deliver("Job Hook", created).status());
        assertEquals("fargate-small", record(1).pool());

        WebhookResponse pending = job(1, "pending");
        assertEquals(200, pending.status(), pending.body());
        assertEquals(List.of(1L), live("fargate-small"));
        assertEquals(List.of("fargate-small"), scaleRequests.stream().map(ScaleRequest::pool).toList());
        assertEquals(0, gitlabCalls.get(), "tags came with the event, then from the store");
    }

    @Test
    void jobsNotYetPendingSpareGitLabsApiButAJobFirstSeenFinishedIsLookedUp() {
        job(2, "created");
        assertEquals(0, gitlabCalls.get());
        assertNull(record(2).pool());
        job(1, "success");
        assertEquals(1, gitlabCalls.get(), "without its pool the finished job would be recorded nowhere");
        assertEquals("docker-spot", record(1).pool());
    }

    @Test
    void whenGitLabIsDownTheJobGoesToTheUntaggedPoolAndALaterEventRetries() {
        gitlabDown = true;
        gitlabTags.put(key(1), List.of("fargate"));
        WebhookResponse pending = job(1, "pending");
        assertEquals(200, pending.status());
        assertEquals("docker-spot", body(pending).at("/jobs/0/pool").asText());
        assertTrue(body(pending).at("/jobs/0/note").asText().contains("GitLab API unavailable"), pending.body());
        assertEquals("docker-spot", record(1).pool());
        assertNull(record(1).tags(), "tags stay unknown");
        assertEquals(List.of("docker-spot"), scaleRequests.stream().map(ScaleRequest::pool).toList());

        gitlabDown = false;
        WebhookResponse running = job(1, "running");
        assertEquals("fargate-small", body(running).at("/jobs/0/pool").asText());
        assertEquals(2, gitlabCalls.get(), "the lookup was retried");
        assertEquals("fargate-small", record(1).pool());
        assertEquals(List.of("fargate"), record(1).tags());
        assertEquals(List.of(), live("docker-spot"));
        assertEquals(List.of(1L), live("fargate-small"));
    }

    @Test
    void whenGitLabIsDownAndNoPoolRunsUntaggedTheJobIsStillStored() {
        PoolsConfig onlyTagged = PoolsConfigParser.parse("""
                pools:
                  - {name: tagged-only, match: {tags: [docker]}, backend: {type: ec2-asg, asg: a}}
                """, "t");
        gitlabDown = true;
        WebhookResponse r = service(onlyTagged, store).handle(request(headers("Job Hook"),
                jobHook(1, "pending", null).toString()));
        assertEquals(200, r.status());
        assertEquals(JobStatus.PENDING, record(1).status());
        assertNull(record(1).pool());
        assertTrue(scaleRequests.isEmpty());
    }

    // ---- store failures -----------------------------------------------------------------------------

    /** The in-memory store, with switches that make it fail like an unreachable DynamoDB. */
    static class FlakyStore extends io.runnerscale.testing.DelegatingJobStore {
        boolean failApply;
        boolean failClaim;
        boolean failRelease;
        final List<String> released = new ArrayList<>();

        @Override
        public ApplyOutcome apply(JobEvent event, String pool, Instant now) {
            if (failApply) {
                throw new IllegalStateException("ProvisionedThroughputExceeded");
            }
            return super.apply(event, pool, now);
        }

        @Override
        public boolean claimDelivery(String deliveryId, Instant now) {
            if (failClaim) {
                throw new IllegalStateException("unreachable");
            }
            return super.claimDelivery(deliveryId, now);
        }

        @Override
        public void releaseDelivery(String deliveryId) {
            if (failRelease) {
                throw new IllegalStateException("unreachable");
            }
            released.add(deliveryId);
            super.releaseDelivery(deliveryId);
        }
    }

    @Test
    void aStoreFailureIs503AndRecordsNothingSoAResendIsProcessed() {
        FlakyStore flaky = new FlakyStore();
        WebhookService service = service(POOLS, flaky);
        WebhookRequest delivery = request(headers("Job Hook", "Idempotency-Key", "delivery-9"),
                jobHook(1, "pending", null).toString());

        flaky.failApply = true;
        WebhookResponse failed = service.handle(delivery);
        assertEquals(503, failed.status());
        assertTrue(body(failed).get("error").asText().contains("not stored"), failed.body());
        assertFalse(flaky.delegate.deliveryRecorded("delivery-9"), "recorded only once stored");
        assertTrue(flaky.find(key(1)).isEmpty());
        assertTrue(scaleRequests.isEmpty());

        flaky.failApply = false;
        WebhookResponse resent = service.handle(delivery);
        assertEquals(200, resent.status());
        assertFalse(body(resent).has("duplicate"), resent.body());
        assertEquals(JobStatus.PENDING, flaky.find(key(1)).orElseThrow().status());
        assertEquals(1, scaleRequests.size());
    }

    /**
     * Defect (hostile tester, issue 6): the delivery is claimed before its jobs are stored, and the
     * claim is only released when the store answers the release. When the store fails for the jobs
     * and for the release alike (an outage, not one throttled write), or the process dies between
     * the claim and the store (kill -9 of {@code serve}, a Lambda timeout), the claim outlives the
     * failure: the delivery was answered 503 (or not at all), and its resend is answered
     * {@code 200 duplicate} with the job never stored. A claim must not count as delivered before
     * the jobs are stored (or queued); fixing it needs a second state for the claim in the
     * {@link JobStore} port (claimed vs done, a stale claim taken over), so it is left disabled.
     */
    @Test
    void aResendAfterAStoreOutageIsStoredEvenWhenTheClaimCouldNotBeReleased() {
        FlakyStore flaky = new FlakyStore();
        WebhookService service = service(POOLS, flaky);
        WebhookRequest delivery = request(headers("Job Hook", "Idempotency-Key", "delivery-10"),
                jobHook(1, "pending", null).toString());

        flaky.failApply = true;
        flaky.failRelease = true;
        assertEquals(503, service.handle(delivery).status());

        flaky.failApply = false;
        flaky.failRelease = false;
        WebhookResponse resent = service.handle(delivery);
        assertEquals(200, resent.status());
        assertFalse(body(resent).has("duplicate"), resent.body());
        assertEquals(JobStatus.PENDING, flaky.find(key(1)).orElseThrow().status());
    }

    @Test
    void aFailureToRecordAStoredDeliveryIsStill200() {
        FlakyStore flaky = new FlakyStore();
        flaky.failClaim = true;
        WebhookResponse r = service(POOLS, flaky).handle(request(headers("Job Hook", "Idempotency-Key", "d"),
                jobHook(1, "pending", null).toString()));
        assertEquals(200, r.status(), "the job is stored: a 5xx would count towards disabling the hook");
        assertEquals(JobStatus.PENDING, flaky.find(key(1)).orElseThrow().status());
    }

    @Test
    void aDuplicateIsAnsweredFromTheRecordWithoutApplyingAgain() {
        WebhookService service = service();
        WebhookRequest delivery = request(headers("Job Hook", "Idempotency-Key", "delivery-11"),
                jobHook(1, "pending", null).toString());
        assertEquals(200, service.handle(delivery).status());
        int calls = gitlabCalls.get();
        int requestsBefore = scaleRequests.size();

        WebhookResponse again = service.handle(delivery);

        assertTrue(body(again).path("duplicate").asBoolean(), again.body());
        assertEquals(calls, gitlabCalls.get(), "no tag look-up for a duplicate");
        assertEquals(requestsBefore, scaleRequests.size(), "no scale request for a duplicate");
    }

    // ---- real payloads ------------------------------------------------------------------------------

    static Stream<Path> gitlabFixtures() {
        return SharedFiles.jsonFixtures("gitlab").stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gitlabFixtures")
    void everyRealPayloadIsAccepted(Path file) throws Exception {
        String body = SharedFiles.read(file);
        JsonNode raw = JSON.readTree(body);
        String event = raw.get("object_kind").asText().equals("build") ? "Job Hook" : "Pipeline Hook";
        WebhookResponse r = service().handle(request(headers(event, "Idempotency-Key", file.getFileName().toString()),
                body));
        assertEquals(200, r.status(), r.body());
        int jobs = event.equals("Job Hook") ? 1 : raw.get("builds").size();
        assertEquals(jobs, body(r).get("jobs").size(), r.body());
        assertEquals(jobs, body(r).get("applied").asInt(), r.body());
    }
}
