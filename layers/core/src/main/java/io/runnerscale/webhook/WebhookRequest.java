package io.runnerscale.webhook;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** An HTTP delivery as the webhook sees it, whether it came through API Gateway or the local server. */
public record WebhookRequest(Map<String, String> headers, String body, long bodyBytes) {

    public WebhookRequest {
        TreeMap<String, String> normalized = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        if (headers != null) {
            headers.forEach((name, value) -> normalized.put(name.toLowerCase(Locale.ROOT), value));
        }
        headers = normalized;
        body = body == null ? "" : body;
    }

    public String header(String name) {
        return headers.get(name);
    }
}
