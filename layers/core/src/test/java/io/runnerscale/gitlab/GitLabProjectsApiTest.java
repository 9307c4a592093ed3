package io.runnerscale.gitlab;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link GitLabApiClient} as {@link GitLabProjects}: the URLs it asks, how it reads GitLab's lists,
 * pages and errors, and how a reserving client holds back on GitLab's {@code RateLimit-*} headers.
 * Against a loopback HTTP server answering what a test sets per path and query.
 */
class GitLabProjectsApiTest {
    static final Instant NOW = Instant.parse("2026-06-01T11:00:00Z");

    record Answer(int status, String body, Map<String, String> headers) {
    }

    HttpServer server;
    final Map<String, Answer> answers = new ConcurrentHashMap<>();
    final List<String> requests = new CopyOnWriteArrayList<>();
    final MutableClock clock = new MutableClock(NOW);
    GitLabApiClient client;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String request = exchange.getRequestURI().getRawPath() + "?" + exchange.getRequestURI().getRawQuery();
            requests.add(request);
            Answer answer = answers.getOrDefault(request, new Answer(404, "{\"message\":\"404 Not found\"}", Map.of()));
            byte[] body = answer.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            answer.headers().forEach((name, value) -> exchange.getResponseHeaders().add(name, value));
            exchange.sendResponseHeaders(answer.status(), body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        GitLabCredentials credentials = new GitLabCredentials(
                "http://127.0.0.1:" + server.getAddress().getPort(), "glpat-secret-token");
        client = new GitLabApiClient(GitLabApiClient.defaultHttpClient(), () -> credentials, new ObjectMapper(), clock);
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    static String pendingPath(long project, int page) {
        return "/api/v4/projects/" + project + "/jobs?scope%5B%5D=pending&scope%5B%5D=running&per_page=100&page=" + page;
    }

    @Test
    void liveJobsAreReadAsHookEventsPageByPage() {
        answers.put(pendingPath(7, 1), new Answer(200, """
                [{"id": 11, "status": "pending", "name": "rspec", "stage": "test", "tag_list": ["docker"],
                  "pipeline": {"id": 5, "project_id": 7}, "created_at": "2026-06-01T10:58:00.000Z"},
                 {"id": 12, "status": "pending", "tag_list": [""]},
                 {"id": 13, "status": "success", "tag_list": []},
                 {"id": 14, "status": "running", "tag_list": [], "runner": {"id": 5, "description": "i-0abc"}},
                 {"id": "x"}, {"status": "pending"}, 42]
                """, Map.of("X-Next-Page", "2")));
        answers.put(pendingPath(7, 2), new Answer(200, "[]", Map.of("X-Next-Page", "")));

        GitLabProjects.Page<JobEvent> first = client.liveJobs(7, 1);

        assertEquals(List.of(11L, 12L, 14L), first.items().stream().map(e -> e.key().jobId()).toList(),
                "a finished job and entries without an id are left out");
        assertEquals(JobStatus.RUNNING, first.items().get(2).status());
        assertEquals("i-0abc", first.items().get(2).runnerDescription());
        JobEvent job = first.items().getFirst();
        assertEquals(new JobKey(7, 11), job.key());
        assertEquals(JobStatus.PENDING, job.status());
        assertEquals(List.of("docker"), job.tags());
        assertEquals(5L, job.pipelineId());
        assertEquals(Instant.parse("2026-06-01T10:58:00Z"), job.createdAt());
        assertNull(first.items().get(1).tags(), "a tag_list breaking the rule leaves the tags unknown");
        assertEquals(2, first.nextPage());
        assertNull(client.liveJobs(7, 2).nextPage(), "an empty X-Next-Page is the last page");
        assertEquals(List.of(pendingPath(7, 1), pendingPath(7, 2)), requests);
    }

    @Test
    void aGroupsProjectsAreAskedByItsEncodedPathWithSubgroups() {
        String path = "/api/v4/groups/my-org%2Fci/projects?include_subgroups=true&archived=false&simple=true"
                + "&per_page=100&page=1";
        answers.put(path, new Answer(200, "[{\"id\": 30}, {\"id\": 31}, {\"id\": -1}, {}]", Map.of("X-Next-Page", "2")));

        GitLabProjects.Page<Long> page = client.groupProjects("my-org/ci", 1);

        assertEquals(List.of(30L, 31L), page.items());
        assertEquals(2, page.nextPage());
    }

    @Test
    void hooksCarryTheirAlertStatus() {
        answers.put("/api/v4/projects/7/hooks?per_page=100", new Answer(200, """
                [{"id": 1, "url": "https://abc.example/webhook", "job_events": true,
                  "alert_status": "temporarily_disabled", "disabled_until": "2026-06-01T11:10:00.000Z"},
                 {"id": 2, "url": "https://other.example", "job_events": false, "alert_status": "executable"},
                 {"id": 3, "url": "https://old.example"},
                 {"id": 4}]
                """, Map.of()));

        List<ProjectHook> hooks = client.hooks(7);

        assertEquals(List.of(
                new ProjectHook(1, "https://abc.example/webhook", true, "temporarily_disabled",
                        Instant.parse("2026-06-01T11:10:00Z")),
                new ProjectHook(2, "https://other.example", false, "executable", null),
                new ProjectHook(3, "https://old.example", false, null, null)), hooks);
        assertTrue(hooks.getFirst().disabled());
        assertFalse(hooks.get(1).disabled());
        assertFalse(hooks.get(2).disabled(), "a GitLab too old to say is taken as delivering");
        assertTrue(new ProjectHook(5, "u", true, "disabled", null).disabled());
    }

    @Test
    void refusalsNameWhatTheTokenNeedsAndNeverQuoteIt() {
        answers.put("/api/v4/projects/7/hooks?per_page=100",
                new Answer(403, "{\"message\":\"403 Forbidden glpat-secret-token\"}", Map.of()));
        GitLabRejectedException forbidden = assertThrows(GitLabRejectedException.class, () -> client.hooks(7));
        assertEquals(403, forbidden.status());
        assertTrue(forbidden.getMessage().contains("Maintainer role"), forbidden.getMessage());
        assertFalse(forbidden.getMessage().contains("glpat-secret-token"), forbidden.getMessage());

        GitLabRejectedException missing = assertThrows(GitLabRejectedException.class, () -> client.liveJobs(8, 1));
        assertEquals(404, missing.status());

        answers.put(pendingPath(9, 1), new Answer(401, "{\"message\":\"401 Unauthorized\"}", Map.of()));
        GitLabRejectedException token = assertThrows(GitLabRejectedException.class, () -> client.liveJobs(9, 1));
        assertTrue(token.getMessage().contains("invalid, expired or revoked"), token.getMessage());
    }

    @Test
    void a429And5xxAreUnavailableAndAnAnswerThatIsNoListToo() {
        answers.put(pendingPath(7, 1), new Answer(429, "{}", Map.of("Retry-After", "30")));
        GitLabUnavailableException limited = assertThrows(GitLabUnavailableException.class,
                () -> client.liveJobs(7, 1));
        assertEquals(Duration.ofSeconds(30), limited.retryAfter().orElseThrow());

        answers.put(pendingPath(7, 1), new Answer(502, "<html>", Map.of()));
        GitLabUnavailableException down = assertThrows(GitLabUnavailableException.class, () -> client.liveJobs(7, 1));
        assertTrue(down.retryAfter().isEmpty());

        answers.put(pendingPath(7, 1), new Answer(200, "{\"message\":\"maintenance\"}", Map.of()));
        assertThrows(GitLabUnavailableException.class, () -> client.liveJobs(7, 1));
    }

    @Test
    void aReservingClientHoldsBackUntilTheResetOnceGitLabsRemainingIsWithinItsReserve() {
        GitLabApiClient reserving = client.reservingRateLimit(0.2);
        long reset = NOW.plusSeconds(40).getEpochSecond();
        answers.put(pendingPath(7, 1), new Answer(200, "[]", Map.of("RateLimit-Limit", "100",
                "RateLimit-Remaining", "21", "RateLimit-Reset", Long.toString(reset))));
        answers.put(pendingPath(7, 2), new Answer(200, "[]", Map.of("RateLimit-Limit", "100",
                "RateLimit-Remaining", "20", "RateLimit-Reset", Long.toString(reset))));

        reserving.liveJobs(7, 1);
        reserving.liveJobs(7, 2);
        GitLabUnavailableException held = assertThrows(GitLabUnavailableException.class,
                () -> reserving.liveJobs(7, 1));
        assertEquals(Duration.ofSeconds(40), held.retryAfter().orElseThrow());
        assertTrue(held.getMessage().contains("holding back"), held.getMessage());
        assertEquals(2, requests.size(), "no request while holding back");

        clock.advance(Duration.ofSeconds(40));
        reserving.liveJobs(7, 1);
        assertEquals(3, requests.size(), "asks again once the reset has passed");

        client.liveJobs(7, 2);
        client.liveJobs(7, 2);
        assertEquals(5, requests.size(), "a client without a reserve (the webhook's) never holds back");
        assertThrows(IllegalArgumentException.class, () -> client.reservingRateLimit(1));
        assertThrows(IllegalArgumentException.class, () -> client.reservingRateLimit(-0.1));
    }

    @Test
    void withoutAResetTheHoldIsAMinuteAndNeverMoreThanAnHour() {
        GitLabApiClient reserving = client.reservingRateLimit(0.5);
        answers.put(pendingPath(7, 1), new Answer(200, "[]", Map.of("RateLimit-Limit", "10",
                "RateLimit-Remaining", "1")));
        reserving.liveJobs(7, 1);
        assertEquals(Duration.ofSeconds(60), assertThrows(GitLabUnavailableException.class,
                () -> reserving.liveJobs(7, 1)).retryAfter().orElseThrow());

        clock.advance(Duration.ofSeconds(60));
        answers.put(pendingPath(7, 1), new Answer(200, "[]", Map.of("RateLimit-Limit", "10",
                "RateLimit-Remaining", "0", "RateLimit-Reset", Long.toString(NOW.plusSeconds(86_400).getEpochSecond()))));
        reserving.liveJobs(7, 1);
        assertEquals(Duration.ofHours(1), assertThrows(GitLabUnavailableException.class,
                () -> reserving.liveJobs(7, 1)).retryAfter().orElseThrow());
    }
}
