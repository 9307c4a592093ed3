package io.runnerscale.pool;

import io.runnerscale.testing.MutableClock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PoolsConfigSourceTest {
    static final Duration REFRESH = Duration.ofMinutes(1);

    static String config(String... names) {
        StringBuilder yaml = new StringBuilder("pools:\n");
        for (String name : names) {
            yaml.append("  - {name: ").append(name).append(", backend: {type: ec2-asg, asg: ").append(name).append("}}\n");
        }
        return yaml.toString();
    }

    static List<String> names(PoolsConfig config) {
        return config.pools().stream().map(PoolConfig::name).toList();
    }

    /** The parameter's text; counts reads and can fail. */
    static final class Parameter implements Supplier<String> {
        String text;
        RuntimeException failure;
        final AtomicInteger reads = new AtomicInteger();

        @Override
        public String get() {
            reads.incrementAndGet();
            if (failure != null) {
                throw failure;
            }
            return text;
        }
    }

    MutableClock clock;
    Parameter parameter;
    PoolsConfigSource source;

    @BeforeEach
    void setUp() {
        clock = new MutableClock(Instant.parse("2026-01-07T12:00:00Z"));
        parameter = new Parameter();
        source = new PoolsConfigSource(parameter, "ssm:/runnerscale/pools", REFRESH, clock);
    }

    @Test
    void loadsOnFirstUse() {
        parameter.text = config("a", "b");
        assertEquals(List.of("a", "b"), names(source.current()));
        assertEquals(1, parameter.reads.get());
    }

    @Test
    void aBadFirstTextThrows() {
        parameter.text = config("Bad_Name");
        ConfigException e = assertThrows(ConfigException.class, source::current);
        assertTrue(e.getMessage().contains("ssm:/runnerscale/pools"), e.getMessage());
        // and keeps trying: once fixed, the next call loads it without waiting for the refresh interval
        parameter.text = config("good");
        assertEquals(List.of("good"), names(source.current()));
    }

    @Test
    void anUnreadableFirstTextThrowsConfigException() {
        parameter.failure = new IllegalStateException("ParameterNotFound");
        ConfigException e = assertThrows(ConfigException.class, source::current);
        assertTrue(e.problems().getFirst().contains("cannot be read") && e.getMessage().contains("ParameterNotFound"),
                e.getMessage());
    }

    @Test
    void rereadsOnlyAfterTheRefreshInterval() {
        parameter.text = config("a");
        PoolsConfig first = source.current();
        parameter.text = config("b");

        clock.advance(Duration.ofSeconds(59));
        assertSame(first, source.current());
        assertSame(first, source.current());
        assertEquals(1, parameter.reads.get(), "no read within the refresh interval");

        clock.advance(Duration.ofSeconds(1));
        assertEquals(List.of("b"), names(source.current()));
        assertEquals(2, parameter.reads.get());
    }

    @Test
    void unchangedTextIsNotParsedAgain() {
        parameter.text = config("a");
        PoolsConfig first = source.current();
        clock.advance(REFRESH);
        parameter.text = new String(config("a")); // equal text, another object

        assertSame(first, source.current(), "same text: the same parsed configuration");
        assertEquals(2, parameter.reads.get(), "but it was read again");
    }

    @Test
    void aBadNewTextKeepsTheLastGoodConfiguration() {
        parameter.text = config("a");
        PoolsConfig good = source.current();

        clock.advance(REFRESH);
        parameter.text = config("a", "a"); // duplicate names
        assertSame(good, source.current());

        clock.advance(REFRESH);
        parameter.text = "pools: [";
        assertSame(good, source.current());

        clock.advance(REFRESH);
        parameter.text = config("a", "c");
        PoolsConfig fixed = source.current();
        assertNotSame(good, fixed);
        assertEquals(List.of("a", "c"), names(fixed));
    }

    @Test
    void aFailingReadKeepsTheLastGoodConfiguration() {
        parameter.text = config("a");
        PoolsConfig good = source.current();
        clock.advance(REFRESH);
        parameter.failure = new RuntimeException("throttled");
        assertSame(good, source.current());

        clock.advance(Duration.ofSeconds(30));
        parameter.failure = null;
        parameter.text = config("b");
        assertSame(good, source.current(), "a failed read also waits for the refresh interval");

        clock.advance(Duration.ofSeconds(30));
        assertEquals(List.of("b"), names(source.current()));
    }

    @Test
    void goingBackToTheEarlierGoodTextAfterABadOneLoadsIt() {
        parameter.text = config("a");
        source.current();
        clock.advance(REFRESH);
        parameter.text = config("b");
        PoolsConfig b = source.current();
        clock.advance(REFRESH);
        parameter.text = "not: [valid";
        assertSame(b, source.current());
        clock.advance(REFRESH);
        parameter.text = config("a");
        assertEquals(List.of("a"), names(source.current()));
    }

    @Test
    void aFixedSourceNeverReads() {
        PoolsConfig config = PoolsConfigParser.parse(config("x"), "t");
        PoolsConfigSource fixed = PoolsConfigSource.fixed(config);
        assertSame(config, fixed.current());
        assertSame(config, fixed.current());
    }
}
