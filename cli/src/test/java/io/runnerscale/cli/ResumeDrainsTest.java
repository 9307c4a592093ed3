package io.runnerscale.cli;

import io.runnerscale.compute.Compute;
import io.runnerscale.compute.GroupState;
import io.runnerscale.lifecycle.Drain;
import io.runnerscale.lifecycle.DrainReason;
import io.runnerscale.lifecycle.DrainRequests;
import io.runnerscale.lifecycle.DrainStarter;
import io.runnerscale.lifecycle.InstanceState;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigParser;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.store.InMemoryJobStore;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** serve keeps drains in memory: after a restart the instances they held are drained anew or recorded gone. */
class ResumeDrainsTest {
    static final Instant NOW = Instant.parse("2026-01-07T12:00:00Z");

    @Test
    void drainingInstancesStillInTheGroupAreDrainedAgainAndGoneOnesRecordedGone() {
        PoolsConfig config = PoolsConfigParser.parse("""
                pools:
                  - name: docker
                    backend: {type: ec2-asg, asg: docker-asg}
                """, "test.yaml");
        InMemoryJobStore store = new InMemoryJobStore();
        store.recordRunner("i-0aaaaaaaaaaaaaaa1", "docker", 11L, InstanceState.DRAINING, NOW);   // still there
        store.recordRunner("i-0bbbbbbbbbbbbbbb2", "docker", 12L, InstanceState.DRAINING, NOW);   // gone meanwhile
        store.recordRunner("i-0ccccccccccccccc3", "docker", 13L, InstanceState.READY, NOW);      // not draining
        Compute group = new Compute() {
            @Override
            public GroupState describe(PoolConfig pool) {
                return new GroupState(2, List.of(new GroupState.Instance("i-0aaaaaaaaaaaaaaa1", true, NOW),
                        new GroupState.Instance("i-0ccccccccccccccc3", true, NOW)));
            }

            @Override
            public void setDesiredCapacity(PoolConfig pool, int desired) {
                throw new AssertionError("resuming drains sets no capacity");
            }
        };
        List<Drain> started = new ArrayList<>();
        DrainStarter starter = (drain, attempt) -> {
            started.add(drain);
            return DrainStarter.Outcome.STARTED;
        };
        ByteArrayOutputStream printed = new ByteArrayOutputStream();

        int resumed = ServeCommand.resumeDrains(PoolsConfigSource.fixed(config), store, group,
                new DrainRequests(store, starter, Duration.ofHours(1), Clock.fixed(NOW, ZoneOffset.UTC)),
                Clock.fixed(NOW, ZoneOffset.UTC), new PrintStream(printed, true, StandardCharsets.UTF_8));

        assertEquals(1, resumed);
        assertEquals(1, started.size());
        assertEquals("i-0aaaaaaaaaaaaaaa1", started.getFirst().instanceId());
        assertEquals(11L, started.getFirst().runnerId());
        assertEquals(DrainReason.SCALE_IN, started.getFirst().reason(), "a job that started meanwhile calls it off");
        assertEquals(InstanceState.GONE, store.lifecycle("i-0bbbbbbbbbbbbbbb2").orElseThrow().state());
        assertEquals(InstanceState.READY, store.lifecycle("i-0ccccccccccccccc3").orElseThrow().state());
        assertTrue(printed.toString(StandardCharsets.UTF_8).isEmpty());
    }
}
