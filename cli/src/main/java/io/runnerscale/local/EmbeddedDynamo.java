package io.runnerscale.local;

import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import io.runnerscale.store.DynamoJobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.GlobalSecondaryIndex;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.Projection;
import software.amazon.awssdk.services.dynamodb.model.ProjectionType;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * DynamoDB Local in this JVM on a free loopback port, in memory or kept in a directory, with
 * runnerscale's table created exactly as template.yaml declares it.
 */
public final class EmbeddedDynamo implements AutoCloseable {
    /** The file DynamoDB Local keeps a {@link #start(Path) persistent} database in. */
    public static final String DB_FILE = "shared-local-instance.db";

    private final DynamoDBProxyServer server;
    private final URI endpoint;
    private final DynamoDbClient client;

    private EmbeddedDynamo(DynamoDBProxyServer server, int port) {
        this.server = server;
        this.endpoint = URI.create("http://127.0.0.1:" + port);
        this.client = DynamoDbClient.builder()
                .endpointOverride(endpoint)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
                .httpClient(UrlConnectionHttpClient.create())
                .build();
    }

    /** In memory: everything is lost when it stops. */
    public static EmbeddedDynamo start() {
        return start(new String[]{"-inMemory"});
    }

    /**
     * Kept in {@code directory} (created if missing) as one SQLite file, {@value #DB_FILE}, whatever
     * credentials a client signs with ({@code -sharedDb}); tables and items survive a restart. One
     * process at a time: the caller holds a lock on the directory.
     */
    public static EmbeddedDynamo start(Path directory) {
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create " + directory + ": " + e.getMessage(), e);
        }
        return start(new String[]{"-dbPath", directory.toString(), "-sharedDb"});
    }

    private static EmbeddedDynamo start(String[] storage) {
        int port = freePort();
        String[] args = Arrays.copyOf(storage, storage.length + 3);
        args[storage.length] = "-port";
        args[storage.length + 1] = Integer.toString(port);
        args[storage.length + 2] = "-disableTelemetry";
        try {
            DynamoDBProxyServer server = ServerRunner.createServerFromCommandLineArgs(args);
            server.start();
            return new EmbeddedDynamo(server, port);
        } catch (Exception e) {
            throw new IllegalStateException("cannot start DynamoDB Local: " + e.getMessage(), e);
        }
    }

    public DynamoDbClient client() {
        return client;
    }

    public URI endpoint() {
        return endpoint;
    }

    /** Creates the jobs table unless a persistent database already has it; true when it was created. */
    public boolean createTableIfAbsent(String table) {
        try {
            client.describeTable(r -> r.tableName(table));
            return false;
        } catch (ResourceNotFoundException absent) {
            createTable(table);
            return true;
        }
    }

    /** Creates the jobs table (same keys, index and TTL attribute as template.yaml's JobsTable). */
    public void createTable(String table) {
        client.createTable(r -> r.tableName(table)
                .billingMode(BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(
                        AttributeDefinition.builder().attributeName(DynamoJobStore.PK).attributeType(ScalarAttributeType.S).build(),
                        AttributeDefinition.builder().attributeName(DynamoJobStore.LIVE_PK).attributeType(ScalarAttributeType.S).build(),
                        AttributeDefinition.builder().attributeName(DynamoJobStore.LIVE_SK).attributeType(ScalarAttributeType.S).build())
                .keySchema(KeySchemaElement.builder().attributeName(DynamoJobStore.PK).keyType(KeyType.HASH).build())
                .globalSecondaryIndexes(GlobalSecondaryIndex.builder().indexName(DynamoJobStore.LIVE_INDEX)
                        .keySchema(
                                KeySchemaElement.builder().attributeName(DynamoJobStore.LIVE_PK).keyType(KeyType.HASH).build(),
                                KeySchemaElement.builder().attributeName(DynamoJobStore.LIVE_SK).keyType(KeyType.RANGE).build())
                        .projection(Projection.builder().projectionType(ProjectionType.ALL).build())
                        .build()));
        client.updateTimeToLive(r -> r.tableName(table)
                .timeToLiveSpecification(t -> t.attributeName(DynamoJobStore.EXPIRES_AT).enabled(true)));
    }

    @Override
    public void close() {
        client.close();
        try {
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException("cannot stop DynamoDB Local", e);
        }
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
