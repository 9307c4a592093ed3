package io.runnerscale.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.runnerscale.job.JobKey;
import io.runnerscale.lifecycle.Drain;
import io.runnerscale.lifecycle.DrainCodec;
import io.runnerscale.lifecycle.DrainOutcome;
import io.runnerscale.lifecycle.DrainPolicy;
import io.runnerscale.lifecycle.DrainReason;
import io.runnerscale.lifecycle.DrainStep;
import io.runnerscale.lifecycle.LifecycleHook;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs the deployed drain definition ({@code statemachine/drain.asl.json}, not a copy) in a real ASL
 * interpreter (aws-local-stepfunctions, through {@code statemachine/test/run-drain.mjs}). Each Task
 * calls back into this JVM, where a stand-in for the lifecycle Lambda applies the real
 * {@link DrainPolicy} and {@link DrainCodec} to a fake runner whose running jobs each test scripts.
 * Skipped when node or the npm packages ({@code cd statemachine/test && npm ci}) are missing.
 */
class DrainStateMachineTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final DrainCodec CODEC = new DrainCodec(JSON);
    static final JobKey OLD_JOB = new JobKey(380, 1977);
    static final JobKey NEW_JOB = new JobKey(380, 1978);

    static Path root;

    HttpServer server;
    FakeInstance instance;

    @BeforeAll
    static void findToolsOrSkip() throws Exception {
        root = null;
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("statemachine/drain.asl.json"))) {
                root = dir;
                break;
            }
        }
        assumeTrue(root != null, "statemachine/drain.asl.json not found");
        assumeTrue(Files.isDirectory(root.resolve("statemachine/test/node_modules/aws-local-stepfunctions")),
                "npm packages missing: cd statemachine/test && npm ci");
        boolean node;
        try {
            Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
            node = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            node = false;
        }
        assumeTrue(node, "node is not installed");
    }

    /** The instance and its GitLab runner as the lifecycle Lambda would see them. */
    static final class FakeInstance {
        boolean paused;
        boolean runnerDeleted;
        boolean terminated;
        int heartbeats;
        /** The jobs GitLab lists running, by RunningJobs call number (from 1). */
        IntFunction<List<JobKey>> runningAtCheck = n -> List.of();
        final List<JobKey> cancelled = new ArrayList<>();
        final List<JobKey> retried = new ArrayList<>();
        final List<String> tasks = Collections.synchronizedList(new ArrayList<>());
        final List<String> violations = Collections.synchronizedList(new ArrayList<>());
        /** Scripted errors per task, consumed one per call; {@code alwaysFailing} fails every call. */
        final Map<String, Deque<String>> errors = new HashMap<>();
        String alwaysFailing;
        int checks;

        List<JobKey> runningNow() {
            if (runnerDeleted) {
                return List.of();
            }
            List<JobKey> listed = new ArrayList<>(runningAtCheck.apply(checks));
            listed.removeAll(cancelled);
            return listed;
        }

        Drain apply(String task, Drain drain) {
            Instant now = Instant.now();
            switch (task) {
                case "MarkDraining", "Heartbeat" -> {
                    if (task.equals("Heartbeat")) {
                        heartbeats++;
                    }
                    return drain;
                }
                case "PauseRunner" -> {
                    paused = true;
                    return drain;
                }
                case "RunningJobs" -> {
                    checks++;
                    List<JobKey> jobs = runningNow();
                    return drain.observed(jobs).withNext(DrainPolicy.next(drain, now, jobs, paused));
                }
                case "CancelAndRetryJobs" -> {
                    if (!(DrainPolicy.next(drain, now, runningNow(), paused) instanceof DrainStep.CancelAndRetry c)) {
                        violations.add("CancelAndRetryJobs without a CancelAndRetry decision");
                        return drain;
                    }
                    cancelled.addAll(c.jobs());
                    retried.addAll(c.jobs());
                    return drain.withCancelled(c.jobs());
                }
                case "UnpauseRunner" -> {
                    paused = false;
                    return drain.withOutcome(DrainOutcome.ABANDONED);
                }
                case "DeleteRunner" -> {
                    if (!runningNow().isEmpty()) {
                        violations.add("runner deleted with running jobs " + runningNow());
                    }
                    runnerDeleted = true;
                    return drain.withRunnerDeleted();
                }
                case "Terminate" -> {
                    if (!runningNow().isEmpty()) {
                        violations.add("terminated with running jobs " + runningNow());
                    }
                    terminated = true;
                    return drain.withOutcome(DrainOutcome.TERMINATED);
                }
                default -> throw new IllegalArgumentException("unknown task " + task);
            }
        }
    }

    record Execution(String status, Drain output, String error, List<String> states) {
    }

    @BeforeEach
    void startLambdaStandIn() throws IOException {
        instance = new FakeInstance();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            byte[] answer;
            try {
                JsonNode request = JSON.readTree(exchange.getRequestBody());
                String task = request.path("payload").path("task").asText();
                instance.tasks.add(task);
                ObjectNode reply = JSON.createObjectNode();
                Deque<String> scripted = instance.errors.getOrDefault(task, new ArrayDeque<>());
                if (task.equals(instance.alwaysFailing) || !scripted.isEmpty()) {
                    String type = task.equals(instance.alwaysFailing) ? "RetryableError" : scripted.poll();
                    reply.put("errorType", type).put("errorMessage", "GitLab answered 503");
                } else {
                    Drain drain = CODEC.fromJson(request.path("payload").path("drain"));
                    reply.set("payload", CODEC.toJson(instance.apply(task, drain)));
                }
                answer = reply.toString().getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(200, answer.length);
            } catch (RuntimeException e) {
                instance.violations.add("stand-in failed: " + e);
                answer = ("{\"errorType\":\"TestStandInError\",\"errorMessage\":" + JSON.writeValueAsString(String.valueOf(e)) + "}")
                        .getBytes(StandardCharsets.UTF_8);
                exchange.sendResponseHeaders(200, answer.length);
            }
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(answer);
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    static Drain drain(DrainReason reason, LifecycleHook hook, Instant startedAt, List<JobKey> runningAtStart) {
        return Drain.start("i-0abc123", "docker", "gitlab-runners-docker", 42L, reason, hook, startedAt,
                Duration.ofHours(1), 30, runningAtStart);
    }

    Execution run(Drain input) throws Exception {
        Path tools = root.resolve("statemachine/test");
        ProcessBuilder builder = new ProcessBuilder("node", "--require", tools.resolve("polyfill.cjs").toString(),
                tools.resolve("run-drain.mjs").toString(), root.resolve("statemachine/drain.asl.json").toString(),
                "http://127.0.0.1:" + server.getAddress().getPort() + "/", CODEC.write(input))
                .directory(tools.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        builder.environment().put("WAIT_MS", "20");
        builder.environment().put("RETRY_MS", "5");
        Process process = builder.start();
        String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "local-sfn did not finish");
        assertEquals(0, process.exitValue(), "run-drain.mjs failed: " + stdout);
        JsonNode report = JSON.readTree(stdout.lines().reduce((a, b) -> b).orElseThrow());
        List<String> states = new ArrayList<>();
        report.path("states").forEach(s -> states.add(s.asText()));
        assertEquals(List.of(), instance.violations, "the stand-in saw the rule broken");
        Drain output = report.has("output") ? CODEC.fromJson(report.get("output")) : null;
        return new Execution(report.path("status").asText(), output, report.path("error").asText(null), states);
    }

    @Test
    void idleRunnerIsPausedDeletedAndTerminated() throws Exception {
        Execution run = run(drain(DrainReason.SCALE_IN, null, Instant.now(), List.of()));

        assertEquals("SUCCEEDED", run.status());
        assertEquals(List.of("MarkDraining", "PauseRunner", "RunningJobs", "NextStep", "DeleteRunner", "Terminate", "Drained"),
                run.states());
        assertEquals(DrainOutcome.TERMINATED, run.output().outcome());
        assertEquals(null, run.output().runnerId());
        assertTrue(instance.paused && instance.runnerDeleted && instance.terminated);
    }

    @Test
    void busyRunnerHeartbeatsUntilTheJobEndsThenTerminates() throws Exception {
        instance.runningAtCheck = n -> n <= 3 ? List.of(OLD_JOB) : List.of();
        LifecycleHook hook = new LifecycleHook("runnerscale-terminate", "3f9a-token");

        Execution run = run(drain(DrainReason.LIFECYCLE_HOOK, hook, Instant.now(), List.of(OLD_JOB)));

        assertEquals("SUCCEEDED", run.status());
        assertEquals(3, instance.heartbeats, "one heartbeat per wait while the job ran");
        assertEquals(3, Collections.frequency(run.states(), "WaitForJobs"));
        assertEquals(4, instance.checks);
        assertTrue(instance.terminated);
        assertEquals(List.of(), instance.cancelled);
        assertEquals(DrainOutcome.TERMINATED, run.output().outcome());
    }

    @Test
    void busyRunnerWithoutHookWaitsWithoutHeartbeats() throws Exception {
        instance.runningAtCheck = n -> n <= 2 ? List.of(OLD_JOB) : List.of();

        Execution run = run(drain(DrainReason.RETIRED, null, Instant.now(), List.of(OLD_JOB)));

        assertEquals("SUCCEEDED", run.status());
        assertEquals(0, instance.heartbeats);
        assertFalse(run.states().contains("Heartbeat"));
        assertEquals(2, Collections.frequency(run.states(), "WaitForJobs"));
        assertTrue(instance.terminated);
    }

    @Test
    void jobStartedDuringAScaleInDrainAbandonsItAndKeepsTheInstance() throws Exception {
        instance.runningAtCheck = n -> List.of(NEW_JOB);

        Execution run = run(drain(DrainReason.SCALE_IN, null, Instant.now(), List.of()));

        assertEquals("SUCCEEDED", run.status());
        assertEquals("Abandoned", run.states().get(run.states().size() - 1));
        assertTrue(run.states().contains("UnpauseRunner"));
        assertEquals(DrainOutcome.ABANDONED, run.output().outcome());
        assertTrue(run.output().jobStartedDuringDrain());
        assertFalse(instance.paused, "runner unpaused");
        assertFalse(instance.runnerDeleted);
        assertFalse(instance.terminated, "instance kept");
    }

    @Test
    void gitLabFailingTwiceIsRetriedAndTheDrainCompletes() throws Exception {
        instance.errors.put("RunningJobs", new ArrayDeque<>(List.of("RetryableError", "io.runnerscale.lifecycle.RetryableError")));
        instance.errors.put("PauseRunner", new ArrayDeque<>(List.of("Lambda.TooManyRequestsException")));

        Execution run = run(drain(DrainReason.SCALE_IN, null, Instant.now(), List.of()));

        assertEquals("SUCCEEDED", run.status());
        assertEquals("Drained", run.states().get(run.states().size() - 1));
        assertFalse(run.states().contains("CleanupRunningJobs"), "retried, not caught");
        assertEquals(3, Collections.frequency(instance.tasks, "RunningJobs"));
        assertEquals(2, Collections.frequency(instance.tasks, "PauseRunner"));
        assertEquals(DrainOutcome.TERMINATED, run.output().outcome());
        assertTrue(instance.terminated);
    }

    @Test
    void spotJobThatCannotFinishIsCancelledAndRetriedThenTheInstanceTerminates() throws Exception {
        instance.runningAtCheck = n -> List.of(OLD_JOB); // never finishes on its own
        Instant warning = Instant.now().minusSeconds(100);

        Execution run = run(drain(DrainReason.SPOT, null, warning, List.of(OLD_JOB)));

        assertEquals("SUCCEEDED", run.status());
        assertEquals(List.of(OLD_JOB), instance.cancelled);
        assertEquals(List.of(OLD_JOB), instance.retried);
        assertEquals(List.of(OLD_JOB), run.output().cancelledJobs());
        int cancel = run.states().indexOf("CancelAndRetryJobs");
        assertTrue(cancel > 0 && cancel < run.states().indexOf("Terminate"), "cancelled before terminating: " + run.states());
        assertTrue(instance.terminated);
        assertEquals(DrainOutcome.TERMINATED, run.output().outcome());
    }

    @Test
    void gitLabDownForLongIsWaitedOutWithoutTerminatingAndTheDrainEndsOnceItAnswers() throws Exception {
        instance.runningAtCheck = n -> n <= 3 ? List.of(OLD_JOB) : List.of();
        // 30 failing calls: the main check's 7 tries, the cleanup's 7, then holding on through more
        instance.errors.put("RunningJobs", new ArrayDeque<>(java.util.Collections.nCopies(30, "RetryableError")));

        Execution run = run(drain(DrainReason.SCALE_IN, null, Instant.now(), List.of(OLD_JOB)));

        assertEquals("SUCCEEDED", run.status(), run.states().toString());
        assertTrue(run.states().contains("CleanupRunningJobs"));
        assertTrue(run.states().contains("HoldWait"), "held on instead of failing: " + run.states());
        assertFalse(run.states().contains("HoldHeartbeat"), "no hook to heartbeat");
        assertTrue(instance.runnerDeleted && instance.terminated, "drained once GitLab answered and the job had ended");
        assertEquals(DrainOutcome.TIMED_OUT_CLEANED, run.output().outcome());
    }

    @Test
    void failedStepIsCleanedUpWhenARecheckFindsNoJob() throws Exception {
        instance.errors.put("DeleteRunner", new ArrayDeque<>(List.of("IllegalStateException")));

        Execution run = run(drain(DrainReason.SCALE_IN, null, Instant.now(), List.of()));

        assertEquals("SUCCEEDED", run.status());
        assertEquals("TimedOutCleaned", run.states().get(run.states().size() - 1));
        assertEquals(DrainOutcome.TIMED_OUT_CLEANED, run.output().outcome());
        assertTrue(instance.runnerDeleted && instance.terminated);
    }

    @Test
    void failedStepWithAJobStillRunningAndNoHookWaitsForTheJob() throws Exception {
        instance.runningAtCheck = n -> n <= 3 ? List.of(OLD_JOB) : List.of();
        instance.errors.put("PauseRunner", new ArrayDeque<>(List.of("IllegalStateException")));

        Execution run = run(drain(DrainReason.RETIRED, null, Instant.now(), List.of(OLD_JOB)));

        assertEquals("SUCCEEDED", run.status(), run.states().toString());
        assertTrue(run.states().contains("HoldWait"), run.states().toString());
        assertTrue(run.states().lastIndexOf("HoldWait") < run.states().indexOf("CleanupTerminate"),
                "terminated only after the job ended: " + run.states());
        assertTrue(instance.terminated);
    }

    @Test
    void failedStepWithAJobStillRunningKeepsHoldingTheHookUntilTheJobEnds() throws Exception {
        // a failed heartbeat sends the drain to the cleanup path while the job still runs: failing
        // there would stop the heartbeats and AWS would terminate the instance under the job
        instance.runningAtCheck = n -> n <= 4 ? List.of(OLD_JOB) : List.of();
        instance.errors.put("Heartbeat", new ArrayDeque<>(List.of("IllegalStateException")));
        LifecycleHook hook = new LifecycleHook("runnerscale-terminate", "3f9a-token");

        Execution run = run(drain(DrainReason.LIFECYCLE_HOOK, hook, Instant.now(), List.of(OLD_JOB)));

        assertEquals("SUCCEEDED", run.status(), run.states().toString());
        assertTrue(run.states().contains("HoldHeartbeat"), run.states().toString());
        assertTrue(instance.heartbeats >= 2, "heartbeats went on after the failure: " + instance.heartbeats);
        int lastHold = run.states().lastIndexOf("HoldWait");
        assertTrue(lastHold < run.states().indexOf("CleanupTerminate"), "terminated only after the job ended: " + run.states());
        assertEquals(List.of(), instance.cancelled);
        assertTrue(instance.runnerDeleted && instance.terminated);
    }

    @Test
    void gitLabDownWhileAHookHoldsTheInstanceKeepsHoldingUntilGitLabAnswers() throws Exception {
        instance.runningAtCheck = n -> List.of();
        // every RunningJobs call fails for the first 20 calls (the main check's 7 and the cleanup's 7 tries, and more)
        instance.errors.put("RunningJobs", new ArrayDeque<>(java.util.Collections.nCopies(20, "RetryableError")));
        LifecycleHook hook = new LifecycleHook("runnerscale-terminate", "3f9a-token");

        Execution run = run(drain(DrainReason.LIFECYCLE_HOOK, hook, Instant.now(), List.of()));

        assertEquals("SUCCEEDED", run.status(), run.states().toString());
        assertTrue(Collections.frequency(run.states(), "HoldHeartbeat") >= 1, run.states().toString());
        assertTrue(instance.runnerDeleted && instance.terminated, "terminated once GitLab said no job runs");
        assertEquals(DrainOutcome.TIMED_OUT_CLEANED, run.output().outcome());
    }

    @Test
    void aHookThatCannotBeHeartbeatedAnyMoreEndsTheDrainWithoutTerminating() throws Exception {
        instance.runningAtCheck = n -> List.of(OLD_JOB);
        instance.alwaysFailing = "Heartbeat";
        LifecycleHook hook = new LifecycleHook("runnerscale-terminate", "3f9a-token");

        Execution run = run(drain(DrainReason.LIFECYCLE_HOOK, hook, Instant.now(), List.of(OLD_JOB)));

        assertEquals("FAILED", run.status());
        assertEquals("DrainHookLost", run.error());
        assertFalse(instance.runnerDeleted);
        assertFalse(instance.terminated);
    }
}
