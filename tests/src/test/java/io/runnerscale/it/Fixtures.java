package io.runnerscale.it;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/** The real payloads in shared/fixtures (found by SharedFiles from any checkout; see SOURCES.md there), and API Gateway events built from them. */
public final class Fixtures {
    public static final Path ROOT = io.runnerscale.testing.SharedFiles.root().resolve("fixtures");
    public static final ObjectMapper JSON = new ObjectMapper();

    private Fixtures() {
    }

    public static Path path(String relative) {
        Path path = ROOT.resolve(relative);
        if (!Files.isRegularFile(path)) {
            throw new IllegalStateException("fixture " + path.toAbsolutePath().normalize() + " is missing");
        }
        return path;
    }

    public static String text(String relative) {
        try {
            return Files.readString(path(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static JsonNode json(String relative) {
        try {
            return JSON.readTree(text(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every GitLab hook payload under gitlab/. */
    public static List<Path> gitlabHooks() {
        try (Stream<Path> files = Files.list(ROOT.resolve("gitlab"))) {
            List<Path> hooks = files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
            if (hooks.isEmpty()) {
                throw new IllegalStateException("no GitLab hook fixtures under " + ROOT.toAbsolutePath().normalize());
            }
            return hooks;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The documented Job Hook with another project, job id and status; no runner yet (as when pending). */
    public static String jobHook(long projectId, long jobId, String status) {
        return jobHook(projectId, jobId, status, null);
    }

    /** ... and {@code runnerDescription} as the runner's description (runnerscale names runners after instances). */
    public static String jobHook(long projectId, long jobId, String status, String runnerDescription) {
        ObjectNode hook = (ObjectNode) json("gitlab/gitlab-doc_job_hook.json").deepCopy();
        hook.put("project_id", projectId).put("build_id", jobId).put("build_status", status);
        if (status.equals("running") || isFinished(status)) {
            hook.put("build_started_at", "2021-02-23 02:42:00 UTC");
        }
        if (isFinished(status)) {
            hook.put("build_finished_at", "2021-02-23 02:45:00 UTC").put("build_duration", 180.0);
        }
        if (runnerDescription == null) {
            hook.putNull("runner");
        } else {
            ((ObjectNode) hook.get("runner")).put("description", runnerDescription).put("id", 9000 + jobId % 1000);
        }
        return hook.toString();
    }

    private static boolean isFinished(String status) {
        return List.of("success", "failed", "canceled", "skipped").contains(status);
    }

    /** Headers as GitLab sends them, names lower-cased as API Gateway's HTTP API passes them on. */
    public static Map<String, String> gitlabHeaders(String event, String token, String idempotencyKey) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("content-type", "application/json");
        headers.put("user-agent", "GitLab/17.6.0");
        headers.put("x-gitlab-event", event);
        if (token != null) {
            headers.put("x-gitlab-token", token);
        }
        headers.put("x-gitlab-instance", "https://gitlab.example.com");
        headers.put("x-gitlab-webhook-uuid", "5a1e8b8e-2e4e-4a9b-9c57-6c2a3f0d6f11");
        headers.put("x-gitlab-event-uuid", UUID.randomUUID().toString());
        if (idempotencyKey != null) {
            headers.put("idempotency-key", idempotencyKey);
        }
        return headers;
    }

    /**
     * An API Gateway HTTP API (payload 2.0) event shaped like aws/apigw-http-v2.aws-lambda-java-libs.json,
     * for {@code POST /webhook}.
     */
    public static APIGatewayV2HTTPEvent apiGatewayEvent(Map<String, String> headers, String body, boolean base64) {
        JsonNode shape = json("aws/apigw-http-v2.aws-lambda-java-libs.json");
        JsonNode context = shape.get("requestContext");
        Instant now = Instant.now();
        String encoded = base64 ? Base64.getEncoder().encodeToString(body.getBytes(StandardCharsets.UTF_8)) : body;
        return APIGatewayV2HTTPEvent.builder()
                .withVersion(shape.get("version").asText())
                .withRouteKey("POST /webhook")
                .withRawPath("/webhook")
                .withRawQueryString("")
                .withHeaders(new LinkedHashMap<>(headers))
                .withBody(encoded)
                .withIsBase64Encoded(base64)
                .withRequestContext(APIGatewayV2HTTPEvent.RequestContext.builder()
                        .withAccountId(context.get("accountId").asText())
                        .withApiId(context.get("apiId").asText())
                        .withDomainName(context.get("domainName").asText())
                        .withDomainPrefix(context.get("domainPrefix").asText())
                        .withRequestId(UUID.randomUUID().toString())
                        .withRouteKey("POST /webhook")
                        .withStage(context.get("stage").asText())
                        .withTime(context.get("time").asText())
                        .withTimeEpoch(now.toEpochMilli())
                        .withHttp(APIGatewayV2HTTPEvent.RequestContext.Http.builder()
                                .withMethod("POST")
                                .withPath("/webhook")
                                .withProtocol(context.get("http").get("protocol").asText())
                                .withSourceIp("34.74.90.64")
                                .withUserAgent(headers.getOrDefault("user-agent", "GitLab/17.6.0"))
                                .build())
                        .build())
                .build();
    }
}
