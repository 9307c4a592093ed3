package io.runnerscale.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.scaling.ScaleRequests;
import io.runnerscale.store.InMemoryJobStore;
import io.runnerscale.store.InstanceRecord;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static io.runnerscale.webhook.WebhookServiceTest.JSON;
import static io.runnerscale.webhook.WebhookServiceTest.NOW;
import static io.runnerscale.webhook.WebhookServiceTest.POOLS;
import static io.runnerscale.webhook.WebhookServiceTest.SECRET;
import static io.runnerscale.webhook.WebhookServiceTest.headers;
import static io.runnerscale.webhook.WebhookServiceTest.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Deliveries listing more jobs than the webhook stores before answering (big Pipeline Hooks), and
 * times from payloads that decisions must not trust.
 */
class BigDeliveryTest {
    static final String INSTANCE = "i-0123456789abcdef0";

    final InMemoryJobStore store = new InMemoryJobStore();
    final Map<JobKey, List<String>> gitlabTags = new ConcurrentHashMap<>();
    final List<String> scaleRequests = new ArrayList<>();
    final List<DeferredJobUpdates> queued = new ArrayList<>();
    boolean queueDown;

    final ScaleRequests requests = new ScaleRequests() {
        @Override
        public synchronized void request(String pool, String reason, String dedupeId) {
            scaleRequests.add(pool);
        }
    };
    final JobUpdateService updates = new JobUpdateService(PoolsConfigSource.fixed(POOLS), store,
            new PoolResolver(key -> gitlabTags.getOrDefault(key, List.of()), store, 1000), requests, null);
    final JobUpdateQueue queue = deferred -> {
        if (queueDown) {
            throw new IllegalStateException("SQS unavailable");
        }
        queued.add(deferred);
    };

    WebhookService service() {
        return new WebhookService(new WebhookAuthenticator(() -> SECRET), store, updates, queue, JSON,
                Clock.fixed(NOW, ZoneOffset.UTC));
    }

    /** A Pipeline Hook of project 7 listing {@code builds} jobs, ids 1.., every fourth pending, the rest created. */
    static String pipelineHook(int builds) {
        ObjectNode hook = JSON.createObjectNode().put("object_kind", "pipeline");
        hook.putObject("object_attributes").put("id", 99).put("status", "running");
        hook.putObject("project").put("id", 7);
        ArrayNode list = hook.putArray("builds");
        for (int i = 1; i <= builds; i++) {
            list.addObject().put("id", i).put("stage", "test").put("name", "job " + i)
                    .put("status", i % 4 == 0 ? "pending" : "created")
                    .put("created_at", "2026-01-07 11:59:00 UTC").putNull("runner");
        }
        return hook.toString();
    }

    @Test
    void aDeliveryOfUpToTheInlineLimitIsStoredBeforeTheAnswer() throws Exception {
        var response = service().handle(request(headers("Pipeline Hook", "Idempotency-Key", "k-small"),
                pipelineHook(WebhookService.INLINE_LIMIT)));

        assertEquals(200, response.status(), response.body());
        assertEquals(WebhookService.INLINE_LIMIT, JSON.readTree(response.body()).path("applied").asInt());
        assertTrue(queued.isEmpty());
        assertTrue(store.find(new JobKey(7, WebhookService.INLINE_LIMIT)).isPresent());
    }

    @Test
    void aBiggerDeliveryIsQueuedWholeAnsweredAt202AndStoredWhenApplied() throws Exception {
        int builds = WebhookService.INLINE_LIMIT + 1;
        var response = service().handle(request(headers("Pipeline Hook", "Idempotency-Key", "k-big"), pipelineHook(builds)));

        assertEquals(202, response.status(), response.body());
        JsonNode body = JSON.readTree(response.body());
        assertEquals(builds, body.path("queued").asInt());
        assertEquals(1, queued.size());
        DeferredJobUpdates deferred = queued.getFirst();
        assertEquals(builds, deferred.events().size());
        assertEquals(NOW, deferred.receivedAt(), "decisions use the time the webhook received it");
        assertEquals("k-big", deferred.deliveryId());
        assertTrue(store.find(new JobKey(7, 1)).isEmpty(), "not applied before the answer");

        List<JobUpdateService.Outcome> outcomes = updates.apply(deferred.events(), deferred.receivedAt());

        assertEquals(builds, outcomes.stream().filter(JobUpdateService.Outcome::applied).count());
        for (int job = 1; job <= builds; job++) {
            JobRecord record = store.find(new JobKey(7, job)).orElseThrow();
            assertEquals(job % 4 == 0 ? JobStatus.PENDING : JobStatus.CREATED, record.status());
            if (job % 4 == 0) {
                assertEquals("docker-spot", record.pool());
            }
        }
        assertEquals(builds / 4, store.liveJobs("docker-spot").size());
        assertEquals(List.of("docker-spot"), scaleRequests, "one scale request for the pool's new pending jobs");
    }

