package io.runnerscale.reconcile;

import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.reconcile.ReconcilePolicy.PoolJob;
import io.runnerscale.reconcile.ReconcileReport.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reconciler's pure decisions: what is stale, in which order, what a gone job becomes. */
class ReconcilePolicyTest {
    static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
    static final ReconcileSettings S = ReconcileSettings.DEFAULTS;

    static JobRecord record(long id, JobStatus status, Instant updatedAt) {
        return new JobRecord(new JobKey(380, id), status, "docker", List.of("docker"), 6L, "rspec",
                NOW.minus(Duration.ofHours(5)), NOW.minus(Duration.ofHours(5)), status == JobStatus.PENDING ? null
                : NOW.minus(Duration.ofHours(4)), null, status == JobStatus.PENDING ? null : 32L,
                status == JobStatus.PENDING ? null : "i-0123456789abcdef0", updatedAt);
    }

    @Test
    void staleFromTheThresholdOnByStatus() {
        assertFalse(ReconcilePolicy.isStale(record(1, JobStatus.PENDING, NOW.minusSeconds(299)), NOW, S));
        assertTrue(ReconcilePolicy.isStale(record(1, JobStatus.PENDING, NOW.minusSeconds(300)), NOW, S));
        assertFalse(ReconcilePolicy.isStale(record(1, JobStatus.RUNNING, NOW.minusSeconds(3_599)), NOW, S));
        assertTrue(ReconcilePolicy.isStale(record(1, JobStatus.RUNNING, NOW.minusSeconds(3_600)), NOW, S));
        assertFalse(ReconcilePolicy.isStale(record(1, JobStatus.CANCELING, NOW.minusSeconds(599)), NOW, S));
        assertTrue(ReconcilePolicy.isStale(record(1, JobStatus.CANCELING, NOW.minusSeconds(600)), NOW, S));
    }

    @Test
    void aRecordWithoutItsLastEventTimeIsStale() {
        assertTrue(ReconcilePolicy.isStale(record(1, JobStatus.RUNNING, null), NOW, S));
    }

    @ParameterizedTest
    @EnumSource(value = JobStatus.class, names = {"PENDING", "RUNNING", "CANCELING"}, mode = EnumSource.Mode.EXCLUDE)
    void onlyLiveJobsAreEverStale(JobStatus status) {
        assertFalse(ReconcilePolicy.isStale(record(1, status, NOW.minus(Duration.ofDays(30))), NOW, S));
        assertNull(ReconcilePolicy.threshold(status, S));
    }

    @Test
    void oldestLastEventFirstThenByKeyAndQuietJobsLeftOut() {
        Instant old = NOW.minus(Duration.ofHours(3));
        List<PoolJob> live = List.of(
                new PoolJob("docker", record(9, JobStatus.PENDING, NOW.minus(Duration.ofMinutes(10)))),
                new PoolJob("gpu", record(8, JobStatus.RUNNING, old)),
                new PoolJob("docker", record(7, JobStatus.RUNNING, old)),
                new PoolJob("docker", record(6, JobStatus.PENDING, NOW.minusSeconds(60))),
                new PoolJob("gpu", record(5, JobStatus.RUNNING, null)),
                new PoolJob("gpu", record(4, JobStatus.RUNNING, NOW.minus(Duration.ofHours(9)))));
        Map<JobKey, Instant> quiet = Map.of(new JobKey(380, 4), NOW.plusSeconds(1));

        List<Long> order = ReconcilePolicy.stale(live, NOW, S, quiet).stream().map(p -> p.job().key().jobId()).toList();

        assertEquals(List.of(5L, 7L, 8L, 9L), order, "no time first, then oldest, ties by key; 6 is fresh, 4 quiet");
        assertEquals(List.of(5L, 4L, 7L, 8L, 9L), ReconcilePolicy.stale(live, NOW, S,
                Map.of(new JobKey(380, 4), NOW)).stream().map(p -> p.job().key().jobId()).toList(),
                "quiet until now means asked now");
    }

    @Test
    void aGoneJobIsCanceledWithWhatTheRecordKnowsAndItsInstance() {
        JobRecord running = record(1, JobStatus.RUNNING, NOW.minus(Duration.ofHours(2)));

        JobEvent gone = ReconcilePolicy.goneEvent(running);

        assertEquals(running.key(), gone.key());
        assertEquals(JobStatus.CANCELED, gone.status());
        assertEquals(ReconcilePolicy.GONE_REASON, gone.failureReason());
        assertEquals("i-0123456789abcdef0", gone.instanceId());
        assertEquals(32L, gone.runnerId());
        assertEquals(List.of("docker"), gone.tags());
        assertNull(gone.finishedAt(), "no finish time is made up");
        assertNull(ReconcilePolicy.goneEvent(record(2, JobStatus.PENDING, NOW)).instanceId());
    }

    @Test
    void aMissingProjectIsGoneOnlyAfterItsLongerWait() {
        assertFalse(ReconcilePolicy.projectGone(record(1, JobStatus.RUNNING, NOW.minus(Duration.ofHours(23))), NOW, S));
        assertTrue(ReconcilePolicy.projectGone(record(1, JobStatus.RUNNING, NOW.minus(Duration.ofHours(24))), NOW, S));
    }

    @Test
    void repairKindsByTheStatusReached() {
        assertEquals(Kind.TO_RUNNING, ReconcilePolicy.repairKind(JobStatus.RUNNING));
        assertEquals(Kind.TO_CANCELING, ReconcilePolicy.repairKind(JobStatus.CANCELING));
        for (JobStatus finished : List.of(JobStatus.SUCCESS, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.SKIPPED)) {
            assertEquals(Kind.TO_FINISHED, ReconcilePolicy.repairKind(finished));
        }
    }

    @Test
    void settingsRefuseNegativeValues() {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> S.withBudget(-1));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> new ReconcileSettings(
                Duration.ofMinutes(-1), Duration.ofHours(1), Duration.ofMinutes(10), 1, Duration.ofHours(1), 1));
    }
}
