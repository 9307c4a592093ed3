package io.runnerscale.scaling;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.job.JobKey;
import software.amazon.awssdk.services.sqs.SqsClient;

import java.util.List;

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
        request(pool, reason, dedupeId, List.of());
    }

    @Override
    public void request(String pool, String reason, String dedupeId, List<JobKey> jobs) {
        ObjectNode message = json.createObjectNode().put("pool", pool).put("reason", reason);
        ArrayNode keys = message.putArray("jobs");
        jobs.forEach(job -> keys.add(job.toString()));
        String body = message.toString();
        sqs.sendMessage(r -> r.queueUrl(queueUrl).messageBody(body).messageGroupId(pool)
                .messageDeduplicationId(dedupeId.length() > 128 ? dedupeId.substring(0, 128) : dedupeId));
    }
}
