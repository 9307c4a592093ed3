package io.runnerscale.config;

import software.amazon.lambda.powertools.parameters.BaseProvider;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.function.Supplier;

/**
 * Secrets and parameters through Powertools' providers, cached for {@code maxAge}. Values are read
 * on first use, never during init, so a SnapStart snapshot holds no secret.
 */
public final class CachedParameters {
    private CachedParameters() {
    }

    public static Supplier<String> of(BaseProvider provider, String name, Duration maxAge) {
        return () -> {
            // withMaxAge applies to the next get only, and providers are shared: keep the pair together.
            synchronized (provider) {
                return provider.withMaxAge((int) maxAge.toSeconds(), ChronoUnit.SECONDS).get(name);
            }
        };
    }
}
