package io.runnerscale.webhook;

/** Status code and JSON body. */
public record WebhookResponse(int status, String body) {
}
