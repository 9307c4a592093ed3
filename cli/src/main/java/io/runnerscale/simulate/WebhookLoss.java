package io.runnerscale.simulate;

import java.time.Duration;

/**
 * Lost webhooks, and the reconciler that repairs what they leave behind.
 *
 * @param dropRate       chance that GitLab's delivery of one job event (pending, running, finished) never
 *                       reaches runnerscale, 0 to 1; drawn per delivery from its own stream of the seed,
 *                       so the other draws (boots, decisions, spot) stay where they were
 * @param reconcileEvery how often the real reconciler runs on the virtual clock (the lifecycle
 *                       function's schedule), or null: no reconciler
 */
public record WebhookLoss(double dropRate, Duration reconcileEvery) {
    /** The lifecycle function's schedule: {@code rate(10 minutes)}. */
    public static final Duration DEFAULT_RECONCILE_EVERY = Duration.ofMinutes(10);
    /** Every delivery arrives and nothing reconciles: the simulator as it always was. */
    public static final WebhookLoss NONE = new WebhookLoss(0, null);

    public WebhookLoss {
        if (!(dropRate >= 0 && dropRate <= 1)) { // also false for NaN
            throw new IllegalArgumentException("the share of webhooks dropped must be from 0 to 1, got " + dropRate);
        }
        // it reschedules itself: a zero interval would never leave the current instant
        if (reconcileEvery != null && reconcileEvery.compareTo(Duration.ofMinutes(1)) < 0) {
            throw new IllegalArgumentException("the reconciler runs at most once a minute, got every " + reconcileEvery);
        }
    }

    public boolean reconciles() {
        return reconcileEvery != null;
    }
}
