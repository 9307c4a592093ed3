package io.runnerscale.lifecycle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.compute.TaskEvent;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.text.Quoted;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * What the lifecycle function does with its input, without Lambda: the lifecycle Lambda
 * ({@code LifecycleHandler}) and {@code serve} ({@code POST /events}, its local drains) both call
 * this, so an EventBridge event or a drain Task is handled by the same code everywhere.
 * <ul>
 *   <li>a drain Task, {@code {"task": "<Name>", "drain": {...}}}: answers the updated drain object
 *       (statemachine/README.md); a failure worth retrying throws {@link RetryableError};</li>
 *   <li>an EventBridge event: {@value #LAUNCH} (create the instance's runner and token),
 *       {@value #TERMINATE}, {@value #SPOT} and {@value #REBALANCE} (start a drain),
 *       {@value #LAUNCH_SUCCESSFUL} (registered → ready), {@value #TASK_STATE_CHANGE} (a Fargate task:
 *       {@link TaskLifecycle}); answers {@code {"result": "..."}}.</li>
 * </ul>
 * Input that is neither, or lacks a field, throws {@link IllegalArgumentException} naming the problem.
 */
public final class LifecycleEvents {
    public static final String LAUNCH = "EC2 Instance-launch Lifecycle Action";
    public static final String TERMINATE = "EC2 Instance-terminate Lifecycle Action";
    public static final String SPOT = "EC2 Spot Instance Interruption Warning";
    public static final String REBALANCE = "EC2 Instance Rebalance Recommendation";
    public static final String LAUNCH_SUCCESSFUL = "EC2 Instance Launch Successful";
    public static final String TASK_STATE_CHANGE = "ECS Task State Change";

    private final LifecycleService service;
    private final TaskLifecycle tasks;
    private final DrainCodec codec;
    private final ObjectMapper json;

    /** Without Fargate pools: an ECS task event is refused. */
    public LifecycleEvents(LifecycleService service, DrainCodec codec, ObjectMapper json) {
        this(service, null, codec, json);
    }

    public LifecycleEvents(LifecycleService service, TaskLifecycle tasks, DrainCodec codec, ObjectMapper json) {
        this.service = service;
        this.tasks = tasks;
        this.codec = codec;
        this.json = json;
    }

    public JsonNode handle(JsonNode event) {
        if (event == null || !event.isObject()) {
            throw new IllegalArgumentException("lifecycle input must be a JSON object: a drain task or an EventBridge event");
        }
        if (event.has("task")) {
            Drain drain = codec.fromJson(event.get("drain"));
            return codec.toJson(service.task(event.get("task").asText(), drain));
        }
        String detailType = event.path("detail-type").asText("");
        JsonNode detail = event.path("detail");
        Object result = switch (detailType) {
            case LAUNCH -> {
                String instanceId = field(detail, "EC2InstanceId");
                LifecycleService.LaunchResult launch = service.onLaunch(field(detail, "AutoScalingGroupName"), instanceId,
                        InstanceArns.of(field(event, "region"), field(event, "account"), instanceId),
                        field(detail, "LifecycleHookName"), field(detail, "LifecycleActionToken"),
                        LifecycleService.LaunchPath.of(optional(detail, "Origin"), optional(detail, "Destination")),
                        time(event));
                if (launch == LifecycleService.LaunchResult.IN_PROGRESS) {
                    // a failure, so Lambda retries the event: by then the other handler has finished (and
                    // the retry finds the runner) or died (and its claim has lapsed)
                    throw new RetryableError("launch of " + instanceId + " is being handled by another invocation");
                }
                yield launch;
            }
            case TERMINATE -> service.onTerminateHook(field(detail, "AutoScalingGroupName"),
                    field(detail, "EC2InstanceId"), field(detail, "LifecycleHookName"),
                    field(detail, "LifecycleActionToken"), "WarmPool".equals(optional(detail, "Destination")));
            case SPOT -> service.onSpotWarning(field(detail, "instance-id"), time(event));
            case REBALANCE -> service.onRebalance(field(detail, "instance-id"), time(event));
            case LAUNCH_SUCCESSFUL -> service.onLaunchSuccessful(field(detail, "EC2InstanceId")) ? "READY" : "UNCHANGED";
            case TASK_STATE_CHANGE -> {
                if (tasks == null) {
                    throw new IllegalArgumentException(TASK_STATE_CHANGE + " events need Fargate task handling, which "
                            + "this lifecycle function was built without");
                }
                Optional<TaskEvent> task = taskEvent(event);
                yield task.isEmpty() ? TaskLifecycle.Result.IGNORED : tasks.onTaskStateChange(task.get());
            }
            default -> throw new IllegalArgumentException("detail-type '" + Quoted.abbreviate(detailType)
                    + "' is not a lifecycle event (" + LAUNCH + ", " + TERMINATE + ", " + SPOT + ", " + REBALANCE
                    + ", " + LAUNCH_SUCCESSFUL + ", " + TASK_STATE_CHANGE + ") and the input has no \"task\"");
        };
        return json.createObjectNode().put("result", result.toString());
    }

    /**
     * The instance an event is about ({@code detail.EC2InstanceId} or {@code detail.instance-id}),
     * or null when it names none.
     */
    public static String instanceId(JsonNode event) {
        JsonNode detail = event == null ? null : event.path("detail");
        if (detail == null) {
            return null;
        }
        for (String name : new String[]{"EC2InstanceId", "instance-id"}) {
            JsonNode value = detail.get(name);
            if (value != null && value.isTextual() && !value.asText().isBlank()) {
                return value.asText();
            }
        }
        return null;
    }

    /**
     * An "ECS Task State Change" event as a {@link TaskEvent}, or empty for a task runnerscale did not
     * start (its {@code startedBy} names no {@link TaskKey}). Reasons are bounded.
     */
    public static Optional<TaskEvent> taskEvent(JsonNode event) {
        JsonNode detail = event.path("detail");
        Optional<TaskKey> key = TaskKey.fromStartedBy(detail.path("startedBy").asText(null));
        if (key.isEmpty()) {
            return Optional.empty();
        }
        String containerReason = null;
        Integer exitCode = null;
        for (JsonNode container : detail.path("containers")) {
            if (containerReason == null && container.hasNonNull("reason") && !container.get("reason").asText().isBlank()) {
                containerReason = container.get("reason").asText();
            }
            if (container.path("exitCode").isIntegralNumber()) {
                int code = container.get("exitCode").asInt();
                if (exitCode == null || exitCode == 0) {
                    exitCode = code;
                }
            }
        }
        JsonNode version = detail.get("version");
        if (version == null || !version.isIntegralNumber()) {
            throw new IllegalArgumentException("event field detail.version is missing or not a whole number");
        }
        Instant at = time(event);
        return Optional.of(new TaskEvent(key.get(), field(detail, "taskArn"), field(detail, "lastStatus"),
                detail.path("desiredStatus").asText(null), detail.path("stopCode").asText(null),
                detail.path("stoppedReason").asText(null), containerReason, exitCode,
                detail.path("capacityProviderName").asText(null), version.asLong(), at));
    }

    /** A text field that may be absent (Origin and Destination come only from groups with a warm pool). */
    static String optional(JsonNode node, String name) {
        JsonNode value = node.get(name);
        return value != null && value.isTextual() ? value.asText() : null;
    }

    static String field(JsonNode node, String name) {
        JsonNode value = node.get(name);
        if (value == null || !value.isTextual() || value.asText().isBlank()) {
            throw new IllegalArgumentException("event field " + name + " is missing or not a string");
        }
        return value.asText();
    }

    /** The event's time: a repeated delivery carries the same, so it names the same drain. Null when unreadable. */
    static Instant time(JsonNode event) {
        try {
            return Instant.parse(event.path("time").asText(""));
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
