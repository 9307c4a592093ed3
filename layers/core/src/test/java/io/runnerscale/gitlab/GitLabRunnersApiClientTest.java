package io.runnerscale.gitlab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.runnerscale.job.JobKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link GitLabRunnersApiClient} against a loopback HTTP server that records each request and
 * answers what a test sets per path; answers are shaped like the examples in GitLab's API docs
 * (doc/api/users.md "Create a runner linked to a user", doc/api/runners.md, doc/api/jobs.md).
 */
class GitLabRunnersApiClientTest {
    static final String TOKEN = "glpat-secret-token-1234";
    static final Instant NOW = Instant.parse("2025-06-01T12:00:00Z");

    /** One request as the server saw it. */
    record Seen(String method, String path, String query, String privateToken, String contentType, String body) {
    }

    /** One answer: status, body, headers. */
    record Reply(int status, String body, Map<String, String> headers) {
        static Reply of(int status, String body) {
            return new Reply(status, body, Map.of());
        }
    }

    HttpServer server;
    final List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
    /** Answers by "METHOD path?query" or, failing that, "METHOD path". */
    final Map<String, Reply> replies = new ConcurrentHashMap<>();
    GitLabRunnersApiClient client;
    ObjectMapper json = new ObjectMapper();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", this::handle);
        server.start();
        client = clientFor(server);
    }

    GitLabRunnersApiClient clientFor(HttpServer on) {
        GitLabCredentials credentials = new GitLabCredentials("http://127.0.0.1:" + on.getAddress().getPort(), TOKEN);
        return new GitLabRunnersApiClient(GitLabApiClient.defaultHttpClient(), () -> credentials, json,
                Clock.fixed(NOW, ZoneOffset.UTC));
    }

    void handle(HttpExchange exchange) throws IOException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        String path = exchange.getRequestURI().getPath();
        String query = exchange.getRequestURI().getQuery();
        seen.add(new Seen(exchange.getRequestMethod(), path, query,
                exchange.getRequestHeaders().getFirst("PRIVATE-TOKEN"),
                exchange.getRequestHeaders().getFirst("Content-Type"), body));
        Reply reply = replies.get(exchange.getRequestMethod() + " " + path + (query == null ? "" : "?" + query));
        if (reply == null) {
            reply = replies.getOrDefault(exchange.getRequestMethod() + " " + path,
                    Reply.of(404, "{\"message\":\"404 Not found\"}"));
        }
        byte[] bytes = reply.body().getBytes(StandardCharsets.UTF_8);
        reply.headers().forEach((name, value) -> exchange.getResponseHeaders().add(name, value));
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(reply.status(), reply.status() == 204 ? -1 : bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            if (reply.status() != 204) {
                out.write(bytes);
            }
        } catch (IOException clientStoppedReading) {
            // the client may stop reading an oversized answer
        }
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    Seen only() {
        assertEquals(1, seen.size(), seen.toString());
        return seen.get(0);
    }

    JsonNode bodyOf(Seen request) throws IOException {
        return json.readTree(request.body());
    }

    static final String CREATED = "{\"id\": 9171, \"token\": \"glrt-kyahzxLaj4Dc1jQf4xjX\", \"token_expires_at\": null}";

    // ---- createRunner

    @Test
    void createsAGroupRunnerNamedForTheInstance() throws IOException {
        replies.put("POST /api/v4/user/runners", Reply.of(201, CREATED));
        CreatedRunner created = client.createRunner(new RunnerSpec(RunnerOwner.group(42), "i-0abc123def4567890",
                List.of("docker", "aws"), false, Optional.of(Duration.ofHours(1))));

        assertEquals(9171, created.id());
        assertEquals("glrt-kyahzxLaj4Dc1jQf4xjX", created.token());
        Seen request = only();
        assertEquals("POST", request.method());
        assertEquals("/api/v4/user/runners", request.path());
        assertEquals(TOKEN, request.privateToken());
        assertEquals("application/json", request.contentType());
        JsonNode body = bodyOf(request);
        assertEquals("group_type", body.path("runner_type").asText());
        assertEquals(42, body.path("group_id").asLong());
        assertFalse(body.has("project_id"));
        assertEquals("i-0abc123def4567890", body.path("description").asText());
        assertEquals(List.of("docker", "aws"), List.of(body.path("tag_list").get(0).asText(),
                body.path("tag_list").get(1).asText()));
        assertFalse(body.path("run_untagged").asBoolean(true));
        assertTrue(body.path("locked").isBoolean());
        assertFalse(body.path("locked").asBoolean(true));
        assertTrue(body.path("paused").isBoolean());
        assertFalse(body.path("paused").asBoolean(true));
        assertEquals(3600, body.path("maximum_timeout").asLong());
    }

    @Test
    void createsProjectAndInstanceRunnersWithTheirOwnerFields() throws IOException {
        replies.put("POST /api/v4/user/runners", Reply.of(201, CREATED));
        client.createRunner(new RunnerSpec(RunnerOwner.project(380), "i-1", List.of(), true, Optional.empty()));
        client.createRunner(new RunnerSpec(RunnerOwner.instance(), "i-2", List.of("gpu"), false, Optional.empty()));

        JsonNode project = bodyOf(seen.get(0));
        assertEquals("project_type", project.path("runner_type").asText());
        assertEquals(380, project.path("project_id").asLong());
        assertFalse(project.has("group_id"));
        assertFalse(project.has("maximum_timeout"));
        assertTrue(project.path("run_untagged").asBoolean(false));
        JsonNode instance = bodyOf(seen.get(1));
        assertEquals("instance_type", instance.path("runner_type").asText());
        assertFalse(instance.has("group_id") || instance.has("project_id"));
    }

    @Test
    void theRunnerTokenIsNeverPrinted() {
        replies.put("POST /api/v4/user/runners", Reply.of(201, CREATED));
        CreatedRunner created = client.createRunner(new RunnerSpec(RunnerOwner.group(42), "i-1", List.of("docker"),
                false, Optional.empty()));
        assertFalse(created.toString().contains("glrt-"), created.toString());
        assertTrue(created.toString().contains("9171"), created.toString());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"{\"id\": 9171}", "{\"id\": 9171, \"token\": \"\"}", "{\"id\": 9171, \"token\": 5}",
            "{\"id\": 0, \"token\": \"glrt-x\"}", "{\"id\": \"9171\", \"token\": \"glrt-x\"}",
            "{\"id\": 9171, \"token\": \"glrt x\"}", "[]"})
    void aCreatedRunnerThatCannotBeReadIsUnavailable(String answer) {
        replies.put("POST /api/v4/user/runners", Reply.of(201, answer));
        GitLabUnavailableException e = assertThrows(GitLabUnavailableException.class, () -> client.createRunner(
                new RunnerSpec(RunnerOwner.group(42), "i-1", List.of("docker"), false, Optional.empty())));
        assertTrue(e.getMessage().contains("POST /api/v4/user/runners"), e.getMessage());
    }

    @Test
    void aRunnerSpecFollowsGitLabsRules() {
        assertThrows(IllegalArgumentException.class, () -> new RunnerSpec(RunnerOwner.group(1), "i-1",
                List.of("docker"), false, Optional.of(Duration.ofMinutes(5))));
        assertThrows(IllegalArgumentException.class, () -> new RunnerSpec(RunnerOwner.group(1), " ",
                List.of("docker"), false, Optional.empty()));
        assertThrows(IllegalArgumentException.class, () -> new RunnerSpec(RunnerOwner.group(1), "i-1",
                List.of(""), false, Optional.empty()));
        assertThrows(IllegalArgumentException.class, () -> new RunnerSpec(RunnerOwner.group(1), "i-1",
                List.of(), false, Optional.empty()));
        assertThrows(IllegalArgumentException.class, () -> RunnerOwner.group(0));
        assertThrows(IllegalArgumentException.class, () -> RunnerOwner.project(-3));
    }

    // ---- 401 / 403: the scope needed, never the token

    @Test
    void aForbiddenCreateNamesTheCreateRunnerScopeAndTheRole() {
        replies.put("POST /api/v4/user/runners", Reply.of(403, "{\"message\":\"403 Forbidden\"}"));
        GitLabRejectedException e = assertThrows(GitLabRejectedException.class, () -> client.createRunner(
                new RunnerSpec(RunnerOwner.group(42), "i-1", List.of("docker"), false, Optional.empty())));
        assertEquals(403, e.status());
        assertTrue(e.getMessage().contains("POST /api/v4/user/runners answered 403"), e.getMessage());
        assertTrue(e.getMessage().contains("create_runner"), e.getMessage());
        assertTrue(e.getMessage().contains("Owner"), e.getMessage());
        assertFalse(e.getMessage().contains(TOKEN), e.getMessage());
    }

    @Test
    void anUnauthorizedRunnerCallNamesTheManageRunnerScope() {
        replies.put("PUT /api/v4/runners/6", Reply.of(401, "{\"message\":\"401 Unauthorized\"}"));
        replies.put("DELETE /api/v4/runners/6", Reply.of(403, "{\"message\":\"403 Forbidden\"}"));
        replies.put("GET /api/v4/runners/6/jobs", Reply.of(403, "{\"message\":\"403 Forbidden\"}"));
        for (Executable call : List.<Executable>of(() -> client.setPaused(6, true), () -> client.deleteRunner(6),
                () -> client.runningJobs(6))) {
            GitLabRejectedException e = assertThrows(GitLabRejectedException.class, call);
            assertTrue(e.getMessage().contains("/api/v4/runners/6"), e.getMessage());
            assertTrue(e.getMessage().contains("manage_runner"), e.getMessage());
            assertFalse(e.getMessage().contains(TOKEN), e.getMessage());
        }
    }

    @Test
    void aForbiddenCancelNamesTheApiScope() {
        replies.put("POST /api/v4/projects/380/jobs/1977/cancel", Reply.of(403, "{\"message\":\"403 Forbidden\"}"));
        GitLabRejectedException e = assertThrows(GitLabRejectedException.class,
                () -> client.cancelJob(new JobKey(380, 1977)));
        assertTrue(e.getMessage().contains("scope api"), e.getMessage());
        assertTrue(e.getMessage().contains("Developer"), e.getMessage());
    }

    /** A hostile or confused server quoting the token back must not put it in a log line. */
    @Test
    void aServerThatQuotesTheTokenBackDoesNotGetItIntoTheMessage() {
        replies.put("PUT /api/v4/runners/6", Reply.of(400, "{\"message\":\"bad token " + TOKEN + "\"}"));
        GitLabRejectedException e = assertThrows(GitLabRejectedException.class, () -> client.setPaused(6, true));
        assertEquals(400, e.status());
        assertFalse(e.getMessage().contains(TOKEN), e.getMessage());
        assertTrue(e.getMessage().contains("[token]"), e.getMessage());
    }

    @Test
    void gitLabsOwnMessageIsAbbreviated() {
        replies.put("PUT /api/v4/runners/6", Reply.of(422, "{\"message\":\"" + "x".repeat(10_000) + "\"}"));
        GitLabRejectedException e = assertThrows(GitLabRejectedException.class, () -> client.setPaused(6, true));
        assertTrue(e.getMessage().length() < 400, e.getMessage());
    }

    // ---- setPaused

    @Test
    void pausesAndUnpausesWithPut() throws IOException {
        replies.put("PUT /api/v4/runners/6", Reply.of(200, "{\"id\": 6, \"paused\": true, \"runner_type\": \"group_type\"}"));
        client.setPaused(6, true);
        client.setPaused(6, false);
        assertEquals("PUT", seen.get(0).method());
        assertEquals("/api/v4/runners/6", seen.get(0).path());
        assertEquals(TOKEN, seen.get(0).privateToken());
        assertTrue(bodyOf(seen.get(0)).path("paused").asBoolean(false));
        assertFalse(bodyOf(seen.get(1)).path("paused").asBoolean(true));
    }

    @Test
    void pausingARunnerThatIsGoneIsRejectedWith404() {
        GitLabRejectedException e = assertThrows(GitLabRejectedException.class, () -> client.setPaused(6, true));
        assertEquals(404, e.status());
    }

    @Test
    void runnerIdsFollowJobKeysRule() {
        assertThrows(IllegalArgumentException.class, () -> client.setPaused(0, true));
        assertThrows(IllegalArgumentException.class, () -> client.deleteRunner(-1));
        assertThrows(IllegalArgumentException.class, () -> client.runningJobs(0));
        assertTrue(seen.isEmpty());
    }

    // ---- runningJobs

    static String job(long id, long project) {
        return "{\"id\": " + id + ", \"status\": \"running\", \"stage\": \"test\", \"name\": \"test\", \"ref\": \"main\","
                + " \"tag\": false, \"coverage\": null, \"created_at\": \"2017-11-16T08:50:29.000Z\","
                + " \"started_at\": \"2017-11-16T08:51:29.000Z\", \"finished_at\": null, \"duration\": 120,"
                + " \"user\": {\"id\": 1, \"name\": \"John Doe2\", \"username\": \"user2\"},"
                + " \"commit\": {\"id\": \"97de212e80737a608d939f648d959671fb0a0142\", \"short_id\": \"97de212e\","
                + " \"title\": \"Update configuration\\r\", \"message\": \"See merge request !123\"},"
                + " \"pipeline\": {\"id\": 2, \"sha\": \"97de212e\", \"ref\": \"main\", \"status\": \"running\"},"
                + " \"project\": {\"id\": " + project + ", \"description\": null, \"name\": \"project1\","
                + " \"path_with_namespace\": \"namespace1/project1\"}}";
    }

    @Test
    void readsRunningJobsAcrossPages() {
        replies.put("GET /api/v4/runners/6/jobs?status=running&per_page=100&page=1",
                new Reply(200, "[" + job(2, 1) + "," + job(3, 1) + "]", Map.of("X-Next-Page", "2")));
        replies.put("GET /api/v4/runners/6/jobs?status=running&per_page=100&page=2",
                new Reply(200, "[" + job(7, 380) + "]", Map.of("X-Next-Page", "")));

        assertEquals(List.of(new JobKey(1, 2), new JobKey(1, 3), new JobKey(380, 7)), client.runningJobs(6));
        assertEquals(2, seen.size());
        assertEquals("GET", seen.get(0).method());
        assertEquals("/api/v4/runners/6/jobs", seen.get(0).path());
        assertEquals("status=running&per_page=100&page=1", seen.get(0).query());
        assertEquals(TOKEN, seen.get(1).privateToken());
    }

    @Test
    void noRunningJobIsAnEmptyList() {
        replies.put("GET /api/v4/runners/6/jobs", Reply.of(200, "[]"));
        assertEquals(List.of(), client.runningJobs(6));
    }

    @Test
    void aNextPageThatIsNotThePageAfterIsNotFollowed() {
        replies.put("GET /api/v4/runners/6/jobs", new Reply(200, "[" + job(2, 1) + "]", Map.of("X-Next-Page", "1")));
        GitLabUnavailableException e = assertThrows(GitLabUnavailableException.class, () -> client.runningJobs(6));
        assertTrue(e.getMessage().contains("X-Next-Page"), e.getMessage());
        assertEquals(1, seen.size());
    }

    @Test
    void pagesAreBounded() {
        for (int page = 1; page <= GitLabRunnersApiClient.MAX_PAGES; page++) {
            replies.put("GET /api/v4/runners/6/jobs?status=running&per_page=100&page=" + page,
                    new Reply(200, "[" + job(page, 1) + "]", Map.of("X-Next-Page", String.valueOf(page + 1))));
        }
        GitLabUnavailableException e = assertThrows(GitLabUnavailableException.class, () -> client.runningJobs(6));
        assertTrue(e.getMessage().contains("more than " + GitLabRunnersApiClient.MAX_PAGES + " pages"), e.getMessage());
        assertEquals(GitLabRunnersApiClient.MAX_PAGES, seen.size());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"[{\"id\": 2}]", "[{\"id\": 2, \"project\": {\"id\": 0}}]",
            "[{\"id\": \"2\", \"project\": {\"id\": 1}}]", "{\"id\": 2}"})
    void aJobListThatCannotBeReadIsUnavailable(String answer) {
        replies.put("GET /api/v4/runners/6/jobs", Reply.of(200, answer));
        assertThrows(GitLabUnavailableException.class, () -> client.runningJobs(6));
    }

    // ---- deleteRunner

    @Test
    void deletesARunner() {
        replies.put("DELETE /api/v4/runners/6", Reply.of(204, ""));
        client.deleteRunner(6);
        Seen request = only();
        assertEquals("DELETE", request.method());
        assertEquals("/api/v4/runners/6", request.path());
        assertEquals(TOKEN, request.privateToken());
    }

    @Test
    void deletingARunnerAlreadyGoneSucceeds() {
        replies.put("DELETE /api/v4/runners/6", Reply.of(404, "{\"message\":\"404 Runner Not Found\"}"));
        client.deleteRunner(6);
        assertEquals(1, seen.size());
    }

    // ---- cancel and retry

    @Test
    void cancelsAJob() {
        replies.put("POST /api/v4/projects/380/jobs/1977/cancel", Reply.of(201, job(1977, 380)));
        client.cancelJob(new JobKey(380, 1977));
        Seen request = only();
        assertEquals("POST", request.method());
        assertEquals(TOKEN, request.privateToken());
    }

    @Test
    void cancellingAJobThatIsGoneSucceeds() {
        client.cancelJob(new JobKey(380, 1977));
        assertEquals("/api/v4/projects/380/jobs/1977/cancel", only().path());
    }

    @Test
    void retryingAJobReturnsTheNewJob() {
        replies.put("POST /api/v4/projects/380/jobs/1977/retry", Reply.of(201, job(1978, 380)));
        assertEquals(Optional.of(new JobKey(380, 1978)), client.retryJob(new JobKey(380, 1977)));
        assertEquals("POST", only().method());
    }

    @Test
    void aJobThatIsNotRetryableIsNotRetried() {
        replies.put("POST /api/v4/projects/380/jobs/1977/retry",
                Reply.of(403, "{\"message\":\"403 Forbidden - Job is not retryable\"}"));
        assertEquals(Optional.empty(), client.retryJob(new JobKey(380, 1977)));
    }

    @Test
    void aForbiddenRetryIsRejected() {
        replies.put("POST /api/v4/projects/380/jobs/1977/retry", Reply.of(403, "{\"message\":\"403 Forbidden\"}"));
        GitLabRejectedException e = assertThrows(GitLabRejectedException.class,
                () -> client.retryJob(new JobKey(380, 1977)));
        assertTrue(e.getMessage().contains("scope api"), e.getMessage());
    }

    // ---- runnersOf

    static String runner(long id, String description, String type) {
        return "{\"active\": true, \"paused\": false, \"description\": " + (description == null ? "null"
                : "\"" + description + "\"") + ", \"id\": " + id + ", \"ip_address\": \"\", \"is_shared\": false,"
                + " \"runner_type\": \"" + type + "\", \"name\": null, \"online\": true, \"status\": \"online\","
                + " \"job_execution_status\": \"idle\"}";
    }

    @Test
    void listsAGroupsOwnRunnersAndFindsOneByDescription() {
        replies.put("GET /api/v4/groups/9/runners", Reply.of(200, "[" + runner(3, "i-0aaa", "instance_type") + ","
                + runner(8, "i-0bbb", "group_type") + "," + runner(9, null, "group_type") + "]"));
        assertEquals(List.of(new RunnerInfo(8, "i-0bbb", RunnerType.GROUP, false),
                new RunnerInfo(9, "", RunnerType.GROUP, false)), client.runnersOf(RunnerOwner.group(9)));
        assertEquals("type=group_type&per_page=100&page=1", seen.get(0).query());
        assertEquals(List.of(new RunnerInfo(8, "i-0bbb", RunnerType.GROUP, false)),
                client.findRunnersByDescription(RunnerOwner.group(9), "i-0bbb"));
        assertEquals(List.of(), client.findRunnersByDescription(RunnerOwner.group(9), "i-0aaa"));
    }

    @Test
    void listsProjectAndInstanceRunnersFromTheirEndpoints() {
        replies.put("GET /api/v4/projects/380/runners", Reply.of(200, "[" + runner(8, "i-1", "project_type") + "]"));
        replies.put("GET /api/v4/runners/all", Reply.of(200, "[" + runner(1, "i-2", "instance_type") + "]"));
        assertEquals(8, client.runnersOf(RunnerOwner.project(380)).get(0).id());
        assertEquals(1, client.runnersOf(RunnerOwner.instance()).get(0).id());
        assertEquals("/api/v4/runners/all", seen.get(1).path());
        assertEquals("type=instance_type&per_page=100&page=1", seen.get(1).query());
    }

    @Test
    void listingInstanceRunnersWithoutAnAdministratorNamesIt() {
        replies.put("GET /api/v4/runners/all", Reply.of(403, "{\"message\":\"403 Forbidden\"}"));
        GitLabRejectedException e = assertThrows(GitLabRejectedException.class,
                () -> client.runnersOf(RunnerOwner.instance()));
        assertTrue(e.getMessage().contains("administrator"), e.getMessage());
        assertTrue(e.getMessage().contains("read_api"), e.getMessage());
    }

    // ---- retryable answers

    @Test
    void rateLimitedCarriesRetryAfterInSeconds() {
        replies.put("PUT /api/v4/runners/6", new Reply(429, "{\"message\":\"Retry later\"}", Map.of("Retry-After", "42")));
        GitLabUnavailableException e = assertThrows(GitLabUnavailableException.class, () -> client.setPaused(6, true));
        assertEquals(Optional.of(Duration.ofSeconds(42)), e.retryAfter());
        assertTrue(e.getMessage().contains("429"), e.getMessage());
    }

    @Test
    void rateLimitedCarriesRetryAfterGivenAsAnHttpDate() {
        replies.put("DELETE /api/v4/runners/6",
                new Reply(429, "{}", Map.of("Retry-After", "Sun, 01 Jun 2025 12:01:30 GMT")));
        GitLabUnavailableException e = assertThrows(GitLabUnavailableException.class, () -> client.deleteRunner(6));
        assertEquals(Optional.of(Duration.ofSeconds(90)), e.retryAfter());
    }

    @Test
    void retryAfterThatCannotBeReadIsLeftOutAndAHugeOneIsCapped() {
        assertEquals(Optional.empty(), client.retryAfter("soon"));
        assertEquals(Optional.empty(), client.retryAfter(null));
        assertEquals(Optional.of(Duration.ZERO), client.retryAfter("Sun, 01 Jun 2025 11:00:00 GMT"));
        assertEquals(Optional.of(GitLabRunnersApiClient.MAX_RETRY_AFTER), client.retryAfter("999999999"));
    }

    @Test
    void rateLimitedWithoutRetryAfterIsStillRetryable() {
        replies.put("PUT /api/v4/runners/6", Reply.of(429, "{}"));
        GitLabUnavailableException e = assertThrows(GitLabUnavailableException.class, () -> client.setPaused(6, true));
        assertEquals(Optional.empty(), e.retryAfter());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(ints = {500, 502, 503, 409})
    void serverErrorsAreRetryable(int status) {
        replies.put("POST /api/v4/user/runners", Reply.of(status, "<html>bad gateway</html>"));
        replies.put("GET /api/v4/runners/6/jobs", Reply.of(status, "{}"));
        GitLabUnavailableException create = assertThrows(GitLabUnavailableException.class, () -> client.createRunner(
                new RunnerSpec(RunnerOwner.group(42), "i-1", List.of("docker"), false, Optional.empty())));
        assertTrue(create.getMessage().contains(String.valueOf(status)), create.getMessage());
        assertThrows(GitLabUnavailableException.class, () -> client.runningJobs(6));
    }

    @Test
    void anUnreachableGitLabIsRetryable() throws IOException {
        HttpServer closed = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        GitLabRunnersApiClient unreachable = clientFor(closed);
        closed.start();
        closed.stop(0); // the port is free again: nothing listens there
        GitLabUnavailableException e = assertThrows(GitLabUnavailableException.class,
                () -> unreachable.deleteRunner(6));
        assertFalse(e.getMessage().contains(TOKEN), e.getMessage());
    }

    @Test
    void anOversizedAnswerIsRefused() {
        replies.put("GET /api/v4/runners/6/jobs",
                Reply.of(200, "[{\"id\": 1, \"log\": \"" + "x".repeat(GitLabRunnersApiClient.MAX_ANSWER_BYTES) + "\"}]"));
        GitLabUnavailableException e = assertThrows(GitLabUnavailableException.class, () -> client.runningJobs(6));
        assertTrue(e.getMessage().contains("bytes"), e.getMessage());
    }

    /** Headers at once, then the body a byte a second: the task must not wait for it. */
    @Test
    void anAnswerThatDripsIsAbandoned() throws IOException {
        HttpServer dripping = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        dripping.setExecutor(Executors.newCachedThreadPool());
        dripping.createContext("/", exchange -> {
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(201, 0);
            try (OutputStream out = exchange.getResponseBody()) {
                for (byte b : CREATED.getBytes(StandardCharsets.UTF_8)) {
                    out.write(b);
                    out.flush();
                    Thread.sleep(1_000);
                }
            } catch (IOException | InterruptedException clientGaveUp) {
                // expected: the client stops reading
            }
        });
        dripping.start();
        try {
            GitLabRunnersApiClient slow = clientFor(dripping);
            GitLabUnavailableException e = assertTimeoutPreemptively(Duration.ofSeconds(15),
                    () -> assertThrows(GitLabUnavailableException.class, () -> slow.createRunner(new RunnerSpec(
                            RunnerOwner.group(42), "i-1", List.of("docker"), false, Optional.empty()))),
                    "the answer takes a minute to arrive");
            assertTrue(e.getMessage().contains("not read within"), e.getMessage());
        } finally {
            dripping.stop(0);
        }
    }

    @Test
    void credentialsAreNotPrinted() {
        GitLabCredentials credentials = new GitLabCredentials("https://gitlab.example.com", TOKEN);
        assertFalse(credentials.toString().contains(TOKEN));
    }
}
