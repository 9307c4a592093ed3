package io.runnerscale.gitlab;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.runnerscale.job.JobKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
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
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link GitLabApiClient#jobTags} and {@link GitLabApiClient#job} against a loopback HTTP server answering what a test sets. */
class GitLabApiClientTest {
    static final Instant NOW = Instant.parse("2026-06-01T11:00:00Z");
    static final JobKey JOB = new JobKey(380, 1977);
    HttpServer server;
    volatile int status = 200;
    volatile byte[] answer = "{}".getBytes(StandardCharsets.UTF_8);
    volatile String requestedPath;
    volatile String retryAfterHeader;
    GitLabApiClient client;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            requestedPath = exchange.getRequestURI().getPath();
            byte[] body = answer;
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            if (retryAfterHeader != null) {
                exchange.getResponseHeaders().add("Retry-After", retryAfterHeader);
            }
            exchange.sendResponseHeaders(status, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            } catch (IOException clientStoppedReading) {
                // the client may stop reading an oversized answer
            }
        });
        server.start();
        GitLabCredentials credentials = new GitLabCredentials(
                "http://127.0.0.1:" + server.getAddress().getPort(), "glpat-test");
        client = new GitLabApiClient(GitLabApiClient.defaultHttpClient(), () -> credentials, new ObjectMapper(),
                Clock.fixed(NOW, ZoneOffset.UTC));
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    void answer(String json) {
        answer = json.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void readsTheJobsTagList() {
        answer("{\"id\": 1977, \"status\": \"pending\", \"tag_list\": [\"docker\", \"gpu\"]}");
        assertEquals(List.of("docker", "gpu"), client.jobTags(new JobKey(380, 1977)));
        assertEquals("/api/v4/projects/380/jobs/1977", requestedPath);
    }

    @Test
    void anEmptyTagListIsAnUntaggedJob() {
        answer("{\"id\": 1977, \"tag_list\": []}");
        assertEquals(List.of(), client.jobTags(new JobKey(380, 1977)));
    }

    /**
     * GitLab names every tag with a non-blank string of at most 255 characters. An answer with
     * anything else in tag_list is not read as the job's tags: dropping the entry would route the
     * job, for good, as if it lacked that tag, and "null" is a tag no pool has.
     */
    @ParameterizedTest(name = "tag_list {0}")
    @ValueSource(strings = {"[\"docker\", null]", "[\"docker\", 5]", "[{}]", "[\"\"]", "[\" \"]", "\"docker\"", "{}"})
    void aTagListThatIsNotAListOfTagsMakesTheAnswerUnusable(String tagList) {
        answer("{\"id\": 1977, \"tag_list\": " + tagList + "}");
        GitLabUnavailableException e = assertThrows(GitLabUnavailableException.class,
                () -> client.jobTags(new JobKey(380, 1977)));
        assertTrue(e.getMessage().contains("tag_list"), e.getMessage());
        assertTrue(e.getMessage().contains("/api/v4/projects/380/jobs/1977"), e.getMessage());
    }

    @Test
    void anAnswerWithoutTagListIsUnusable() {
        answer("{\"message\": \"404 Not found\"}");
        assertThrows(GitLabUnavailableException.class, () -> client.jobTags(new JobKey(380, 1977)));
    }

    @Test
    void anOverlongTagMakesTheAnswerUnusable() {
        answer("{\"tag_list\": [\"" + "t".repeat(256) + "\"]}");
        assertThrows(GitLabUnavailableException.class, () -> client.jobTags(new JobKey(380, 1977)));
    }

    @Test
    void anOversizedAnswerIsUnusable() {
        answer("{\"tag_list\": [\"docker\"], \"log\": \"" + "x".repeat(5 * 1024 * 1024) + "\"}");
        GitLabUnavailableException e = assertThrows(GitLabUnavailableException.class,
                () -> client.jobTags(new JobKey(380, 1977)));
        assertTrue(e.getMessage().contains("bytes"), e.getMessage());
    }

    @Test
    void aNon200AnswerIsUnavailable() {
        status = 404;
        answer("{\"message\": \"404 Job Not Found\"}");
        GitLabUnavailableException e = assertThrows(GitLabUnavailableException.class,
                () -> client.jobTags(new JobKey(380, 1977)));
        assertTrue(e.getMessage().contains("404"), e.getMessage());
    }

    /** A server that sends its headers at once, then the body a byte a second: the webhook must not wait for it. */
    @Test
    void anAnswerThatDripsIsGivenUpOnInsteadOfHoldingTheWebhook() throws IOException {
        server.stop(0);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.createContext("/", exchange -> {
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody()) {
                for (byte b : "{\"tag_list\": [\"docker\"]}".getBytes(StandardCharsets.UTF_8)) {
                    out.write(b);
                    out.flush();
                    Thread.sleep(1_000);
                }
            } catch (IOException | InterruptedException clientGaveUp) {
                // expected: the client stops reading
            }
        });
        server.start();
        GitLabCredentials credentials = new GitLabCredentials(
                "http://127.0.0.1:" + server.getAddress().getPort(), "glpat-test");
        GitLabApiClient dripping = new GitLabApiClient(GitLabApiClient.defaultHttpClient(), () -> credentials,
                new ObjectMapper());

        GitLabUnavailableException e = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                java.time.Duration.ofSeconds(15),
                () -> assertThrows(GitLabUnavailableException.class, () -> dripping.jobTags(new JobKey(380, 1977))),
                "the 25-byte answer takes 25 s to arrive");
        assertTrue(e.getMessage().contains("not read within"), e.getMessage());
    }

    // ---- job(): the reconciler's read-back ----

    /** Trimmed from GitLab's documented answer of GET /projects/:id/jobs/:job_id. */
    static final String FINISHED_JOB = """
            {"id": 1977, "status": "success", "stage": "test", "name": "rspec", "ref": "main",
             "tag_list": ["docker", "linux"], "created_at": "2026-06-01T10:00:00.000Z",
             "started_at": "2026-06-01T10:02:30.500Z", "finished_at": "2026-06-01T10:12:30Z",
             "erased_at": null, "duration": 600.0, "queued_duration": 150.5, "failure_reason": null,
             "pipeline": {"id": 6, "project_id": 380, "ref": "main", "status": "success"},
             "runner": {"id": 32, "description": "i-0123456789abcdef0", "active": true, "is_shared": false},
             "user": {"id": 1, "name": "Administrator"}, "artifacts": []}
            """;

    @Test
    void aJobIsReadBackAsTheSameEventAHookGives() {
        answer(FINISHED_JOB);

        JobLookup.Found found = assertInstanceOf(JobLookup.Found.class, client.job(JOB));

        assertEquals("/api/v4/projects/380/jobs/1977", requestedPath);
        io.runnerscale.job.JobEvent e = found.event();
        assertEquals(JOB, e.key());
        assertEquals(io.runnerscale.job.JobStatus.SUCCESS, e.status());
        assertEquals(6L, e.pipelineId());
        assertEquals("rspec", e.name());
        assertEquals("test", e.stage());
        assertEquals(Instant.parse("2026-06-01T10:00:00Z"), e.createdAt());
        assertEquals(Instant.parse("2026-06-01T10:02:30.500Z"), e.startedAt());
        assertEquals(Instant.parse("2026-06-01T10:12:30Z"), e.finishedAt());
        assertEquals(150.5, e.queuedDurationSeconds());
        assertEquals(32L, e.runnerId());
        assertEquals("i-0123456789abcdef0", e.instanceId());
        assertNull(e.failureReason());
        assertEquals(List.of("docker", "linux"), e.tags());
    }

    @Test
    void aPendingJobHasNoRunnerAndNoTimesYet() {
        answer("{\"id\": 1977, \"status\": \"pending\", \"tag_list\": [], \"runner\": null, "
                + "\"started_at\": null, \"pipeline\": {\"id\": 6}}");
        io.runnerscale.job.JobEvent e = assertInstanceOf(JobLookup.Found.class, client.job(JOB)).event();
        assertEquals(io.runnerscale.job.JobStatus.PENDING, e.status());
        assertNull(e.runnerId());
        assertNull(e.startedAt());
        assertEquals(List.of(), e.tags(), "an untagged job: known to have no tags");
    }

    /** Unlike jobTags, an unreadable tag_list costs only the tags: the job's status is still worth having. */
    @Test
    void aTagListThatBreaksTheRuleMakesTheTagsUnknownNotTheJob() {
        answer("{\"id\": 1977, \"status\": \"running\", \"tag_list\": [\"docker\", null]}");
        io.runnerscale.job.JobEvent e = assertInstanceOf(JobLookup.Found.class, client.job(JOB)).event();
        assertEquals(io.runnerscale.job.JobStatus.RUNNING, e.status());
        assertNull(e.tags());
    }

    @Test
    void overlongTextIsCutAsTheWebhookCutsIt() {
        answer("{\"id\": 1977, \"status\": \"failed\", \"name\": \"" + "n".repeat(5_000)
                + "\", \"failure_reason\": \"script_failure\", \"created_at\": \"yesterday\"}");
        io.runnerscale.job.JobEvent e = assertInstanceOf(JobLookup.Found.class, client.job(JOB)).event();
        assertEquals(io.runnerscale.webhook.GitLabHookParser.MAX_TEXT_LENGTH, e.name().length());
        assertEquals("script_failure", e.failureReason());
        assertNull(e.createdAt(), "a timestamp that cannot be read is absent, not a failure");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"{\"id\": 1977}", "{\"id\": 1977, \"status\": \"exploded\"}",
            "{\"id\": 1977, \"status\": 5}", "{\"id\": 1978, \"status\": \"success\"}", "[]", "<html>ok</html>"})
    void anAnswerThatIsNotThisJobIsUnreadable(String body) {
        answer(body);
        assertInstanceOf(JobLookup.Unreadable.class, client.job(JOB));
    }

    @Test
    void aMissingJobIsGoneWithItsProjectThere() {
        status = 404;
        answer("{\"message\": \"404 Not found\"}");
        JobLookup.Gone gone = assertInstanceOf(JobLookup.Gone.class, client.job(JOB));
        assertEquals(JOB, gone.key());
        assertFalse(gone.projectMissing());
        assertEquals("404 Not found", gone.message());
    }

    @Test
    void aMissingProjectIsSaidApart() {
        status = 404;
        answer("{\"message\": \"404 Project Not Found\"}");
        JobLookup.Gone gone = assertInstanceOf(JobLookup.Gone.class, client.job(JOB));
        assertTrue(gone.projectMissing());
    }

    @Test
    void aRateLimitReportsRetryAfterInSecondsWithoutWaiting() {
        status = 429;
        retryAfterHeader = "42";
        answer("{\"message\": \"Retry later\"}");
        GitLabUnavailableException e = assertThrows(GitLabUnavailableException.class, () -> client.job(JOB));
        assertEquals(Optional.of(Duration.ofSeconds(42)), e.retryAfter());
        assertTrue(e.getMessage().contains("429"), e.getMessage());
    }

    @Test
    void aRateLimitReportsRetryAfterAsAnHttpDate() {
        status = 429;
        retryAfterHeader = "Mon, 01 Jun 2026 11:01:30 GMT";
        GitLabUnavailableException e = assertThrows(GitLabUnavailableException.class, () -> client.job(JOB));
        assertEquals(Optional.of(Duration.ofSeconds(90)), e.retryAfter());
    }

    @Test
    void aRateLimitWithoutRetryAfterSaysNoTime() {
        status = 429;
        GitLabUnavailableException e = assertThrows(GitLabUnavailableException.class, () -> client.job(JOB));
        assertEquals(Optional.empty(), e.retryAfter());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(ints = {500, 502, 503, 504, 408})
    void serverErrorsAreUnavailable(int code) {
        status = code;
        GitLabUnavailableException e = assertThrows(GitLabUnavailableException.class, () -> client.job(JOB));
        assertTrue(e.getMessage().contains(String.valueOf(code)), e.getMessage());
        assertEquals(Optional.empty(), e.retryAfter());
    }

    @Test
    void aRefusedTokenIsRejectedWithTheScopeItNeedsAndNeverQuoted() {
        status = 403;
        answer("{\"message\": \"403 Forbidden for glpat-test\"}");
        GitLabRejectedException e = assertThrows(GitLabRejectedException.class, () -> client.job(JOB));
        assertEquals(403, e.status());
        assertTrue(e.getMessage().contains("read_api"), e.getMessage());
        assertFalse(e.getMessage().contains("glpat-test"), e.getMessage());
    }

    @Test
    void anInvalidTokenIsRejected() {
        status = 401;
        answer("{\"message\": \"401 Unauthorized\"}");
        assertEquals(401, assertThrows(GitLabRejectedException.class, () -> client.job(JOB)).status());
    }

    @Test
    void theWebhooksTagLookupStillTakesA404ForUnavailable() {
        status = 404;
        answer("{\"message\": \"404 Not found\"}");
        assertThrows(GitLabUnavailableException.class, () -> client.jobTags(JOB));
    }
}
