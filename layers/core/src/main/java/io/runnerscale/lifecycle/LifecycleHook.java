package io.runnerscale.lifecycle;

import java.util.Objects;

/** The terminate lifecycle action that holds the instance while it drains. */
public record LifecycleHook(String name, String token) {
    public LifecycleHook {
        Objects.requireNonNull(name, "lifecycleHook.name");
        Objects.requireNonNull(token, "lifecycleHook.token");
    }
}
