package io.runnerscale.it;

import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.store.DynamoJobStore;
import io.runnerscale.store.InstanceRecord;
import io.runnerscale.store.JobStore.ApplyOutcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The DynamoDB adapter's outcomes, on DynamoDB Local: what the store says it did is what it did. */
class DynamoJobStoreIntegrationTest {
    static final Instant T0 = Instant.parse("2026-01-07T12:00:00Z");
    static final String INSTANCE = "i-0123456789abcdef0";

    final String table = SharedDynamo.newTable("store");
    final DynamoJobStore store = new DynamoJobStore(SharedDynamo.client(), table, Duration.ofDays(7));

    @AfterEach
    void drop() {
        SharedDynamo.dropTable(table);
    }

    static JobEvent event(long job, JobStatus status, String instance) {
        return new JobEvent(new JobKey(380, job), status, 9L, "test", "test", T0, null,
                status.isTerminal() ? T0.plusSeconds(60) : null, null, instance == null ? null : 7L, instance, null,
                List.of("docker"));
    }

    @Test
    void appliedOutcomesCarryThePreviousStatusAndTheStoredRecord() {
        ApplyOutcome.Applied created = assertInstanceOf(ApplyOutcome.Applied.class,
                store.apply(event(1, JobStatus.PENDING, null), "docker", T0));
        assertNull(created.previous());
        assertEquals(JobStatus.PENDING, created.record().status());
        assertEquals("docker", created.record().pool());
        assertEquals(T0, created.record().pendingAt());

        ApplyOutcome.Applied running = assertInstanceOf(ApplyOutcome.Applied.class,
                store.apply(event(1, JobStatus.RUNNING, INSTANCE), "docker", T0.plusSeconds(5)));
        assertEquals(JobStatus.PENDING, running.previous());
        assertEquals(INSTANCE, running.record().instanceId());
        assertEquals(T0, running.record().pendingAt(), "kept from the pending event");
        assertEquals(List.of("docker"), running.record().tags());
    }

    @Test
    void aFinishedJobOnAnInstanceReportsItsPreviousStatusAndCountsOneUse() {
        store.apply(event(2, JobStatus.RUNNING, INSTANCE), "docker", T0);

        ApplyOutcome.Applied finished = assertInstanceOf(ApplyOutcome.Applied.class,
                store.apply(event(2, JobStatus.SUCCESS, INSTANCE), "docker", T0.plusSeconds(60)));
        assertEquals(JobStatus.RUNNING, finished.previous());
        assertEquals(JobStatus.SUCCESS, finished.record().status());

        ApplyOutcome.Stale duplicate = assertInstanceOf(ApplyOutcome.Stale.class,
                store.apply(event(2, JobStatus.SUCCESS, INSTANCE), "docker", T0.plusSeconds(61)));
        assertEquals(JobStatus.SUCCESS, duplicate.current());
        InstanceRecord instance = store.instances("docker").getFirst();
        assertEquals(1, instance.useCount(), "the duplicate counted nothing");
        assertEquals(T0.plusSeconds(60), instance.lastJobFinishedAt());
        assertEquals(List.of(), store.liveJobs("docker"), "a finished job leaves the live index");
    }

    @Test
    void instancesWhoseJobsMayBeUnknownAreRememberedUntilAJobIsSeenFinishing() {
        assertEquals(java.util.Optional.empty(), store.observePool("docker", T0), "never looked at before");
        assertEquals(java.util.Optional.of(T0), store.observePool("docker", T0.plusSeconds(60)));

        store.recordInstance("docker", INSTANCE, T0, T0.plusSeconds(60));
        store.recordInstance("docker", "i-0fedcba9876543210", T0);
        var byId = new java.util.HashMap<String, InstanceRecord>();
        store.instances("docker").forEach(i -> byId.put(i.instanceId(), i));
        assertEquals(T0.plusSeconds(60), byId.get(INSTANCE).unknownSince());
        assertEquals(false, byId.get(INSTANCE).stateKnown());
        assertEquals(true, byId.get("i-0fedcba9876543210").stateKnown());

        store.markStateUnknown("i-0fedcba9876543210", T0.plusSeconds(120));
        store.markStateUnknown("i-0000000000000dead", T0.plusSeconds(120));   // unknown id: no record appears
        store.apply(event(3, JobStatus.RUNNING, INSTANCE), "docker", T0.plusSeconds(100));
        store.apply(event(3, JobStatus.SUCCESS, INSTANCE), "docker", T0.plusSeconds(200));
        byId.clear();
        store.instances("docker").forEach(i -> byId.put(i.instanceId(), i));
        assertEquals(2, byId.size());
        assertEquals(true, byId.get(INSTANCE).stateKnown(), "a job finished on it after the doubt began");
        assertEquals(T0.plusSeconds(200), byId.get(INSTANCE).lastJobFinishedAt(), "the time the finish was received");
        assertEquals(false, byId.get("i-0fedcba9876543210").stateKnown());
    }
}
