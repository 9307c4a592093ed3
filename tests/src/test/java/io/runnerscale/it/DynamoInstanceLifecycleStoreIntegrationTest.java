package io.runnerscale.it;

import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.lifecycle.InstanceState;
import io.runnerscale.store.DynamoJobStore;
import io.runnerscale.store.InMemoryJobStore;
import io.runnerscale.store.InstanceLifecycle;
import io.runnerscale.store.InstanceLifecycleStore;
import io.runnerscale.store.InstanceRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The lifecycle part of {@code INST#<id>} on DynamoDB Local, and the same steps on the in-memory
 * store: both answer alike, and the scaler's view of the instance (use count, pool index) survives.
 */
class DynamoInstanceLifecycleStoreIntegrationTest {
    static final Instant T0 = Instant.parse("2026-01-07T12:00:00Z");
    static final String INSTANCE = "i-0123456789abcdef0";

    final String table = SharedDynamo.newTable("lifecycle");
    final DynamoJobStore dynamo = new DynamoJobStore(SharedDynamo.client(), table, Duration.ofDays(7));

    @AfterEach
    void drop() {
        SharedDynamo.dropTable(table);
    }

    @Test
    void dynamoAndMemoryStoresAgree() {
        List<InstanceLifecycle> onDynamo = steps(dynamo);
        List<InstanceLifecycle> inMemory = steps(new InMemoryJobStore());
        assertEquals(inMemory, onDynamo);
    }

    @Test
    void aGoneInstanceIsATombstoneOutOfThePoolsIndexExpiringByTtlOnBothStores() {
        for (InstanceLifecycleStore store : List.of(dynamo, new InMemoryJobStore())) {
            io.runnerscale.store.JobStore jobs = (io.runnerscale.store.JobStore) store;
            store.recordRunner(INSTANCE, "docker", 501L, InstanceState.REGISTERED, T0);
            store.recordRunner("i-0fedcba9876543210", "docker", 502L, InstanceState.READY, T0);
            assertTrue(store.setState(INSTANCE, InstanceState.GONE));
            assertEquals(List.of("i-0fedcba9876543210"), jobs.instances("docker").stream().map(InstanceRecord::instanceId).toList(),
                    store.getClass().getSimpleName());
            assertEquals(InstanceState.GONE, store.lifecycle(INSTANCE).orElseThrow().state(), "the tombstone is read by id");
            store.recordRunner("i-0fedcba9876543210", "docker", null, InstanceState.GONE, T0.plusSeconds(5));
            assertTrue(jobs.instances("docker").isEmpty(), store.getClass().getSimpleName());

            assertTrue(store.markGoneIfUnknown("i-0aaaaaaaaaaaaaaa0", T0));
            assertEquals(InstanceState.GONE, store.lifecycle("i-0aaaaaaaaaaaaaaa0").orElseThrow().state());
            assertFalse(store.markGoneIfUnknown("i-0fedcba9876543210", T0), "a known instance is not overwritten");
            assertFalse(store.markGoneIfUnknown("i-0aaaaaaaaaaaaaaa0", T0));
            // one only the scaler has seen (no lifecycle state): a tombstone too, out of the pool's index
            jobs.recordInstance("docker", "i-0bbbbbbbbbbbbbbb0", T0);
            assertTrue(store.markGoneIfUnknown("i-0bbbbbbbbbbbbbbb0", T0), store.getClass().getSimpleName());
            assertTrue(jobs.instances("docker").isEmpty(), store.getClass().getSimpleName());
            assertEquals(InstanceState.GONE, store.lifecycle("i-0bbbbbbbbbbbbbbb0").orElseThrow().state());
            // the scaler sees it in its group once more: the tombstone is not put back in the index
            assertFalse(jobs.recordInstance("docker", "i-0bbbbbbbbbbbbbbb0", T0, null), store.getClass().getSimpleName());
            assertTrue(jobs.instances("docker").isEmpty(), store.getClass().getSimpleName());
            assertTrue(jobs.recordInstance("docker", "i-0ccccccccccccccc0", T0, null), "a new instance is recorded");
        }
        var item = SharedDynamo.client().getItem(r -> r.tableName(table).key(java.util.Map.of("pk",
                software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS("INST#" + INSTANCE)))).item();
        long expires = Long.parseLong(item.get(DynamoJobStore.EXPIRES_AT).n());
        assertTrue(expires > Instant.now().getEpochSecond() && expires <= Instant.now().plus(Duration.ofDays(1)).getEpochSecond() + 5,
                "expires within a day: " + expires);
        long spot = Long.parseLong(SharedDynamo.client().getItem(r -> r.tableName(table).key(java.util.Map.of("pk",
                software.amazon.awssdk.services.dynamodb.model.AttributeValue.fromS("INST#i-0aaaaaaaaaaaaaaa0")))).item()
                .get(DynamoJobStore.EXPIRES_AT).n());
        assertEquals(T0.plus(Duration.ofDays(1)).getEpochSecond(), spot);
    }

    @Test
    void theScalersViewOfTheInstanceSurvivesLifecycleWrites() {
        dynamo.recordRunner(INSTANCE, "docker", 501L, InstanceState.REGISTERED, T0);
        dynamo.apply(new JobEvent(new JobKey(3, 4), JobStatus.SUCCESS, 9L, "t", "t", T0, T0, T0.plusSeconds(9), null,
                501L, INSTANCE, null, List.of("docker")), "docker", T0.plusSeconds(10));
        dynamo.setState(INSTANCE, InstanceState.DRAINING);
        dynamo.recordRunner(INSTANCE, "docker", 501L, InstanceState.DRAINING, T0.plusSeconds(60));
        InstanceRecord seen = dynamo.instances("docker").getFirst();
        assertEquals(INSTANCE, seen.instanceId());
        assertEquals(T0, seen.launchedAt(), "launched when first recorded");
        assertEquals(1, seen.useCount());
        assertEquals(T0.plusSeconds(10), seen.lastJobFinishedAt());
    }

    @Test
    void aLaunchIsClaimedByOneHandlerUntilItsLeaseLapsesOnBothStores() {
        List<Boolean> onDynamo = claims(dynamo);
        assertEquals(claims(new InMemoryJobStore()), onDynamo);
        assertEquals(List.of(true, false, true, true, false), onDynamo);
        assertEquals(InstanceState.REGISTERED, dynamo.lifecycle(INSTANCE).orElseThrow().state());
    }

    /** first claim; a second within the lease; after the lease; after a release; once registered. */
    private static List<Boolean> claims(InstanceLifecycleStore store) {
        Duration lease = Duration.ofSeconds(45);
        List<Boolean> answers = new java.util.ArrayList<>();
        answers.add(store.claimLaunch(INSTANCE, "docker", T0, lease));
        answers.add(store.claimLaunch(INSTANCE, "docker", T0.plusSeconds(10), lease));
        answers.add(store.claimLaunch(INSTANCE, "docker", T0.plusSeconds(60), lease));
        store.releaseLaunch(INSTANCE);
        answers.add(store.claimLaunch(INSTANCE, "docker", T0.plusSeconds(61), lease));
        store.recordRunner(INSTANCE, "docker", 501L, InstanceState.REGISTERED, T0.plusSeconds(62));
        answers.add(store.claimLaunch(INSTANCE, "docker", T0.plus(Duration.ofHours(1)), lease));
        return answers;
    }

    @Test
    void aWarmInstanceResumesWithItsClocksRestartedAndReturnsWarmOnBothStores() {
        List<Object> onDynamo = warmSteps(dynamo);
        assertEquals(warmSteps(new InMemoryJobStore()), onDynamo);
    }

    /** Launched warm; a late warm event; resume after days; a job; drained back to warm; a second resume. */
    private static List<Object> warmSteps(InstanceLifecycleStore store) {
        io.runnerscale.store.JobStore jobs = (io.runnerscale.store.JobStore) store;
        String name = store.getClass().getSimpleName();
        List<Object> seen = new java.util.ArrayList<>();
        assertTrue(store.markWarm(INSTANCE, "docker", T0), name);
        assertTrue(store.markWarm(INSTANCE, "docker", T0.plusSeconds(5)), "warm again: a repeated event");
        InstanceLifecycle warm = store.lifecycle(INSTANCE).orElseThrow();
        assertEquals(InstanceState.WARM, warm.state());
        assertNull(warm.runnerId());
        assertEquals(List.of(INSTANCE), jobs.instances("docker").stream().map(InstanceRecord::instanceId).toList(),
                name + ": in the pool's index (the sweep finds it once EC2 terminates it)");
        assertEquals(InstanceState.WARM, jobs.instances("docker").getFirst().state());
        seen.add(warm);

        Instant resumed = T0.plus(Duration.ofDays(3));
        assertFalse(store.resumeFromWarm(INSTANCE, resumed, T0.minusSeconds(1)), name + ": an event from before it went warm");
        assertEquals(InstanceState.WARM, store.lifecycle(INSTANCE).orElseThrow().state(), name);
        assertTrue(store.resumeFromWarm(INSTANCE, resumed, resumed.minusSeconds(2)), name);
        assertFalse(store.resumeFromWarm(INSTANCE, resumed, null), "only from warm");
        assertFalse(store.markWarm(INSTANCE, "docker", resumed), name + ": a late warm-launch event undoes nothing");
        assertEquals(InstanceState.LAUNCHING, store.lifecycle(INSTANCE).orElseThrow().state());
        assertTrue(store.claimLaunch(INSTANCE, "docker", resumed, Duration.ofSeconds(45)), name + ": claimable at once");
        assertEquals(resumed, jobs.instances("docker").getFirst().launchedAt(), name + ": boot clock from the resume");
        store.recordRunner(INSTANCE, "docker", 501L, InstanceState.REGISTERED, resumed);
        jobs.apply(new JobEvent(new JobKey(3, 4), JobStatus.SUCCESS, 9L, "t", "t", resumed, resumed,
                resumed.plusSeconds(9), null, 501L, INSTANCE, null, List.of("docker")), "docker", resumed.plusSeconds(10));
        assertEquals(resumed, jobs.instances("docker").getFirst().launchedAt(), name);

        // drained and returned to the warm pool
        Instant returned = resumed.plus(Duration.ofHours(2));
        store.returnToWarm(INSTANCE, "docker", returned);
        InstanceLifecycle back = store.lifecycle(INSTANCE).orElseThrow();
        assertEquals(InstanceState.WARM, back.state(), name);
        assertNull(back.runnerId(), name);
        assertEquals(2, back.drainAttempt(), name + ": the next drain gets a new execution name");
        seen.add(back);
        assertFalse(store.resumeFromWarm(INSTANCE, returned.plusSeconds(30), resumed.minusSeconds(2)),
                name + ": a late copy of the first resume event makes nothing for the stopped instance");
        assertFalse(store.markWarm(INSTANCE, "docker", T0), name + ": nor does a late warm-launch event move warmSince back");
        assertFalse(store.resumeFromWarm(INSTANCE, returned.plusSeconds(40), resumed.minusSeconds(2)), name);
        Instant again = resumed.plus(Duration.ofDays(1));
        assertTrue(store.resumeFromWarm(INSTANCE, again, again.minusSeconds(1)), name);
        InstanceRecord view = jobs.instances("docker").getFirst();
        assertEquals(again, view.launchedAt(), name);
        assertNull(view.lastJobFinishedAt(), name + ": idle since the resume, not since its last job before it");
        assertEquals(1, view.useCount(), name + ": uses count across resumes (max_use_count retires the instance)");
        seen.add(store.lifecycle(INSTANCE).orElseThrow());
        return seen;
    }

    @Test
    void setStateOfAnUnknownInstanceWritesNothing() {
        assertFalse(dynamo.setState(INSTANCE, InstanceState.GONE));
        assertEquals(Optional.empty(), dynamo.lifecycle(INSTANCE));
    }

    private static List<InstanceLifecycle> steps(InstanceLifecycleStore store) {
        InstanceLifecycle launching;
        store.recordRunner(INSTANCE, "docker", null, InstanceState.LAUNCHING, T0);
        launching = store.lifecycle(INSTANCE).orElseThrow();
        assertNull(launching.runnerId());
        assertEquals(1, launching.drainAttempt());
        store.recordRunner(INSTANCE, "docker", 501L, InstanceState.REGISTERED, T0);
        InstanceLifecycle registered = store.lifecycle(INSTANCE).orElseThrow();
        assertTrue(store.setState(INSTANCE, InstanceState.DRAINING));
        store.setRunnerPaused(INSTANCE, true);
        InstanceLifecycle paused = store.lifecycle(INSTANCE).orElseThrow();
        assertTrue(paused.runnerPaused());
        assertEquals(2, store.nextDrainAttempt(INSTANCE));
        assertEquals(3, store.nextDrainAttempt(INSTANCE));
        store.clearRunner(INSTANCE);
        InstanceLifecycle cleared = store.lifecycle(INSTANCE).orElseThrow();
        assertNull(cleared.runnerId());
        assertFalse(cleared.runnerPaused());
        assertTrue(store.setState(INSTANCE, InstanceState.GONE));
        return List.of(launching, registered, paused, cleared, store.lifecycle(INSTANCE).orElseThrow());
    }
}
