package io.runnerscale.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.compute.Compute;
import io.runnerscale.compute.GroupState;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.lifecycle.LifecycleEvents;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.store.InstanceLifecycle;
import io.runnerscale.store.InstanceLifecycleStore;
import io.runnerscale.store.InstanceRecord;
import io.runnerscale.store.JobStore;
import io.runnerscale.text.Quoted;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The instance lifecycle as {@code serve} shows and drives it: {@code POST /events} (an EventBridge
 * event, handled by the lifecycle function's own {@link LifecycleEvents}) and the lifecycle part of
 * {@code GET /status} (each instance's state, runner, running jobs and drain; the drain executions).
 */
public final class LocalLifecycle {
    /** Largest event accepted: EventBridge's own limit for an event is 256 KB. */
    public static final int MAX_EVENT_BYTES = 256 * 1024;
    private static final List<String> TYPES = List.of(LifecycleEvents.LAUNCH, LifecycleEvents.TERMINATE,
            LifecycleEvents.SPOT, LifecycleEvents.REBALANCE);

    private final LifecycleEvents events;
    private final LocalDrains drains;
    private final Compute compute;
    private final JobStore jobs;
    private final InstanceLifecycleStore lifecycle;
    private final PoolsConfigSource pools;
    private final ObjectMapper json;

    public LocalLifecycle(LifecycleEvents events, LocalDrains drains, Compute compute, JobStore jobs,
                          InstanceLifecycleStore lifecycle, PoolsConfigSource pools, ObjectMapper json) {
        this.events = events;
        this.drains = drains;
        this.compute = compute;
        this.jobs = jobs;
        this.lifecycle = lifecycle;
        this.pools = pools;
        this.json = json;
    }

    /** Input {@code POST /events} refuses (400), with the reason. */
    public static final class BadEventException extends RuntimeException {
        public BadEventException(String message) {
            super(message);
        }
    }

    /**
     * Handles one EventBridge event as the lifecycle function does and returns its answer
     * ({@code {"result": ...}}). Refused before anything happens: a drain task (drains run inside
     * serve), another detail-type, an event without its instance, or an instance that is not one of
     * serve's (in a pool's group, or known to serve and not gone).
     */
    public JsonNode handleEvent(JsonNode event) {
        if (event == null || !event.isObject()) {
            throw new BadEventException("the body must be a JSON object: an EventBridge event");
        }
        if (event.has("task")) {
            throw new BadEventException("drain tasks run inside serve; POST /events takes EventBridge events ("
                    + String.join(", ", TYPES) + ")");
        }
        JsonNode type = event.get("detail-type");
        if (type == null || !type.isTextual() || !TYPES.contains(type.asText())) {
            throw new BadEventException("detail-type " + (type == null ? "is missing" : "'" + Quoted.abbreviate(type.asText())
                    + "' is not a lifecycle event") + "; use one of: " + String.join(", ", TYPES));
        }
        if (!event.path("detail").isObject()) {
            throw new BadEventException("detail is missing or not an object");
        }
        String instanceId = LifecycleEvents.instanceId(event);
        if (instanceId == null) {
            String field = type.asText().equals(LifecycleEvents.SPOT) || type.asText().equals(LifecycleEvents.REBALANCE)
                    ? "detail.instance-id" : "detail.EC2InstanceId";
            throw new BadEventException(field + " is missing or not a string");
        }
        Map<String, String> known = instances();
        if (!known.containsKey(instanceId)) {
            List<String> some = known.keySet().stream().limit(5).toList();
            throw new BadEventException("instance '" + Quoted.abbreviate(instanceId) + "' is not one of serve's instances"
                    + (some.isEmpty() ? " (it has none now)" : " (" + String.join(", ", some)
                    + (known.size() > some.size() ? ", ..." : "") + "; see GET /status)"));
        }
        try {
            return events.handle(event);
        } catch (IllegalArgumentException e) {
            throw new BadEventException(e.getMessage());
        }
    }

    /** Serve's instances that an event may name, id -> pool: in a pool's group, or known and not gone. */
    private Map<String, String> instances() {
        Map<String, String> out = new LinkedHashMap<>();
        for (PoolConfig pool : pools.current().pools()) {
            try {
                compute.describe(pool).instances().forEach(i -> out.put(i.id(), pool.name()));
            } catch (RuntimeException e) {
                // a group that cannot be read names no instance
            }
            for (InstanceRecord record : jobs.instances(pool.name())) {
                if (record.state() != null && record.state() != io.runnerscale.lifecycle.InstanceState.GONE) {
                    out.putIfAbsent(record.instanceId(), pool.name());
                }
            }
        }
        return out;
    }

    /**
     * The pool's instances, those of its group and those serve still remembers: state (launching,
     * registered, ready, draining, gone; "unmanaged" for an instance without a runner of serve's),
     * whether the group counts it ready, runner id, running jobs and the running drain.
     */
    public ArrayNode instances(PoolConfig pool, GroupState group) {
        Set<String> ids = new LinkedHashSet<>();
        Map<String, Boolean> ready = new LinkedHashMap<>();
        if (group != null) {
            group.instances().forEach(i -> {
                ids.add(i.id());
                ready.put(i.id(), i.ready());
            });
        }
        jobs.instances(pool.name()).forEach(r -> ids.add(r.instanceId()));
        Map<String, List<String>> running = new LinkedHashMap<>();
        for (JobRecord job : jobs.liveJobs(pool.name())) {
            if (job.status() == JobStatus.RUNNING && job.instanceId() != null) {
                running.computeIfAbsent(job.instanceId(), k -> new ArrayList<>()).add(job.key().toString());
            }
        }
        ArrayNode out = json.createArrayNode();
        for (String id : ids) {
            Optional<InstanceLifecycle> record = lifecycle.lifecycle(id);
            ObjectNode node = out.addObject().put("id", id)
                    .put("state", record.map(InstanceLifecycle::state).map(s -> s.wireName()).orElse("unmanaged"));
            if (ready.containsKey(id)) {
                node.put("inGroup", true).put("ready", ready.get(id));
            } else {
                node.put("inGroup", false);
            }
            Long runner = record.map(InstanceLifecycle::runnerId).orElse(null);
            if (runner != null) {
                node.put("runnerId", runner).put("runnerPaused", record.get().runnerPaused());
            } else {
                node.putNull("runnerId");
            }
            ArrayNode jobsNode = node.putArray("runningJobs");
            running.getOrDefault(id, List.of()).forEach(jobsNode::add);
            drains.running(id).ifPresent(d -> node.set("drain", drain(d)));
        }
        return out;
    }

    /** Every drain execution serve still knows, oldest first. */
    public ArrayNode drains() {
        ArrayNode out = json.createArrayNode();
        drains.executions().forEach(d -> out.add(drain(d)));
        return out;
    }

    private ObjectNode drain(LocalDrains.Snapshot d) {
        ObjectNode node = json.createObjectNode().put("name", d.name()).put("instanceId", d.instanceId())
                .put("reason", d.reason()).put("startedAt", d.startedAt().toString())
                .put("status", d.running() ? "running" : d.succeeded() ? "succeeded" : "failed")
                .put("state", d.state());
        put(node, "waitingUntil", d.waitingUntil());
        put(node, "endedAt", d.endedAt());
        if (d.outcome() != null) {
            node.put("outcome", d.outcome());
        }
        return node;
    }

    private static void put(ObjectNode node, String field, Instant value) {
        if (value != null) {
            node.put(field, value.toString());
        }
    }
}
