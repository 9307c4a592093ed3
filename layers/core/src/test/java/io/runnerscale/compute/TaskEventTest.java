package io.runnerscale.compute;

import io.runnerscale.job.JobKey;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TaskEventTest {
    static final TaskKey KEY = new TaskKey(new JobKey(1, 2), 1);

    static TaskEvent event(String last, String desired, String stopCode, String containerReason, Integer exit) {
        return new TaskEvent(KEY, "arn", last, desired, stopCode, null, containerReason, exit, null, 1, Instant.EPOCH);
    }

    @Test
    void onlyAStoppedTaskOrOneThatFailedToStartHasFailed() {
        // an error reason while the task is still stopping: judged once it has stopped
        assertFalse(event("RUNNING", "STOPPED", "EssentialContainerExited", "OutOfMemoryError", 137).failed());
        assertTrue(event("STOPPED", "STOPPED", "EssentialContainerExited", "OutOfMemoryError", 137).failed());
        assertTrue(event("PENDING", "STOPPED", "TaskFailedToStart", null, null).failed());
    }

    @Test
    void aBlankContainerReasonAndExitZeroIsANormalEnd() {
        assertFalse(event("STOPPED", "STOPPED", "EssentialContainerExited", "  ", 0).failed());
        assertFalse(event("STOPPED", "STOPPED", "EssentialContainerExited", null, null).failed());
        assertTrue(event("STOPPED", "STOPPED", "EssentialContainerExited", null, 2).failed());
    }

    @Test
    void stopsSomeoneAskedForAreNotFailures() {
        assertFalse(event("STOPPED", "STOPPED", "UserInitiated", "x", 143).failed());
        assertFalse(event("STOPPED", "STOPPED", "TerminationNotice", "x", 143).failed());
        assertFalse(event("STOPPED", "STOPPED", TaskEvent.SPOT_INTERRUPTION, "x", 143).failed());
    }

    @Test
    void theReasonNamesAnExitCodeOnlyWhenItIsNotZero() {
        assertEquals("EssentialContainerExited", event("STOPPED", "STOPPED", "EssentialContainerExited", null, 0).reason());
        assertEquals("EssentialContainerExited: OutOfMemoryError; exit code 137",
                event("STOPPED", "STOPPED", "EssentialContainerExited", "OutOfMemoryError", 137).reason());
        assertEquals("exit code 1", event("STOPPED", "STOPPED", null, null, 1).reason());
        assertEquals("", event("RUNNING", "RUNNING", null, null, null).reason());
    }
}
