package io.runnerscale.compute;

import io.runnerscale.compute.WarmPoolPolicy.Decision;
import io.runnerscale.compute.WarmPoolPolicy.Kind;
import io.runnerscale.compute.WarmPools.Group;
import io.runnerscale.compute.WarmPools.Settings;
import io.runnerscale.pool.PoolConfig.WarmPool;
import io.runnerscale.pool.PoolConfig.WarmPool.State;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WarmPoolPolicyTest {
    static final WarmPool STOPPED_2 = new WarmPool(State.STOPPED, 2, null, false, null);

    @Test
    void theSameWarmPoolIsNotWrittenAgain() {
        Group group = new Group("g", null, new Settings("Stopped", 2, -1, false), false);
        Decision decision = WarmPoolPolicy.decide("docker", "g", STOPPED_2, group, false);
        assertEquals(Kind.UNCHANGED, decision.kind());
        assertNull(decision.put());
    }

    @Test
    void anAbsentMaxPreparedCapacityEqualsMinusOne() {
        // AWS may answer without MaxGroupPreparedCapacity, or with -1: both are "the group's max size"
        assertEquals(new Settings("Stopped", 2, -1, false), new Settings(null, 2, -7, false));
        assertEquals(Kind.UNCHANGED, WarmPoolPolicy.decide("docker", "g", STOPPED_2,
                new Group("g", null, new Settings(null, 2, -1, false), false), false).kind());
    }

    @Test
    void aDifferentWarmPoolIsPutWithEveryConfiguredField() {
        WarmPool wanted = new WarmPool(State.HIBERNATED, 1, 6, true, null);
        Group group = new Group("g", null, new Settings("Stopped", 2, -1, false), false);
        Decision decision = WarmPoolPolicy.decide("docker", "g", wanted, group, false);
        assertEquals(Kind.PUT, decision.kind());
        assertEquals(new Settings("Hibernated", 1, 6, true), decision.put());
        assertTrue(decision.message().contains("updated from Stopped, min 2"), decision.message());
    }

    @Test
    void eachFieldAloneMakesAPut() {
        Settings current = new Settings("Stopped", 2, -1, false);
        Group group = new Group("g", null, current, false);
        for (WarmPool wanted : new WarmPool[]{
                new WarmPool(State.RUNNING, 2, null, false, null),
                new WarmPool(State.STOPPED, 3, null, false, null),
                new WarmPool(State.STOPPED, 2, 4, false, null),
                new WarmPool(State.STOPPED, 2, null, true, null)}) {
            Decision decision = WarmPoolPolicy.decide("docker", "g", wanted, group, false);
            assertEquals(Kind.PUT, decision.kind(), wanted.toString());
            assertEquals(Settings.of(wanted), decision.put());
        }
    }

    @Test
    void aGroupWithoutWarmPoolGetsOne() {
        Decision decision = WarmPoolPolicy.decide("docker", "g", STOPPED_2, new Group("g", null, null, false), false);
        assertEquals(Kind.PUT, decision.kind());
        assertEquals(new Settings("Stopped", 2, -1, false), decision.put());
    }

    @Test
    void aSpotOrMixedGroupIsRefusedNamingThePoolAndTheGroup() {
        Group group = new Group("rs-runners", "has a mixed instances policy (Spot/multiple types)", null, false);
        Decision decision = WarmPoolPolicy.decide("docker", "rs-runners", STOPPED_2, group, false);
        assertEquals(Kind.REFUSED, decision.kind());
        assertNull(decision.put());
        assertEquals("pool 'docker': warm_pool: Auto Scaling group 'rs-runners' has a mixed instances policy"
                + " (Spot/multiple types); AWS allows no warm pool on it. Remove warm_pool from the pool, or launch"
                + " On-Demand instances of one type (a launch template without Spot and no mixed instances policy)",
                decision.message());
    }

    @Test
    void aWarmPoolTheFileDoesNotAskForIsOnlyWarnedAbout() {
        Group group = new Group("g", null, new Settings("Stopped", 0, -1, false), false);
        Decision decision = WarmPoolPolicy.decide("docker", "g", null, group, false);
        assertEquals(Kind.NOT_IN_POOLS_FILE, decision.kind());
        assertNull(decision.put());
        assertTrue(decision.message().contains("aws autoscaling delete-warm-pool --auto-scaling-group-name g"),
                decision.message());
        assertTrue(decision.message().startsWith("pool 'docker': "), decision.message());
    }

    @Test
    void noWarmPoolAskedNoneThereIsNothing() {
        assertEquals(new Decision(Kind.NONE, null, null),
                WarmPoolPolicy.decide("docker", "g", null, new Group("g", null, null, false), false));
        // a Spot group without warm_pool is fine: nothing is asked of it
        assertEquals(Kind.NONE, WarmPoolPolicy.decide("docker", "g", null,
                new Group("g", "has a mixed instances policy", null, false), false).kind());
    }

    @Test
    void aWarmPoolBeingDeletedIsLeftToFinish() {
        Group group = new Group("g", null, new Settings("Stopped", 0, -1, false), true);
        assertEquals(Kind.PENDING_DELETE, WarmPoolPolicy.decide("docker", "g", STOPPED_2, group, false).kind());
        assertEquals(Kind.NONE, WarmPoolPolicy.decide("docker", "g", null, group, false).kind());
    }

    @Test
    void theStacksWarmPoolIsNeverWritten() {
        Group group = new Group("g", null, new Settings("Stopped", 0, -1, false), false);
        Decision differs = WarmPoolPolicy.decide("docker", "g", STOPPED_2, group, true);
        assertEquals(Kind.STACK_MANAGED, differs.kind());
        assertNull(differs.put());
        assertTrue(differs.message().contains("WarmPool* parameters"), differs.message());
        assertEquals(Kind.UNCHANGED, WarmPoolPolicy.decide("docker", "g",
                new WarmPool(State.STOPPED, 0, null, false, null), group, true).kind());
        Decision absent = WarmPoolPolicy.decide("docker", "g", null, group, true);
        assertEquals(Kind.STACK_MANAGED, absent.kind());
        assertNull(absent.message(), "no warning every run for the stack's own warm pool");
    }

    @Test
    void aMissingGroupIsReportedOnlyWhenAWarmPoolIsAsked() {
        assertEquals(Kind.NO_GROUP, WarmPoolPolicy.decide("docker", "g", STOPPED_2, null, false).kind());
        assertTrue(WarmPoolPolicy.decide("docker", "g", STOPPED_2, null, false).message().contains("does not exist"));
        assertNull(WarmPoolPolicy.decide("docker", "g", null, null, false).message());
    }

    @Test
    void inputInMessagesIsBounded() {
        String longName = "p".repeat(500) + "\nforged";
        Group group = new Group("g", "has a mixed instances policy", null, false);
        String message = WarmPoolPolicy.decide(longName, "g", STOPPED_2, group, false).message();
        assertTrue(message.length() < 400, message);
        assertTrue(!message.contains("\n"), message);
    }
}
