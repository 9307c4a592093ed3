package io.runnerscale.cli;

import io.runnerscale.webhook.WebhookSignatures;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code serve --webhook-auth signature}: Standard Webhooks signatures checked on the body as received. */
class ServeSignedWebhookTest {
    static final String SIGNING = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    static final String BODY = """
            {"object_kind":"build","build_id":71,"project_id":42,"build_status":"pending","pipeline_id":9,
             "build_created_at":"2026-01-07 11:59:00 UTC","runner":null}""";

    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    ServeCommand.Running serve;

    @AfterEach
    void stop() throws Exception {
        if (serve != null) {
            serve.close();
        }
    }

    HttpResponse<String> post(Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + serve.port() + "/webhook"))
                .timeout(Duration.ofSeconds(10)).header("X-Gitlab-Event", "Job Hook")
                .POST(HttpRequest.BodyPublishers.ofString(BODY));
        headers.forEach(request::header);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aSignedDeliveryIsStoredAndAnUnsignedOrStaleOneRefused() throws Exception {
        serve = ServeCommand.start(List.of("--port", "0", "--webhook-auth", "signature", "--in-memory"),
                new PrintStream(new ByteArrayOutputStream()), Map.of("RUNNERSCALE_WEBHOOK_SIGNING_SECRET", SIGNING));
        long now = System.currentTimeMillis() / 1000;
        String signature = WebhookSignatures.of(SIGNING).sign("msg_71", now, BODY.getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> signed = post(Map.of("webhook-id", "msg_71", "webhook-timestamp", Long.toString(now),
                "webhook-signature", signature));
        assertEquals(200, signed.statusCode(), signed.body());
        HttpResponse<String> unsigned = post(Map.of());
        assertEquals(401, unsigned.statusCode());
        assertTrue(unsigned.body().contains("webhook-signature"), unsigned.body());
        String old = WebhookSignatures.of(SIGNING).sign("msg_71", now - 3600, BODY.getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> replay = post(Map.of("webhook-id", "msg_71", "webhook-timestamp", Long.toString(now - 3600),
                "webhook-signature", old));
        assertEquals(401, replay.statusCode());
        assertTrue(replay.body().contains("5 minutes old"), replay.body());
    }

    @Test
    void signatureModeWithoutASigningSecretIsAUsageError() {
        Args.UsageException e = assertThrows(Args.UsageException.class, () -> ServeCommand.start(
                List.of("--port", "0", "--webhook-auth", "both", "--in-memory"),
                new PrintStream(new ByteArrayOutputStream()), Map.of()));
        assertTrue(e.getMessage().contains("RUNNERSCALE_WEBHOOK_SIGNING_SECRET"), e.getMessage());
        Args.UsageException bad = assertThrows(Args.UsageException.class, () -> ServeCommand.start(
                List.of("--port", "0", "--webhook-auth", "hmac", "--in-memory"),
                new PrintStream(new ByteArrayOutputStream()), Map.of()));
        assertTrue(bad.getMessage().startsWith("--webhook-auth"), bad.getMessage());
    }
}
