package io.runnerscale.gitlab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/** What the GitLab API clients share: reading an answer with a bound and a deadline. */
final class GitLabHttp {
    /** Reads answers off the caller's thread, so a slow one can be abandoned; virtual: one per read is cheap. */
    private static final Executor READER = Executors.newVirtualThreadPerTaskExecutor();

    /** A wait longer than this is not waited for: the caller's own backoff or schedule takes over. */
    static final Duration MAX_RETRY_AFTER = Duration.ofHours(1);
    static final Pattern DIGITS = Pattern.compile("[0-9]{1,9}");

    private GitLabHttp() {
    }

    /**
     * {@code Retry-After} as GitLab (RFC 9110) writes it: whole seconds or an HTTP date (read against
     * {@code now}); empty when it is neither. Capped at {@link #MAX_RETRY_AFTER}, never negative.
     */
    static Optional<Duration> retryAfter(String header, Instant now) {
        if (header == null || header.isBlank()) {
            return Optional.empty();
        }
        String value = header.strip();
        Duration wait;
        if (DIGITS.matcher(value).matches()) {
            wait = Duration.ofSeconds(Long.parseLong(value));
        } else {
            try {
                ZonedDateTime at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME);
                wait = Duration.between(now, at.toInstant());
            } catch (DateTimeParseException e) {
                return Optional.empty();
            }
        }
        if (wait.isNegative()) {
            return Optional.of(Duration.ZERO);
        }
        return Optional.of(wait.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : wait);
    }

    /**
     * Reads the answer, giving up after {@code limit}: the request's timeout ends with the headers,
     * and a server that then sends its body a byte at a time must not hold the caller (the webhook
     * has GitLab's 10 s, a lifecycle task its own timeout). Closing the stream ends the read.
     * Reads at most {@code maxBytes + 1} bytes, so a caller can tell an answer over the bound.
     *
     * @param request the request for messages, like {@code GET /api/v4/runners/7/jobs}
     */
    static byte[] readWithin(InputStream in, Duration limit, int maxBytes, String request) {
        CompletableFuture<byte[]> read = CompletableFuture.supplyAsync(() -> {
            try (in) {
                return in.readNBytes(maxBytes + 1);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, READER);
        try {
            return read.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            closeQuietly(in);
            read.cancel(true);
            throw new GitLabUnavailableException(request + ": the answer was not read within " + limit.toSeconds()
                    + " s", e);
        } catch (ExecutionException e) {
            throw new GitLabUnavailableException(request + ": reading the answer failed: "
                    + e.getCause().getClass().getSimpleName(), e.getCause());
        } catch (InterruptedException e) {
            closeQuietly(in);
            Thread.currentThread().interrupt();
            throw new GitLabUnavailableException("interrupted", e);
        }
    }

    /** {@link #readWithin}, refusing an answer longer than {@code maxBytes}. */
    static byte[] readBounded(InputStream in, Duration limit, int maxBytes, String request) {
        byte[] body = readWithin(in, limit, maxBytes, request);
        if (body.length > maxBytes) {
            throw new GitLabUnavailableException(request + " answered more than " + maxBytes + " bytes", null);
        }
        return body;
    }

    static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // nothing more to read from it either way
        }
    }

    /** An answer's body as JSON, read within {@code limit} and {@code maxBytes}; unreadable JSON is unavailable. */
    static JsonNode readJson(ObjectMapper json, InputStream body, Duration limit, int maxBytes, String request) {
        byte[] bytes = readBounded(body, limit, maxBytes, request);
        try {
            return json.readTree(bytes);
        } catch (IOException e) {
            throw new GitLabUnavailableException(request + " answered with invalid JSON", e);
        }
    }

    /**
     * GitLab's {@code message} (or {@code error}) of an error answer, the token scrubbed and control
     * characters blanked, not yet bounded; empty when there is none. An error's body is a line of
     * JSON: a small bound, and a slow one is not waited for.
     */
    static String errorMessage(ObjectMapper json, InputStream body, Duration limit, String request, String token) {
        byte[] bytes;
        try {
            bytes = readWithin(body, limit, 16 * 1024, request);
        } catch (GitLabUnavailableException unreadable) {
            return "";
        }
        String text;
        try {
            JsonNode node = json.readTree(bytes);
            JsonNode message = node == null ? null : node.has("message") ? node.get("message") : node.get("error");
            text = message == null || message.isNull() ? "" : message.isTextual() ? message.asText() : message.toString();
        } catch (IOException notJson) {
            text = "";
        }
        return scrub(text, token).replaceAll("\\p{Cntrl}", " ").strip();
    }

    /** A message from the server could quote the token back: it never reaches ours. */
    static String scrub(String text, String token) {
        return token == null || token.isEmpty() ? text : text.replace(token, "[token]");
    }
}
