package io.runnerscale.webhook;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Whether a delivery comes from GitLab: its {@code X-Gitlab-Token}, its Standard Webhooks signature
 * ({@link WebhookSignatures}), or both, as configured ({@link Mode}). Tokens are compared in constant
 * time (both sides hashed first, so neither content nor length leaks through timing). No secret is
 * ever logged or echoed; a refusal names only the rule that failed.
 */
public final class WebhookAuthenticator {
    /** What a delivery must carry. */
    public enum Mode {
        /** {@code X-Gitlab-Token} (GitLab's "Secret token"); signature headers are not looked at. */
        TOKEN,
        /** A valid {@code webhook-signature} (GitLab's signing token); no token needed. */
        SIGNATURE,
        /** Both. */
        BOTH;

        public boolean token() {
            return this != SIGNATURE;
        }

        public boolean signature() {
            return this != TOKEN;
        }

        /** {@code token}, {@code signature} or {@code both}; anything else is refused naming the choices. */
        public static Mode parse(String value) {
            String name = value == null || value.isBlank() ? "token" : value.trim().toLowerCase(Locale.ROOT);
            return switch (name) {
                case "token" -> TOKEN;
                case "signature" -> SIGNATURE;
                case "both" -> BOTH;
                default -> throw new IllegalArgumentException("webhook authentication must be token, signature or both");
            };
        }
    }

    /**
     * The webhook function's choice, from its environment: {@code WEBHOOK_AUTH} (token, signature or
     * both; default token) and {@code WEBHOOK_SIGNING_SECRET_ID} (required unless token only).
     */
    public record Settings(Mode mode, String signingSecretId) {
        public static final Settings TOKEN_ONLY = new Settings(Mode.TOKEN, "");

        public static Settings from(java.util.Map<String, String> env) {
            Mode mode;
            try {
                mode = Mode.parse(env.get("WEBHOOK_AUTH"));
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("environment variable WEBHOOK_AUTH: " + e.getMessage());
            }
            String secretId = env.getOrDefault("WEBHOOK_SIGNING_SECRET_ID", "");
            if (mode.signature() && secretId.isBlank()) {
                throw new IllegalStateException("environment variable WEBHOOK_SIGNING_SECRET_ID is not set (WEBHOOK_AUTH "
                        + mode.name().toLowerCase(Locale.ROOT) + " checks signatures)");
            }
            return new Settings(mode, secretId);
        }
    }

    private final Mode mode;
    private final Supplier<String> secret;
    private final Supplier<String> signingSecrets;
    private final Clock clock;

    /** Token only. @param secret the webhook secret token, fetched (and cached) by the caller */
    public WebhookAuthenticator(Supplier<String> secret) {
        this(Mode.TOKEN, secret, () -> null, Clock.systemUTC());
    }

    /**
     * @param signingSecrets the signing secrets ({@code whsec_...}, space-separated: the current one and,
     *                       during a rotation, the previous one), fetched (and cached) by the caller
     */
    public WebhookAuthenticator(Mode mode, Supplier<String> secret, Supplier<String> signingSecrets, Clock clock) {
        this.mode = mode;
        this.secret = secret;
        this.signingSecrets = signingSecrets;
        this.clock = clock;
    }

    public Mode mode() {
        return mode;
    }

    /** The token check alone (true when the mode needs no token). */
    public boolean isAuthentic(String presentedToken) {
        if (!mode.token()) {
            return true;
        }
        String expected = secret.get();
        if (expected == null || expected.isEmpty()) {
            throw new IllegalStateException("the webhook secret is empty");
        }
        byte[] presented = sha256(presentedToken == null ? "" : presentedToken);
        boolean equal = MessageDigest.isEqual(presented, sha256(expected));
        return equal && presentedToken != null;
    }

    /**
     * The signature check, on the body as received: empty when valid (or when the mode needs none),
     * else what is wrong.
     *
     * @throws IllegalStateException when the signing secrets cannot be read or are not whsec_ secrets
     */
    public Optional<String> signatureProblem(WebhookRequest request) {
        if (!mode.signature()) {
            return Optional.empty();
        }
        WebhookSignatures signatures;
        try {
            signatures = WebhookSignatures.of(signingSecrets.get());
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("the webhook signing secret is unusable: " + e.getMessage());
        }
        WebhookSignatures.Check check = signatures.check(request.header("webhook-id"),
                request.header("webhook-timestamp"), request.header("webhook-signature"),
                request.body().getBytes(StandardCharsets.UTF_8), clock.instant());
        return check == WebhookSignatures.Check.VALID ? Optional.empty() : Optional.of(check.problem());
    }

    private static byte[] sha256(String value) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
