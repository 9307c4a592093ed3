package io.runnerscale.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code serve}'s HTTP server fed what a hostile or broken client sends, over raw sockets so the
 * test controls every byte and sees what the server does before the request is complete.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(60)
class LocalServerHostileInputTest {
    private static final String TOKEN = "s3cret-hook-token";
    private static final int READ_TIMEOUT_MS = 5_000;

    private final ObjectMapper json = new ObjectMapper();
    private ServeCommand.Running serve;

    @BeforeAll
    void start() throws Exception {
        serve = ServeCommand.start(List.of("--port", "0", "--webhook-token", TOKEN, "--boot", "1s", "--tick", "1s",
                "--in-memory"), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    }

    @AfterAll
    void stop() {
        if (serve != null) {
            serve.close();
        }
    }

    /** Status, lower-cased headers and body of one HTTP/1.1 answer. */
    private record Answer(int status, Map<String, String> headers, String body) {
    }

    private Socket connect() throws IOException {
        Socket socket = new Socket("127.0.0.1", serve.port());
        socket.setSoTimeout(READ_TIMEOUT_MS);
        return socket;
    }

    private static void write(Socket socket, String text) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /** Reads one answer; a read timeout (the server is still waiting for something) fails the test. */
    private static Answer read(Socket socket) throws IOException {
        Answer head = readHead(socket);
        int length = Integer.parseInt(head.headers().getOrDefault("content-length", "0"));
        String body = new String(socket.getInputStream().readNBytes(length), StandardCharsets.UTF_8);
        return new Answer(head.status(), head.headers(), body);
    }

    /** Status line and headers, up to the blank line; the body is left unread. */
    private static Answer readHead(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed after " + head.size() + " bytes: " + head);
            }
            head.write(b);
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
        return new Answer(status, headers, "");
    }

    private Answer exchange(String request) throws IOException {
        try (Socket socket = connect()) {
            write(socket, request);
            return read(socket);
        }
    }

