package io.runnerscale.store;

import io.runnerscale.scaling.DemandHistory;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Demand history as per-minute counters in the jobs table ({@code DEMAND#<pool>#<epoch minute>},
 * expiring after {@code retention}), plus {@code DEMAND#<pool>#since}, when counting began.
 * Only pools with forecasting on are recorded, so other pools pay no extra write.
 */
public final class DynamoDemandHistory implements DemandHistory {
    private final DynamoDbClient dynamo;
    private final String table;
    private final Duration retention;
    private final Set<String> sinceRecorded = ConcurrentHashMap.newKeySet();

    public DynamoDemandHistory(DynamoDbClient dynamo, String table, Duration retention) {
        this.dynamo = dynamo;
        this.table = table;
        this.retention = retention;
    }

    @Override
    public void record(String pool, Instant requestedAt) {
        long minute = requestedAt.getEpochSecond() / 60;
        dynamo.updateItem(r -> r.tableName(table)
                .key(Map.of(DynamoJobStore.PK, AttributeValue.fromS(bucket(pool, minute))))
                .updateExpression("ADD n :one SET " + DynamoJobStore.EXPIRES_AT + " = :expires")
                .expressionAttributeValues(Map.of(":one", AttributeValue.fromN("1"),
                        ":expires", AttributeValue.fromN(Long.toString(requestedAt.plus(retention).getEpochSecond())))));
        if (sinceRecorded.add(pool)) {
            try {
                dynamo.putItem(r -> r.tableName(table)
                        .item(Map.of(DynamoJobStore.PK, AttributeValue.fromS("DEMAND#" + pool + "#since"),
                                "since", AttributeValue.fromS(requestedAt.toString())))
                        .conditionExpression("attribute_not_exists(" + DynamoJobStore.PK + ")"));
            } catch (ConditionalCheckFailedException alreadyThere) {
                // recorded by an earlier execution environment
            }
        }
    }

    @Override
    public int count(String pool, Instant from, Instant to) {
        List<Map<String, AttributeValue>> keys = new ArrayList<>();
        long last = (to.getEpochSecond() - 1) / 60;
        for (long minute = from.getEpochSecond() / 60; minute <= last; minute++) {
            keys.add(Map.of(DynamoJobStore.PK, AttributeValue.fromS(bucket(pool, minute))));
        }
        int total = 0;
        for (int start = 0; start < keys.size(); start += 100) {
            Map<String, KeysAndAttributes> request = new HashMap<>();
            request.put(table, KeysAndAttributes.builder().keys(keys.subList(start, Math.min(keys.size(), start + 100)))
                    .projectionExpression("n").build());
            while (!request.isEmpty()) {
                BatchGetItemResponse response = dynamo.batchGetItem(r -> r.requestItems(request));
                for (Map<String, AttributeValue> item : response.responses().getOrDefault(table, List.of())) {
                    total += Integer.parseInt(item.get("n").n());
                }
                request.clear();
                if (response.hasUnprocessedKeys()) {
                    request.putAll(response.unprocessedKeys());
                }
            }
        }
        return total;
    }

    @Override
    public Instant since(String pool) {
        Map<String, AttributeValue> item = dynamo.getItem(r -> r.tableName(table)
                .key(Map.of(DynamoJobStore.PK, AttributeValue.fromS("DEMAND#" + pool + "#since")))).item();
        return item == null || !item.containsKey("since") ? null : Instant.parse(item.get("since").s());
    }

    private static String bucket(String pool, long minute) {
        return "DEMAND#" + pool + "#" + minute;
    }
}
