package io.runnerscale.webhook;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Standard Webhooks signatures (standardwebhooks.com), which GitLab sends as signing tokens: headers
 * {@code webhook-id}, {@code webhook-timestamp} (Unix seconds) and {@code webhook-signature}, a
 * space-separated list of {@code v1,<base64 HMAC-SHA256>} over {@code id.timestamp.body}, keyed with
 * the base64 bytes of a {@code whsec_} secret.
 *
 * <ul>
 *   <li>A delivery is authentic when any listed {@code v1} signature matches any configured secret:
 *       two secrets during a rotation, and a sender may list several signatures.</li>
 *   <li>Signatures are compared in constant time, each fully.</li>
 *   <li>The timestamp must be within {@link #TOLERANCE} of now, either way: an old delivery replayed,
 *       or one stamped in the future, is refused.</li>
 * </ul>
 * Secrets are never logged; a check answers only which rule failed.
 */
public final class WebhookSignatures {
    /** The specification's recommended tolerance. */
    public static final Duration TOLERANCE = Duration.ofMinutes(5);
    private static final String PREFIX = "whsec_";
    /** Longer headers are not signatures GitLab sends; bounded so a delivery cannot make us hash forever. */
    private static final int MAX_SIGNATURES = 10;

    /** Why a delivery's signature was or was not accepted. */
    public enum Check {
        VALID,
        MISSING("webhook-id, webhook-timestamp and webhook-signature are required"),
        BAD_TIMESTAMP("webhook-timestamp is not Unix seconds"),
        TOO_OLD("webhook-timestamp is more than 5 minutes old (a replay, or clocks apart)"),
        IN_FUTURE("webhook-timestamp is more than 5 minutes ahead"),
        NO_MATCH("no webhook-signature matches a signing secret");

        private final String problem;

        Check() {
            this(null);
        }

        Check(String problem) {
            this.problem = problem;
        }

        /** What is wrong, for the 401's message; null for {@link #VALID}. */
        public String problem() {
            return problem;
        }
    }

    private final List<byte[]> keys;

    /**
     * @param secrets the signing secrets ({@code whsec_<base64>}, or the base64 alone), one or two
     * @throws IllegalArgumentException naming the secret's position (never its value) when one is not base64
     */
    public WebhookSignatures(List<String> secrets) {
        List<byte[]> decoded = new ArrayList<>();
        for (int i = 0; i < secrets.size(); i++) {
            String secret = secrets.get(i).trim();
            if (secret.isEmpty()) {
                continue;
            }
            String base64 = secret.startsWith(PREFIX) ? secret.substring(PREFIX.length()) : secret;
            byte[] key;
            try {
                key = Base64.getDecoder().decode(base64);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("signing secret " + (i + 1) + " is not whsec_ followed by base64");
            }
            if (key.length == 0) {
                throw new IllegalArgumentException("signing secret " + (i + 1) + " is empty after whsec_");
            }
            decoded.add(key);
        }
        if (decoded.isEmpty()) {
            throw new IllegalArgumentException("no signing secret is configured");
        }
        this.keys = List.copyOf(decoded);
    }

    /** Splits a secret value holding one or more secrets (space- or newline-separated: the new one, then the old). */
    public static WebhookSignatures of(String secretValue) {
        return new WebhookSignatures(List.of(secretValue == null ? new String[0] : secretValue.trim().split("\\s+")));
    }

    public Check check(String id, String timestamp, String signatures, byte[] body, Instant now) {
        if (blank(id) || blank(timestamp) || blank(signatures)) {
            return Check.MISSING;
        }
        long seconds;
        try {
            seconds = Long.parseLong(timestamp.trim());
        } catch (NumberFormatException e) {
            return Check.BAD_TIMESTAMP;
        }
        Instant signedAt;
        try {
            signedAt = Instant.ofEpochSecond(seconds);
        } catch (java.time.DateTimeException e) {
            return Check.BAD_TIMESTAMP;
        }
        if (signedAt.isBefore(now.minus(TOLERANCE))) {
            return Check.TOO_OLD;
        }
        if (signedAt.isAfter(now.plus(TOLERANCE))) {
            return Check.IN_FUTURE;
        }
        byte[] signed = signedContent(id, timestamp.trim(), body);
        boolean match = false;
        String[] listed = signatures.trim().split(" +");
        for (int i = 0; i < Math.min(listed.length, MAX_SIGNATURES); i++) {
            String entry = listed[i];
            if (!entry.startsWith("v1,")) {
                continue;
            }
            byte[] presented;
            try {
                presented = Base64.getDecoder().decode(entry.substring(3));
            } catch (IllegalArgumentException e) {
                continue;
            }
            for (byte[] key : keys) {
                // every comparison runs: which key or signature matched does not show in the time taken
                match |= MessageDigest.isEqual(hmac(key, signed), presented);
            }
        }
        return match ? Check.VALID : Check.NO_MATCH;
    }

    /** The {@code v1,<base64>} signature of a delivery with the first secret (tests, and a local sender). */
    public String sign(String id, long timestamp, byte[] body) {
        return "v1," + Base64.getEncoder().encodeToString(hmac(keys.getFirst(),
                signedContent(id, Long.toString(timestamp), body)));
    }

    private static byte[] signedContent(String id, String timestamp, byte[] body) {
        byte[] prefix = (id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8);
        byte[] content = new byte[prefix.length + body.length];
        System.arraycopy(prefix, 0, content, 0, prefix.length);
        System.arraycopy(body, 0, content, prefix.length, body.length);
        return content;
    }

    private static byte[] hmac(byte[] key, byte[] content) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(content);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean blank(String value) {
        return value == null || value.isBlank();
    }
}
