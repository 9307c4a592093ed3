package io.runnerscale.reconcile;

import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.reconcile.ReconcileReport.Kind;
import io.runnerscale.reconcile.ReconcileReport.Stop;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reconciler's report and settings: what counts as a repair, what cuts a run short, the log line. */
class ReconcileReportTest {

    @Test
    void onlyChangesOfTheStoreAreRepairs() {
        Set<Kind> repairs = EnumSet.of(Kind.TO_RUNNING, Kind.TO_CANCELING, Kind.TO_FINISHED, Kind.GONE,
                Kind.DISCOVERED);
        for (Kind kind : Kind.values()) {
            assertEquals(repairs.contains(kind), kind.isRepair(), kind.name());
        }
    }

    @Test
    void everyStopButCompleteCutsTheRunShort() {
        for (Stop stop : Stop.values()) {
            assertEquals(stop != Stop.COMPLETE, stop.cutShort(), stop.name());
        }
    }

    @Test
    void countsSumUpAndTheSummarySaysWhatHappened() {
        ReconcileReport report = new ReconcileReport(9, Map.of(Kind.TO_RUNNING, 2, Kind.GONE, 1, Kind.UNCHANGED, 3,
                Kind.PROJECT_MISSING, 1), 2, Stop.RATE_LIMITED, Duration.ofSeconds(42), "429 from GitLab",
                List.of(new ReconcileReport.Repair(new JobKey(1, 2), "docker", JobStatus.PENDING, JobStatus.RUNNING,
                        Kind.TO_RUNNING)), 0);
        assertEquals(7, report.checked());
        assertEquals(3, report.repaired());
        assertEquals(0, report.count(Kind.TO_FINISHED), "every kind is counted, zero when none");
        assertEquals(Optional.of(Duration.ofSeconds(42)), report.retryAfterIfSaid());
        String summary = report.summary();
        assertTrue(summary.startsWith("reconciler: 9 stale, 7 checked, 3 repaired"), summary);
        assertTrue(summary.contains("2 left for the next run; projects: 0 listed, 0 left, hooks not checked (no hook "
                + "URL); RATE_LIMITED (retry after 42 s): 429 from GitLab"), summary);
        ReconcileReport complete = new ReconcileReport(0, Map.of(), 0, Stop.COMPLETE, null, null, List.of(), 0);
        assertEquals(Optional.empty(), complete.retryAfterIfSaid());
        assertTrue(complete.summary().endsWith("0 left for the next run; projects: 0 listed, 0 left, hooks not checked "
                + "(no hook URL); COMPLETE"), complete.summary());
        assertThrows(UnsupportedOperationException.class, () -> complete.counts().put(Kind.GONE, 1));
    }

    @Test
    void settingsRefuseNegativeValuesNamingThem() {
        ReconcileSettings d = ReconcileSettings.DEFAULTS;
        assertEquals(Duration.ofMinutes(5), d.pendingAfter());
        assertEquals(Duration.ofHours(1), d.runningAfter());
        assertEquals(100, d.budget());
        assertEquals(7, d.withBudget(7).budget());
        assertEquals(d.pendingAfter(), d.withBudget(7).pendingAfter());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class, () -> new ReconcileSettings(
                Duration.ofMinutes(-1), d.runningAfter(), d.cancelingAfter(), 1, d.projectGoneAfter(), 1));
        assertTrue(negative.getMessage().contains("thresholds"));
        for (int[] bad : new int[][]{{-1, 1}, {1, -1}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ReconcileSettings(
                    d.pendingAfter(), d.runningAfter(), d.cancelingAfter(), bad[0], d.projectGoneAfter(), bad[1]));
            assertTrue(e.getMessage().contains("budget"));
        }
        for (Duration[] bad : new Duration[][]{{Duration.ofHours(-1), Duration.ZERO, Duration.ZERO},
                {Duration.ZERO, Duration.ofHours(-1), Duration.ZERO}, {Duration.ZERO, Duration.ZERO, Duration.ofHours(-1)}}) {
            assertThrows(IllegalArgumentException.class, () -> new ReconcileSettings(Duration.ZERO, bad[0], bad[1], 1,
                    bad[2], 1));
        }
        assertFalse(new ReconcileSettings(Duration.ZERO, Duration.ZERO, Duration.ZERO, 0, Duration.ZERO, 0)
                .budget() != 0);
    }
}
