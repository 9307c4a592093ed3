package io.runnerscale.local;

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
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The webhook and a read-only status API over the JDK's HTTP server, running the same
 * {@link WebhookService} as the Lambda function:
 * {@code POST /webhook}, {@code GET /status}, {@code GET /jobs/{projectId}/{jobId}}.
 */
public final class LocalServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalServer.class);
    private static final Pattern JOB_PATH = Pattern.compile("/jobs/(\\d{1,18})/(\\d{1,18})/?");

    private final HttpServer server;
    private final WebhookService webhook;
    private final JobStore store;
    private final Compute compute;
    private final PoolsConfigSource pools;
    private final ObjectMapper json;

    public LocalServer(InetSocketAddress address, WebhookService webhook, JobStore store, Compute compute,
                       PoolsConfigSource pools, ObjectMapper json) throws IOException {
        this.webhook = webhook;
        this.store = store;
        this.compute = compute;
        this.pools = pools;
        this.json = json;
        this.server = HttpServer.create(address, 128);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::route);
    }

    public void start() {
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private void route(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String method = exchange.getRequestMethod();
            if (path.equals("/webhook")) {
                if (!method.equals("POST")) {
                    send(exchange, 405, error("use POST /webhook"));
                    return;
                }
                WebhookResponse response = webhook.handle(readRequest(exchange));
                send(exchange, response.status(), response.body());
            } else if (path.equals("/status") && method.equals("GET")) {
                send(exchange, 200, status());
            } else if (JOB_PATH.matcher(path).matches() && method.equals("GET")) {
                Matcher m = JOB_PATH.matcher(path);
                m.matches();
                JobKey key = new JobKey(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
                var job = store.find(key);
                if (job.isPresent()) {
                    send(exchange, 200, job(job.get()));
                } else {
                    send(exchange, 404, error("job " + key + " is unknown"));
                }
            } else {
                send(exchange, 404, error("no such endpoint: " + method + " " + path
                        + " (POST /webhook, GET /status, GET /jobs/{projectId}/{jobId})"));
            }
        } catch (RuntimeException e) {
            LOG.error("request failed", e);
            send(exchange, 500, error("internal error: " + e.getClass().getSimpleName()));
        }
    }

    /** Reads at most one byte past the limit: enough to answer 413 without buffering a huge body. */
    private static WebhookRequest readRequest(HttpExchange exchange) throws IOException {
        Map<String, String> headers = new HashMap<>();
        exchange.getRequestHeaders().forEach((name, values) -> headers.put(name, values.isEmpty() ? "" : values.getFirst()));
        long limit = WebhookService.MAX_BODY_BYTES + 1;
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readNBytes((int) limit);
            long more = body.length >= limit ? in.transferTo(OutputStream.nullOutputStream()) : 0;
            long total = body.length + more;
            return new WebhookRequest(headers, total > WebhookService.MAX_BODY_BYTES ? ""
                    : new String(body, StandardCharsets.UTF_8), total);
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
            try {
                GroupState group = compute.describe(pool);
                node.put("desired", group.desiredCapacity()).put("instances", group.instances().size())
                        .put("ready", group.instances().stream().filter(GroupState.Instance::ready).count());
            } catch (RuntimeException e) {
                node.putNull("desired").putNull("instances").put("error", e.getMessage());
            }
        }
        return root.toString();
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
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(1);
    }
}
