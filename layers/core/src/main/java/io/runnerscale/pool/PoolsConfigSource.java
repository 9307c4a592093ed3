package io.runnerscale.pool;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The pools configuration as the running code sees it: re-read at most every {@code refresh},
 * parsed only when the text changed, and a bad new text keeps the last good configuration.
 */
public final class PoolsConfigSource {
    private static final Logger LOG = LoggerFactory.getLogger(PoolsConfigSource.class);

    private final Supplier<String> text;
    private final String sourceName;
    private final Duration refresh;
    private final Clock clock;
    private PoolsConfig lastGood;
    private String lastText;
    private Instant checkedAt;
    private boolean fixed;

    public PoolsConfigSource(Supplier<String> text, String sourceName, Duration refresh, Clock clock) {
        this.text = Objects.requireNonNull(text);
        this.sourceName = sourceName;
        this.refresh = refresh;
        this.clock = clock;
    }

    public static PoolsConfigSource fixed(PoolsConfig config) {
        PoolsConfigSource source = new PoolsConfigSource(() -> null, "fixed", Duration.ZERO, Clock.systemUTC());
        source.lastGood = config;
        source.fixed = true;
        return source;
    }

    /**
     * @throws ConfigException only when no good configuration was ever loaded
     */
    public synchronized PoolsConfig current() {
        if (fixed) {
            return lastGood;
        }
        Instant now = clock.instant();
        if (lastGood != null && checkedAt != null && now.isBefore(checkedAt.plus(refresh))) {
            return lastGood;
        }
        checkedAt = now;
        String latest;
        try {
            latest = text.get();
        } catch (RuntimeException e) {
            if (lastGood == null) {
                throw new ConfigException(sourceName, java.util.List.of("cannot be read: " + e.getMessage()));
            }
            LOG.error("pools configuration {} cannot be read, keeping the last good one: {}", sourceName, e.toString());
            return lastGood;
        }
        if (lastGood != null && Objects.equals(latest, lastText)) {
            return lastGood;
        }
        lastText = latest;
        try {
            lastGood = PoolsConfigParser.parse(latest, sourceName);
            LOG.info("pools configuration loaded from {}: {} pool(s)", sourceName, lastGood.pools().size());
        } catch (ConfigException e) {
            if (lastGood == null) {
                throw e;
            }
            LOG.error("{}; keeping the last good configuration", e.getMessage());
        }
        return lastGood;
    }
}
