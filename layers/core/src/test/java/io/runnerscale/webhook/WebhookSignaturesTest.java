package io.runnerscale.webhook;

import io.runnerscale.webhook.WebhookSignatures.Check;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Standard Webhooks signatures. The vector is the specification's own (its reference libraries test
 * against it, github.com/standard-webhooks/standard-webhooks): this secret, id, timestamp and body
 * sign to exactly this signature.
 */
class WebhookSignaturesTest {
    static final String SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    static final String ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    static final String TIMESTAMP = "1614265330";
    static final byte[] BODY = "{\"test\": 2432232314}".getBytes(StandardCharsets.UTF_8);
    static final String SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    static final Instant SIGNED_AT = Instant.ofEpochSecond(1614265330);
    /** Another valid secret (32 bytes, base64). */
    static final String OTHER = "whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA==";

    static Check check(String secrets, String id, String timestamp, String signature, byte[] body, Instant now) {
        return WebhookSignatures.of(secrets).check(id, timestamp, signature, body, now);
    }

    @Test
    void theSpecificationsVectorSignsAndVerifies() {
        assertEquals(SIGNATURE, WebhookSignatures.of(SECRET).sign(ID, 1614265330, BODY));
        assertEquals(Check.VALID, check(SECRET, ID, TIMESTAMP, SIGNATURE, BODY, SIGNED_AT));
        // the secret without its whsec_ prefix, as some tools show it
        assertEquals(Check.VALID, check("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", ID, TIMESTAMP, SIGNATURE, BODY, SIGNED_AT));
    }

    @Test
    void aTamperedBodyIdOrTimestampFails() {
        byte[] tampered = "{\"test\": 2432232315}".getBytes(StandardCharsets.UTF_8);
        assertEquals(Check.NO_MATCH, check(SECRET, ID, TIMESTAMP, SIGNATURE, tampered, SIGNED_AT));
        assertEquals(Check.NO_MATCH, check(SECRET, ID + "x", TIMESTAMP, SIGNATURE, BODY, SIGNED_AT));
        assertEquals(Check.NO_MATCH, check(SECRET, ID, "1614265331", SIGNATURE, BODY, SIGNED_AT));
    }

    @Test
    void timestampsOutsideFiveMinutesAreRefusedEitherWay() {
        assertEquals(Check.VALID, check(SECRET, ID, TIMESTAMP, SIGNATURE, BODY, SIGNED_AT.plusSeconds(300)));
        assertEquals(Check.TOO_OLD, check(SECRET, ID, TIMESTAMP, SIGNATURE, BODY, SIGNED_AT.plusSeconds(301)));
        assertEquals(Check.VALID, check(SECRET, ID, TIMESTAMP, SIGNATURE, BODY, SIGNED_AT.minusSeconds(300)));
        assertEquals(Check.IN_FUTURE, check(SECRET, ID, TIMESTAMP, SIGNATURE, BODY, SIGNED_AT.minusSeconds(301)));
        assertEquals(Check.BAD_TIMESTAMP, check(SECRET, ID, "2021-02-25T15:02:10Z", SIGNATURE, BODY, SIGNED_AT));
        assertEquals(Check.BAD_TIMESTAMP, check(SECRET, ID, "99999999999999999999", SIGNATURE, BODY, SIGNED_AT));
        assertEquals(Check.BAD_TIMESTAMP, check(SECRET, ID, "9223372036854775807", SIGNATURE, BODY, SIGNED_AT));
    }

    @Test
    void aWrongSecretFails() {
        assertEquals(Check.NO_MATCH, check(OTHER, ID, TIMESTAMP, SIGNATURE, BODY, SIGNED_AT));
    }

    @Test
    void duringARotationEitherSecretIsAccepted() {
        assertEquals(Check.VALID, check(OTHER + " " + SECRET, ID, TIMESTAMP, SIGNATURE, BODY, SIGNED_AT));
        assertEquals(Check.VALID, check(SECRET + "\n" + OTHER, ID, TIMESTAMP, SIGNATURE, BODY, SIGNED_AT));
        String signedWithOther = WebhookSignatures.of(OTHER).sign(ID, 1614265330, BODY);
        assertEquals(Check.VALID, check(SECRET + " " + OTHER, ID, TIMESTAMP, signedWithOther, BODY, SIGNED_AT));
    }

    @Test
    void anyOfSeveralSignaturesInTheHeaderMayMatch() {
        String other = WebhookSignatures.of(OTHER).sign(ID, 1614265330, BODY);
        assertEquals(Check.VALID, check(SECRET, ID, TIMESTAMP, other + " " + SIGNATURE, BODY, SIGNED_AT));
        assertEquals(Check.VALID, check(SECRET, ID, TIMESTAMP, "v2,abc " + SIGNATURE, BODY, SIGNED_AT));
        assertEquals(Check.NO_MATCH, check(SECRET, ID, TIMESTAMP, "v1,not*base64 v1,", BODY, SIGNED_AT));
        // a signature under another scheme name is not a v1 signature
        assertEquals(Check.NO_MATCH, check(SECRET, ID, TIMESTAMP, SIGNATURE.replace("v1,", "v1a,"), BODY, SIGNED_AT));
    }

    @Test
    void missingHeadersAreNamed() {
        assertEquals(Check.MISSING, check(SECRET, null, TIMESTAMP, SIGNATURE, BODY, SIGNED_AT));
        assertEquals(Check.MISSING, check(SECRET, ID, " ", SIGNATURE, BODY, SIGNED_AT));
        assertEquals(Check.MISSING, check(SECRET, ID, TIMESTAMP, null, BODY, SIGNED_AT));
        assertTrue(Check.MISSING.problem().contains("webhook-signature"));
    }

    @Test
    void badSecretsAreRefusedWithoutEchoingThem() {
        IllegalArgumentException notBase64 = assertThrows(IllegalArgumentException.class,
                () -> new WebhookSignatures(List.of(SECRET, "whsec_not*base64")));
        assertEquals("signing secret 2 is not whsec_ followed by base64", notBase64.getMessage());
        assertFalse(notBase64.getMessage().contains("not*base64"));
        assertThrows(IllegalArgumentException.class, () -> WebhookSignatures.of("whsec_"));
        assertEquals("no signing secret is configured",
                assertThrows(IllegalArgumentException.class, () -> WebhookSignatures.of("  ")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> WebhookSignatures.of(null));
    }
}
