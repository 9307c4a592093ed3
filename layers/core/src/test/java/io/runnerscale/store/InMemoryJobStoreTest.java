package io.runnerscale.store;

import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.store.JobStore.ApplyOutcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static io.runnerscale.job.JobStatus.CANCELED;
import static io.runnerscale.job.JobStatus.CANCELING;
import static io.runnerscale.job.JobStatus.CREATED;
import static io.runnerscale.job.JobStatus.FAILED;
import static io.runnerscale.job.JobStatus.MANUAL;
import static io.runnerscale.job.JobStatus.PENDING;
import static io.runnerscale.job.JobStatus.PREPARING;
import static io.runnerscale.job.JobStatus.RUNNING;
import static io.runnerscale.job.JobStatus.SCHEDULED;
import static io.runnerscale.job.JobStatus.SKIPPED;
import static io.runnerscale.job.JobStatus.SUCCESS;
import static io.runnerscale.job.JobStatus.WAITING_FOR_RESOURCE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InMemoryJobStoreTest {
    static final Instant T0 = Instant.parse("2026-01-07T12:00:00Z");
    static final JobKey JOB = new JobKey(42, 1);
    static final String I1 = "i-0123456789abcdef0";
    static final String I2 = "i-0fedcba9876543210";

    final InMemoryJobStore store = new InMemoryJobStore();

    static JobEvent event(JobKey key, JobStatus status, String runner) {
        return new JobEvent(key, status, null, null, null, null, null, null, null, runner == null ? null : 5L, runner,
                null, null);
    }

    static JobEvent event(JobStatus status) {
        return event(JOB, status, null);
    }

    static Instant at(int minutes) {
        return T0.plus(Duration.ofMinutes(minutes));
    }

    // ---- status only moves forward ------------------------------------------------------------------

    /** The order of the design notes: created < pending < running < success|failed|canceled|skipped. */
    static final List<List<JobStatus>> ORDER = List.of(
            List.of(CREATED),
            List.of(WAITING_FOR_RESOURCE, PREPARING, SCHEDULED, MANUAL),
            List.of(PENDING),
            List.of(RUNNING),
            List.of(CANCELING),
            List.of(SUCCESS, FAILED, CANCELED, SKIPPED));

    static int step(JobStatus status) {
        for (int i = 0; i < ORDER.size(); i++) {
            if (ORDER.get(i).contains(status)) {
                return i;
            }
        }
        throw new AssertionError(status + " is missing from ORDER");
    }

    static Stream<Arguments> statusPairs() {
        List<Arguments> pairs = new ArrayList<>();
        for (JobStatus from : JobStatus.values()) {
            for (JobStatus to : JobStatus.values()) {
                pairs.add(Arguments.of(from, to, step(to) > step(from)));
            }
        }
        return pairs.stream();
    }

    @ParameterizedTest(name = "{0} then {1}: applied {2}")
    @MethodSource("statusPairs")
    void statusOnlyMovesForward(JobStatus first, JobStatus second, boolean applied) {
        store.apply(event(first), "docker", at(0));
        ApplyOutcome outcome = store.apply(event(second), "docker", at(1));
        if (applied) {
            ApplyOutcome.Applied a = assertInstanceOf(ApplyOutcome.Applied.class, outcome);
            assertEquals(first, a.previous());
            assertEquals(second, store.find(JOB).orElseThrow().status());
        } else {
            assertEquals(new ApplyOutcome.Stale(first), outcome);
            assertEquals(first, store.find(JOB).orElseThrow().status());
            assertEquals(at(0), store.find(JOB).orElseThrow().updatedAt(), "a stale event writes nothing");
        }
    }

    @Test
    void aNewJobIsAppliedWithoutPrevious() {
        ApplyOutcome.Applied a = assertInstanceOf(ApplyOutcome.Applied.class, store.apply(event(RUNNING), "docker", T0));
        assertNull(a.previous());
        assertEquals(RUNNING, a.record().status());
    }

    @Test
    void laterEventsKeepWhatEarlierOnesKnew() {
        JobEvent pending = new JobEvent(JOB, PENDING, 900L, "build", "test", T0.minusSeconds(60), null, null, 1.5,
                null, null, null, List.of("docker"));
        store.apply(pending, "docker", at(0));
        store.apply(new JobEvent(JOB, RUNNING, null, null, null, null, at(1), null, null, 5L, I1, null, null),
                null, at(1));
        store.apply(new JobEvent(JOB, SUCCESS, null, null, null, null, null, at(3), null, null, null, null, null),
                null, at(3));

        JobRecord r = store.find(JOB).orElseThrow();
        assertEquals(SUCCESS, r.status());
        assertEquals("docker", r.pool(), "a null pool keeps the known one");
        assertEquals(List.of("docker"), r.tags());
        assertEquals(900L, r.pipelineId());
        assertEquals("build", r.name());
        assertEquals(T0.minusSeconds(60), r.createdAt());
        assertEquals(at(0), r.pendingAt(), "when the job became pending, by the store's clock");
        assertEquals(at(1), r.startedAt());
        assertEquals(at(3), r.finishedAt());
        assertEquals(5L, r.runnerId());
        assertEquals(I1, r.instanceId());
        assertEquals(at(3), r.updatedAt());
    }

    @Test
    void pendingAtIsOnlySetByAPendingEvent() {
        store.apply(event(RUNNING), "docker", at(0));
        assertNull(store.find(JOB).orElseThrow().pendingAt());
    }

    // ---- live index ---------------------------------------------------------------------------------

    @Test
    void onlyPendingRunningAndCancelingJobsAreLive() {
        store.apply(event(CREATED), "docker", at(0));
        assertEquals(List.of(), store.liveJobs("docker"));
        store.apply(event(PENDING), "docker", at(1));
        assertEquals(List.of(PENDING), statuses("docker"));
        store.apply(event(RUNNING), "docker", at(2));
        assertEquals(List.of(RUNNING), statuses("docker"));
        store.apply(event(CANCELING), "docker", at(3));
        assertEquals(List.of(CANCELING), statuses("docker"));
        store.apply(event(CANCELED), "docker", at(4));
        assertEquals(List.of(), store.liveJobs("docker"));
        assertTrue(store.find(JOB).isPresent(), "the record stays");
    }

    @Test
    void liveJobsArePerPool() {
        store.apply(event(new JobKey(1, 1), PENDING, null), "docker", T0);
        store.apply(event(new JobKey(1, 2), RUNNING, null), "docker", T0);
        store.apply(event(new JobKey(1, 3), PENDING, null), "fargate", T0);
        store.apply(event(new JobKey(1, 4), PENDING, null), null, T0);
        assertEquals(List.of(1L, 2L), jobIds("docker"));
        assertEquals(List.of(3L), jobIds("fargate"));
        assertEquals(List.of(), store.liveJobs("gpu"));
    }

    @Test
    void aJobMovesToItsNewPool() {
        store.apply(event(PENDING), "docker", at(0));
        store.apply(event(RUNNING), "fargate", at(1));
        assertEquals(List.of(), store.liveJobs("docker"));
        assertEquals(List.of(RUNNING), statuses("fargate"));
        assertEquals("fargate", store.find(JOB).orElseThrow().pool());
    }

    @Test
    void aStaleEventDoesNotMoveTheJobsPool() {
        store.apply(event(RUNNING), "docker", at(0));
        store.apply(event(PENDING), "fargate", at(1));
        assertEquals(List.of(RUNNING), statuses("docker"));
        assertEquals(List.of(), store.liveJobs("fargate"));
    }

    @Test
    void liveRecordsAreTheCurrentOnes() {
        store.apply(event(PENDING), "docker", at(0));
        store.apply(event(JOB, RUNNING, I1), "docker", at(1));
        JobRecord live = store.liveJobs("docker").getFirst();
        assertEquals(RUNNING, live.status());
        assertEquals(I1, live.instanceId());
    }

    // ---- instance use --------------------------------------------------------------------------------

    @Test
    void aFinishedJobOnAnInstanceCountsOneUse() {
        store.recordInstance("docker", I1, T0);
        JobKey a = new JobKey(42, 1);
        JobKey b = new JobKey(42, 2);
        store.apply(event(a, RUNNING, I1), "docker", at(1));
        assertEquals(0, instance("docker", I1).useCount(), "running is no use yet");

        JobEvent finished = new JobEvent(a, SUCCESS, null, null, null, null, null, at(5), null, 5L, I1, null, null);
        store.apply(finished, "docker", at(6));
        InstanceRecord once = instance("docker", I1);
        assertEquals(1, once.useCount());
        assertEquals(at(6), once.lastJobFinishedAt(), "idle since the finish was received, not the payload's time");
        assertEquals(at(5), store.find(a).orElseThrow().finishedAt(), "the payload's time is kept as sent");
        assertEquals(T0, once.launchedAt());

        store.apply(finished, "docker", at(7));                      // duplicate
        store.apply(event(a, FAILED, I1), "docker", at(8));          // another terminal status of the same job
        assertEquals(1, instance("docker", I1).useCount());
        assertEquals(at(6), instance("docker", I1).lastJobFinishedAt());

        store.apply(event(b, FAILED, I1), "docker", at(9));          // another job, no finish time: received at(9)
        assertEquals(2, instance("docker", I1).useCount());
        assertEquals(at(9), instance("docker", I1).lastJobFinishedAt());
    }

    @Test
    void aFinishedJobWithoutOurInstanceCountsNothing() {
        store.recordInstance("docker", I1, T0);
        store.apply(event(JOB, SUCCESS, "shared-runners-manager-6.gitlab.com"), "docker", at(1));
        store.apply(event(new JobKey(42, 2), SUCCESS, null), "docker", at(1));
        assertEquals(0, instance("docker", I1).useCount());
        assertEquals(1, store.instances("docker").size());
    }

    @Test
    void aFinishedJobOnAnUnseenInstanceCreatesItsRecord() {
        store.apply(event(JOB, CANCELED, I2), "docker", at(1));
        InstanceRecord r = instance("docker", I2);
        assertEquals(1, r.useCount());
        assertNull(r.launchedAt());
        // the scaler seeing it later keeps the count and fills in the launch time
        store.recordInstance("docker", I2, T0);
        assertEquals(1, instance("docker", I2).useCount());
        assertEquals(T0, instance("docker", I2).launchedAt());
    }

    @Test
    void recordInstanceKeepsWhatIsKnown() {
        store.recordInstance("docker", I1, T0);
        store.recordInstance("docker", I1, at(30));
        assertEquals(T0, instance("docker", I1).launchedAt());
        assertEquals(0, instance("docker", I1).useCount());
        assertNull(instance("docker", I1).lastJobFinishedAt());
    }

    @Test
    void instancesArePerPoolAndCanBeForgotten() {
        store.recordInstance("docker", I1, T0);
        store.recordInstance("fargate", I2, T0);
        assertEquals(List.of(I1), store.instances("docker").stream().map(InstanceRecord::instanceId).toList());
        assertEquals(List.of(I2), store.instances("fargate").stream().map(InstanceRecord::instanceId).toList());
        store.forgetInstance(I1);
        assertEquals(List.of(), store.instances("docker"));
        assertEquals(1, store.instances("fargate").size());
    }

    // ---- deliveries ----------------------------------------------------------------------------------

    @Test
    void aDeliveryIsClaimedOnceUntilReleased() {
        assertTrue(store.claimDelivery("d-1", T0));
        assertFalse(store.claimDelivery("d-1", at(1)));
        assertTrue(store.claimDelivery("d-2", at(1)));
        store.releaseDelivery("d-1");
        assertTrue(store.claimDelivery("d-1", at(2)));
    }

    // ---- helpers -------------------------------------------------------------------------------------

    List<JobStatus> statuses(String pool) {
        return store.liveJobs(pool).stream().map(JobRecord::status).toList();
    }

    List<Long> jobIds(String pool) {
        return store.liveJobs(pool).stream().map(r -> r.key().jobId()).sorted().toList();
    }

    InstanceRecord instance(String pool, String id) {
        return store.instances(pool).stream().filter(i -> i.instanceId().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError(id + " not in pool " + pool + ": " + store.instances(pool)));
    }
}
