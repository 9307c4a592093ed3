package io.runnerscale.it;

import io.runnerscale.local.EmbeddedDynamo;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.util.UUID;

/** One in-process DynamoDB Local per test JVM; each test makes its own table, so tests may run in parallel. */
public final class SharedDynamo {
    private static volatile EmbeddedDynamo dynamo;

    private SharedDynamo() {
    }

    public static EmbeddedDynamo instance() {
        EmbeddedDynamo current = dynamo;
        if (current == null) {
            synchronized (SharedDynamo.class) {
                current = dynamo;
                if (current == null) {
                    current = EmbeddedDynamo.start();
                    EmbeddedDynamo started = current;
                    Runtime.getRuntime().addShutdownHook(new Thread(started::close, "dynamodb-local-stop"));
                    dynamo = current;
                }
            }
        }
        return current;
    }

    public static DynamoDbClient client() {
        return instance().client();
    }

    /** A fresh table created exactly as template.yaml declares it. */
    public static String newTable(String prefix) {
        String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        instance().createTable(name);
        return name;
    }

    public static void dropTable(String name) {
        try {
            client().deleteTable(r -> r.tableName(name));
        } catch (RuntimeException ignored) {
            // in-memory: gone with the JVM anyway
        }
    }
}
