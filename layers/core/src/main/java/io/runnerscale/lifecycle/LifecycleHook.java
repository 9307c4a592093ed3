package io.runnerscale.lifecycle;

import java.util.Objects;

/**
 * The terminate lifecycle action that holds the instance while it drains.
 *
 * @param toWarmPool the group returns the instance to its warm pool (instance reuse on scale-in; the
 *                   event's {@code Destination} is {@code WarmPool}) instead of terminating it: the drain
 *                   ends with the instance warm (no runner, no token), not gone
 */
public record LifecycleHook(String name, String token, boolean toWarmPool) {
    public LifecycleHook {
        Objects.requireNonNull(name, "lifecycleHook.name");
        Objects.requireNonNull(token, "lifecycleHook.token");
    }

    public LifecycleHook(String name, String token) {
        this(name, token, false);
    }
}