    @Test
    void aResentBigDeliveryIsADuplicateAndQueuedOnce() {
        String body = pipelineHook(60);
        service().handle(request(headers("Pipeline Hook", "Idempotency-Key", "k-twice"), body));
        var again = service().handle(request(headers("Pipeline Hook", "Idempotency-Key", "k-twice"), body));

        assertEquals(200, again.status());
        assertTrue(again.body().contains("\"duplicate\":true"), again.body());
        assertEquals(1, queued.size());
    }

    @Test
    void whenTheQueueFailsTheAnswerIs503AndAResendIsProcessed() {
        queueDown = true;
        String body = pipelineHook(60);
        var failed = service().handle(request(headers("Pipeline Hook", "Idempotency-Key", "k-retry"), body));
        assertEquals(503, failed.status(), failed.body());

        queueDown = false;
        var resent = service().handle(request(headers("Pipeline Hook", "Idempotency-Key", "k-retry"), body));
        assertEquals(202, resent.status(), "the claim was released: the resend is not a duplicate");
        assertEquals(1, queued.size());
    }

    @Test
    void applyingTheSameUpdatesTwiceChangesNothing() {
        updates.apply(List.of(event(3, JobStatus.RUNNING, INSTANCE, null)), NOW.minusSeconds(300));
        List<JobEvent> events = List.of(
                event(1, JobStatus.PENDING, null, null), event(2, JobStatus.RUNNING, INSTANCE, null),
                event(3, JobStatus.SUCCESS, INSTANCE, NOW));
        updates.apply(events, NOW);
        List<JobUpdateService.Outcome> again = updates.apply(events, NOW.plusSeconds(30));

        assertEquals(0, again.stream().filter(JobUpdateService.Outcome::applied).count(), "a redelivered message is stale");
        assertEquals(JobStatus.SUCCESS, store.find(new JobKey(7, 3)).orElseThrow().status());
        InstanceRecord instance = store.instances("docker-spot").getFirst();
        assertEquals(1, instance.useCount(), "the finished job counted once");
    }

    @Test
    void aStoreFailureFailsTheWholeApplySoTheMessageIsRetried() {
        WebhookServiceTest.FlakyStore flaky = new WebhookServiceTest.FlakyStore();
        flaky.failApply = true;
        var failing = new JobUpdateService(PoolsConfigSource.fixed(POOLS), flaky,
                new PoolResolver(key -> List.of(), store, 10), requests, null);
        List<JobEvent> events = new ArrayList<>();
        for (int i = 1; i <= 40; i++) {
            events.add(event(i, JobStatus.PENDING, null, null));
        }
        try {
            failing.apply(events, NOW);
            throw new AssertionError("expected the store's failure");
        } catch (IllegalStateException expected) {
            assertTrue(expected.getMessage().contains("ProvisionedThroughputExceeded"), expected.getMessage());
        }
    }

    // ---- times from the payload -------------------------------------------------------------------

    @Test
    void aFinishTimeFarInTheFutureDoesNotKeepTheInstanceBusyForever() {
        store.recordInstance("docker-spot", INSTANCE, NOW.minusSeconds(3600));
        updates.apply(List.of(event(5, JobStatus.RUNNING, INSTANCE, null)), NOW.minusSeconds(600));
        Instant received = NOW.minusSeconds(60);
        updates.apply(List.of(event(5, JobStatus.SUCCESS, INSTANCE, Instant.parse("2999-01-01T00:00:00Z"))), received);

        InstanceRecord instance = store.instances("docker-spot").getFirst();
        assertEquals(received, instance.lastJobFinishedAt(), "idle since the event was received");
        assertEquals(Instant.parse("2999-01-01T00:00:00Z"), store.find(new JobKey(7, 5)).orElseThrow().finishedAt(),
                "the raw value is kept");
    }

    @Test
    void aFinishTimeFarInThePastDoesNotMakeTheInstanceIdleForLong() {
        store.recordInstance("docker-spot", INSTANCE, NOW.minusSeconds(3600));
        updates.apply(List.of(event(6, JobStatus.SUCCESS, INSTANCE, Instant.parse("1971-01-01T00:00:00Z"))), NOW);
        assertEquals(NOW, store.instances("docker-spot").getFirst().lastJobFinishedAt());
    }

    @Test
    void anEventWithoutPoolOrTagsIsAppliedOnceWithoutScaleRequest() {
        gitlabTags.put(new JobKey(7, 8), List.of("windows"));
        var outcomes = updates.apply(List.of(event(8, JobStatus.PENDING, null, null)), NOW);
        assertNull(outcomes.getFirst().resolution().pool(), "no pool takes windows jobs");
        assertTrue(scaleRequests.isEmpty());
    }

    static JobEvent event(long job, JobStatus status, String instance, Instant finishedAt) {
        return new JobEvent(new JobKey(7, job), status, 99L, "job " + job, "test", NOW.minusSeconds(900), null,
                finishedAt, null, instance == null ? null : 42L, instance, null, null);
    }
}
