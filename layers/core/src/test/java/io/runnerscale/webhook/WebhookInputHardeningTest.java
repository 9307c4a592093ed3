package io.runnerscale.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.gitlab.GitLab;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.scaling.ScaleRequests;
import io.runnerscale.store.InMemoryJobStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Clock;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static io.runnerscale.webhook.WebhookServiceTest.JSON;
import static io.runnerscale.webhook.WebhookServiceTest.NOW;
import static io.runnerscale.webhook.WebhookServiceTest.POOLS;
import static io.runnerscale.webhook.WebhookServiceTest.body;
import static io.runnerscale.webhook.WebhookServiceTest.headers;
import static io.runnerscale.webhook.WebhookServiceTest.jobHook;
import static io.runnerscale.webhook.WebhookServiceTest.pipelineHook;
import static io.runnerscale.webhook.WebhookServiceTest.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile and malformed deliveries, end to end through {@link WebhookService} with the in-memory
 * store: each is either answered 400 naming its cause (and stores nothing) or stored with its
 * oversized parts bounded, and nothing a delivery says is echoed unbounded.
 */
class WebhookInputHardeningTest {
    /** Longest error, ignored reason or skipped note a response may carry. */
    static final int MAX_ECHO = BadRequestException.MAX_MESSAGE_LENGTH;

    final InMemoryJobStore store = new InMemoryJobStore();
    final Map<JobKey, List<String>> gitlabTags = new HashMap<>();
    final AtomicInteger gitlabCalls = new AtomicInteger();
    boolean gitlabDown;
    final GitLab gitlab = key -> {
        gitlabCalls.incrementAndGet();
        if (gitlabDown) {
            throw new GitLabUnavailableException("connect timed out", null);
        }
        return gitlabTags.getOrDefault(key, List.of());
    };
    final AtomicInteger scaleRequests = new AtomicInteger();
    final ScaleRequests requests = (pool, reason, dedupeId) -> scaleRequests.incrementAndGet();
    final WebhookService service = new WebhookService(new WebhookAuthenticator(() -> WebhookServiceTest.SECRET),
            PoolsConfigSource.fixed(POOLS), store, new PoolResolver(gitlab, store, 1000), requests, JSON,
            Clock.fixed(NOW, ZoneOffset.UTC));

    WebhookResponse deliver(String event, String body, String... headers) {
        return service.handle(request(headers(event, headers), body));
    }

    static JobKey key(long job) {
        return new JobKey(42, job);
    }

    JobRecord record(long job) {
        return store.find(key(job)).orElseThrow(() -> new AssertionError("job " + job + " not stored"));
    }

    static String repeat(char c, int times) {
        return String.valueOf(c).repeat(times);
    }

    void assertBadRequest(WebhookResponse r, String field, String... mentions) {
        assertEquals(400, r.status(), r.body());
        JsonNode b = body(r);
        if (field == null) {
            assertFalse(b.has("field"), r.body());
        } else {
            assertEquals(field, b.path("field").asText(), r.body());
        }
        String error = b.path("error").asText();
        for (String mention : mentions) {
            assertTrue(error.contains(mention), "error names " + mention + ": " + error);
        }
        assertTrue(error.length() <= MAX_ECHO, "error of " + error.length() + " chars");
        assertTrue(r.body().length() <= MAX_ECHO + 100, "response of " + r.body().length() + " chars");
    }

    // ---- 1. identifiers -------------------------------------------------------------------------------

    @ParameterizedTest(name = "project_id {0}")
    @ValueSource(strings = {"-1", "0", "9223372036854775808", "1e3", "1.5", "\"12abc\"", "\"-3\"", "\"0\"", "\" 12\""})
    void aJobHookProjectIdOutsideTheIdRuleIs400NamingIt(String json) throws Exception {
        ObjectNode hook = jobHook(1, "pending", null);
        hook.set("project_id", JSON.readTree(json));
        assertBadRequest(deliver("Job Hook", hook.toString()), "project_id",
                "project_id must be a whole number from 1 to 9223372036854775807, got ");
        assertEquals(0, gitlabCalls.get());
        assertEquals(0, scaleRequests.get());
    }

    @Test
    void aJobHookBuildIdOfZeroIs400NamingIt() {
        ObjectNode hook = jobHook(1, "pending", null);
        hook.put("build_id", 0);
        assertBadRequest(deliver("Job Hook", hook.toString()), "build_id", "build_id", "got 0");
    }

