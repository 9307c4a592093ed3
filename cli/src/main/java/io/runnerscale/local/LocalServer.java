package io.runnerscale.local;

import io.runnerscale.text.Quoted;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.runnerscale.compute.Compute;
import io.runnerscale.compute.GroupState;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.store.JobStore;
import io.runnerscale.store.TaskRecord;
import io.runnerscale.store.TaskStore;
import io.runnerscale.webhook.WebhookRequest;
import io.runnerscale.webhook.WebhookResponse;
import io.runnerscale.webhook.WebhookService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The webhook and a read-only status API over the JDK's HTTP server, running the same
 * {@link WebhookService} as the Lambda function:
 * {@code POST /webhook}, {@code GET /status}, {@code GET /jobs/{projectId}/{jobId}}, {@code GET /metrics}
 * (Prometheus text format 0.0.4, unauthenticated like {@code /status}: counts only), and, with the
 * instance lifecycle, {@code POST /events} (an EventBridge event for the lifecycle function's code,
 * {@link LocalLifecycle}): authenticated with the webhook's {@code X-Gitlab-Token}, checked before
 * the body is read (one secret for everything that changes serve's state), at most
 * {@value LocalLifecycle#MAX_EVENT_BYTES} bytes.
 *
 * <p>Hostile input gets an HTTP answer, never a stack trace: a wrong token is answered 401 from the
 * headers before any of the body is read, a declared body over the limit 413 before it is read,
 * headers over {@value #MAX_HEADER_BYTES} bytes 431, a known path with the wrong method 405 with
 * {@code Allow} (HEAD is served wherever GET is), ids GitLab cannot issue 400.
 *
 * <p>What the JDK server decides before this class sees a request: it drops the connection without
 * an answer (the client sees a reset) when the request line and headers exceed its own bound, 380 KiB
 * or 200 header lines on JDK 25 (system properties {@code sun.net.httpserver.maxReqHeaderSize} and
 * {@code maxReqHeaders}); under that bound this class answers 431. When an answer is given before the
 * body was read, closing the exchange makes the JDK discard up to 64 KiB of the unread body
 * ({@code sun.net.httpserver.drainAmount}) and then close the connection, so the answer is flushed
 * first and says {@code Connection: close}.
 *
 * <p>Time and connections are bounded too (the JDK's defaults bound neither, so a client sending a
 * byte now and then held a connection, a thread and a file descriptor forever, and enough of them
 * would starve DynamoDB Local and the spool of file descriptors): a request not received whole within
 * {@value #MAX_REQUEST_SECONDS} s of its first byte is dropped, and at most {@value #MAX_CONNECTIONS}
 * connections are open at once (more are closed as they are accepted). Both are the JDK's system
 * properties, read once when the JDK server is first used in the JVM: a value given with {@code -D}
 * wins.
 */
public final class LocalServer implements AutoCloseable {
    /** Request line plus headers; GitLab's deliveries use about 1 KiB. */
    public static final int MAX_HEADER_BYTES = 32 * 1024;
    /**
     * From a request's first byte to its last. GitLab gives up on a delivery after 10 s, so a slower
     * one has failed already; a 1 MiB body at GitLab's pace takes well under a second.
     */
    public static final int MAX_REQUEST_SECONDS = 10;
    /**
     * Open connections at once; GitLab sends a hook's deliveries one at a time. With the ~130 file
     * descriptors {@code serve} uses itself, this stays under the common soft limit of 1024.
     */
    public static final int MAX_CONNECTIONS = 512;

    static {
        // before the JDK server's classes are loaded: they read these once
        setIfAbsent("sun.net.httpserver.maxReqTime", MAX_REQUEST_SECONDS);
        setIfAbsent("jdk.httpserver.maxConnections", MAX_CONNECTIONS);
    }
    private static final Logger LOG = LoggerFactory.getLogger(LocalServer.class);
    private static final Pattern JOB_PATH = Pattern.compile("/jobs/([^/]*)/([^/]*)/?");
    private static final String ENDPOINTS = "POST /webhook, POST /events, GET /status, GET /jobs/{projectId}/{jobId},"
            + " GET /metrics";

    private final HttpServer server;
    private final WebhookService webhook;
    private final JobStore store;
    private final Compute compute;
    private final PoolsConfigSource pools;
    private final ObjectMapper json;
    private final LocalLifecycle lifecycle;
    private final PrometheusMetrics metrics;
    private volatile java.util.function.Function<String, List<io.runnerscale.compute.TaskKey>> stoppedTasks = pool -> List.of();

    /**
     * The JDK server bound to {@code address} and not serving yet: binding comes first, so a port in
     * use is reported before anything else has started. {@link #close()} or {@code stop(0)} releases it.
     */
    public static HttpServer bind(InetSocketAddress address) throws IOException {
        return HttpServer.create(address, 128);
    }

    /** @param bound from {@link #bind}; serves once {@link #start()} is called */
    public LocalServer(HttpServer bound, WebhookService webhook, JobStore store, Compute compute,
                       PoolsConfigSource pools, ObjectMapper json) {
        this(bound, webhook, store, compute, pools, json, null);
    }

    /** @param lifecycle serves {@code POST /events} and the instances in {@code GET /status}; null for neither */
    public LocalServer(HttpServer bound, WebhookService webhook, JobStore store, Compute compute,
                       PoolsConfigSource pools, ObjectMapper json, LocalLifecycle lifecycle) {
        this(bound, webhook, store, compute, pools, json, lifecycle, new PrometheusMetrics());
    }

    /**
     * @param metrics what {@code GET /metrics} answers; told of every answer to {@code POST /webhook}
     *                ({@code WebhookDeliveries} by status)
     */
    public LocalServer(HttpServer bound, WebhookService webhook, JobStore store, Compute compute,
                       PoolsConfigSource pools, ObjectMapper json, LocalLifecycle lifecycle, PrometheusMetrics metrics) {
        this.metrics = metrics;
        this.lifecycle = lifecycle;
        this.webhook = webhook;
        this.store = store;
        this.compute = compute;
        this.pools = pools;
        this.json = json;
        this.server = bound;
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::route);
    }

    public void start() {
        server.start();
    }

    /**
     * Tasks that stopped lately, per pool, for {@code GET /status} to show beside the pool's indexed
     * tasks (the scaler takes a stopped task out of the index as soon as its job no longer waits).
     */
    public void showStoppedTasks(java.util.function.Function<String, List<io.runnerscale.compute.TaskKey>> recent) {
        this.stoppedTasks = recent;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private void route(HttpExchange exchange) throws IOException {
        // the 500 is sent inside try-with-resources: its catch clause would run after the exchange is closed
        try (exchange) {
            try {
                dispatch(exchange);
            } catch (RuntimeException e) {
                LOG.error("request failed", e);
                send(exchange, 500, error("internal error: " + e.getClass().getSimpleName()));
            }
            countDelivery(exchange);
        }
    }

    /**
     * {@code WebhookDeliveries}: every answer to a {@code POST /webhook}, whatever gave it (the
     * service, a refused token or size, a 500), as API Gateway's function counts what it answers.
     */
    private void countDelivery(HttpExchange exchange) {
        int status = exchange.getResponseCode(); // -1 when nothing was sent (the connection failed)
        if (status > 0 && exchange.getRequestURI().getPath().equals("/webhook")
                && exchange.getRequestMethod().equals("POST")) {
            metrics.count(io.runnerscale.metrics.MetricName.WEBHOOK_DELIVERIES, Integer.toString(status));
        }
    }

    private void dispatch(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        String method = exchange.getRequestMethod();
        long headerBytes = headerBytes(exchange);
        if (headerBytes > MAX_HEADER_BYTES) {
            sendBeforeBody(exchange, 431, error("request line and headers are " + headerBytes
                    + " bytes; the limit is " + MAX_HEADER_BYTES));
            return;
        }
        Matcher jobPath = JOB_PATH.matcher(path);
        if (path.equals("/webhook")) {
            if (!method.equals("POST")) {
                methodNotAllowed(exchange, "POST", "POST " + path);
                return;
            }
            webhook(exchange);
        } else if (path.equals("/events") && lifecycle != null) {
            if (!method.equals("POST")) {
                methodNotAllowed(exchange, "POST", "POST " + path);
                return;
            }
            event(exchange);
        } else if (path.equals("/status")) {
            if (!method.equals("GET") && !method.equals("HEAD")) {
                methodNotAllowed(exchange, "GET, HEAD", "GET " + path);
                return;
            }
            send(exchange, 200, status());
        } else if (path.equals("/metrics")) {
            if (!method.equals("GET") && !method.equals("HEAD")) {
                methodNotAllowed(exchange, "GET, HEAD", "GET " + path);
                return;
            }
            send(exchange, 200, PrometheusMetrics.CONTENT_TYPE, metrics.scrape()); // the Prometheus text format
        } else if (jobPath.matches()) {
            if (!method.equals("GET") && !method.equals("HEAD")) {
                methodNotAllowed(exchange, "GET, HEAD", "GET /jobs/{projectId}/{jobId}");
                return;
            }
            job(exchange, jobPath.group(1), jobPath.group(2));
        } else {
            send(exchange, 404, error("no such endpoint: " + Quoted.abbreviate(method) + " " + Quoted.abbreviate(path)
                    + " (" + ENDPOINTS + ")"));
        }
    }

    /** {@code POST /webhook}: the token, then the size ({@link #authenticatedBody}), then the delivery. */
    private void webhook(HttpExchange exchange) throws IOException {
        Map<String, String> headers = headers(exchange);
        byte[] body = authenticatedBody(exchange, headers, WebhookService.MAX_BODY_BYTES,
                declared -> webhook.handle(new WebhookRequest(headers, "", declared)));
        if (body == null) {
            return;
        }
        WebhookResponse response = webhook.handle(new WebhookRequest(headers, new String(body, StandardCharsets.UTF_8),
                body.length));
        send(exchange, response.status(), response.body());
    }

    /** {@code POST /events}: the token first (as {@link #webhook}), then the size, then the event. */
    private void event(HttpExchange exchange) throws IOException {
        byte[] body = authenticatedBody(exchange, headers(exchange), LocalLifecycle.MAX_EVENT_BYTES, declared ->
                new WebhookResponse(413, error("body is " + declared + " bytes; the limit is " + LocalLifecycle.MAX_EVENT_BYTES)));
        if (body == null) {
            return;
        }
        com.fasterxml.jackson.databind.JsonNode event;
        try {
            event = json.readTree(body);
        } catch (IOException e) {
            send(exchange, 400, error("the body is not JSON; POST /events takes an EventBridge event"));
            return;
        }
        try {
            send(exchange, 200, lifecycle.handleEvent(event).toString());
        } catch (LocalLifecycle.BadEventException e) {
            send(exchange, 400, error(e.getMessage()));
        } catch (io.runnerscale.lifecycle.RetryableError e) {
            send(exchange, 503, error("try again: " + e.getMessage()));
        }
    }

    private static Map<String, String> headers(HttpExchange exchange) {
        Map<String, String> headers = new HashMap<>();
        exchange.getRequestHeaders().forEach((name, values) -> headers.put(name, values.isEmpty() ? "" : values.getFirst()));
        return headers;
    }

    /**
     * The body of an authenticated request of at most {@code limit} bytes, or null when this has
     * answered already: the token is checked from the headers before the body is read, so a wrong
     * token costs no upload; a declared length over the limit is refused before reading
     * ({@code tooLargeDeclared}), and a body without one (chunked) is read to one byte past the limit.
     */
    private byte[] authenticatedBody(HttpExchange exchange, Map<String, String> headers, long limit,
                                     java.util.function.LongFunction<WebhookResponse> tooLargeDeclared) throws IOException {
        Optional<WebhookResponse> rejected = webhook.rejectUnauthenticated(new WebhookRequest(headers, "", 0));
        if (rejected.isPresent()) {
            sendBeforeBody(exchange, rejected.get().status(), rejected.get().body());
            return null;
        }
        long declared = declaredLength(exchange);
        if (declared > limit) {
            WebhookResponse tooLarge = tooLargeDeclared.apply(declared);
            sendBeforeBody(exchange, tooLarge.status(), tooLarge.body());
            return null;
        }
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readNBytes((int) limit + 1);
        }
        if (body.length > limit) {
            sendBeforeBody(exchange, 413, error("body is more than " + limit + " bytes; the limit is " + limit));
            return null;
        }
        return body;
    }

    private void job(HttpExchange exchange, String projectText, String jobText) throws IOException {
        Optional<Long> projectId = JobKey.parseId(projectText);
        Optional<Long> jobId = JobKey.parseId(jobText);
        if (projectId.isEmpty() || jobId.isEmpty()) {
            String which = projectId.isEmpty() ? "projectId" : "jobId";
            send(exchange, 400, error(which + " in /jobs/{projectId}/{jobId} must be a whole number from 1 to "
                    + Long.MAX_VALUE + ", not '" + Quoted.abbreviate(projectId.isEmpty() ? projectText : jobText) + "'"));
            return;
        }
        JobKey key = new JobKey(projectId.get(), jobId.get());
        Optional<JobRecord> job = store.find(key);
        if (job.isPresent()) {
            send(exchange, 200, job(job.get()));
        } else {
            send(exchange, 404, error("job " + key + " is unknown"));
        }
    }

    private void methodNotAllowed(HttpExchange exchange, String allowed, String use) throws IOException {
        exchange.getResponseHeaders().set("Allow", allowed);
        sendBeforeBody(exchange, 405, error(Quoted.abbreviate(exchange.getRequestMethod()) + " is not allowed here; use " + use));
    }

    /** Request line plus header lines as they came on the wire, CRLFs included. */
    private static long headerBytes(HttpExchange exchange) {
        long bytes = exchange.getRequestMethod().length() + 1 + exchange.getRequestURI().toString().length() + 1
                + exchange.getProtocol().length() + 2;
        for (Map.Entry<String, List<String>> header : exchange.getRequestHeaders().entrySet()) {
            for (String value : header.getValue()) {
                bytes += header.getKey().length() + 2 + value.length() + 2;
            }
        }
        return bytes;
    }

    /** The Content-Length the client declared, -1 without one; the JDK has already refused malformed ones. */
    private static long declaredLength(HttpExchange exchange) {
        String value = exchange.getRequestHeaders().getFirst("Content-Length");
        if (value == null) {
            return -1;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private String status() {
        ObjectNode root = json.createObjectNode();
        ArrayNode list = root.putArray("pools");
        for (PoolConfig pool : pools.current().pools()) {
            List<JobRecord> live = store.liveJobs(pool.name());
            long pending = live.stream().filter(j -> j.status() == JobStatus.PENDING).count();
            ObjectNode node = list.addObject().put("name", pool.name()).put("pending", pending)
                    .put("running", live.size() - pending);
            if (pool.backend() instanceof PoolConfig.Fargate) {
                node.put("backend", pool.backend().type());
                if (store instanceof TaskStore taskStore) {
                    java.util.Map<io.runnerscale.compute.TaskKey, TaskRecord> shown = new java.util.LinkedHashMap<>();
                    for (io.runnerscale.compute.TaskKey key : stoppedTasks.apply(pool.name())) {
                        taskStore.task(key).ifPresent(t -> shown.put(key, t));
                    }
                    taskStore.tasks(pool.name()).forEach(t -> shown.put(t.key(), t));
                    node.set("tasks", tasks(List.copyOf(shown.values())));
                }
                continue; // no group, no instances: one task per job
            }
            GroupState group = null;
            try {
                group = compute.describe(pool);
                node.put("desired", group.desiredCapacity()).put("instances", group.instances().size())
                        .put("ready", group.instances().stream().filter(GroupState.Instance::ready).count());
            } catch (RuntimeException e) {
                node.putNull("desired").putNull("instances").put("error", e.getMessage());
            }
            if (lifecycle != null) {
                node.set("members", lifecycle.instances(pool, group));
            }
        }
        if (lifecycle != null) {
            root.set("drains", lifecycle.drains());
        }
        return root.toString();
    }

    /** A Fargate pool's tasks: each one's key (project/job#attempt), state, ARN, capacity and why it stopped. */
    private ArrayNode tasks(List<TaskRecord> records) {
        ArrayNode out = json.createArrayNode();
        for (TaskRecord task : records) {
            ObjectNode node = out.addObject().put("key", task.key().toString())
                    .put("job", task.key().job().toString()).put("attempt", task.key().attempt())
                    .put("state", task.state().name().toLowerCase(java.util.Locale.ROOT));
            putOrNull(node, "taskArn", task.taskArn());
            putOrNull(node, "capacityProvider", task.capacityProvider());
            putOrNull(node, "reason", task.reason());
            node.put("failed", task.failed()).put("interrupted", task.interrupted());
            putIfPresent(node, "claimedAt", task.claimedAt());
            putIfPresent(node, "stoppedAt", task.stoppedAt());
        }
        return out;
    }

    private static void putOrNull(ObjectNode node, String field, String value) {
        if (value == null) {
            node.putNull(field);
        } else {
            node.put(field, value);
        }
    }

    private String job(JobRecord job) {
        ObjectNode node = json.createObjectNode()
                .put("projectId", job.key().projectId()).put("jobId", job.key().jobId())
                .put("status", job.status().wireName()).put("pool", job.pool());
        if (job.tags() != null) {
            ArrayNode tags = node.putArray("tags");
            job.tags().forEach(tags::add);
        }
        putIfPresent(node, "pipelineId", job.pipelineId());
        putIfPresent(node, "name", job.name());
        putIfPresent(node, "createdAt", job.createdAt());
        putIfPresent(node, "pendingAt", job.pendingAt());
        putIfPresent(node, "startedAt", job.startedAt());
        putIfPresent(node, "finishedAt", job.finishedAt());
        putIfPresent(node, "runnerId", job.runnerId());
        putIfPresent(node, "instanceId", job.instanceId());
        putIfPresent(node, "updatedAt", job.updatedAt());
        return node.toString();
    }

    private static void putIfPresent(ObjectNode node, String field, Object value) {
        if (value instanceof Long number) {
            node.put(field, number);
        } else if (value != null) {
            node.put(field, value.toString());
        }
    }

    private String error(String message) {
        return json.createObjectNode().put("error", message).toString();
    }

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        send(exchange, status, "application/json", body.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange exchange, int status, String contentType, byte[] bytes) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.sendResponseHeaders(status, -1); // a HEAD answer has no body
            return;
        }
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    /**
     * An answer given while a body may still be on its way: flushed first, because closing the
     * exchange discards the unread body before the JDK would send a buffered answer, and with
     * {@code Connection: close}, because the JDK drops the connection when the discarded rest is large.
     */
    private static void sendBeforeBody(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        if (declaredLength(exchange) > 0 || exchange.getRequestHeaders().containsKey("Transfer-Encoding")) {
            exchange.getResponseHeaders().set("Connection", "close");
        }
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, bytes.length);
        OutputStream out = exchange.getResponseBody();
        out.write(bytes);
        out.flush();
    }

    private static void setIfAbsent(String property, int value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, Integer.toString(value));
        }
    }

    @Override
    public void close() {
        server.stop(1);
    }
}
