package io.runnerscale.webhook;

import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Deferred job updates on the FIFO scale queue, which the scaler function consumes. Each part of a
 * delivery is its own message group, so parts are applied in parallel and never hold up a pool's
 * scaling decisions; its deduplication id is derived from the delivery and the part, so a resent
 * delivery within SQS's five-minute window is queued once.
 */
public final class SqsJobUpdateQueue implements JobUpdateQueue {
    /** SendMessageBatch takes at most 10 entries and 256 KiB in all. */
    private static final int BATCH_ENTRIES = 10;
    private static final int BATCH_BYTES = 250 * 1024;

    private final SqsClient sqs;
    private final String queueUrl;
    private final DeferredJobUpdatesCodec codec;

    public SqsJobUpdateQueue(SqsClient sqs, String queueUrl, DeferredJobUpdatesCodec codec) {
        this.sqs = sqs;
        this.queueUrl = queueUrl;
        this.codec = codec;
    }

    @Override
    public void enqueue(DeferredJobUpdates updates) {
        List<String> messages = codec.encode(updates, DeferredJobUpdatesCodec.DEFAULT_MAX_BYTES);
        List<SendMessageBatchRequestEntry> batch = new ArrayList<>();
        int batchBytes = 0;
        for (int part = 0; part < messages.size(); part++) {
            String body = messages.get(part);
            int bytes = body.getBytes(StandardCharsets.UTF_8).length;
            if (!batch.isEmpty() && (batch.size() == BATCH_ENTRIES || batchBytes + bytes > BATCH_BYTES)) {
                send(batch);
                batch = new ArrayList<>();
                batchBytes = 0;
            }
            String id = DeliveryKeys.sha256Hex(updates.deliveryId() + "#" + part);
            batch.add(SendMessageBatchRequestEntry.builder().id("p" + part).messageBody(body)
                    .messageGroupId("job-updates-" + id.substring(0, 16))
                    .messageDeduplicationId(id).build());
            batchBytes += bytes;
        }
        send(batch);
    }

    /** Sends one batch; entries SQS refused are sent once more, then the failure is reported. */
    private void send(List<SendMessageBatchRequestEntry> entries) {
        List<SendMessageBatchRequestEntry> pending = entries;
        for (int attempt = 1; ; attempt++) {
            List<SendMessageBatchRequestEntry> current = pending;
            SendMessageBatchResponse response = sqs.sendMessageBatch(r -> r.queueUrl(queueUrl).entries(current));
            if (!response.hasFailed() || response.failed().isEmpty()) {
                return;
            }
            List<String> failedIds = response.failed().stream().map(BatchResultErrorEntry::id).toList();
            if (attempt == 2) {
                BatchResultErrorEntry first = response.failed().getFirst();
                throw new IllegalStateException("SQS refused " + failedIds.size() + " deferred update message(s): "
                        + first.code() + " " + first.message());
            }
            pending = current.stream().filter(e -> failedIds.contains(e.id())).toList();
        }
    }
}
