package io.runnerscale.scaling;

import com.fasterxml.jackson.databind.ObjectMapper;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * The fast path in AWS: one message per request on a FIFO queue, grouped by pool, so the scaler
 * function never runs two decisions for one pool at once.
 */
public final class SqsScaleRequests implements ScaleRequests {
    private final SqsClient sqs;
    private final String queueUrl;
    private final ObjectMapper json;

    public SqsScaleRequests(SqsClient sqs, String queueUrl, ObjectMapper json) {
        this.sqs = sqs;
        this.queueUrl = queueUrl;
        this.json = json;
    }

    @Override
    public void request(String pool, String reason, String dedupeId) {
        String body = json.createObjectNode().put("pool", pool).put("reason", reason).toString();
        sqs.sendMessage(r -> r.queueUrl(queueUrl).messageBody(body).messageGroupId(pool)
                .messageDeduplicationId(dedupeId.length() > 128 ? dedupeId.substring(0, 128) : dedupeId));
    }
}
