package io.runnerscale.compute;

import io.runnerscale.compute.WarmPoolApplier.Outcome;
import io.runnerscale.compute.WarmPoolPolicy.Kind;
import io.runnerscale.compute.WarmPools.Group;
import io.runnerscale.compute.WarmPools.Settings;
import io.runnerscale.metrics.MetricName;
import io.runnerscale.metrics.RecordingMetrics;
import io.runnerscale.metrics.WarmPoolMetrics;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigParser;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WarmPoolApplierTest {
    /** Groups in memory; a name in {@code failing} throws on describe. */
    static final class FakeWarmPools implements WarmPools {
        final Map<String, Group> groups = new HashMap<>();
        final List<String> puts = new ArrayList<>();
        final Set<String> failing = new java.util.HashSet<>();

        @Override
        public Group describe(String group) {
            if (failing.contains(group)) {
                throw new IllegalStateException("Rate exceeded");
            }
            return groups.get(group);
        }

        @Override
        public void put(String group, Settings settings) {
            puts.add(group + " " + settings);
            Group old = groups.get(group);
            groups.put(group, new Group(group, old.noWarmPool(), settings, false));
        }
    }

    static PoolsConfig pools() {
        return PoolsConfigParser.parse("""
                pools:
                  - name: a
                    match: {tags: [a]}
                    backend: {type: ec2-asg, asg: ga}
                    warm_pool: {state: stopped, min_size: 1}
                  - name: b
                    match: {tags: [b]}
                    backend: {type: ec2-asg, asg: gb}
                    warm_pool: {state: running, max_prepared: 4}
                  - name: c
                    match: {tags: [c]}
                    backend: {type: ec2-asg, asg: gc}
                """, "test");
    }

    @Test
    void everyPoolIsAppliedAndASecondRunWritesNothing() {
        FakeWarmPools aws = new FakeWarmPools();
        aws.groups.put("ga", new Group("ga", null, null, false));
        aws.groups.put("gb", new Group("gb", null, new Settings("Stopped", 0, -1, false), false));
        aws.groups.put("gc", new Group("gc", null, null, false));
        WarmPoolApplier applier = new WarmPoolApplier(WarmPoolApplierTest::pools, aws, Set.of());

        WarmPoolApplier.Report first = applier.run();
        assertEquals(List.of("ga Settings[poolState=Stopped, minSize=1, maxGroupPreparedCapacity=-1, reuseOnScaleIn=false]",
                "gb Settings[poolState=Running, minSize=0, maxGroupPreparedCapacity=4, reuseOnScaleIn=false]"), aws.puts);
        assertEquals("none 1, put 2, failed 0", first.summary());
        assertEquals(0, first.notApplied());

        WarmPoolApplier.Report second = applier.run();
        assertEquals(2, aws.puts.size(), "nothing written when nothing changed");
        assertEquals("none 1, unchanged 2, failed 0", second.summary());
    }

    @Test
    void oneFailingOrRefusedPoolDoesNotStopTheOthers() {
        FakeWarmPools aws = new FakeWarmPools();
        aws.failing.add("ga");
        aws.groups.put("gb", new Group("gb", "has a mixed instances policy (Spot/multiple types)", null, false));
        aws.groups.put("gc", new Group("gc", null, new Settings("Stopped", 0, -1, false), false));
        WarmPoolApplier.Report report = new WarmPoolApplier(WarmPoolApplierTest::pools, aws, Set.of()).run();

        assertEquals(List.of(), aws.puts);
        Outcome a = report.outcomes().get(0);
        assertNull(a.kind());
        assertTrue(a.message().contains("Rate exceeded") && a.message().contains("next run"), a.message());
        Outcome b = report.outcomes().get(1);
        assertEquals(Kind.REFUSED, b.kind());
        assertTrue(b.message().startsWith("pool 'b': warm_pool: Auto Scaling group 'gb' has a mixed instances"),
                b.message());
        assertEquals(Kind.NOT_IN_POOLS_FILE, report.outcomes().get(2).kind());
        assertEquals("refused 1, not_in_pools_file 1, failed 1", report.summary());
        assertEquals(2, report.notApplied(), "the failed and the refused pool; a warm pool left in place is not");
    }

    @Test
    void missingGroupsCountAsNotAppliedOnlyWhereAWarmPoolIsAskedFor() {
        WarmPoolApplier.Report report = new WarmPoolApplier(WarmPoolApplierTest::pools, new FakeWarmPools(), Set.of())
                .run();
        assertEquals("no_group 3, failed 0", report.summary());
        assertEquals(2, report.notApplied(), "a and b ask for a warm pool; c does not");

        RecordingMetrics metrics = new RecordingMetrics();
        WarmPoolMetrics.record(report, metrics);
        assertEquals(2.0, metrics.total(MetricName.WARM_POOLS_NOT_APPLIED));
        WarmPoolMetrics.record(new WarmPoolApplier.Report(List.of()), metrics);
        assertEquals(2, metrics.points().size(), "a zero is sent too, so the alarm clears");
    }

    @Test
    void theStacksGroupIsNotWritten() {
        FakeWarmPools aws = new FakeWarmPools();
        aws.groups.put("ga", new Group("ga", null, null, false));
        aws.groups.put("gb", new Group("gb", null, null, false));
        aws.groups.put("gc", new Group("gc", null, null, false));
        new WarmPoolApplier(WarmPoolApplierTest::pools, aws,
                WarmPoolApplier.stackManagedGroups(" ga , ")).run();
        assertEquals(1, aws.puts.size());
        assertTrue(aws.puts.getFirst().startsWith("gb "), aws.puts.toString());
    }

    @Test
    void stackManagedGroupsFromTheEnvironment() {
        assertEquals(Set.of(), WarmPoolApplier.stackManagedGroups(null));
        assertEquals(Set.of(), WarmPoolApplier.stackManagedGroups(""));
        assertEquals(Set.of("x-runners"), WarmPoolApplier.stackManagedGroups("x-runners"));
    }
}
