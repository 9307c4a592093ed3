package io.runnerscale.config;

import io.runnerscale.pool.PoolsConfigParser;
import io.runnerscale.store.DynamoJobStore;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.Map;

/**
 * What the functions' {@code beforeCheckpoint} runs, so that SnapStart's snapshot already holds the
 * classes and code paths every first request needs and a restored environment does not load them
 * while a request waits. Nothing read here is kept: no secret, no pools, no time, no random value.
 * {@code runnerscale bench-startup} measures the effect (first request with and without priming).
 */
public final class SnapStartPriming {
    /** A pools file like the one the SSM parameter holds, parsed and dropped. */
    private static final String POOLS = """
            pools:
              - name: prime
                match: {tags: [prime], run_untagged: false}
                backend: {type: ec2-asg, asg: prime}
                max_instances: 1
                policy: [{idle_count: 0, idle_time: 10m}]
            """;
    /** A key nothing writes. */
    static final String PRIME_KEY = "PRIME#snapstart";

    private SnapStartPriming() {
    }

    /** SnakeYAML, Jackson's YAML reader and the pools parser, which every first request uses to read the pools. */
    public static void poolsParser() {
        PoolsConfigParser.parse(POOLS, "priming");
    }

    /**
     * One GetItem of a key nothing writes: runs the SDK's request path (endpoint rules, signing, the HTTP
     * client, the JSON protocol that DynamoDB, SSM, SQS and Secrets Manager share). Failures are ignored:
     * the first real request reports real errors.
     */
    public static void dynamo(DynamoDbClient dynamo, String table) {
        try {
            dynamo.getItem(r -> r.tableName(table).key(Map.of(DynamoJobStore.PK, AttributeValue.fromS(PRIME_KEY))));
        } catch (RuntimeException ignored) {
            // priming only
        }
    }
}
