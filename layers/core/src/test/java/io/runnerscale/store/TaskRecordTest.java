package io.runnerscale.store;

import io.runnerscale.compute.TaskEvent;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.compute.TaskState;
import io.runnerscale.job.JobKey;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How an ECS event moves a task record on (both stores apply it through {@link TaskRecord#with}). */
class TaskRecordTest {
    static final Instant T = Instant.parse("2026-01-07T12:00:00Z");
    static final TaskKey KEY = new TaskKey(new JobKey(1, 2), 1);
    static final String ARN = "arn:aws:ecs:r:1:task/ci/0123456789abcdef0123456789abcdef";

    static TaskEvent event(long version, String last, String desired, String stopCode, String reason, Integer exit,
                           String arn, String provider) {
        return new TaskEvent(KEY, arn, last, desired, stopCode, reason, null, exit, provider, version, T);
    }

    @Test
    void aClaimFollowsItsTask() {
        TaskRecord claimed = TaskRecord.claimed(KEY, "f", T);
        assertEquals(TaskState.CLAIMED, claimed.state());
        assertNull(claimed.taskArn());
        TaskRecord running = claimed.with(event(2, "RUNNING", "RUNNING", null, null, null, ARN, "FARGATE_SPOT"),
                T.plusSeconds(40));
        assertEquals(TaskState.RUNNING, running.state());
        assertEquals(ARN, running.taskArn());
        assertEquals("FARGATE_SPOT", running.capacityProvider());
        assertEquals(2, running.eventVersion());
        assertNull(running.stoppedAt());
        assertNull(running.reason(), "no reason while it runs");
        assertEquals(T, running.claimedAt());
    }

    @Test
    void whatAnEventLacksIsKept() {
        TaskRecord running = TaskRecord.claimed(KEY, "f", T)
                .with(event(2, "RUNNING", "RUNNING", null, null, null, ARN, "FARGATE"), T);
        TaskRecord later = running.with(event(3, "RUNNING", "RUNNING", null, null, null, null, null), T);
        assertEquals(ARN, later.taskArn());
        assertEquals("FARGATE", later.capacityProvider());
    }

    @Test
    void stoppedOnceWithItsReasonAndTime() {
        TaskRecord stopped = TaskRecord.claimed(KEY, "f", T).with(event(5, "STOPPED", "STOPPED",
                "EssentialContainerExited", "Essential container in task exited", 0, ARN, null), T.plusSeconds(300));
        assertEquals(TaskState.STOPPED, stopped.state());
        assertEquals(T.plusSeconds(300), stopped.stoppedAt());
        assertEquals("EssentialContainerExited: Essential container in task exited", stopped.reason());
        assertFalse(stopped.failed());
        // a repeat of the stop later keeps the first stop time
        TaskRecord again = stopped.with(event(6, "STOPPED", "STOPPED", "EssentialContainerExited", null, 0, ARN, null),
                T.plusSeconds(900));
        assertEquals(T.plusSeconds(300), again.stoppedAt());
    }

    @Test
    void stoppingKeepsTheStopCodeAsReason() {
        TaskRecord stopping = TaskRecord.claimed(KEY, "f", T).with(event(4, "RUNNING", "STOPPED",
                "UserInitiated", "runnerscale: idle", null, ARN, null), T);
        assertEquals(TaskState.STOPPING, stopping.state());
        assertEquals("UserInitiated: runnerscale: idle", stopping.reason());
        assertNull(stopping.stoppedAt());
    }

    @Test
    void failureAndInterruptionStick() {
        TaskRecord failed = TaskRecord.claimed(KEY, "f", T).with(event(3, "STOPPED", "STOPPED", "TaskFailedToStart",
                "ResourceInitializationError: unable to pull secrets", null, ARN, null), T);
        assertTrue(failed.failed());
        assertTrue(failed.with(event(4, "STOPPED", "STOPPED", null, null, null, ARN, null), T).failed());
        TaskRecord interrupted = TaskRecord.claimed(KEY, "f", T).with(event(3, "RUNNING", "STOPPED",
                TaskEvent.SPOT_INTERRUPTION, "Your Spot Task was interrupted.", null, ARN, "FARGATE_SPOT"), T);
        assertTrue(interrupted.interrupted());
        assertFalse(interrupted.failed());
        TaskRecord gone = interrupted.with(event(5, "STOPPED", "STOPPED", null, null, null, ARN, null), T);
        assertTrue(gone.interrupted());
        assertFalse(gone.serving());
    }
}
