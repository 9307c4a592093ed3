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
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link GitLabApiClient#jobTags} against a loopback HTTP server answering what a test sets. */
class GitLabApiClientTest {
    HttpServer server;
    volatile int status = 200;
    volatile byte[] answer = "{}".getBytes(StandardCharsets.UTF_8);
    volatile String requestedPath;
    GitLabApiClient client;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            requestedPath = exchange.getRequestURI().getPath();
            byte[] body = answer;
            exchange.getResponseHeaders().add("Content-Type", "application/json");
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
        client = new GitLabApiClient(GitLabApiClient.defaultHttpClient(), () -> credentials, new ObjectMapper());
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
}
