package io.runnerscale.lifecycle;

import io.runnerscale.testing.MutableClock;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.gitlab.RunnerOwner;
import io.runnerscale.job.JobKey;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.TestPools;
import io.runnerscale.store.InMemoryJobStore;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged drain definition (the file that deploys) run by {@link DrainInterpreter}, every Task
 * answered by {@link LifecycleService} through {@link DrainCodec}, as the lifecycle function answers
 * Step Functions. Time is virtual: each Waiting step moves the clock.
 */
class DrainInterpreterTest {
    static final String ID = "i-0abc1234def567890";
    static final JobKey JOB = new JobKey(7, 100);
    static final JobKey LATE = new JobKey(7, 101);

    final ObjectMapper json = new ObjectMapper();
    final DrainCodec codec = new DrainCodec(json);
    final MutableClock clock = new MutableClock(Instant.parse("2026-01-07T12:00:00Z"));
    final InMemoryJobStore store = new InMemoryJobStore();
    final LifecycleServiceTest.FakeGitLab gitlab = new LifecycleServiceTest.FakeGitLab();
    final LifecycleServiceTest.FakeTokens tokens = new LifecycleServiceTest.FakeTokens();
    final LifecycleServiceTest.FakeActions actions = new LifecycleServiceTest.FakeActions();
    final LifecycleService service = new LifecycleService(
            () -> new PoolsConfig(List.of(TestPools.tagged("docker", List.of("docker"), true))), store, gitlab, tokens,
            actions, new LifecycleServiceTest.FakeDrains(), (pool, reason, dedupeId) -> { }, RunnerOwner.instance(),
            Duration.ofMinutes(30), clock);
    final DrainInterpreter interpreter = DrainInterpreter.packaged(json);
    final List<String> tasks = new ArrayList<>();
    final List<Duration> waits = new ArrayList<>();

    /** Runs an execution to its end on the virtual clock; {@code between} runs before each wait ends. */
    DrainInterpreter.Step.Ended run(Drain drain, Runnable between) {
        DrainInterpreter.Execution execution = interpreter.start(codec.toJson(drain));
        for (int steps = 0; steps < 500; steps++) {
            DrainInterpreter.Step step = execution.advance(payload -> {
                tasks.add(payload.get("task").asText());
                return codec.toJson(service.task(payload.get("task").asText(), codec.fromJson(payload.get("drain"))));
            });
            if (step instanceof DrainInterpreter.Step.Ended ended) {
                return ended;
            }
            Duration delay = ((DrainInterpreter.Step.Waiting) step).delay();
            waits.add(delay);
            clock.set(clock.instant().plus(delay));
            between.run();
        }
        throw new AssertionError("no end after 500 steps: " + tasks);
    }

    Drain drain(DrainReason reason, LifecycleHook hook) {
        store.recordRunner(ID, "docker", 41L, InstanceState.READY, clock.instant());
        return Drain.start(ID, "docker", "docker-asg", 41L, reason, hook, clock.instant(), Duration.ofMinutes(30),
                DrainRequests.heartbeatSeconds(reason), List.of());
    }

    @Test
    void anIdleInstanceIsPausedDeletedAndTerminated() {
        DrainInterpreter.Step.Ended end = run(drain(DrainReason.SCALE_IN, null), () -> { });
        assertTrue(end.succeeded());
        assertEquals("Drained", end.state());
        assertEquals(List.of("MarkDraining", "PauseRunner", "RunningJobs", "DeleteRunner", "Terminate"), tasks);
        assertEquals(List.of(41L), gitlab.deleted);
        assertEquals(List.of("terminate " + ID + " true"), actions.calls);
        assertEquals(InstanceState.GONE, store.lifecycle(ID).orElseThrow().state());
        assertEquals("terminated", end.output().get("outcome").asText());
    }

    @Test
    void aBusyInstanceIsWaitedForWithHeartbeatsWhileTheHookHoldsIt() {
        gitlab.running = List.of(JOB);
        int[] checks = {0};
        DrainInterpreter.Step.Ended end = run(drain(DrainReason.LIFECYCLE_HOOK, new LifecycleHook("runnerscale-terminate", "tok")),
                () -> {
                    if (++checks[0] == 3) {
                        gitlab.running = List.of();   // the job finishes during the third wait
                    }
                });
        assertTrue(end.succeeded());
        assertEquals(List.of(Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(60)), waits);
        assertEquals(3, actions.calls.stream().filter(c -> c.startsWith("heartbeat")).count());
        assertTrue(actions.calls.getLast().startsWith("complete runnerscale-terminate docker-asg " + ID + " tok CONTINUE"),
                actions.calls.toString());
        assertTrue(gitlab.jobCalls.isEmpty(), "a job that finishes in time is never cancelled");
    }

