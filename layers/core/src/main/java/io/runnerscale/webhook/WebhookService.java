package io.runnerscale.webhook;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.job.JobEvent;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.scaling.DemandHistory;
import io.runnerscale.scaling.ScaleRequests;
import io.runnerscale.store.JobStore;
import io.runnerscale.store.JobStore.ApplyOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The webhook's whole contract, independent of how the request arrived.
 *
 * <p>GitLab disables a hook after four failed deliveries in a row and never resends on its own, so
 * every authentic delivery that can be stored gets a 2xx, including ones that are ignored,
 * duplicated or stale; 401 is only for a bad token, 4xx for bodies that cannot be understood, and
 * 503 only when the store itself fails (nothing was kept, and a resend will be processed).
 */
public final class WebhookService {
    public static final long MAX_BODY_BYTES = 1024 * 1024;
    private static final Logger LOG = LoggerFactory.getLogger(WebhookService.class);

    /**
     * Deliveries listing more jobs than this are handed to the {@link JobUpdateQueue} and answered
     * at once; smaller ones are stored before the answer. A Pipeline Hook can list thousands of
     * builds, each a conditional write and perhaps a GitLab API call: far more than GitLab's 10 s.
     */
    public static final int INLINE_LIMIT = 25;

    private final WebhookAuthenticator authenticator;
    private final JobStore store;
    private final JobUpdateService updates;
    private final JobUpdateQueue deferred;
    private final GitLabHookParser parser;
    private final ObjectMapper json;
    private final Clock clock;

    public WebhookService(WebhookAuthenticator authenticator, PoolsConfigSource pools, JobStore store,
                          PoolResolver resolver, ScaleRequests scaleRequests, ObjectMapper json, Clock clock) {
        this(authenticator, pools, store, resolver, scaleRequests, json, clock, null);
    }

    /** @param demand where new pending jobs of pools with forecasting on are counted; null for none */
    public WebhookService(WebhookAuthenticator authenticator, PoolsConfigSource pools, JobStore store,
                          PoolResolver resolver, ScaleRequests scaleRequests, ObjectMapper json, Clock clock,
                          DemandHistory demand) {
        this(authenticator, store, new JobUpdateService(pools, store, resolver, scaleRequests, demand), null, json, clock);
    }

    /**
     * @param deferred where deliveries listing more than {@link #INLINE_LIMIT} jobs go; null to store
     *                 every delivery before answering
     */
    public WebhookService(WebhookAuthenticator authenticator, JobStore store, JobUpdateService updates,
                          JobUpdateQueue deferred, ObjectMapper json, Clock clock) {
        this.authenticator = authenticator;
        this.store = store;
        this.updates = updates;
        this.deferred = deferred;
        this.parser = new GitLabHookParser(json);
        this.json = json;
        this.clock = clock;
    }

    /**
     * The answer to a delivery whose {@code X-Gitlab-Token} is missing or wrong (401) or cannot be
     * checked (503), judged from its headers alone, the same check {@link #handle} makes first; empty
     * when the token is right. A server calls it before reading the body, so a bad token costs no upload.
     */
    public Optional<WebhookResponse> rejectUnauthenticated(WebhookRequest headers) {
        try {
            return authenticator.isAuthentic(headers.header("x-gitlab-token")) ? Optional.empty()
                    : Optional.of(error(401, "missing or wrong X-Gitlab-Token", null));
        } catch (RuntimeException e) {
            LOG.error("cannot read the webhook secret: {}", e.toString());
            return Optional.of(error(503, "webhook secret unavailable; the delivery was not stored", null));
        }
    }

