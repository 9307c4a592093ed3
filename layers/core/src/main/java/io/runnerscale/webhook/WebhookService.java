package io.runnerscale.webhook;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.scaling.DemandHistory;
import io.runnerscale.scaling.ScaleRequests;
import io.runnerscale.store.JobStore;
import io.runnerscale.store.JobStore.ApplyOutcome;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

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

    private final WebhookAuthenticator authenticator;
    private final PoolsConfigSource pools;
    private final JobStore store;
    private final PoolResolver resolver;
    private final ScaleRequests scaleRequests;
    private final GitLabHookParser parser;
    private final ObjectMapper json;
    private final Clock clock;
    private final DemandHistory demand;

    public WebhookService(WebhookAuthenticator authenticator, PoolsConfigSource pools, JobStore store,
                          PoolResolver resolver, ScaleRequests scaleRequests, ObjectMapper json, Clock clock) {
        this(authenticator, pools, store, resolver, scaleRequests, json, clock, null);
    }

    /** @param demand where new pending jobs of pools with forecasting on are counted; null for none */
    public WebhookService(WebhookAuthenticator authenticator, PoolsConfigSource pools, JobStore store,
                          PoolResolver resolver, ScaleRequests scaleRequests, ObjectMapper json, Clock clock,
                          DemandHistory demand) {
        this.demand = demand;
        this.authenticator = authenticator;
        this.pools = pools;
        this.store = store;
        this.resolver = resolver;
        this.scaleRequests = scaleRequests;
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
        boolean authentic;
        try {
            authentic = authenticator.isAuthentic(request.header("x-gitlab-token"));
        } catch (RuntimeException e) {
            LOG.error("cannot read the webhook secret: {}", e.toString());
            return error(503, "webhook secret unavailable; the delivery was not stored", null);
        }
        if (!authentic) {
            return error(401, "missing or wrong X-Gitlab-Token", null);
        }
        if (request.bodyBytes() > MAX_BODY_BYTES) {
            return error(413, "body is " + request.bodyBytes() + " bytes; the limit is " + MAX_BODY_BYTES, null);
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
        GitLabHook.JobUpdates updates = (GitLabHook.JobUpdates) hook;
        String deliveryId = deliveryId(request);
        Instant now = clock.instant();
        try {
            if (deliveryId != null && !store.claimDelivery(deliveryId, now)) {
                return new WebhookResponse(200, json.createObjectNode()
                        .put("duplicate", true).put("delivery", deliveryId).toString());
            }
        } catch (RuntimeException e) {
            LOG.error("cannot record delivery {}: {}", deliveryId, e.toString());
            return error(503, "job store unavailable; the delivery was not stored", null);
        }
        try {
            return new WebhookResponse(200, store(updates, now).toString());
        } catch (RuntimeException e) {
            LOG.error("cannot store delivery {} ({})", deliveryId, updates.kind(), e);
            if (deliveryId != null) {
                try {
                    store.releaseDelivery(deliveryId);
                } catch (RuntimeException ignored) {
                    // the claim expires by TTL
                }
            }
            return error(503, "job store unavailable; the delivery was not stored", null);
        }
    }

    private ObjectNode store(GitLabHook.JobUpdates updates, Instant now) {
        PoolsConfig config = pools.current();
        List<PoolResolver.Resolution> resolutions = resolveAll(updates.events(), config);
        ObjectNode body = json.createObjectNode().put("event", updates.kind());
        ArrayNode results = body.putArray("jobs");
        Map<String, List<JobKey>> newPendingByPool = new LinkedHashMap<>();
        int applied = 0;
        for (int i = 0; i < updates.events().size(); i++) {
            JobEvent event = updates.events().get(i);
            PoolResolver.Resolution resolution = resolutions.get(i);
            JobEvent withTags = resolution.tags() == null ? event : event.withTags(resolution.tags());
            ApplyOutcome outcome = store.apply(withTags, resolution.pool(), now);
            ObjectNode result = results.addObject()
                    .put("job", event.key().toString())
                    .put("status", event.status().wireName())
                    .put("pool", resolution.pool());
            if (outcome instanceof ApplyOutcome.Applied) {
                applied++;
                result.put("result", "applied");
                if (event.status() == JobStatus.PENDING && resolution.pool() != null) {
                    newPendingByPool.computeIfAbsent(resolution.pool(), p -> new ArrayList<>()).add(event.key());
                    recordDemand(config, resolution.pool(), now);
                }
            } else if (outcome instanceof ApplyOutcome.Stale stale) {
                result.put("result", "stale").put("current", stale.current().wireName());
            }
            if (resolution.source() == PoolResolver.Source.FALLBACK) {
                result.put("note", "GitLab API unavailable: pool for untagged jobs used");
            }
        }
        body.put("applied", applied);
        if (!updates.skipped().isEmpty()) {
            ArrayNode skipped = body.putArray("skipped");
            updates.skipped().forEach(skipped::add);
        }
        for (Map.Entry<String, List<JobKey>> entry : newPendingByPool.entrySet()) {
            String pool = entry.getKey();
            try {
                scaleRequests.request(pool, "job-pending", "pending-" + pool + "-" + now.toEpochMilli(), entry.getValue());
            } catch (RuntimeException e) {
                // Stored is what matters: the scheduled tick picks the job up within a minute.
                LOG.warn("fast-path scale request for pool {} failed: {}", pool, e.toString());
            }
        }
        return body;
    }

    private void recordDemand(PoolsConfig config, String pool, Instant now) {
        if (demand == null || config.pool(pool).map(p -> !p.forecast().enabled()).orElse(true)) {
            return;
        }
        try {
            demand.record(pool, now);
        } catch (RuntimeException e) {
            // a missed count only weakens the forecast a little; the job itself is stored
            LOG.warn("demand history for pool {} not recorded: {}", pool, e.toString());
        }
    }

    /** Tag look-ups go to GitLab's API; a Pipeline Hook listing many new jobs looks them up in parallel. */
    private List<PoolResolver.Resolution> resolveAll(List<JobEvent> events, PoolsConfig config) {
        if (events.size() <= 1) {
            return events.stream().map(e -> resolver.resolve(e, config)).toList();
        }
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<PoolResolver.Resolution>> futures = new ArrayList<>();
            for (JobEvent event : events) {
                futures.add(executor.submit(() -> resolver.resolve(event, config)));
            }
            List<PoolResolver.Resolution> resolutions = new ArrayList<>();
            for (Future<PoolResolver.Resolution> future : futures) {
                resolutions.add(future.get());
            }
            return resolutions;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while resolving pools", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    /** {@code Idempotency-Key} is stable across resends (GitLab 17.4+); older GitLab gets event UUID + body hash. */
    static String deliveryId(WebhookRequest request) {
        String key = request.header("idempotency-key");
        if (key != null && !key.isBlank()) {
            return key.trim();
        }
        String uuid = request.header("x-gitlab-event-uuid");
        if (uuid != null && !uuid.isBlank()) {
            return uuid.trim() + ":" + sha256Hex(request.body());
        }
        return null;
    }

    private static String sha256Hex(String body) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(body.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private WebhookResponse error(int status, String message, String field) {
        ObjectNode body = json.createObjectNode().put("error", message);
        if (field != null) {
            body.put("field", field);
        }
        return new WebhookResponse(status, body.toString());
    }
}