    @Test
    void aPipelineHookWithANegativeProjectOrBuildIdIs400NamingIt() {
        ObjectNode negativeProject = pipelineHook(new Object[]{10L, "pending"});
        ((ObjectNode) negativeProject.get("project")).put("id", -42);
        assertBadRequest(deliver("Pipeline Hook", negativeProject.toString()), "project.id", "project.id", "-42");

        ObjectNode zeroBuild = pipelineHook(new Object[]{10L, "pending"}, new Object[]{0L, "pending"});
        WebhookResponse r = deliver("Pipeline Hook", zeroBuild.toString());
        assertEquals(200, r.status(), "one bad build does not cost the good ones: " + r.body());
        assertTrue(r.body().contains("builds[1].id"), "the bad build is named: " + r.body());
        assertTrue(store.find(key(10)).isPresent(), "the good build is stored");

        ObjectNode onlyBad = pipelineHook(new Object[]{0L, "pending"});
        assertBadRequest(deliver("Pipeline Hook", onlyBad.toString()), "builds", "builds[0].id");
    }

    @Test
    void anOptionalIdOutsideTheIdRuleIsTreatedAsAbsent() {
        ObjectNode hook = jobHook(1, "running", null);
        hook.put("pipeline_id", -900);
        hook.putObject("runner").put("id", 0).put("description", "i-0123456789abcdef0");
        WebhookResponse r = deliver("Job Hook", hook.toString());
        assertEquals(200, r.status(), r.body());
        assertNull(record(1).pipelineId());
        assertNull(record(1).runnerId());
        assertEquals("i-0123456789abcdef0", record(1).instanceId());
    }

    // ---- 2. tags ----------------------------------------------------------------------------------------

    @Test
    void aTagThatIsNotAStringIs400AndStoresNothing() {
        ObjectNode hook = jobHook(1, "pending", null);
        hook.putArray("tag_list").add("docker").add("gpu").addNull();
        assertBadRequest(deliver("Job Hook", hook.toString()), "tag_list[2]", "tag_list[2]");
        assertTrue(store.find(key(1)).isEmpty());
        assertEquals(0, scaleRequests.get());
    }

    @Test
    void aPipelineBuildWithABlankTagIsSkippedNamingItsPath() {
        ObjectNode hook = pipelineHook(new Object[]{10L, "pending"}, new Object[]{11L, "pending"});
        ((ObjectNode) hook.get("builds").get(1)).putArray("tag_list").add(" ");
        WebhookResponse r = deliver("Pipeline Hook", hook.toString());
        assertEquals(200, r.status(), r.body());
        assertTrue(r.body().contains("builds[1].tag_list[0]"), r.body());
        assertTrue(store.find(key(10)).isPresent());
        assertTrue(store.find(key(11)).isEmpty(), "the build whose tags cannot be read is not guessed at");
    }

    // ---- 3. text fields ---------------------------------------------------------------------------------

    @Test
    void aHugeJobNameIsCutAndTheJobIsKept() {
        gitlabTags.put(key(1), List.of("docker"));
        ObjectNode hook = jobHook(1, "pending", null);
        hook.put("build_name", repeat('n', 900 * 1024));
        WebhookResponse r = deliver("Job Hook", hook.toString());
        assertEquals(200, r.status(), r.body());
        assertEquals(repeat('n', GitLabHookParser.MAX_TEXT_LENGTH), record(1).name());
        assertEquals(JobStatus.PENDING, record(1).status());
        assertEquals(1, scaleRequests.get());
    }

    // ---- 4. delivery keys -------------------------------------------------------------------------------

    @Test
    void aHugeIdempotencyKeyIsStoredBoundedAndItsResendIsADuplicate() {
        String key = repeat('k', 5 * 1024);
        WebhookResponse first = deliver("Job Hook", jobHook(1, "pending", null).toString(), "Idempotency-Key", key);
        assertEquals(200, first.status(), first.body());
        assertEquals(1, body(first).get("applied").asInt());

        WebhookResponse again = deliver("Job Hook", jobHook(1, "pending", null).toString(), "Idempotency-Key", key);
        assertEquals(200, again.status());
        assertTrue(body(again).path("duplicate").asBoolean(), again.body());
        String delivery = body(again).get("delivery").asText();
        assertEquals(DeliveryKeys.deliveryId(key, null, ""), delivery);
        assertTrue(delivery.startsWith("sha256:") && delivery.length() == 71, delivery);
        assertEquals(1, scaleRequests.get());
    }

    @Test
    void aHugeEventUuidIsBoundedLikewise() {
        String uuid = repeat('u', 5 * 1024);
        String hook = jobHook(1, "pending", null).toString();
        assertEquals(200, deliver("Job Hook", hook, "X-Gitlab-Event-UUID", uuid).status());
        WebhookResponse again = deliver("Job Hook", hook, "X-Gitlab-Event-UUID", uuid);
        assertTrue(body(again).path("duplicate").asBoolean(), again.body());
        assertTrue(body(again).get("delivery").asText().length() <= DeliveryKeys.MAX_ID_LENGTH, again.body());
    }

    // ---- 5. trailing garbage ----------------------------------------------------------------------------

    @ParameterizedTest(name = "after the body: {0}")
    @ValueSource(strings = {" xyz", "{}", "[]", " 42", ","})
    void aBodyWithTrailingGarbageIs400(String garbage) {
        WebhookResponse r = deliver("Job Hook", jobHook(1, "pending", null) + garbage);
        assertBadRequest(r, null, "JSON");
        assertTrue(store.find(key(1)).isEmpty());
    }

