package io.runnerscale.webhook;

import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.store.InMemoryJobStore;
import io.runnerscale.webhook.WebhookAuthenticator.Mode;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Token, signature or both, through the webhook service: what each mode requires and what it refuses. */
class WebhookAuthenticationModesTest {
    static final Instant NOW = WebhookServiceTest.NOW;
    static final String SIGNING = WebhookSignaturesTest.SECRET;
    static final String BODY = WebhookServiceTest.jobHook(7, "pending", null).toString();

    final InMemoryJobStore store = new InMemoryJobStore();
    String signingSecrets = SIGNING;

    WebhookService service(Mode mode) {
        WebhookAuthenticator authenticator = new WebhookAuthenticator(mode, () -> WebhookServiceTest.SECRET,
                () -> signingSecrets, Clock.fixed(NOW, ZoneOffset.UTC));
        return new WebhookService(authenticator, PoolsConfigSource.fixed(WebhookServiceTest.POOLS), store,
                new PoolResolver(key -> java.util.List.of("docker"), store, 1000), (p, r, d) -> { },
                WebhookServiceTest.JSON, Clock.fixed(NOW, ZoneOffset.UTC));
    }

    static Map<String, String> headers(boolean token, boolean signed, String body, long timestamp) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("X-Gitlab-Event", "Job Hook");
        if (token) {
            headers.put("X-Gitlab-Token", WebhookServiceTest.SECRET);
        }
        if (signed) {
            headers.put("webhook-id", "msg_1");
            headers.put("webhook-timestamp", Long.toString(timestamp));
            headers.put("webhook-signature", WebhookSignatures.of(SIGNING).sign("msg_1", timestamp,
                    body.getBytes(StandardCharsets.UTF_8)));
        }
        return headers;
    }

    WebhookResponse deliver(Mode mode, Map<String, String> headers, String body) {
        return service(mode).handle(new WebhookRequest(headers, body, body.getBytes(StandardCharsets.UTF_8).length));
    }

    @Test
    void tokenModeNeedsTheTokenAndIgnoresSignatures() {
        assertEquals(200, deliver(Mode.TOKEN, headers(true, false, BODY, 0), BODY).status());
        assertEquals(401, deliver(Mode.TOKEN, headers(false, true, BODY, NOW.getEpochSecond()), BODY).status());
    }

    @Test
    void signatureModeNeedsAValidSignatureAndNoToken() {
        assertEquals(200, deliver(Mode.SIGNATURE, headers(false, true, BODY, NOW.getEpochSecond()), BODY).status());
        WebhookResponse unsigned = deliver(Mode.SIGNATURE, headers(true, false, BODY, 0), BODY);
        assertEquals(401, unsigned.status());
        assertTrue(unsigned.body().contains("webhook-signature are required"), unsigned.body());
        String tampered = BODY.replace("pending", "running");
        WebhookResponse forged = deliver(Mode.SIGNATURE, headers(false, true, BODY, NOW.getEpochSecond()), tampered);
        assertEquals(401, forged.status());
        assertTrue(forged.body().contains("no webhook-signature matches"), forged.body());
        WebhookResponse replayed = deliver(Mode.SIGNATURE, headers(false, true, BODY, NOW.getEpochSecond() - 3600), BODY);
        assertEquals(401, replayed.status());
        assertTrue(replayed.body().contains("more than 5 minutes old"), replayed.body());
        // the forged "running" was not stored: the job is still pending from the one valid delivery
        assertEquals(io.runnerscale.job.JobStatus.PENDING,
                store.find(new io.runnerscale.job.JobKey(42, 7)).orElseThrow().status());
    }

    @Test
    void bothModeNeedsBoth() {
        assertEquals(200, deliver(Mode.BOTH, headers(true, true, BODY, NOW.getEpochSecond()), BODY).status());
        assertEquals(401, deliver(Mode.BOTH, headers(false, true, BODY, NOW.getEpochSecond()), BODY).status());
        assertEquals(401, deliver(Mode.BOTH, headers(true, false, BODY, NOW.getEpochSecond()), BODY).status());
    }

    @Test
    void anUnusableSigningSecretIsA503ThatNamesNoSecret() {
        signingSecrets = "whsec_not*base64";
        WebhookResponse response = deliver(Mode.SIGNATURE, headers(false, true, BODY, NOW.getEpochSecond()), BODY);
        assertEquals(503, response.status());
        assertFalse(response.body().contains("not*base64"));
        assertTrue(store.find(new io.runnerscale.job.JobKey(42, 7)).isEmpty(), "nothing stored");
    }

    @Test
    void modesParseAndRefuseOthersByName() {
        assertEquals(Mode.TOKEN, Mode.parse(null));
        assertEquals(Mode.TOKEN, Mode.parse(" Token "));
        assertEquals(Mode.SIGNATURE, Mode.parse("signature"));
        assertEquals(Mode.BOTH, Mode.parse("BOTH"));
        assertEquals("webhook authentication must be token, signature or both",
                assertThrows(IllegalArgumentException.class, () -> Mode.parse("hmac")).getMessage());
    }

    @Test
    void theFunctionsEnvironmentChoosesTheModeAndNeedsASigningSecretForSignatures() {
        assertEquals(WebhookAuthenticator.Settings.TOKEN_ONLY, WebhookAuthenticator.Settings.from(Map.of()));
        assertEquals(new WebhookAuthenticator.Settings(Mode.BOTH, "arn:secret"),
                WebhookAuthenticator.Settings.from(Map.of("WEBHOOK_AUTH", "both", "WEBHOOK_SIGNING_SECRET_ID", "arn:secret")));
        IllegalStateException missing = assertThrows(IllegalStateException.class,
                () -> WebhookAuthenticator.Settings.from(Map.of("WEBHOOK_AUTH", "signature")));
        assertTrue(missing.getMessage().contains("WEBHOOK_SIGNING_SECRET_ID"), missing.getMessage());
        IllegalStateException bad = assertThrows(IllegalStateException.class,
                () -> WebhookAuthenticator.Settings.from(Map.of("WEBHOOK_AUTH", "hmac")));
        assertTrue(bad.getMessage().startsWith("environment variable WEBHOOK_AUTH"), bad.getMessage());
    }
}