    public WebhookResponse handle(WebhookRequest request) {
        Optional<WebhookResponse> rejected = rejectUnauthenticated(request);
        if (rejected.isPresent()) {
            return rejected.get();
        }
        if (request.bodyBytes() > MAX_BODY_BYTES) {
            return error(413, "body is " + request.bodyBytes() + " bytes; the limit is " + MAX_BODY_BYTES, null);
        }
        try {
            Optional<String> badSignature = authenticator.signatureProblem(request);
            if (badSignature.isPresent()) {
                return error(401, badSignature.get(), null);
            }
        } catch (RuntimeException e) {
            LOG.error("cannot check the webhook signature: {}", e.getMessage());
            return error(503, "webhook signing secret unavailable; the delivery was not stored", null);
        }
        GitLabHook hook;
        try {
            hook = parser.parse(request.header("x-gitlab-event"), request.body());
        } catch (BadRequestException e) {
            return error(400, e.getMessage(), e.field());
        }
        if (hook instanceof GitLabHook.Ignored ignored) {
            ObjectNode body = json.createObjectNode().put("ignored", ignored.reason());
            return new WebhookResponse(200, body.toString());
        }
        GitLabHook.JobUpdates jobUpdates = (GitLabHook.JobUpdates) hook;
        String deliveryId = deliveryId(request);
        Instant now = clock.instant();
        try {
            if (deliveryId != null && store.deliveryRecorded(deliveryId)) {
                return new WebhookResponse(200, duplicate(deliveryId).toString());
            }
        } catch (RuntimeException e) {
            LOG.error("cannot read delivery {}: {}", deliveryId, e.toString());
            return error(503, "job store unavailable; the delivery was not stored", null);
        }
        WebhookResponse response;
        try {
            response = deferred != null && jobUpdates.events().size() > INLINE_LIMIT
                    ? new WebhookResponse(202, defer(jobUpdates, deliveryId, now).toString())
                    : new WebhookResponse(200, store(jobUpdates, now).toString());
        } catch (RuntimeException e) {
            // nothing recorded the delivery: a resend is processed
            LOG.error("cannot store delivery {} ({})", deliveryId, jobUpdates.kind(), e);
            return error(503, "job store unavailable; the delivery was not stored", null);
        }
        // Recorded only once its jobs are stored (or queued): a delivery that failed, or whose process
        // died half-way, is never taken for a duplicate when GitLab sends it again. Applying a delivery
        // twice (two copies at once) changes nothing: every write only moves a job forward.
        try {
            if (deliveryId != null && !store.claimDelivery(deliveryId, now)) {
                return new WebhookResponse(response.status(), duplicate(deliveryId).toString());
            }
        } catch (RuntimeException e) {
            LOG.warn("delivery {} stored, but not recorded as done (a resend will be applied again, harmlessly): {}",
                    deliveryId, e.toString());
        }
        return response;
    }

    private ObjectNode duplicate(String deliveryId) {
        return json.createObjectNode().put("duplicate", true).put("delivery", deliveryId);
    }

    private ObjectNode store(GitLabHook.JobUpdates delivery, Instant now) {
        List<JobUpdateService.Outcome> outcomes = updates.apply(delivery.events(), now);
        ObjectNode body = json.createObjectNode().put("event", delivery.kind());
        ArrayNode results = body.putArray("jobs");
        int applied = 0;
        for (JobUpdateService.Outcome outcome : outcomes) {
            JobEvent event = outcome.event();
            PoolResolver.Resolution resolution = outcome.resolution();
            ObjectNode result = results.addObject()
                    .put("job", event.key().toString())
                    .put("status", event.status().wireName())
                    .put("pool", resolution.pool());
            if (outcome.outcome() instanceof ApplyOutcome.Applied) {
                applied++;
                result.put("result", "applied");
            } else if (outcome.outcome() instanceof ApplyOutcome.Stale stale) {
                result.put("result", "stale").put("current", stale.current() == null ? null : stale.current().wireName());
            }
            if (resolution.source() == PoolResolver.Source.FALLBACK) {
                result.put("note", "GitLab API unavailable: pool for untagged jobs used");
            }
        }
        body.put("applied", applied);
        putSkipped(body, delivery);
        return body;
    }

    /** Hands a big delivery to the queue; answered 202 once the queue has it. */
    private ObjectNode defer(GitLabHook.JobUpdates delivery, String deliveryId, Instant now) {
        // Without a delivery id nothing dedupes a resend anyway; the id only names the queued parts.
        String id = deliveryId != null ? deliveryId : "undeduplicated:" + UUID.randomUUID();
        deferred.enqueue(new DeferredJobUpdates(id, delivery.kind(), now, 0, delivery.events()));
        ObjectNode body = json.createObjectNode().put("event", delivery.kind())
                .put("queued", delivery.events().size())
                .put("note", "more than " + INLINE_LIMIT + " jobs: stored shortly after this answer");
        putSkipped(body, delivery);
        return body;
    }

    private static void putSkipped(ObjectNode body, GitLabHook.JobUpdates delivery) {
        if (!delivery.skipped().isEmpty()) {
            ArrayNode skipped = body.putArray("skipped");
            delivery.skipped().forEach(skipped::add);
        }
    }

    /** Bounded and stable across resends: see {@link DeliveryKeys}. */
    static String deliveryId(WebhookRequest request) {
        return DeliveryKeys.deliveryId(request.header("idempotency-key"), request.header("x-gitlab-event-uuid"),
                request.body());
    }

    private WebhookResponse error(int status, String message, String field) {
        ObjectNode body = json.createObjectNode().put("error", message);
        if (field != null) {
            body.put("field", field);
        }
        return new WebhookResponse(status, body.toString());
    }
}
