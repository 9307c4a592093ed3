package io.runnerscale.webhook;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The id under which a delivery is claimed, so that a resend is recognised as a duplicate.
 *
 * <p>{@code Idempotency-Key} is stable across resends (GitLab 17.4+); older GitLab gets the
 * {@code X-Gitlab-Event-UUID} plus a hash of the body. Both headers are whatever the sender wrote,
 * and the id becomes a DynamoDB key (at most 2 KB) and appears in logs and responses, so it is
 * bounded: a key of at most {@link #MAX_KEPT_LENGTH} characters from {@code [A-Za-z0-9._:-]} (a
 * UUID, GitLab's own form) is kept as it is; anything else is replaced by {@code "sha256:"} and the
 * hex SHA-256 of its UTF-8 bytes. Keys starting with {@code "sha256:"} are hashed too, so a kept
 * key never equals a hashed one: distinct keys give distinct ids, and the same key always the same.
 */
public final class DeliveryKeys {
    /** Longest header value kept as it is. */
    public static final int MAX_KEPT_LENGTH = 128;
    /** Longest delivery id: a kept event UUID, ':' and the body's 64-digit hash. */
    public static final int MAX_ID_LENGTH = MAX_KEPT_LENGTH + 1 + 64;

    private static final Pattern KEPT = Pattern.compile("[A-Za-z0-9._:-]{1," + MAX_KEPT_LENGTH + "}");
    private static final String HASHED = "sha256:";

    private DeliveryKeys() {
    }

    /**
     * @param idempotencyKey the {@code Idempotency-Key} header, or null
     * @param eventUuid      the {@code X-Gitlab-Event-UUID} header, or null
     * @param body           the delivery's body
     * @return the delivery's id, at most {@link #MAX_ID_LENGTH} characters of {@code [A-Za-z0-9._:-]};
     *         null when neither header is set (the delivery cannot be told from a resend)
     */
    public static String deliveryId(String idempotencyKey, String eventUuid, String body) {
        if (idempotencyKey != null && !idempotencyKey.isBlank()) {
            return bounded(idempotencyKey);
        }
        if (eventUuid != null && !eventUuid.isBlank()) {
            return bounded(eventUuid) + ":" + sha256Hex(body == null ? "" : body);
        }
        return null;
    }

    /** The header value trimmed, when it is short and plain; otherwise {@code sha256:} and its hash. */
    public static String bounded(String key) {
        String trimmed = key.trim();
        if (KEPT.matcher(trimmed).matches() && !trimmed.startsWith(HASHED)) {
            return trimmed;
        }
        return HASHED + sha256Hex(trimmed);
    }

    /** Hex SHA-256 of the text's UTF-8 bytes: how delivery ids and the names derived from them are bounded. */
    public static String sha256Hex(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