    @Test
    void aJobThatStartsDuringAScaleInDrainKeepsTheInstance() {
        DrainInterpreter.Step.Ended end = run(drain(DrainReason.SCALE_IN, null), () -> { });
        assertEquals("Drained", end.state());
        tasks.clear();
        actions.calls.clear();
        // a second instance: the job lands between MarkDraining's baseline and the check
        String other = "i-0fff1234def567890";
        store.recordRunner(other, "docker", 42L, InstanceState.READY, clock.instant());
        Drain drain = Drain.start(other, "docker", "docker-asg", 42L, DrainReason.SCALE_IN, null, clock.instant(),
                Duration.ofMinutes(30), 60, List.of());
        DrainInterpreter.Execution execution = interpreter.start(codec.toJson(drain));
        DrainInterpreter.Step step = execution.advance(payload -> {
            String task = payload.get("task").asText();
            tasks.add(task);
            if (task.equals("RunningJobs")) {
                gitlab.running = List.of(LATE);
            }
            return codec.toJson(service.task(task, codec.fromJson(payload.get("drain"))));
        });
        DrainInterpreter.Step.Ended ended = (DrainInterpreter.Step.Ended) step;
        assertEquals("Abandoned", ended.state());
        assertEquals(List.of("MarkDraining", "PauseRunner", "RunningJobs", "UnpauseRunner"), tasks);
        assertTrue(actions.calls.isEmpty(), "nothing terminated");
        assertEquals(InstanceState.READY, store.lifecycle(other).orElseThrow().state());
        assertEquals("pause 42 false", gitlab.pauses.getLast());
    }

    @Test
    void aSpotDrainCancelsAndRetriesWhatStillRunsAfterTheDeadlineAndTerminatesOnlyOnceItStopped() {
        gitlab.running = List.of(JOB);
        Instant warned = clock.instant();
        DrainInterpreter.Step.Ended end = run(drain(DrainReason.SPOT, null), () -> {
            if (gitlab.jobCalls.contains("retry " + JOB)) {
                gitlab.running = List.of();   // GitLab stops listing the cancelled job
            }
        });
        assertTrue(end.succeeded());
        assertEquals(List.of("cancel " + JOB, "retry " + JOB), gitlab.jobCalls);
        assertTrue(waits.stream().allMatch(Duration.ofSeconds(10)::equals), waits.toString());
        assertFalse(clock.instant().isAfter(warned.plus(Duration.ofSeconds(120))), "ends within the 2 minutes: " + clock.instant());
        assertEquals(List.of("terminate " + ID + " true"), actions.calls, "the scaler asked for the replacement at the warning");
    }

    @Test
    void gitLabDownIsRetriedWithBackoffThenWaitedOutWithoutTerminating() {
        gitlab.unavailable = true;
        gitlab.running = List.of(JOB);
        Instant down = clock.instant();
        DrainInterpreter.Step.Ended end = run(drain(DrainReason.SCALE_IN, null), () -> {
            if (clock.instant().isAfter(down.plus(Duration.ofMinutes(20)))) {
                gitlab.unavailable = false;
                gitlab.running = List.of();
            }
            assertTrue(actions.calls.isEmpty(), "nothing terminated while GitLab could not answer");
            assertTrue(gitlab.deleted.isEmpty());
        });
        // MarkDraining: 6 retries at 2, 4, 8, 16, 32, 60 (capped) s, then the cleanup path holds on
        assertEquals(List.of(2L, 4L, 8L, 16L, 32L, 60L), waits.subList(0, 6).stream().map(Duration::toSeconds).toList());
        assertEquals("TimedOutCleaned", end.state());
        assertEquals(List.of("terminate " + ID + " true"), actions.calls);
    }

    @Test
    void gitLabBackInTimeLetsTheDrainFinish() {
        gitlab.unavailable = true;
        DrainInterpreter.Step.Ended end = run(drain(DrainReason.SCALE_IN, null), () -> {
            if (waits.size() == 3) {
                gitlab.unavailable = false;
            }
        });
        assertEquals("Drained", end.state());
        assertEquals(List.of(41L), gitlab.deleted);
    }

    @Test
    void gitLabDownWhileAHookHoldsTheInstanceKeepsItHeldUntilGitLabAnswers() {
        gitlab.unavailable = true;
        DrainInterpreter.Step.Ended end = run(drain(DrainReason.LIFECYCLE_HOOK, new LifecycleHook("runnerscale-terminate", "tok")),
                () -> {
                    if (clock.instant().isAfter(Instant.parse("2026-01-07T12:20:00Z"))) {
                        gitlab.unavailable = false;
                    }
                });
        assertTrue(end.succeeded(), end.toString());
        assertTrue(actions.calls.stream().filter(c -> c.startsWith("heartbeat")).count() >= 4,
                "held by heartbeats for 20 minutes: " + actions.calls);
        // never longer than the hook's 300 s heartbeat timeout between two heartbeats
        assertTrue(waits.stream().allMatch(w -> w.toSeconds() <= 60), waits.toString());
        assertTrue(actions.calls.getLast().endsWith("CONTINUE"), actions.calls.toString());
        assertEquals(List.of(41L), gitlab.deleted);
    }

    @Test
    void aDefinitionOutsideTheSupportedSubsetIsRefusedByName() throws Exception {
        JsonNode parallel = json.readTree("{\"StartAt\": \"P\", \"States\": {\"P\": {\"Type\": \"Parallel\"}}}");
        DrainInterpreter.Execution execution = new DrainInterpreter(json, parallel).start(json.createObjectNode());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> execution.advance(p -> p));
        assertTrue(e.getMessage().contains("Parallel"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new DrainInterpreter(json, json.readTree("{\"StartAt\": \"X\", \"States\": {}}")));
    }

}
