package io.runnerscale.store;

import io.runnerscale.lifecycle.InstanceState;

/**
 * An instance's runner as the lifecycle function remembers it on {@code INST#<id>}.
 *
 * @param runnerId     its GitLab runner; null before one is created and after it is deleted
 * @param state        null for an instance only the scaler has seen
 * @param runnerPaused whether runnerscale paused the runner (a drain's {@code PauseRunner}); GitLab's
 *                     runner is paused exactly when this says so, since only drains pause it
 * @param drainAttempt the attempt number of the instance's next drain execution (from 1): a name
 *                     {@code drain-<id>-<reason>-<attempt>} cannot be reused for 90 days, so an
 *                     abandoned or failed drain moves it on
 */
public record InstanceLifecycle(String instanceId, String pool, Long runnerId, InstanceState state,
                                boolean runnerPaused, int drainAttempt) {
}
