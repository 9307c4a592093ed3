package io.runnerscale.lifecycle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.text.Quoted;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;

/**
 * Runs the drain state machine's own definition ({@code statemachine/drain.asl.json}, the file that
 * deploys, packaged as a resource) outside Step Functions, so {@code serve} and tests drain exactly
 * as AWS does. It interprets the part of the Amazon States Language that definition uses, and
 * refuses anything else by name:
 * <ul>
 *   <li>{@code Task} states calling the lifecycle function with {@code Parameters.Payload} (keys
 *       ending in {@code .$} are paths), {@code ResultSelector} over {@code {"Payload": result}},
 *       {@code ResultPath} and {@code OutputPath}; {@code Retry} (ErrorEquals, IntervalSeconds,
 *       BackoffRate, MaxAttempts, MaxDelaySeconds; no jitter) and {@code Catch} (ResultPath);</li>
 *   <li>{@code Choice} with {@code StringEquals}, {@code IsPresent}, {@code IsNull}, {@code And},
 *       {@code Not}, and {@code Default}; {@code Wait} with {@code Seconds} or {@code SecondsPath};
 *       {@code Pass} with {@code Result}/{@code ResultPath}; {@code Succeed}; {@code Fail}.</li>
 * </ul>
 * Paths are {@code $} or {@code $.field}. A Task's error name is the thrown exception's class name,
 * as the Java Lambda runtime reports it; an error no Retry or Catch handles fails the execution, its
 * output the error ({@code {"Error", "Cause"}}). An execution never sleeps: {@link Execution#advance} runs
 * states until it must wait (a Wait state, or a retry's interval) or ends, and says how long to
 * wait, so a caller schedules it on any clock.
 */
public final class DrainInterpreter {
    /** Where the definition is on the class path (copied from {@code statemachine/} by the build). */
    public static final String RESOURCE = "statemachine/drain.asl.json";

    /** The lifecycle function's drain tasks: {@code task} applied to {@code input} (the Task's Payload). */
    @FunctionalInterface
    public interface Tasks {
        JsonNode invoke(JsonNode payload);
    }

    private final ObjectMapper json;
    private final JsonNode states;
    private final String startAt;

    public DrainInterpreter(ObjectMapper json, JsonNode definition) {
        this.json = json;
        this.states = definition.path("States");
        this.startAt = definition.path("StartAt").asText("");
        if (!states.has(startAt)) {
            throw new IllegalArgumentException("state machine definition: StartAt '" + Quoted.abbreviate(startAt)
                    + "' is not a state");
        }
    }

