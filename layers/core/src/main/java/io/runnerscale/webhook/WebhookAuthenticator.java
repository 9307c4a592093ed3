package io.runnerscale.webhook;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.function.Supplier;

/**
 * Checks {@code X-Gitlab-Token} against the configured secret in constant time: both sides are
 * hashed first, so neither content nor length leaks through timing. The secret is never logged.
 */
public final class WebhookAuthenticator {
    private final Supplier<String> secret;

    /** @param secret the webhook secret token, fetched (and cached) by the caller */
    public WebhookAuthenticator(Supplier<String> secret) {
        this.secret = secret;
    }

    public boolean isAuthentic(String presentedToken) {
        String expected = secret.get();
        if (expected == null || expected.isEmpty()) {
            throw new IllegalStateException("the webhook secret is empty");
        }
        byte[] presented = sha256(presentedToken == null ? "" : presentedToken);
        boolean equal = MessageDigest.isEqual(presented, sha256(expected));
        return equal && presentedToken != null;
    }

    private static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
