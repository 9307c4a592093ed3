package io.runnerscale.lifecycle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The States Language subset {@link DrainInterpreter} runs, each rule on a small definition of its own. */
class DrainInterpreterSubsetTest {
    final ObjectMapper json = new ObjectMapper();

    JsonNode read(String text) {
        try {
            return json.readTree(text.replace('\'', '"'));
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** A Task that calls {@code T} with Retry and Catch as given, then Succeed; Catch goes to Failed. */
    DrainInterpreter task(String retry, String caught) {
        return new DrainInterpreter(json, read("""
                {'StartAt': 'T', 'States': {
                  'T': {'Type': 'Task', 'Parameters': {'Payload': {'task': 'T', 'drain.$': '$'}},
                        'ResultSelector': {'drain.$': '$.Payload'}, 'OutputPath': '$.drain',
                        'Retry': [%s], 'Catch': [%s], 'Next': 'Done'},
                  'Done': {'Type': 'Succeed'},
                  'Failed': {'Type': 'Fail'}}}
                """.formatted(retry, caught)));
    }

    static final class Flaky extends RuntimeException {
        Flaky() {
            super("flaky");
        }
    }

    @Test
    void retriesWaitIntervalTimesBackoffCappedAtMaxDelayThenCatch() {
        DrainInterpreter d = task("{'ErrorEquals': ['" + Flaky.class.getName() + "'], 'IntervalSeconds': 3,"
                + " 'BackoffRate': 2, 'MaxAttempts': 4, 'MaxDelaySeconds': 10}",
                "{'ErrorEquals': ['States.ALL'], 'ResultPath': '$.error', 'Next': 'Failed'}");
        DrainInterpreter.Execution e = d.start(read("{'n': 1}"));
        List<Duration> waits = new ArrayList<>();
        DrainInterpreter.Step step;
        while ((step = e.advance(p -> {
            throw new Flaky();
        })) instanceof DrainInterpreter.Step.Waiting w) {
            waits.add(w.delay());
            assertEquals("T", w.state(), "a retry runs the same state again");
        }
        assertEquals(List.of(Duration.ofSeconds(3), Duration.ofSeconds(6), Duration.ofSeconds(10), Duration.ofSeconds(10)),
                waits);
        DrainInterpreter.Step.Ended ended = (DrainInterpreter.Step.Ended) step;
        assertFalse(ended.succeeded());
        assertEquals("Failed", ended.state());
        assertEquals(1, ended.output().get("n").asInt(), "Catch's ResultPath keeps the input");
        assertEquals(Flaky.class.getName(), ended.output().get("error").get("Error").asText());
        assertEquals("flaky", ended.output().get("error").get("Cause").asText());
    }

    @Test
    void anErrorIsMatchedByItsFullClassNameAsAJavaLambdaReportsIt() {
        // the simple name is not what Step Functions sees: no retry, and no Catch matches either
        DrainInterpreter d = task("{'ErrorEquals': ['Flaky'], 'MaxAttempts': 3}",
                "{'ErrorEquals': ['java.lang.IllegalStateException'], 'Next': 'Failed'}");
        DrainInterpreter.Step.Ended ended = (DrainInterpreter.Step.Ended) d.start(read("{}")).advance(p -> {
            throw new Flaky();
        });
        assertFalse(ended.succeeded());
        assertEquals("T", ended.state(), "an uncaught error fails the execution where it happened");
        assertEquals(Flaky.class.getName(), ended.output().get("Error").asText());
    }

    @Test
    void aTaskSeesItsPayloadAndItsResultReplacesTheData() {
        DrainInterpreter d = task("", "");
        List<JsonNode> payloads = new ArrayList<>();
        DrainInterpreter.Execution e = d.start(read("{'n': 1}"));
        DrainInterpreter.Step.Ended ended = (DrainInterpreter.Step.Ended) e.advance(p -> {
            payloads.add(p);
            return read("{'n': 2}");
        });
        assertEquals(read("{'task': 'T', 'drain': {'n': 1}}"), payloads.getFirst());
        assertTrue(ended.succeeded());
        assertEquals(read("{'n': 2}"), ended.output());
        assertEquals(1, e.transitions());
        assertTrue(e.ended());
        assertEquals(ended, e.advance(p -> {
            throw new AssertionError("an ended execution runs nothing");
        }));
    }

    @Test
    void passWaitAndChoiceRules() {
        DrainInterpreter d = new DrainInterpreter(json, read("""
                {'StartAt': 'P', 'States': {
                  'P': {'Type': 'Pass', 'Result': 'x', 'ResultPath': '$.mark', 'Next': 'W'},
                  'W': {'Type': 'Wait', 'SecondsPath': '$.s', 'Next': 'C'},
                  'C': {'Type': 'Choice', 'Choices': [
                      {'And': [{'Variable': '$.hook', 'IsPresent': true}, {'Not': {'Variable': '$.hook', 'IsNull': true}}],
                       'Next': 'Hooked'},
                      {'Variable': '$.mark', 'StringEquals': 'x', 'Next': 'Marked'}],
                    'Default': 'Other'},
                  'Hooked': {'Type': 'Succeed'}, 'Marked': {'Type': 'Succeed'}, 'Other': {'Type': 'Succeed'}}}
                """));
        for (String input : List.of("{'s': 7}", "{'s': 7, 'hook': null}", "{'s': 7, 'hook': {'name': 'h'}}")) {
            DrainInterpreter.Execution e = d.start(read(input));
            DrainInterpreter.Step.Waiting w = (DrainInterpreter.Step.Waiting) e.advance(p -> p);
            assertEquals(Duration.ofSeconds(7), w.delay());
            assertEquals("C", w.state(), "after the wait, the next state runs");
            DrainInterpreter.Step.Ended ended = (DrainInterpreter.Step.Ended) e.advance(p -> p);
            assertEquals(input.contains("name") ? "Hooked" : "Marked", ended.state(), input);
            assertEquals("x", ended.output().get("mark").asText());
        }
        assertThrows(IllegalStateException.class, () -> d.start(read("{'s': -1}")).advance(p -> p),
                "a negative wait");
        assertThrows(IllegalStateException.class, () -> new DrainInterpreter(json, read(
                "{'StartAt': 'P', 'States': {'P': {'Type': 'Pass', 'ResultPath': '$.a.b', 'Next': 'P'}}}"))
                .start(read("{}")).advance(p -> p), "nested paths are outside the subset");
        assertThrows(IllegalStateException.class, () -> new DrainInterpreter(json, read(
                "{'StartAt': 'P', 'States': {'P': {'Type': 'Pass', 'Next': 'P'}}}"))
                .start(read("{}")).advance(p -> p), "a loop without a wait is refused");
    }
}