    @Test
    void twoEmptyObjectsAreNotOneBody() {
        assertBadRequest(deliver("Job Hook", "{}{}"), null, "JSON");
    }

    // ---- 6. bounded echoes ------------------------------------------------------------------------------

    @Test
    void aHugeEventHeaderIsIgnoredWithABoundedReason() {
        WebhookResponse r = deliver("Push Hook" + repeat('x', 10_000), jobHook(1, "pending", null).toString());
        assertEquals(200, r.status());
        String reason = body(r).get("ignored").asText();
        assertTrue(reason.startsWith("Push Hook"), reason);
        assertTrue(reason.length() <= MAX_ECHO, "reason of " + reason.length() + " chars");
    }

    @Test
    void aHugeUnknownStatusIsSkippedWithABoundedNote() {
        WebhookResponse r = deliver("Job Hook", jobHook(1, "exploded" + repeat('x', 10_000), null).toString());
        assertEquals(200, r.status());
        String note = body(r).get("skipped").get(0).asText();
        assertTrue(note.contains("42/1") && note.contains("exploded"), note);
        assertTrue(note.length() <= MAX_ECHO, "note of " + note.length() + " chars");
    }

    @Test
    void hugeWrongValuesAreNotEchoedWhole() {
        ObjectNode badId = jobHook(1, "pending", null);
        badId.put("build_id", repeat('9', 5_000) + "x");
        assertBadRequest(deliver("Job Hook", badId.toString()), "build_id", "build_id");

        ObjectNode badTime = jobHook(1, "pending", null);
        badTime.put("build_created_at", repeat('t', 5_000));
        assertBadRequest(deliver("Job Hook", badTime.toString()), "build_created_at", "build_created_at");

        assertBadRequest(deliver("Job Hook", "tru" + repeat('e', 5_000)), null, "JSON");
        assertBadRequest(deliver("Job Hook", "{\"" + repeat('a', 5_000)), null, "JSON");
    }

    // ---- 7. a job first seen finished ---------------------------------------------------------------------

    @Test
    void aJobFirstSeenFinishedIsRecordedInItsPool() {
        String instance = "i-0123456789abcdef0";
        gitlabTags.put(key(1), List.of("fargate"));
        gitlabTags.put(key(2), List.of("docker"));
        assertEquals(200, deliver("Job Hook", jobHook(1, "success", null).toString()).status());
        assertEquals(200, deliver("Job Hook", jobHook(2, "failed", instance).toString()).status());

        assertEquals("fargate-small", record(1).pool());
        assertEquals(List.of("fargate"), record(1).tags());
        assertEquals("docker-spot", record(2).pool());
        assertEquals(1, store.instances("docker-spot").size(), "the instance is counted in the job's pool");
        assertEquals(2, gitlabCalls.get());
        assertEquals(0, scaleRequests.get(), "a finished job asks for no capacity");
    }

    @Test
    void aJobFirstSeenFinishedWhileGitLabIsDownGoesToTheUntaggedPool() {
        gitlabDown = true;
        WebhookResponse r = deliver("Job Hook", jobHook(1, "canceled", null).toString());
        assertEquals(200, r.status());
        assertEquals("docker-spot", record(1).pool());
        assertNull(record(1).tags());
        assertTrue(body(r).at("/jobs/0/note").asText().contains("GitLab API unavailable"), r.body());
    }

    @Test
    void aFinishedJobWhosePoolIsStoredIsNotLookedUpAgain() {
        gitlabDown = true;
        deliver("Job Hook", jobHook(1, "pending", null).toString()); // fallback pool, tags unknown
        gitlabDown = false;
        gitlabTags.put(key(1), List.of("fargate"));
        deliver("Job Hook", jobHook(1, "success", null).toString());
        assertEquals(1, gitlabCalls.get(), "the stored pool is kept for a finished job");
        assertEquals("docker-spot", record(1).pool());
    }

    @Test
    void aJobNotYetPendingStillSparesGitLabsApi() {
        deliver("Job Hook", jobHook(1, "created", null).toString());
        deliver("Job Hook", jobHook(2, "manual", null).toString());
        assertEquals(0, gitlabCalls.get());
        assertNull(record(1).pool());
    }

    // ---- 8. timestamps ----------------------------------------------------------------------------------

    @ParameterizedTest(name = "build_started_at {0}")
    @ValueSource(strings = {"2021-01-13 17:57:05 +9900", "2021-01-13 17:57:05 +1899", "+999999999-01-01T00:00:00Z",
            "-999999999-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "garbage"})
    void aBadTimestampIs400NamingTheField(String text) {
        ObjectNode hook = jobHook(1, "running", null);
        hook.put("build_started_at", text);
        assertBadRequest(deliver("Job Hook", hook.toString()), "build_started_at", "build_started_at");
        assertTrue(store.find(key(1)).isEmpty());
    }
}
