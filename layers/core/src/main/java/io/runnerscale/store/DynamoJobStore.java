package io.runnerscale.store;

import io.runnerscale.compute.TaskEvent;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.compute.TaskState;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.Update;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemResponse;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The job store on one DynamoDB table.
 *
 * <ul>
 *   <li>{@code JOB#<project>#<job>}: one job; indexed under {@code POOL#<pool>#pending|running} (GSI
 *       {@code live}) only while live, so a decision reads only live jobs; terminal jobs expire by TTL;</li>
 *   <li>{@code INST#<id>}: an instance, indexed under {@code POOL#<pool>#instances}; the lifecycle
 *       function adds {@code runnerId}, {@code state}, {@code runnerPaused} and {@code drainAttempt};</li>
 *   <li>{@code DELIVERY#<id>}: a webhook delivery already processed, expiring by TTL;</li>
 *   <li>{@code POOLWATCH#<pool>}: when a decision last looked at the pool's instances;</li>
 *   <li>{@code TASK#<project>#<job>#<attempt>}: a Fargate task started for a job, indexed under
 *       {@code POOL#<pool>#tasks} until forgotten, then expiring by TTL;</li>
 *   <li>{@code PROJECT#<id>}: a GitLab project runnerscale heard from, indexed under {@code PROJECTS},
 *       expiring {@link ProjectStore#REMEMBERED} after it was last seen.</li>
 * </ul>
 * Every job write is conditional on the status rank, so duplicates and late events change nothing.
 */
public final class DynamoJobStore implements JobStore, InstanceLifecycleStore, TaskStore, ProjectStore {
    public static final String PK = "pk";
    public static final String LIVE_INDEX = "live";
    public static final String LIVE_PK = "livePk";
    public static final String LIVE_SK = "liveSk";
    public static final String EXPIRES_AT = "expiresAt";
    private static final Duration DELIVERY_TTL = Duration.ofDays(2);
    private static final Duration TOMBSTONE_TTL = Duration.ofDays(1);

    private final DynamoDbClient dynamo;
    private final String table;
    private final Duration jobTtl;

    public DynamoJobStore(DynamoDbClient dynamo, String table, Duration jobTtl) {
        this.dynamo = dynamo;
        this.table = table;
        this.jobTtl = jobTtl;
    }

    static String jobPk(JobKey key) {
        return "JOB#" + key.projectId() + "#" + key.jobId();
    }

    @Override
    public ApplyOutcome apply(JobEvent event, String pool, Instant now) {
        JobStatus status = event.status();
        Map<String, String> names = new HashMap<>();
        Map<String, AttributeValue> values = new HashMap<>();
        List<String> sets = new ArrayList<>();
        List<String> removes = new ArrayList<>();
        names.put("#status", "status");
        // Right-hand sides read the item before the update: previousStatus is the status being replaced.
        sets.add("previousStatus = if_not_exists(#status, :none)");
        values.put(":none", s(""));
        set(sets, values, "#status", ":status", s(status.wireName()));
        set(sets, values, "statusRank", ":rank", n(status.rank()));
        set(sets, values, "projectId", ":projectId", n(event.key().projectId()));
        set(sets, values, "jobId", ":jobId", n(event.key().jobId()));
        set(sets, values, "updatedAt", ":now", s(now.toString()));
        if (pool != null) {
            names.put("#pool", "pool");
            set(sets, values, "#pool", ":pool", s(pool));
        }
        if (event.tags() != null) {
            set(sets, values, "tags", ":tags", AttributeValue.fromL(event.tags().stream().map(DynamoJobStore::s).toList()));
        }
        optional(sets, values, "pipelineId", event.pipelineId());
        if (event.name() != null) {
            names.put("#name", "name");
            set(sets, values, "#name", ":name", s(event.name()));
        }
        optional(sets, values, "stage", event.stage());
        optional(sets, values, "createdAt", event.createdAt());
        optional(sets, values, "startedAt", event.startedAt());
        optional(sets, values, "finishedAt", event.finishedAt());
        optional(sets, values, "runnerId", event.runnerId());
        optional(sets, values, "failureReason", event.failureReason());
        String instanceId = event.instanceId();
        optional(sets, values, "instanceId", instanceId);
        if (status == JobStatus.PENDING) {
            sets.add("pendingAt = if_not_exists(pendingAt, :now)");
        }
        if (status.isLive() && pool != null) {
            String bucket = status == JobStatus.PENDING ? "pending" : "running";
            set(sets, values, LIVE_PK, ":livePk", s("POOL#" + pool + "#" + bucket));
            set(sets, values, LIVE_SK, ":liveSk", s(jobPk(event.key())));
        } else {
            removes.add(LIVE_PK);
            removes.add(LIVE_SK);
        }
        if (status.isTerminal()) {
            set(sets, values, EXPIRES_AT, ":expires", n(now.plus(jobTtl).getEpochSecond()));
        }
        String expression = "SET " + String.join(", ", sets) + (removes.isEmpty() ? "" : " REMOVE " + String.join(", ", removes));
        String condition = "attribute_not_exists(" + PK + ") OR statusRank < :rank";
        Map<String, AttributeValue> key = Map.of(PK, s(jobPk(event.key())));

        if (status.isTerminal() && instanceId != null) {
            return applyWithInstanceUse(event, pool, now, key, expression, condition, names, values, instanceId);
        }
        try {
            UpdateItemResponse response = dynamo.updateItem(UpdateItemRequest.builder()
                    .tableName(table).key(key)
                    .updateExpression(expression).conditionExpression(condition)
                    .expressionAttributeNames(names).expressionAttributeValues(values)
                    .returnValues(ReturnValue.ALL_NEW)
                    .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD)
                    .build());
            return applied(response.attributes());
        } catch (ConditionalCheckFailedException e) {
            return new ApplyOutcome.Stale(statusOf(e.item()));
        }
    }

    /** A finished job counts a use of its instance; both in one transaction so a duplicate counts nothing. */
    private ApplyOutcome applyWithInstanceUse(JobEvent event, String pool, Instant now, Map<String, AttributeValue> key,
                                              String expression, String condition, Map<String, String> names,
                                              Map<String, AttributeValue> values, String instanceId) {
        Map<String, AttributeValue> instanceValues = new HashMap<>();
        instanceValues.put(":one", n(1));
        // idle since the event was received (see JobStore#apply), not since the payload's finished_at
        instanceValues.put(":finished", s(now.toString()));
        StringBuilder instanceUpdate = new StringBuilder("ADD useCount :one SET lastJobFinishedAt = :finished");
        Map<String, String> instanceNames = new HashMap<>();
        if (pool != null) {
            instanceNames.put("#pool", "pool");
            instanceValues.put(":pool", s(pool));
            instanceValues.put(":livePk", s("POOL#" + pool + "#instances"));
            instanceValues.put(":liveSk", s(instanceId));
            instanceUpdate.append(", #pool = if_not_exists(#pool, :pool), ")
                    .append(LIVE_PK).append(" = if_not_exists(").append(LIVE_PK).append(", :livePk), ")
                    .append(LIVE_SK).append(" = if_not_exists(").append(LIVE_SK).append(", :liveSk)");
        }
        try {
            dynamo.transactWriteItems(t -> t.transactItems(
                    TransactWriteItem.builder().update(Update.builder().tableName(table).key(key)
                            .updateExpression(expression).conditionExpression(condition)
                            .expressionAttributeNames(names).expressionAttributeValues(values)
                            .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD)
                            .build()).build(),
                    TransactWriteItem.builder().update(Update.builder().tableName(table)
                            .key(Map.of(PK, s("INST#" + instanceId)))
                            .updateExpression(instanceUpdate.toString())
                            .expressionAttributeNames(instanceNames.isEmpty() ? null : instanceNames)
                            .expressionAttributeValues(instanceValues).build()).build()));
            // A transaction returns no item: read the job back (consistently) for the outcome.
            return applied(dynamo.getItem(r -> r.tableName(table).key(key).consistentRead(true)).item());
        } catch (TransactionCanceledException e) {
            List<CancellationReason> reasons = e.cancellationReasons();
            if (!reasons.isEmpty() && "ConditionalCheckFailed".equals(reasons.getFirst().code())) {
                return new ApplyOutcome.Stale(statusOf(reasons.getFirst().item()));
            }
            throw e;
        }
    }

    private static ApplyOutcome applied(Map<String, AttributeValue> item) {
        JobStatus previous = JobStatus.fromWire(text(item.get("previousStatus"))).orElse(null);
        return new ApplyOutcome.Applied(previous, toJob(item));
    }

    @Override
    public Optional<JobRecord> find(JobKey key) {
        GetItemResponse response = dynamo.getItem(r -> r.tableName(table).key(Map.of(PK, s(jobPk(key)))).consistentRead(true));
        return response.hasItem() && !response.item().isEmpty() ? Optional.of(toJob(response.item())) : Optional.empty();
    }

    @Override
    public boolean claimDelivery(String deliveryId, Instant now) {
        try {
            dynamo.putItem(r -> r.tableName(table)
                    .item(Map.of(PK, s("DELIVERY#" + deliveryId), EXPIRES_AT, n(now.plus(DELIVERY_TTL).getEpochSecond()),
                            "receivedAt", s(now.toString())))
                    .conditionExpression("attribute_not_exists(" + PK + ")"));
            return true;
        } catch (ConditionalCheckFailedException duplicate) {
            return false;
        }
    }

    @Override
    public boolean deliveryRecorded(String deliveryId) {
        GetItemResponse response = dynamo.getItem(r -> r.tableName(table)
                .key(Map.of(PK, s("DELIVERY#" + deliveryId))).consistentRead(true).projectionExpression(PK));
        return response.hasItem() && !response.item().isEmpty();
    }

    @Override
    public void releaseDelivery(String deliveryId) {
        dynamo.deleteItem(r -> r.tableName(table).key(Map.of(PK, s("DELIVERY#" + deliveryId))));
    }

    @Override
    public List<JobRecord> liveJobs(String pool) {
        List<JobRecord> jobs = new ArrayList<>();
        for (String bucket : List.of("pending", "running")) {
            queryLive("POOL#" + pool + "#" + bucket, item -> jobs.add(toJob(item)));
        }
        return jobs;
    }

    @Override
    public List<InstanceRecord> instances(String pool) {
        List<InstanceRecord> instances = new ArrayList<>();
        queryLive("POOL#" + pool + "#instances", item -> instances.add(new InstanceRecord(
                item.get(LIVE_SK).s(), pool, instant(item.get("launchedAt")),
                item.containsKey("useCount") ? Integer.parseInt(item.get("useCount").n()) : 0,
                instant(item.get("lastJobFinishedAt")), instant(item.get("unknownSince")),
                io.runnerscale.lifecycle.InstanceState.fromWireName(text(item.get("state"))).orElse(null))));
        return instances;
    }

    @Override
    public boolean recordInstance(String pool, String instanceId, Instant launchedAt, Instant unknownSince) {
        Map<String, AttributeValue> values = new HashMap<>(Map.of(":pool", s(pool),
                ":livePk", s("POOL#" + pool + "#instances"), ":id", s(instanceId), ":launched", s(launchedAt.toString()),
                ":gone", s(io.runnerscale.lifecycle.InstanceState.GONE.wireName())));
        String expression = "SET #pool = :pool, " + LIVE_PK + " = :livePk, " + LIVE_SK + " = :id, "
                + "launchedAt = if_not_exists(launchedAt, :launched)";
        if (unknownSince != null) {
            values.put(":unknown", s(unknownSince.toString()));
            expression += ", unknownSince = if_not_exists(unknownSince, :unknown)";
        }
        String update = expression;
        try {
            dynamo.updateItem(r -> r.tableName(table).key(Map.of(PK, s("INST#" + instanceId)))
                    .updateExpression(update)
                    // a tombstone stays out of the pool's index
                    .conditionExpression("attribute_not_exists(#state) OR #state <> :gone")
                    .expressionAttributeNames(Map.of("#pool", "pool", "#state", "state"))
                    .expressionAttributeValues(values));
            return true;
        } catch (ConditionalCheckFailedException gone) {
            return false;
        }
    }

    @Override
    public void markStateUnknown(String instanceId, Instant since) {
        try {
            dynamo.updateItem(r -> r.tableName(table).key(Map.of(PK, s("INST#" + instanceId)))
                    .updateExpression("SET unknownSince = :since")
                    .conditionExpression("attribute_exists(" + PK + ")")
                    .expressionAttributeValues(Map.of(":since", s(since.toString()))));
        } catch (ConditionalCheckFailedException gone) {
            // forgotten meanwhile: nothing to mark
        }
    }

    @Override
    public Optional<Instant> observePool(String pool, Instant now) {
        UpdateItemResponse response = dynamo.updateItem(r -> r.tableName(table)
                .key(Map.of(PK, s("POOLWATCH#" + pool)))
                .updateExpression("SET observedAt = :now")
                .expressionAttributeValues(Map.of(":now", s(now.toString())))
                .returnValues(ReturnValue.UPDATED_OLD));
        return Optional.ofNullable(instant(response.attributes().get("observedAt")));
    }

    @Override
    public void forgetInstance(String instanceId) {
        dynamo.deleteItem(r -> r.tableName(table).key(Map.of(PK, s("INST#" + instanceId))));
    }

    @Override
    public Optional<InstanceLifecycle> lifecycle(String instanceId) {
        GetItemResponse response = dynamo.getItem(r -> r.tableName(table).key(instanceKey(instanceId)).consistentRead(true));
        if (!response.hasItem() || response.item().isEmpty()) {
            return Optional.empty();
        }
        Map<String, AttributeValue> item = response.item();
        AttributeValue paused = item.get("runnerPaused");
        Long attempt = number(item.get("drainAttempt"));
        return Optional.of(new InstanceLifecycle(instanceId, text(item.get("pool")), number(item.get("runnerId")),
                io.runnerscale.lifecycle.InstanceState.fromWireName(text(item.get("state"))).orElse(null),
                paused != null && Boolean.TRUE.equals(paused.bool()),
                attempt == null ? 1 : attempt.intValue()));
    }

    @Override
    public void recordRunner(String instanceId, String pool, Long runnerId, io.runnerscale.lifecycle.InstanceState state,
                             Instant now) {
        Map<String, AttributeValue> values = new HashMap<>(Map.of(":pool", s(pool),
                ":livePk", s("POOL#" + pool + "#instances"), ":id", s(instanceId), ":launched", s(now.toString()),
                ":state", s(state.wireName())));
        boolean gone = state == io.runnerscale.lifecycle.InstanceState.GONE;
        String expression = "SET #pool = :pool, launchedAt = if_not_exists(launchedAt, :launched), #state = :state";
        if (gone) {
            // a tombstone: out of the pool's index, expiring by TTL
            values.remove(":livePk");
            values.remove(":id");
            values.put(":expires", n(tombstoneExpiry()));
            expression += ", " + EXPIRES_AT + " = :expires";
        } else {
            expression += ", " + LIVE_PK + " = :livePk, " + LIVE_SK + " = :id";
        }
        if (runnerId != null) {
            values.put(":runner", n(runnerId));
            expression += ", runnerId = :runner";
        }
        List<String> removed = new ArrayList<>();
        if (runnerId == null) {
            removed.addAll(List.of("runnerId", "runnerPaused"));
        }
        if (gone) {
            removed.addAll(List.of(LIVE_PK, LIVE_SK));
        }
        if (!removed.isEmpty()) {
            expression += " REMOVE " + String.join(", ", removed);
        }
        String update = expression;
        dynamo.updateItem(r -> r.tableName(table).key(instanceKey(instanceId))
                .updateExpression(update)
                .expressionAttributeNames(Map.of("#pool", "pool", "#state", "state"))
                .expressionAttributeValues(values));
    }

    @Override
    public boolean advanceState(String instanceId, io.runnerscale.lifecycle.InstanceState expected,
                                io.runnerscale.lifecycle.InstanceState next) {
        try {
            dynamo.updateItem(r -> r.tableName(table).key(instanceKey(instanceId))
                    .updateExpression("SET #state = :next")
                    .conditionExpression("#state = :expected")
                    .expressionAttributeNames(Map.of("#state", "state"))
                    .expressionAttributeValues(Map.of(":next", s(next.wireName()), ":expected", s(expected.wireName()))));
            return true;
        } catch (ConditionalCheckFailedException other) {
            return false;
        }
    }

    @Override
    public boolean markGoneIfUnknown(String instanceId, Instant now) {
        try {
            dynamo.updateItem(r -> r.tableName(table).key(instanceKey(instanceId))
                    .updateExpression("SET #state = :gone, " + EXPIRES_AT + " = :expires REMOVE " + LIVE_PK + ", " + LIVE_SK)
                    .conditionExpression("attribute_not_exists(#state)")
                    .expressionAttributeNames(Map.of("#state", "state"))
                    .expressionAttributeValues(Map.of(":gone", s(io.runnerscale.lifecycle.InstanceState.GONE.wireName()),
                            ":expires", n(now.plus(TOMBSTONE_TTL).getEpochSecond()))));
            return true;
        } catch (ConditionalCheckFailedException known) {
            return false;
        }
    }

    /** Tombstones expire a day on: Lambda retries a late event for minutes, not days. Wall clock: TTL is coarse. */
    private static long tombstoneExpiry() {
        return Instant.now().plus(TOMBSTONE_TTL).getEpochSecond();
    }

    @Override
    public boolean claimLaunch(String instanceId, String pool, Instant now, Duration lease) {
        try {
            dynamo.updateItem(r -> r.tableName(table).key(instanceKey(instanceId))
                    .updateExpression("SET #pool = :pool, " + LIVE_PK + " = :livePk, " + LIVE_SK + " = :id, "
                            + "launchedAt = if_not_exists(launchedAt, :now), #state = :launching, launchClaimedAt = :now")
                    .conditionExpression("attribute_not_exists(#state) OR (#state = :launching AND "
                            + "(attribute_not_exists(launchClaimedAt) OR launchClaimedAt < :expired))")
                    .expressionAttributeNames(Map.of("#pool", "pool", "#state", "state"))
                    .expressionAttributeValues(Map.of(":pool", s(pool), ":livePk", s("POOL#" + pool + "#instances"),
                            ":id", s(instanceId), ":now", s(now.toString()),
                            ":launching", s(io.runnerscale.lifecycle.InstanceState.LAUNCHING.wireName()),
                            ":expired", s(now.minus(lease).toString()))));
            return true;
        } catch (ConditionalCheckFailedException held) {
            return false;
        }
    }

    @Override
    public boolean markWarm(String instanceId, String pool, Instant since) {
        try {
            dynamo.updateItem(r -> r.tableName(table).key(instanceKey(instanceId))
                    .updateExpression(WARM_SET + " REMOVE runnerId, runnerPaused")
                    // never back to an older warmSince: a late warm-launch event after a return to the pool
                    .conditionExpression("attribute_not_exists(#state) OR (#state = :warm AND "
                            + "(attribute_not_exists(warmSince) OR warmSince <= :since))")
                    .expressionAttributeNames(Map.of("#pool", "pool", "#state", "state"))
                    .expressionAttributeValues(warmValues(instanceId, pool, since)));
            return true;
        } catch (ConditionalCheckFailedException past) {
            return false;
        }
    }

    @Override
    public void returnToWarm(String instanceId, String pool, Instant since) {
        Map<String, AttributeValue> values = warmValues(instanceId, pool, since);
        values.put(":one", n(1));
        // the first drain used attempt 1 without writing it: the counter starts there
        dynamo.updateItem(r -> r.tableName(table).key(instanceKey(instanceId))
                .updateExpression(WARM_SET + ", drainAttempt = if_not_exists(drainAttempt, :one) + :one "
                        + "REMOVE runnerId, runnerPaused, returningSince")
                .expressionAttributeNames(Map.of("#pool", "pool", "#state", "state"))
                .expressionAttributeValues(values));
    }

    /** What {@link #markWarm} and {@link #returnToWarm} both set: warm in {@code pool}, in its index, since {@code since}. */
    private static final String WARM_SET = "SET #pool = :pool, " + LIVE_PK + " = :livePk, " + LIVE_SK + " = :id, "
            + "launchedAt = if_not_exists(launchedAt, :now), #state = :warm, warmSince = :since";

    private static Map<String, AttributeValue> warmValues(String instanceId, String pool, Instant since) {
        return new HashMap<>(Map.of(":pool", s(pool), ":livePk", s("POOL#" + pool + "#instances"), ":id", s(instanceId),
                ":now", s(since.toString()), ":since", n(since.toEpochMilli()),
                ":warm", s(io.runnerscale.lifecycle.InstanceState.WARM.wireName())));
    }

    @Override
    public boolean resumeFromWarm(String instanceId, Instant now, Instant eventTime) {
        Map<String, AttributeValue> values = new HashMap<>(Map.of(":now", s(now.toString()),
                ":launching", s(io.runnerscale.lifecycle.InstanceState.LAUNCHING.wireName()),
                ":warm", s(io.runnerscale.lifecycle.InstanceState.WARM.wireName())));
        String condition = "#state = :warm";
        if (eventTime != null) {
            // a late copy of an earlier resume event: from before the instance last went warm
            condition += " AND (attribute_not_exists(warmSince) OR warmSince <= :eventTime)";
            values.put(":eventTime", n(eventTime.toEpochMilli()));
        }
        String check = condition;
        try {
            dynamo.updateItem(r -> r.tableName(table).key(instanceKey(instanceId))
                    .updateExpression("SET #state = :launching, launchedAt = :now "
                            + "REMOVE launchClaimedAt, lastJobFinishedAt, unknownSince, runnerId, runnerPaused")
                    .conditionExpression(check)
                    .expressionAttributeNames(Map.of("#state", "state"))
                    .expressionAttributeValues(values));
            return true;
        } catch (ConditionalCheckFailedException notWarm) {
            return false;
        }
    }

    @Override
    public boolean markReturning(String instanceId, Instant since) {
        try {
            dynamo.updateItem(r -> r.tableName(table).key(instanceKey(instanceId))
                    .updateExpression("SET #state = :returning, returningSince = if_not_exists(returningSince, :since)")
                    .conditionExpression("#state = :draining OR #state = :returning")
                    .expressionAttributeNames(Map.of("#state", "state"))
                    .expressionAttributeValues(Map.of(":since", n(since.toEpochMilli()),
                            ":draining", s(io.runnerscale.lifecycle.InstanceState.DRAINING.wireName()),
                            ":returning", s(io.runnerscale.lifecycle.InstanceState.RETURNING.wireName()))));
            return true;
        } catch (ConditionalCheckFailedException other) {
            return false;
        }
    }

    @Override
    public Optional<Instant> returningSince(String instanceId) {
        GetItemResponse response = dynamo.getItem(r -> r.tableName(table).key(instanceKey(instanceId)).consistentRead(true));
        if (!response.hasItem()) {
            return Optional.empty();
        }
        Long millis = number(response.item().get("returningSince"));
        return millis == null ? Optional.empty() : Optional.of(Instant.ofEpochMilli(millis));
    }

    @Override
    public void releaseLaunch(String instanceId) {
        dynamo.updateItem(r -> r.tableName(table).key(instanceKey(instanceId)).updateExpression("REMOVE launchClaimedAt"));
    }

    @Override
    public boolean setState(String instanceId, io.runnerscale.lifecycle.InstanceState state) {
        boolean gone = state == io.runnerscale.lifecycle.InstanceState.GONE;
        Map<String, AttributeValue> values = new HashMap<>(Map.of(":state", s(state.wireName())));
        if (gone) {
            values.put(":expires", n(tombstoneExpiry()));
        }
        try {
            dynamo.updateItem(r -> r.tableName(table).key(instanceKey(instanceId))
                    .updateExpression(gone ? "SET #state = :state, " + EXPIRES_AT + " = :expires REMOVE " + LIVE_PK + ", "
                            + LIVE_SK : "SET #state = :state")
                    .conditionExpression("attribute_exists(" + PK + ")")
                    .expressionAttributeNames(Map.of("#state", "state"))
                    .expressionAttributeValues(values));
            return true;
        } catch (ConditionalCheckFailedException unknown) {
            return false;
        }
    }

    @Override
    public void setRunnerPaused(String instanceId, boolean paused) {
        dynamo.updateItem(r -> r.tableName(table).key(instanceKey(instanceId))
                .updateExpression("SET runnerPaused = :paused")
                .expressionAttributeValues(Map.of(":paused", AttributeValue.fromBool(paused))));
    }

    @Override
    public void clearRunner(String instanceId) {
        dynamo.updateItem(r -> r.tableName(table).key(instanceKey(instanceId))
                .updateExpression("REMOVE runnerId, runnerPaused"));
    }

    @Override
    public int nextDrainAttempt(String instanceId) {
        // the first drain used attempt 1 without writing it: start the counter there
        UpdateItemResponse response = dynamo.updateItem(r -> r.tableName(table).key(instanceKey(instanceId))
                .updateExpression("SET drainAttempt = if_not_exists(drainAttempt, :first) + :one")
                .expressionAttributeValues(Map.of(":first", n(1), ":one", n(1)))
                .returnValues(ReturnValue.UPDATED_NEW));
        return Integer.parseInt(response.attributes().get("drainAttempt").n());
    }

    // ---- Fargate tasks (TaskStore) ----

    private static Map<String, AttributeValue> taskKey(TaskKey key) {
        return Map.of(PK, s("TASK#" + key.job().projectId() + "#" + key.job().jobId() + "#" + key.attempt()));
    }

    @Override
    public List<TaskRecord> tasks(String pool) {
        List<TaskRecord> tasks = new ArrayList<>();
        queryLive("POOL#" + pool + "#tasks", item -> tasks.add(toTask(item)));
        return tasks;
    }

    @Override
    public Optional<TaskRecord> task(TaskKey key) {
        GetItemResponse response = dynamo.getItem(r -> r.tableName(table).key(taskKey(key)).consistentRead(true));
        return response.hasItem() && !response.item().isEmpty() ? Optional.of(toTask(response.item())) : Optional.empty();
    }

    @Override
    public boolean claimTask(String pool, TaskKey key, Instant now) {
        Map<String, AttributeValue> item = new HashMap<>(taskKey(key));
        item.put("pool", s(pool));
        item.put("projectId", n(key.job().projectId()));
        item.put("jobId", n(key.job().jobId()));
        item.put("attempt", n(key.attempt()));
        item.put("state", s(TaskState.CLAIMED.name()));
        item.put("claimedAt", s(now.toString()));
        item.put("eventVersion", n(0));
        item.put(LIVE_PK, s("POOL#" + pool + "#tasks"));
        item.put(LIVE_SK, s(key.toString()));
        try {
            dynamo.putItem(r -> r.tableName(table).item(item).conditionExpression("attribute_not_exists(" + PK + ")"));
            return true;
        } catch (ConditionalCheckFailedException claimed) {
            return false;
        }
    }

    @Override
    public void taskStarted(TaskKey key, String taskArn, String capacityProvider) {
        try {
            Map<String, AttributeValue> values = new HashMap<>(Map.of(":arn", s(taskArn)));
            String provider = "";
            if (capacityProvider != null) {
                values.put(":provider", s(capacityProvider));
                provider = ", capacityProvider = if_not_exists(capacityProvider, :provider)";
            }
            String expression = "SET taskArn = if_not_exists(taskArn, :arn)" + provider;
            dynamo.updateItem(r -> r.tableName(table).key(taskKey(key))
                    // an ECS event may have come first: what it wrote stays
                    .updateExpression(expression)
                    .conditionExpression("attribute_exists(" + PK + ")")
                    .expressionAttributeValues(values));
            dynamo.updateItem(r -> r.tableName(table).key(taskKey(key))
                    .updateExpression("SET #state = :starting")
                    .conditionExpression("#state = :claimed")
                    .expressionAttributeNames(Map.of("#state", "state"))
                    .expressionAttributeValues(Map.of(":starting", s(TaskState.STARTING.name()),
                            ":claimed", s(TaskState.CLAIMED.name()))));
        } catch (ConditionalCheckFailedException alreadyFurther) {
            // forgotten, or an event moved it on first
        }
    }

    @Override
    public void taskNotStarted(TaskKey key, String reason, Instant now) {
        try {
            dynamo.updateItem(r -> r.tableName(table).key(taskKey(key))
                    .updateExpression("SET #state = :stopped, stoppedAt = :now, reason = :reason, failed = :true")
                    .conditionExpression("#state = :claimed")
                    .expressionAttributeNames(Map.of("#state", "state"))
                    .expressionAttributeValues(Map.of(":stopped", s(TaskState.STOPPED.name()), ":now", s(now.toString()),
                            ":reason", s(reason), ":true", AttributeValue.fromBool(true),
                            ":claimed", s(TaskState.CLAIMED.name()))));
        } catch (ConditionalCheckFailedException started) {
            // an event says it started after all: the event wins
        }
    }

    @Override
    public TaskUpdate applyTaskEvent(TaskEvent event, Instant now) {
        // read, then write conditioned on the version read. A lost race means another event was stored
        // in between: decide again on what is stored now, since that event may be older than this one
        // (two invocations at once). Each lost race stored a higher version, so this ends at the latest
        // when the record holds this event's version (then Stale).
        while (true) {
            Optional<TaskRecord> current = task(event.key());
            if (current.isEmpty()) {
                return new TaskUpdate.Unknown();
            }
            TaskRecord previous = current.get();
            if (previous.eventVersion() >= event.version()) {
                return new TaskUpdate.Stale(previous);
            }
            TaskRecord next = previous.with(event, now);
            Map<String, AttributeValue> values = new HashMap<>();
            List<String> sets = new ArrayList<>();
            set(sets, values, "#state", ":state", s(next.state().name()));
            set(sets, values, "eventVersion", ":version", n(next.eventVersion()));
            set(sets, values, "failed", ":failed", AttributeValue.fromBool(next.failed()));
            set(sets, values, "interrupted", ":interrupted", AttributeValue.fromBool(next.interrupted()));
            optional(sets, values, "taskArn", next.taskArn());
            optional(sets, values, "capacityProvider", next.capacityProvider());
            optional(sets, values, "stoppedAt", next.stoppedAt());
            optional(sets, values, "reason", next.reason());
            values.put(":seen", n(previous.eventVersion()));
            try {
                dynamo.updateItem(r -> r.tableName(table).key(taskKey(event.key()))
                        .updateExpression("SET " + String.join(", ", sets))
                        .conditionExpression("eventVersion = :seen")
                        .expressionAttributeNames(Map.of("#state", "state"))
                        .expressionAttributeValues(values));
                return new TaskUpdate.Applied(previous, next);
            } catch (ConditionalCheckFailedException raced) {
                // another event was stored between the read and the write: read again
            }
        }
    }

    @Override
    public Interruption interruption(TaskKey key) {
        GetItemResponse response = dynamo.getItem(r -> r.tableName(table).key(taskKey(key)).consistentRead(true)
                .projectionExpression("interruptedJobs, jobsRetried"));
        if (!response.hasItem() || response.item().isEmpty()) {
            return Interruption.NONE;
        }
        List<JobKey> jobs = new ArrayList<>();
        AttributeValue listed = response.item().get("interruptedJobs");
        if (listed != null && listed.hasL()) {
            for (AttributeValue job : listed.l()) {
                String[] parts = job.s().split("/", 2);
                jobs.add(new JobKey(Long.parseLong(parts[0]), Long.parseLong(parts[1])));
            }
        }
        return new Interruption(jobs, bool(response.item().get("jobsRetried")));
    }

    @Override
    public void recordInterruption(TaskKey key, List<JobKey> jobs, boolean handled) {
        List<AttributeValue> listed = jobs.stream().map(j -> s(j.projectId() + "/" + j.jobId())).toList();
        try {
            dynamo.updateItem(r -> r.tableName(table).key(taskKey(key))
                    .updateExpression("SET interruptedJobs = :jobs, jobsRetried = :handled")
                    .conditionExpression("attribute_exists(" + PK + ")")
                    .expressionAttributeValues(Map.of(":jobs", AttributeValue.fromL(listed),
                            ":handled", AttributeValue.fromBool(handled))));
        } catch (ConditionalCheckFailedException gone) {
            // never claimed here: nothing to note
        }
    }

    @Override
    public void taskGone(TaskKey key, String reason, Instant now) {
        try {
            dynamo.updateItem(r -> r.tableName(table).key(taskKey(key))
                    .updateExpression("SET #state = :stopped, stoppedAt = :now, reason = :reason")
                    .conditionExpression("#state IN (:claimed, :starting, :running)")
                    .expressionAttributeNames(Map.of("#state", "state"))
                    .expressionAttributeValues(Map.of(":stopped", s(TaskState.STOPPED.name()), ":now", s(now.toString()),
                            ":reason", s(reason), ":claimed", s(TaskState.CLAIMED.name()),
                            ":starting", s(TaskState.STARTING.name()), ":running", s(TaskState.RUNNING.name()))));
        } catch (ConditionalCheckFailedException notServing) {
            // an event moved it on meanwhile
        }
    }

    @Override
    public void forgetTask(TaskKey key) {
        long expires = Instant.now().plus(TOMBSTONE_TTL).getEpochSecond();
        try {
            dynamo.updateItem(r -> r.tableName(table).key(taskKey(key))
                    .updateExpression("REMOVE " + LIVE_PK + ", " + LIVE_SK + " SET " + EXPIRES_AT + " = :expires")
                    .conditionExpression("attribute_exists(" + PK + ")")
                    .expressionAttributeValues(Map.of(":expires", n(expires))));
        } catch (ConditionalCheckFailedException gone) {
            // nothing to forget
        }
    }

    private static TaskRecord toTask(Map<String, AttributeValue> item) {
        TaskKey key = new TaskKey(new JobKey(Long.parseLong(item.get("projectId").n()),
                Long.parseLong(item.get("jobId").n())), Integer.parseInt(item.get("attempt").n()));
        return new TaskRecord(key, text(item.get("pool")), TaskState.valueOf(item.get("state").s()),
                text(item.get("taskArn")), text(item.get("capacityProvider")), instant(item.get("claimedAt")),
                instant(item.get("stoppedAt")), text(item.get("reason")), bool(item.get("failed")),
                bool(item.get("interrupted")), item.containsKey("eventVersion")
                ? Long.parseLong(item.get("eventVersion").n()) : 0);
    }

    private static boolean bool(AttributeValue value) {
        return value != null && Boolean.TRUE.equals(value.bool());
    }

    private static Map<String, AttributeValue> instanceKey(String instanceId) {
        return Map.of(PK, s("INST#" + instanceId));
    }

    private void queryLive(String partition, java.util.function.Consumer<Map<String, AttributeValue>> sink) {
        Map<String, AttributeValue> start = null;
        do {
            QueryResponse page = dynamo.query(QueryRequest.builder().tableName(table).indexName(LIVE_INDEX)
                    .keyConditionExpression(LIVE_PK + " = :p")
                    .expressionAttributeValues(Map.of(":p", s(partition)))
                    .exclusiveStartKey(start).build());
            page.items().forEach(sink);
            start = page.hasLastEvaluatedKey() && !page.lastEvaluatedKey().isEmpty() ? page.lastEvaluatedKey() : null;
        } while (start != null);
    }

    private static JobRecord toJob(Map<String, AttributeValue> item) {
        List<String> tags = item.containsKey("tags") ? item.get("tags").l().stream().map(AttributeValue::s).toList() : null;
        return new JobRecord(
                new JobKey(Long.parseLong(item.get("projectId").n()), Long.parseLong(item.get("jobId").n())),
                JobStatus.fromWire(item.get("status").s()).orElseThrow(),
                text(item.get("pool")),
                tags,
                number(item.get("pipelineId")),
                text(item.get("name")),
                instant(item.get("createdAt")),
                instant(item.get("pendingAt")),
                instant(item.get("startedAt")),
                instant(item.get("finishedAt")),
                number(item.get("runnerId")),
                text(item.get("instanceId")),
                instant(item.get("updatedAt")));
    }

    private static JobStatus statusOf(Map<String, AttributeValue> item) {
        if (item == null || !item.containsKey("status")) {
            return null;
        }
        return JobStatus.fromWire(item.get("status").s()).orElse(null);
    }

    private static void set(List<String> sets, Map<String, AttributeValue> values, String attribute, String placeholder,
                            AttributeValue value) {
        sets.add(attribute + " = " + placeholder);
        values.put(placeholder, value);
    }

    private static void optional(List<String> sets, Map<String, AttributeValue> values, String attribute, Object value) {
        if (value == null) {
            return;
        }
        AttributeValue attributeValue = value instanceof Number number ? n(number) : s(value.toString());
        set(sets, values, attribute, ":" + attribute, attributeValue);
    }

    // ---------------------------------------------------------------- projects (ProjectStore)

    private static final String PROJECTS = "PROJECTS";

    @Override
    public void projectSeen(long projectId, Instant now) {
        // never moves seenAt back: a slower writer with an older time changes nothing
        try {
            dynamo.updateItem(r -> r.tableName(table).key(Map.of(PK, s(projectPk(projectId))))
                    .updateExpression("SET seenAt = :now, " + LIVE_PK + " = :p, " + LIVE_SK + " = :id, "
                            + EXPIRES_AT + " = :expires")
                    .conditionExpression("attribute_not_exists(seenAt) OR seenAt < :now")
                    .expressionAttributeValues(Map.of(":now", s(now.toString()), ":p", s(PROJECTS),
                            ":id", s(Long.toString(projectId)),
                            ":expires", n(now.plus(REMEMBERED).getEpochSecond()))));
        } catch (ConditionalCheckFailedException newer) {
            // seen later by someone else already
        }
    }

    @Override
    public List<ProjectRecord> projects() {
        List<ProjectRecord> out = new ArrayList<>();
        queryLive(PROJECTS, item -> {
            Long hooks = number(item.get("disabledHooks"));
            out.add(new ProjectRecord(Long.parseLong(item.get(LIVE_SK).s()), instant(item.get("seenAt")),
                    instant(item.get("listedAt")), instant(item.get("hooksCheckedAt")),
                    hooks == null ? 0 : hooks.intValue()));
        });
        return out;
    }

    @Override
    public void projectListed(long projectId, Instant at) {
        projectUpdate(projectId, at, "listedAt = :at", Map.of());
    }

    @Override
    public void hooksChecked(long projectId, Instant at, int disabledHooks) {
        projectUpdate(projectId, at, "hooksCheckedAt = :at, disabledHooks = :disabled",
                Map.of(":disabled", n(disabledHooks)));
    }

    /**
     * Sets what the reconciler learnt of a project; a project only named in the config gets its item
     * here (indexed, expiring like a seen one unless seen again: the config names it every run anyway).
     */
    private void projectUpdate(long projectId, Instant at, String assignments, Map<String, AttributeValue> more) {
        Map<String, AttributeValue> values = new HashMap<>(more);
        values.put(":at", s(at.toString()));
        values.put(":p", s(PROJECTS));
        values.put(":id", s(Long.toString(projectId)));
        values.put(":expires", n(at.plus(REMEMBERED).getEpochSecond()));
        dynamo.updateItem(r -> r.tableName(table).key(Map.of(PK, s(projectPk(projectId))))
                .updateExpression("SET " + assignments + ", " + LIVE_PK + " = :p, " + LIVE_SK + " = :id, "
                        + EXPIRES_AT + " = if_not_exists(" + EXPIRES_AT + ", :expires)")
                .expressionAttributeValues(values));
    }

    private static String projectPk(long projectId) {
        return "PROJECT#" + projectId;
    }

    private static AttributeValue s(String value) {
        return AttributeValue.fromS(value);
    }

    private static AttributeValue n(Number value) {
        return AttributeValue.fromN(value.toString());
    }

    private static String text(AttributeValue value) {
        return value == null ? null : value.s();
    }

    private static Long number(AttributeValue value) {
        return value == null || value.n() == null ? null : Long.parseLong(value.n());
    }

    private static Instant instant(AttributeValue value) {
        return value == null || value.s() == null ? null : Instant.parse(value.s());
    }
}