    /** The packaged drain definition. */
    public static DrainInterpreter packaged(ObjectMapper json) {
        try (InputStream in = DrainInterpreter.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is not on the class path");
            }
            return new DrainInterpreter(json, json.readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Execution start(JsonNode input) {
        return new Execution(input.deepCopy());
    }

    /** What an execution does next. */
    public sealed interface Step {
        /** Call {@link Execution#advance} again after this long. */
        record Waiting(Duration delay, String state) implements Step {
        }

        /** The execution ended in a Succeed or Fail state. */
        record Ended(boolean succeeded, String state, JsonNode output) implements Step {
        }
    }

    /** One execution: its current state and data. Not thread-safe: advance it from one thread at a time. */
    public final class Execution {
        private static final int MAX_TRANSITIONS_PER_ADVANCE = 1000;
        private String state = startAt;
        private JsonNode data;
        private final Map<String, Integer> attempts = new HashMap<>();
        private Step.Ended ended;
        private int transitions;

        private Execution(JsonNode input) {
            this.data = input;
        }

        public String state() {
            return state;
        }

        public JsonNode data() {
            return data;
        }

        public boolean ended() {
            return ended != null;
        }

        /** State transitions so far (Step Functions bills and limits these; a drain's loop shows here). */
        public int transitions() {
            return transitions;
        }

        /** Runs states until one waits or the execution ends. */
        public Step advance(Tasks tasks) {
            if (ended != null) {
                return ended;
            }
            for (int i = 0; i < MAX_TRANSITIONS_PER_ADVANCE; i++) {
                JsonNode s = states.get(state);
                String type = s.path("Type").asText("");
                switch (type) {
                    case "Task" -> {
                        Duration retryAfter = task(s, tasks);
                        if (ended != null) {
                            return ended;
                        }
                        if (retryAfter != null) {
                            return new Step.Waiting(retryAfter, state);
                        }
                    }
                    case "Choice" -> move(choose(s));
                    case "Wait" -> {
                        Duration wait = waitOf(s);
                        move(s.path("Next").asText());
                        return new Step.Waiting(wait, state);
                    }
                    case "Pass" -> {
                        data = put(data, s.path("ResultPath").asText("$"), s.get("Result"));
                        move(s.path("Next").asText());
                    }
                    case "Succeed" -> {
                        return end(true);
                    }
                    case "Fail" -> {
                        return end(false);
                    }
                    default -> throw new IllegalStateException("state " + state + ": Type '" + Quoted.abbreviate(type)
                            + "' is not supported here");
                }
            }
            throw new IllegalStateException("more than " + MAX_TRANSITIONS_PER_ADVANCE
                    + " transitions without a wait: the definition loops");
        }

        private Step.Ended end(boolean succeeded) {
            ended = new Step.Ended(succeeded, state, data);
            return ended;
        }

        private void move(String next) {
            if (!states.has(next)) {
                throw new IllegalStateException("state " + state + ": Next '" + Quoted.abbreviate(next) + "' is not a state");
            }
            transitions++;
            state = next;
        }

        /** Runs a Task once; null when it moved on, else how long to wait before its retry. */
        private Duration task(JsonNode s, Tasks tasks) {
            JsonNode payload = resolve(s.path("Parameters").path("Payload"), data);
            JsonNode result;
            try {
                result = tasks.invoke(payload);
            } catch (RuntimeException e) {
                String error = e.getClass().getName();
                Duration retry = retryInterval(s, error);
                if (retry != null) {
                    return retry;
                }
                attempts.remove(state);
                JsonNode handler = catcher(s, error);
                ObjectNode cause = json.createObjectNode().put("Error", error)
                        .put("Cause", Quoted.abbreviate(String.valueOf(e.getMessage())));
                if (handler == null) {
                    // no Catch: the execution fails, as in Step Functions, with the error as its output
                    data = cause;
                    end(false);
                    return Duration.ZERO;
                }
                data = put(data, handler.path("ResultPath").asText("$"), cause);
                move(handler.path("Next").asText());
                return null;
            }
            attempts.remove(state);
            JsonNode selected = s.has("ResultSelector")
                    ? resolve(s.get("ResultSelector"), json.createObjectNode().set("Payload", result))
                    : result;
            data = put(data, s.path("ResultPath").asText("$"), selected);
            data = at(data, s.path("OutputPath").asText("$"));
            move(s.path("Next").asText());
            return null;
        }

        private Duration retryInterval(JsonNode s, String error) {
            for (JsonNode retrier : s.path("Retry")) {
                if (matches(retrier.path("ErrorEquals"), error)) {
                    int attempt = attempts.merge(state, 1, Integer::sum);
                    if (attempt > retrier.path("MaxAttempts").asInt(3)) {
                        return null;
                    }
                    double seconds = retrier.path("IntervalSeconds").asDouble(1)
                            * Math.pow(retrier.path("BackoffRate").asDouble(2), attempt - 1);
                    if (retrier.has("MaxDelaySeconds")) {
                        seconds = Math.min(seconds, retrier.get("MaxDelaySeconds").asDouble());
                    }
                    return Duration.ofMillis(Math.round(seconds * 1000));
                }
            }
            return null;
        }

        private JsonNode catcher(JsonNode s, String error) {
            for (JsonNode c : s.path("Catch")) {
                if (matches(c.path("ErrorEquals"), error)) {
                    return c;
                }
            }
            return null;
        }

        private String choose(JsonNode s) {
            for (JsonNode rule : s.path("Choices")) {
                if (test(rule)) {
                    return rule.path("Next").asText();
                }
            }
            if (!s.has("Default")) {
                throw new IllegalStateException("state " + state + ": no choice matched and there is no Default");
            }
            return s.get("Default").asText();
        }

        private boolean test(JsonNode rule) {
            if (rule.has("And")) {
                for (JsonNode r : rule.get("And")) {
                    if (!test(r)) {
                        return false;
                    }
                }
                return true;
            }
            if (rule.has("Not")) {
                return !test(rule.get("Not"));
            }
            String path = rule.path("Variable").asText();
            JsonNode value = atOrNull(data, path);
            if (rule.has("StringEquals")) {
                return value != null && value.isTextual() && value.asText().equals(rule.get("StringEquals").asText());
            }
            if (rule.has("IsPresent")) {
                return (value != null) == rule.get("IsPresent").asBoolean();
            }
            if (rule.has("IsNull")) {
                return value != null && value.isNull() == rule.get("IsNull").asBoolean();
            }
            throw new IllegalStateException("state " + state + ": choice rule " + Quoted.abbreviate(rule.toString())
                    + " is not supported here");
        }

        private Duration waitOf(JsonNode s) {
            if (s.has("Seconds")) {
                return Duration.ofSeconds(s.get("Seconds").asLong());
            }
            JsonNode seconds = atOrNull(data, s.path("SecondsPath").asText());
            if (seconds == null || !seconds.canConvertToLong() || seconds.asLong() < 0) {
                throw new IllegalStateException("state " + state + ": SecondsPath " + s.path("SecondsPath").asText()
                        + " is not a non-negative number");
            }
            return Duration.ofSeconds(seconds.asLong());
        }
    }

    /** Step Functions' rule: the error's name (a Java Lambda reports the exception's full class name), or States.ALL. */
    private static boolean matches(JsonNode errorEquals, String error) {
        for (JsonNode name : errorEquals) {
            String n = name.asText();
            if (n.equals("States.ALL") || n.equals(error)) {
                return true;
            }
        }
        return false;
    }

    /** A template with {@code "key.$": "$path"} entries, resolved against {@code input}. */
    private JsonNode resolve(JsonNode template, JsonNode input) {
        if (!template.isObject()) {
            return template.deepCopy();
        }
        ObjectNode out = json.createObjectNode();
        for (Iterator<Map.Entry<String, JsonNode>> it = template.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            if (field.getKey().endsWith(".$")) {
                out.set(field.getKey().substring(0, field.getKey().length() - 2), at(input, field.getValue().asText()));
            } else {
                out.set(field.getKey(), resolve(field.getValue(), input));
            }
        }
        return out;
    }

    private static JsonNode at(JsonNode node, String path) {
        JsonNode value = atOrNull(node, path);
        if (value == null) {
            throw new IllegalStateException("path " + path + " is not in the state's data");
        }
        return value.deepCopy();
    }

    private static JsonNode atOrNull(JsonNode node, String path) {
        if (path.equals("$")) {
            return node;
        }
        requireSimple(path);
        return node.get(path.substring(2));
    }

    private JsonNode put(JsonNode node, String path, JsonNode value) {
        if (path.equals("$")) {
            return value == null ? json.nullNode() : value.deepCopy();
        }
        requireSimple(path);
        ObjectNode copy = node.isObject() ? ((ObjectNode) node).deepCopy() : json.createObjectNode();
        copy.set(path.substring(2), value == null ? json.nullNode() : value.deepCopy());
        return copy;
    }

    private static void requireSimple(String path) {
        Objects.requireNonNull(path, "path");
        if (!path.startsWith("$.") || path.indexOf('.', 2) >= 0 || path.contains("[")) {
            throw new IllegalStateException("path '" + Quoted.abbreviate(path) + "' is not $ or $.field");
        }
    }
}
