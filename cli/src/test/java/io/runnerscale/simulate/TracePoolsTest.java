package io.runnerscale.simulate;

import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pools derived from a trace: one per tag set, each job to its own set's pool, any tag text kept whole. */
class TracePoolsTest {
    private static final Instant T0 = Instant.parse("2024-03-04T10:00:00Z");

    private static TraceJob job(long id, String... tags) {
        return new TraceJob(id, T0.plusSeconds(id), Duration.ofSeconds(60), List.of(tags));
    }

    @Test
    void everyJobGoesToThePoolOfItsOwnTagSetWhateverItsTagsSpell() {
        List<TraceJob> jobs = List.of(job(1, "b", "a"), job(2, "a"), job(3, "a", "b"), job(4),
                job(5, "Linux: \"x86\" \\ #1"), job(6, "é", "-"), job(7, "a", "b", "c"));
        PoolsConfig config = TracePools.derive(jobs);

        assertEquals(6, config.pools().size(), "the sets {a,b}, {a}, {}, the odd one, {é,-}, {a,b,c}");
        for (TraceJob job : jobs) {
            PoolConfig pool = config.poolFor(job.tags()).orElseThrow();
            assertEquals(TracePools.tagSet(job.tags()), TracePools.tagSet(pool.match().tags()),
                    "job " + job.id() + " went to " + pool.name());
        }
        assertEquals("default", config.poolFor(List.of()).orElseThrow().name());
        assertEquals(List.of("Linux: \"x86\" \\ #1"), config.pools().stream()
                .filter(p -> p.name().equals("linux-x86-1")).findFirst().orElseThrow().match().tags());
        assertTrue(config.pools().stream().anyMatch(p -> p.name().equals("pool")), "a name with no letters left");
    }

    @Test
    void atMostMaxPoolsTagSetsTheCommonestAndTheRestMatchNothing() {
        List<TraceJob> jobs = new ArrayList<>();
        long id = 1;
        for (int set = 0; set < TracePools.MAX_POOLS + 5; set++) {
            for (int n = 0; n < (set < TracePools.MAX_POOLS ? 2 : 1); n++) {
                jobs.add(job(id++, "t" + set));
            }
        }
        PoolsConfig config = TracePools.derive(jobs);
        assertEquals(TracePools.MAX_POOLS, config.pools().size());
        assertTrue(config.poolFor(List.of("t0")).isPresent());
        assertTrue(config.poolFor(List.of("t" + (TracePools.MAX_POOLS + 1))).isEmpty(), "a rare set left out");
        assertTrue(TracePools.yaml(jobs).contains("# 5 rarer tag set(s) left out"));
    }
}
