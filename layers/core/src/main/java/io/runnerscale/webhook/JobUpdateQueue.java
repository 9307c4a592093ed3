package io.runnerscale.webhook;

/**
 * Where the webhook hands over a delivery too big to apply within GitLab's timeout: the events
 * are kept durably and applied soon after by {@link JobUpdateService} (SQS and the scaler function
 * in AWS, a spool directory and a worker in {@code serve}).
 */
public interface JobUpdateQueue {

    /**
     * Keeps the updates for applying. Returns only once they are durably kept: the webhook then
     * acknowledges the delivery.
     *
     * @throws RuntimeException when they could not be kept (the webhook answers 503, and a resend is processed)
     */
    void enqueue(DeferredJobUpdates updates);
}