    private Answer get(String path) throws IOException {
        return exchange("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    }

    private String error(Answer answer) throws IOException {
        return json.readTree(answer.body()).get("error").asText();
    }

    // -- defect: the body was read (all of it) before the token was checked ----------------------

    @Test
    void wrongTokenIsAnswered401BeforeTheBodyIsSentAndTheConnectionIsDropped() throws Exception {
        long declared = 10L * 1024 * 1024;
        try (Socket socket = connect()) {
            socket.setSendBufferSize(64 * 1024);
            write(socket, "POST /webhook HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "X-Gitlab-Event: Job Hook\r\nX-Gitlab-Token: guess\r\nContent-Length: " + declared + "\r\n\r\n");
            // not one byte of the body sent yet: today's server waits for all 10 MB and this read times out
            Answer answer = read(socket);
            assertEquals(401, answer.status(), answer.toString());
            assertEquals("close", answer.headers().get("connection"), answer.toString());

            // the server stops reading after a bounded amount: the 10 MB cannot all be sent
            long sent = 0;
            byte[] chunk = new byte[64 * 1024];
            try {
                while (sent < declared) {
                    socket.getOutputStream().write(chunk);
                    sent += chunk.length;
                }
            } catch (SocketException dropped) {
                // expected: the server closed the connection
            }
            assertTrue(sent < declared, "the server accepted the whole " + declared + "-byte body of a rejected request");
        }
    }

    @Test
    void declaredBodyOverTheLimitIsAnswered413BeforeItIsSent() throws Exception {
        try (Socket socket = connect()) {
            write(socket, "POST /webhook HTTP/1.1\r\nHost: localhost\r\nX-Gitlab-Event: Job Hook\r\nX-Gitlab-Token: "
                    + TOKEN + "\r\nContent-Length: " + (2 * 1024 * 1024) + "\r\n\r\n");
            Answer answer = read(socket);
            assertEquals(413, answer.status(), answer.toString());
            assertTrue(error(answer).contains("limit is 1048576"), answer.body());
        }
    }

    // -- defect: a known path with the wrong method was 404 or 405 without Allow -----------------

    @Test
    void wrongMethodOnAKnownPathIs405WithAllow() throws Exception {
        Answer getWebhook = get("/webhook");
        assertEquals(405, getWebhook.status());
        assertEquals("POST", getWebhook.headers().get("allow"), getWebhook.toString());

        Answer postStatus = exchange("POST /status HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n"
                + "Connection: close\r\n\r\n{}");
        assertEquals(405, postStatus.status(), postStatus.toString());
        assertEquals("GET, HEAD", postStatus.headers().get("allow"), postStatus.toString());

        Answer deleteJob = exchange("DELETE /jobs/380/1977 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        assertEquals(405, deleteJob.status(), deleteJob.toString());
        assertEquals("GET, HEAD", deleteJob.headers().get("allow"), deleteJob.toString());

        Answer unknown = get("/nope");
        assertEquals(404, unknown.status());
        assertTrue(error(unknown).contains("no such endpoint"), unknown.body());
    }

    // -- defect: an oversized header got a connection reset or was served ------------------------

    @Test
    void headerOf100KilobytesIsAnswered431() throws Exception {
        Answer answer = exchange("GET /status HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + "a".repeat(100_000)
                + "\r\nConnection: close\r\n\r\n");
        assertEquals(431, answer.status(), answer.toString());
        assertTrue(error(answer).contains("the limit is 32768"), answer.body());
        assertTrue(answer.body().length() < 300, "the header is not echoed: " + answer.body().length() + " chars");
    }

    @Test
    void manyHeadersAddingUpOverTheLimitAreAnswered431() throws Exception {
        StringBuilder request = new StringBuilder("GET /status HTTP/1.1\r\nHost: localhost\r\n");
        for (int i = 0; i < 150; i++) {
            request.append("X-Padding-").append(i).append(": ").append("b".repeat(400)).append("\r\n");
        }
        Answer answer = exchange(request.append("Connection: close\r\n\r\n").toString());
        assertEquals(431, answer.status(), answer.toString());
    }

    /**
     * Documents the JDK's own bound (380 KiB on JDK 25), above which no handler runs: the connection
     * is dropped without an answer. If a JDK starts answering here, LocalServer's Javadoc needs updating.
     */
    @Test
    void headerOverTheJdkBoundIsDroppedByTheJdkWithoutAnAnswer() throws Exception {
        try (Socket socket = connect()) {
            try {
                write(socket, "GET /status HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + "a".repeat(500_000)
                        + "\r\nConnection: close\r\n\r\n");
            } catch (SocketException dropped) {
                return; // dropped while the header was still being sent
            }
            try {
                int first = socket.getInputStream().read();
                assertEquals(-1, first, "the JDK answered a 500 KB header; LocalServer's Javadoc says it does not");
            } catch (SocketException reset) {
                // dropped: a reset because the unread header was still in the server's buffer
            }
        }
    }

    @Test
    void ordinaryHeadersAreServed() throws Exception {
        Answer answer = exchange("GET /status HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + "a".repeat(8_000)
                + "\r\nConnection: close\r\n\r\n");
        assertEquals(200, answer.status(), answer.toString());
    }

    // -- siblings: ids GitLab cannot issue were a 500 or "no such endpoint" -----------------------

    @Test
    void idsGitLabCannotIssueAre400NamingTheId() throws Exception {
        for (String path : List.of("/jobs/0/1", "/jobs/380/0", "/jobs/99999999999999999999/1", "/jobs/380/abc",
                "/jobs/-1/5")) {
            Answer answer = get(path);
            assertEquals(400, answer.status(), path + ": " + answer);
            String message = error(answer);
            String which = path.startsWith("/jobs/380/") ? "jobId" : "projectId";
            assertTrue(message.startsWith(which), path + ": " + message);
            assertTrue(message.contains("from 1 to 9223372036854775807"), path + ": " + message);
        }
        assertEquals(404, get("/jobs/9223372036854775807/9223372036854775807").status(), "the largest ids are valid");
    }

    @Test
    void notFoundAnswerAbbreviatesTheRequestedPath() throws Exception {
        Answer answer = get("/" + "x".repeat(5_000));
        assertEquals(404, answer.status());
        assertTrue(answer.body().length() < 400, "path echoed in full: " + answer.body().length() + " chars");
    }

    @Test
    void headIsServedWhereGetIsWithoutABody() throws Exception {
        try (Socket socket = connect()) {
            write(socket, "HEAD /status HTTP/1.1\r\nHost: localhost\r\n\r\n");
            Answer head = readHead(socket); // a HEAD answer has no body, whatever its headers say
            assertEquals(200, head.status(), head.toString());
            assertEquals("application/json", head.headers().get("content-type"));
            // the connection is usable for the next request: no body bytes were left on it
            write(socket, "GET /status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            Answer next = read(socket);
            assertEquals(200, next.status(), next.toString());
            JsonNode pools = json.readTree(next.body()).get("pools");
            assertTrue(pools.isArray(), next.body());
        }
    }

    // -- defect: a request trickled byte by byte held its connection (and a file descriptor) forever --

    private static final int REQUEST_LIMIT_SECONDS = io.runnerscale.local.LocalServer.MAX_REQUEST_SECONDS;

    /** Seconds until the server closed the connection; fails when it is still open well after the limit. */
    private static double secondsUntilClosed(Socket socket) throws IOException {
        long start = System.nanoTime();
        socket.setSoTimeout((REQUEST_LIMIT_SECONDS + 5) * 1000);
        try {
            int next = socket.getInputStream().read();
            assertEquals(-1, next, "the server answered instead of dropping the connection");
        } catch (SocketTimeoutException stillOpen) {
            throw new AssertionError("the connection is still open " + (REQUEST_LIMIT_SECONDS + 5)
                    + " s after the request began", stillOpen);
        } catch (SocketException reset) {
            // dropped with a reset: closed as well
        }
        return (System.nanoTime() - start) / 1e9;
    }

    @Test
    void headersThatNeverEndAreDroppedAfterTheRequestTimeLimit() throws Exception {
        try (Socket socket = connect()) {
            write(socket, "POST /webhook HTTP/1.1\r\nHost: localhost\r\nX-Gitlab-Token: " + TOKEN + "\r\n");
            double seconds = secondsUntilClosed(socket);
            assertTrue(seconds >= REQUEST_LIMIT_SECONDS - 2, "dropped too early, after " + seconds + " s");
        }
        assertEquals(200, get("/status").status(), "the server still serves others");
    }

    @Test
    void aBodyTrickledPastTheRequestTimeLimitIsDropped() throws Exception {
        try (Socket socket = connect()) {
            write(socket, "POST /webhook HTTP/1.1\r\nHost: localhost\r\nX-Gitlab-Token: " + TOKEN
                    + "\r\nX-Gitlab-Event: Job Hook\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{");
            secondsUntilClosed(socket);
        }
    }
}
