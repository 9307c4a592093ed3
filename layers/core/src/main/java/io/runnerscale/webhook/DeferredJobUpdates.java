package io.runnerscale.webhook;

import io.runnerscale.job.JobEvent;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Job events of one acknowledged delivery (or one part of it), to be applied after the answer.
 *
 * @param deliveryId the delivery's bounded id (see the webhook's delivery keys), or a generated one
 * @param kind       {@code Job Hook} or {@code Pipeline Hook}
 * @param receivedAt when the webhook received the delivery: the time decisions use
 * @param part       the part's number, from 0, when a delivery is split to fit a message
 */
public record DeferredJobUpdates(String deliveryId, String kind, Instant receivedAt, int part, List<JobEvent> events) {
    public DeferredJobUpdates {
        Objects.requireNonNull(deliveryId, "deliveryId");
        Objects.requireNonNull(receivedAt, "receivedAt");
        events = List.copyOf(events);
    }
}
