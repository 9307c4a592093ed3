package io.runnerscale.lifecycle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.compute.TaskEvent;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.compute.TaskState;
import io.runnerscale.gitlab.CreatedRunner;
import io.runnerscale.gitlab.GitLabRunners;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.gitlab.RunnerInfo;
import io.runnerscale.gitlab.RunnerOwner;
import io.runnerscale.gitlab.RunnerSpec;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.TestPools;
import io.runnerscale.scaling.ScaleRequests;
import io.runnerscale.store.InMemoryJobStore;
import io.runnerscale.store.TaskRecord;
import io.runnerscale.testing.MutableClock;
import io.runnerscale.testing.SharedFiles;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ECS task events, built from the real "ECS Task State Change" fixture, through {@link LifecycleEvents}. */
class TaskLifecycleTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Instant NOW = Instant.parse("2026-01-07T12:00:00Z");
    static final String ARN = "arn:aws:ecs:us-west-2:111122223333:task/FargateCluster/c13b4cb40f1f4fe4a2971f76ae5a47ad";
    static final String SYSTEM_ID = "s_c13b4cb40f1f";
    static final TaskKey KEY = new TaskKey(new JobKey(7, 100), 1);

    /** GitLab's runner-manager job list, cancel and retry; the rest is not used here. */
    static final class ManagerGitLab implements GitLabRunners {
        final List<String> calls = new ArrayList<>();
        List<JobKey> running = List.of();
        boolean down;

        @Override
        public List<JobKey> runningJobs(long runnerId, String systemId) {
            if (down) {
                throw new GitLabUnavailableException("503", null);
            }
            calls.add("jobs " + runnerId + " " + systemId);
            return running;
        }

        @Override
        public void cancelJob(JobKey job) {
            calls.add("cancel " + job.jobId());
        }

        @Override
        public Optional<JobKey> retryJob(JobKey job) {
            calls.add("retry " + job.jobId());
            return Optional.of(new JobKey(job.projectId(), job.jobId() + 1000));
        }

        @Override public CreatedRunner createRunner(RunnerSpec spec) { throw new AssertionError(); }
        @Override public void setPaused(long runnerId, boolean paused) { throw new AssertionError(); }
        @Override public List<JobKey> runningJobs(long runnerId) { throw new AssertionError(); }
        @Override public void deleteRunner(long runnerId) { throw new AssertionError(); }
        @Override public List<RunnerInfo> runnersOf(RunnerOwner owner) { throw new AssertionError(); }
    }

    final InMemoryJobStore store = new InMemoryJobStore();
    final ManagerGitLab gitlab = new ManagerGitLab();
    final List<String> scaleRequests = new ArrayList<>();
    final PoolConfig pool = TestPools.fargate("f", 10, 3, true);
    LifecycleEvents events;

    @BeforeEach
    void setUp() {
        ScaleRequests requests = new ScaleRequests() {
            @Override
            public void request(String p, String reason, String dedupeId) {
                scaleRequests.add(p + " " + dedupeId);
            }
        };
        TaskLifecycle tasks = new TaskLifecycle(() -> new PoolsConfig(List.of(pool)), store, store, gitlab, requests,
                new MutableClock(NOW));
        events = new LifecycleEvents(null, tasks, null, JSON);
        store.claimTask("f", KEY, NOW);
        store.taskStarted(KEY, ARN, "FARGATE_SPOT");
    }

    /** The fixture, as a task runnerscale started, with the given status fields. */
    static ObjectNode event(int version, String lastStatus, String desiredStatus, String stopCode, String stoppedReason,
                            Integer exitCode, String containerReason) throws Exception {
        ObjectNode event = (ObjectNode) JSON.readTree(SharedFiles.read(SharedFiles.fixture(
                "aws/ecs-task-state-change.awsdocs.json")));
        ObjectNode detail = (ObjectNode) event.get("detail");
        detail.put("startedBy", KEY.startedBy()).put("version", version).put("lastStatus", lastStatus)
                .put("desiredStatus", desiredStatus);
        if (stopCode != null) {
            detail.put("stopCode", stopCode);
        }
        if (stoppedReason != null) {
            detail.put("stoppedReason", stoppedReason);
        }
        ObjectNode container = (ObjectNode) detail.get("containers").get(0);
        if (exitCode != null) {
            container.put("exitCode", exitCode);
        }
        if (containerReason != null) {
            container.put("reason", containerReason);
        }
        return event;
    }

    String handle(JsonNode event) {
        return events.handle(event).get("result").asText();
    }

    TaskRecord record() {
        return store.task(KEY).orElseThrow();
    }

    @Test
    void theFixtureParses() throws Exception {
        TaskEvent e = LifecycleEvents.taskEvent(event(4, "RUNNING", "RUNNING", null, null, null, null)).orElseThrow();
        assertEquals(KEY, e.key());
        assertEquals(ARN, e.taskArn());
        assertEquals(TaskState.RUNNING, e.state());
        assertEquals(4, e.version());
        assertFalse(e.failed());
        assertEquals(Optional.of(SYSTEM_ID), TaskKey.systemId(e.taskArn()));
    }

    @Test
    void runningThenANormalStop() throws Exception {
        assertEquals("RUNNING", handle(event(4, "RUNNING", "RUNNING", null, null, null, null)));
        assertEquals(TaskState.RUNNING, record().state());
        assertEquals(List.of(), scaleRequests);
        assertEquals("STOPPED", handle(event(6, "STOPPED", "STOPPED", "EssentialContainerExited",
                "Essential container in task exited", 0, null)));
        assertEquals(TaskState.STOPPED, record().state());
        assertFalse(record().failed());
        assertEquals(1, scaleRequests.size(), "a freed slot asks for a decision");
        assertEquals(List.of(), gitlab.calls);
    }

    @Test
    void eventsOutOfOrderNeverGoBack() throws Exception {
        handle(event(6, "STOPPED", "STOPPED", "EssentialContainerExited", null, 0, null));
        assertEquals("STALE", handle(event(4, "RUNNING", "RUNNING", null, null, null, null)));
        assertEquals(TaskState.STOPPED, record().state());
        assertEquals("STALE", handle(event(6, "STOPPED", "STOPPED", "EssentialContainerExited", null, 0, null)));
        assertEquals(1, scaleRequests.size());
    }

    @Test
    void aTaskThatFailedToStartIsAFailedAttemptWithItsReason() throws Exception {
        assertEquals("FAILED", handle(event(3, "STOPPED", "STOPPED", "TaskFailedToStart",
                "CannotPullContainerError: pull image manifest has been retried 5 time(s)", null, null)));
        assertTrue(record().failed());
        assertTrue(record().reason().startsWith("TaskFailedToStart: CannotPullContainerError"), record().reason());
        assertEquals(1, scaleRequests.size());
    }

    @Test
    void aRunnerThatExitsNonZeroOrAContainerErrorIsAFailure() throws Exception {
        assertEquals("FAILED", handle(event(3, "STOPPED", "STOPPED", "EssentialContainerExited", null, 1, null)));
        assertTrue(record().reason().contains("exit code 1"), record().reason());
        TaskEvent oom = LifecycleEvents.taskEvent(event(3, "STOPPED", "STOPPED", "EssentialContainerExited", null, 137,
                "OutOfMemoryError: Container killed due to memory usage")).orElseThrow();
        assertTrue(oom.failed());
        TaskEvent userStop = LifecycleEvents.taskEvent(event(3, "STOPPED", "STOPPED", "UserInitiated", "runnerscale: idle",
                143, null)).orElseThrow();
        assertFalse(userStop.failed(), "a stop someone asked for is not the task's failure");
    }

    @Test
    void aSpotInterruptionCancelsAndRetriesTheTasksJobFoundBySystemId() throws Exception {
        // the pool's runner (id 55) is known from a running job
        store.apply(new JobEvent(new JobKey(7, 200), JobStatus.RUNNING, null, null, null, null, NOW, null, null,
                55L, "runnerscale", null, List.of("fargate")), "f", NOW);
        gitlab.running = List.of(new JobKey(7, 200));
        assertEquals("INTERRUPTED", handle(event(5, "RUNNING", "STOPPED", "SpotInterruption",
                "Your Spot Task was interrupted.", null, null)));
        assertEquals(List.of("jobs 55 " + SYSTEM_ID, "cancel 200", "retry 200"), gitlab.calls);
        assertTrue(record().interrupted());
        assertFalse(record().serving());
        assertTrue(scaleRequests.stream().anyMatch(r -> r.equals("f retry-7-1200")), scaleRequests.toString());
    }

    @Test
    void aFailureKnownOnlyWhenTheStoppingTaskHasStoppedAsksForADecisionAgain() throws Exception {
        assertEquals("STOPPING", handle(event(4, "DEACTIVATING", "STOPPED", "EssentialContainerExited", null, null, null)));
        assertEquals(1, scaleRequests.size());
        assertEquals("FAILED", handle(event(6, "STOPPED", "STOPPED", "EssentialContainerExited", null, 1, null)));
        assertEquals(2, scaleRequests.size(), "the job needs its next attempt now: " + scaleRequests);
        assertEquals("FAILED", handle(event(7, "STOPPED", "STOPPED", "EssentialContainerExited", null, 1, null)));
        assertEquals(2, scaleRequests.size(), "nothing new: no slot left, no new failure");
    }

    @Test
    void aFullyHandledInterruptionIsNotHandledAgain() throws Exception {
        store.apply(new JobEvent(new JobKey(7, 200), JobStatus.RUNNING, null, null, null, null, NOW, null, null,
                55L, "runnerscale", null, List.of("fargate")), "f", NOW);
        handle(event(5, "RUNNING", "STOPPED", "SpotInterruption", null, null, null));
        handle(event(7, "STOPPED", "STOPPED", "SpotInterruption", null, null, null));
        int calls = gitlab.calls.size();
        assertEquals("STALE", handle(event(7, "STOPPED", "STOPPED", "SpotInterruption", null, null, null)));
        assertEquals(calls, gitlab.calls.size(), "a repeat of the stopped event asks GitLab nothing");
    }

    @Test
    void gitlabDownAtAnInterruptionFailsTheEventSoLambdaRetriesItAndTheRetryStillActs() throws Exception {
        store.apply(new JobEvent(new JobKey(7, 200), JobStatus.RUNNING, null, null, null, null, NOW, null, null,
                55L, "runnerscale", null, List.of("fargate")), "f", NOW);
        gitlab.running = List.of(new JobKey(7, 200));
        gitlab.down = true;
        ObjectNode interruption = event(5, "RUNNING", "STOPPED", "SpotInterruption", null, null, null);
        assertThrows(RetryableError.class, () -> handle(interruption));
        assertTrue(record().interrupted(), "stored first: the task serves no more, whatever GitLab does");
        assertFalse(record().serving());
        gitlab.down = false;
        // Lambda's retry of the same event: stale for the store, but the jobs are still to be retried
        assertEquals("STALE", handle(interruption));
        assertEquals(List.of("jobs 55 " + SYSTEM_ID, "cancel 200", "retry 200"), gitlab.calls);
    }

    @Test
    void aForeignTaskIsIgnored() throws Exception {
        ObjectNode foreign = event(4, "RUNNING", "RUNNING", null, null, null, null);
        ((ObjectNode) foreign.get("detail")).put("startedBy", "ecs-svc/1234567890");
        assertEquals("IGNORED", handle(foreign));
        ObjectNode unclaimed = event(4, "RUNNING", "RUNNING", null, null, null, null);
        ((ObjectNode) unclaimed.get("detail")).put("startedBy", new TaskKey(new JobKey(7, 999), 1).startedBy());
        assertEquals("IGNORED", handle(unclaimed));
        assertEquals(List.of(), scaleRequests);
    }

    @Test
    void anEventWithoutVersionOrArnIsRefusedNamingTheField() throws Exception {
        ObjectNode noVersion = event(4, "RUNNING", "RUNNING", null, null, null, null);
        ((ObjectNode) noVersion.get("detail")).remove("version");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> handle(noVersion));
        assertTrue(e.getMessage().contains("detail.version"), e.getMessage());
        ObjectNode noArn = event(4, "RUNNING", "RUNNING", null, null, null, null);
        ((ObjectNode) noArn.get("detail")).remove("taskArn");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> handle(noArn)).getMessage().contains("taskArn"));
    }

    @Test
    void reasonsAreBoundedAndLoseControlCharacters() throws Exception {
        String huge = "CannotPullContainerError\nforged log line " + "x".repeat(5000);
        handle(event(3, "STOPPED", "STOPPED", "TaskFailedToStart", huge, null, null));
        assertTrue(record().reason().length() <= TaskEvent.MAX_REASON);
        assertFalse(record().reason().contains("\n"));
    }
}
