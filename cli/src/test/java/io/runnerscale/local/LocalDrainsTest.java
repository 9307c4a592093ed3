package io.runnerscale.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.lifecycle.Drain;
import io.runnerscale.lifecycle.DrainCodec;
import io.runnerscale.lifecycle.DrainInterpreter;
import io.runnerscale.lifecycle.DrainReason;
import io.runnerscale.lifecycle.DrainStarter;
import io.runnerscale.lifecycle.RetryableError;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Step Functions' name rules and real (scaled) waits, on small definitions the interpreter runs. */
@Timeout(30)
class LocalDrainsTest {
    final ObjectMapper json = new ObjectMapper();
    final DrainCodec codec = new DrainCodec(json);
    final List<String> tasks = new CopyOnWriteArrayList<>();
    LocalDrains drains;

    @AfterEach
    void close() {
        if (drains != null) {
            drains.close();
        }
    }

    /** Task T, then Wait {@code seconds}, then Task T again, then Succeed. */
    LocalDrains drains(long seconds, double factor) throws Exception {
        JsonNode definition = json.readTree("""
                {"StartAt": "T", "States": {
                  "T": {"Type": "Task", "Parameters": {"Payload": {"task": "T", "drain.$": "$"}},
                        "ResultSelector": {"drain.$": "$.Payload"}, "OutputPath": "$.drain", "Next": "W"},
                  "W": {"Type": "Wait", "Seconds": %d, "Next": "T2"},
                  "T2": {"Type": "Task", "Parameters": {"Payload": {"task": "T2", "drain.$": "$"}},
                        "ResultSelector": {"drain.$": "$.Payload"}, "OutputPath": "$.drain", "Next": "Done"},
                  "Done": {"Type": "Succeed"}}}
                """.formatted(seconds));
        drains = new LocalDrains(new DrainInterpreter(json, definition), codec, factor, Clock.systemUTC());
        drains.answerTasksWith(payload -> {
            tasks.add(payload.get("task").asText());
            return payload.get("drain");
        });
        return drains;
    }

    static Drain drain(String instanceId) {
        return Drain.start(instanceId, "docker", "docker-asg", 41L, DrainReason.SCALE_IN, null, Instant.now(),
                Duration.ofMinutes(30), 60, List.of());
    }

    void awaitWaiting(String instanceId) throws InterruptedException {
        for (int i = 0; i < 1000 && drains.running(instanceId).orElseThrow().waitingUntil() == null; i++) {
            Thread.sleep(5);
        }
    }

    void awaitEnded(String name) throws InterruptedException {
        for (int i = 0; i < 1000; i++) {
            if (drains.executions().stream().anyMatch(e -> e.name().equals(name) && !e.running())) {
                return;
            }
            Thread.sleep(5);
        }
        throw new AssertionError(name + " did not end: " + drains.executions());
    }

    @Test
    void aRunningNameIsAlreadyRunningAndAnEndedNameIsUsed() throws Exception {
        drains(3600, 1);
        assertEquals(DrainStarter.Outcome.STARTED, drains.start(drain("i-0aaa"), 1));
        assertEquals(DrainStarter.Outcome.ALREADY_RUNNING, drains.start(drain("i-0aaa"), 1));
        assertEquals(DrainStarter.Outcome.STARTED, drains.start(drain("i-0aaa"), 2), "another attempt is another name");
        awaitWaiting("i-0aaa");
        LocalDrains.Snapshot running = drains.running("i-0aaa").orElseThrow();
        assertEquals("T2", running.state(), "waits before T2");
        assertTrue(running.waitingUntil().isAfter(Instant.now().plusSeconds(3500)), "the definition's own wait");
        drains.close();
        tasks.clear();

        drains(0, 1);
        drains.start(drain("i-0bbb"), 1);
        awaitEnded("drain-i-0bbb-scale-in-1");
        assertEquals(DrainStarter.Outcome.NAME_USED, drains.start(drain("i-0bbb"), 1));
        LocalDrains.Snapshot ended = drains.executions().getFirst();
        assertEquals("Done", ended.state());
        assertTrue(ended.succeeded());
        assertEquals(List.of("T", "T2"), tasks);
    }

    @Test
    void waitsAreScaledByTheFactor() throws Exception {
        drains(100, 0.001);   // 100 s -> 0.1 s
        long started = System.nanoTime();
        drains.start(drain("i-0ccc"), 1);
        awaitEnded("drain-i-0ccc-scale-in-1");
        long millis = Duration.ofNanos(System.nanoTime() - started).toMillis();
        assertTrue(millis >= 100 && millis < 3000, millis + " ms");
    }

    @Test
    void closeStopsExecutionsAndRefusesNewOnes() throws Exception {
        drains(1, 1);
        drains.start(drain("i-0ddd"), 1);
        awaitWaiting("i-0ddd");
        drains.close();
        Thread.sleep(1200);
        assertEquals(List.of("T"), tasks, "the step after the wait never ran");
        assertThrows(RetryableError.class, () -> drains.start(drain("i-0eee"), 1));
    }

    @Test
    void aFactorOutsideZeroToOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> drains(1, 2));
        assertThrows(IllegalArgumentException.class, () -> drains(1, Double.NaN));
    }
}
