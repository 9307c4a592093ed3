package io.runnerscale.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.runnerscale.compute.FargateTasks.Capacity;
import io.runnerscale.compute.FargateTasks.RunOutcome;
import io.runnerscale.job.JobKey;
import io.runnerscale.pool.PoolConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ecs.EcsClient;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RunTask as it goes over the wire and ECS's answers that moto_server cannot give (capacity
 * failures in a 200 answer, throttling, server errors), recorded by a loopback server answering in
 * ECS's JSON protocol; the success path runs against moto in the integration tests.
 */
class EcsFargateTasksWireTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final TaskKey KEY = new TaskKey(new JobKey(42, 4242), 2);
    static final PoolConfig.Fargate BACKEND = new PoolConfig.Fargate("ci", "runner:7", "runner",
            List.of("subnet-a", "subnet-b"), List.of("sg-1"), false, true, PoolConfig.Fargate.Platform.X86_64, 1, 2,
            Duration.ofSeconds(90), 3, null);

    HttpServer server;
    final List<JsonNode> requests = Collections.synchronizedList(new ArrayList<>());
    final List<String> targets = Collections.synchronizedList(new ArrayList<>());
    volatile int status = 200;
    volatile String answer = "{\"tasks\":[{\"taskArn\":\"arn:aws:ecs:us-east-1:1:task/ci/0123456789abcdef\"}],\"failures\":[]}";
    EcsFargateTasks tasks;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            requests.add(JSON.readTree(exchange.getRequestBody().readAllBytes()));
            targets.add(exchange.getRequestHeaders().getFirst("X-Amz-Target"));
            byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("content-type", "application/x-amz-json-1.1");
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
        tasks = new EcsFargateTasks(client(server.getAddress().getPort()));
    }

    static EcsClient client(int port) {
        return EcsClient.builder().endpointOverride(URI.create("http://127.0.0.1:" + port))
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("k", "s")))
                .httpClient(UrlConnectionHttpClient.create())
                .overrideConfiguration(c -> c.retryStrategy(b -> b.maxAttempts(1)))
                .build();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void spotRunTaskNamesTheKeyAndUsesTheSpotProviderWithoutLaunchType() {
        RunOutcome outcome = tasks.run("fargate-small", BACKEND, KEY, Capacity.FARGATE_SPOT);
        assertEquals(new RunOutcome.Started("arn:aws:ecs:us-east-1:1:task/ci/0123456789abcdef", Capacity.FARGATE_SPOT),
                outcome);
        assertEquals("AmazonEC2ContainerServiceV20141113.RunTask", targets.getFirst());
        JsonNode request = requests.getFirst();
        assertEquals("ci", request.get("cluster").asText());
        assertEquals("runner:7", request.get("taskDefinition").asText());
        assertEquals(1, request.get("count").asInt());
        assertEquals("runnerscale/42/4242/2", request.get("startedBy").asText());
        assertEquals(KEY.clientToken("FARGATE_SPOT"), request.get("clientToken").asText());
        assertEquals("FARGATE_SPOT", request.at("/capacityProviderStrategy/0/capacityProvider").asText());
        assertFalse(request.has("launchType"), "a capacity provider strategy excludes a launch type");
        JsonNode vpc = request.at("/networkConfiguration/awsvpcConfiguration");
        assertEquals("[\"subnet-a\",\"subnet-b\"]", vpc.get("subnets").toString());
        assertEquals("[\"sg-1\"]", vpc.get("securityGroups").toString());
        assertEquals("DISABLED", vpc.get("assignPublicIp").asText());
        JsonNode container = request.at("/overrides/containerOverrides/0");
        assertEquals("runner", container.get("name").asText());
        assertEquals("[{\"name\":\"RUNNERSCALE_WAIT_TIMEOUT\",\"value\":\"90\"},{\"name\":\"RUNNERSCALE_JOB\","
                + "\"value\":\"42/4242\"}]", container.get("environment").toString());
        assertFalse(container.toString().toLowerCase().contains("token"), "no token travels in RunTask");
        assertEquals("[{\"key\":\"runnerscale:pool\",\"value\":\"fargate-small\"},{\"key\":\"runnerscale:job\","
                + "\"value\":\"42/4242\"}]", request.get("tags").toString());
    }

    @Test
    void onDemandUsesTheFargateLaunchTypeUnderItsOwnToken() {
        tasks.run("p", BACKEND, KEY, Capacity.FARGATE);
        JsonNode request = requests.getFirst();
        assertEquals("FARGATE", request.get("launchType").asText());
        assertFalse(request.has("capacityProviderStrategy"));
        assertEquals(KEY.clientToken("FARGATE"), request.get("clientToken").asText());
    }

    @Test
    void noCapacityComesAsAFailureInA200Answer() {
        answer = "{\"tasks\":[],\"failures\":[{\"arn\":\"arn:aws:ecs:us-east-1:1:cluster/ci\",\"reason\":"
                + "\"Capacity is unavailable at this time. Please try again later or in a different availability zone\"}]}";
        RunOutcome outcome = tasks.run("p", BACKEND, KEY, Capacity.FARGATE_SPOT);
        assertEquals(new RunOutcome.Failed("Capacity is unavailable at this time. Please try again later or in a "
                + "different availability zone"), outcome);
    }

    @Test
    void throttlingAndServerErrorsAreRetriedLaterUnderTheSameKey() {
        status = 400;
        answer = "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}";
        RunOutcome throttled = tasks.run("p", BACKEND, KEY, Capacity.FARGATE);
        assertInstanceOf(RunOutcome.Retry.class, throttled);
        assertTrue(((RunOutcome.Retry) throttled).reason().contains("Rate exceeded"), throttled.toString());
        status = 500;
        answer = "{\"__type\":\"ServerException\",\"message\":\"internal\"}";
        assertInstanceOf(RunOutcome.Retry.class, tasks.run("p", BACKEND, KEY, Capacity.FARGATE));
    }

    @Test
    void aRefusalIsAFailureNamingIt() {
        status = 400;
        answer = "{\"__type\":\"ClientException\",\"message\":\"TaskDefinition is inactive\"}";
        RunOutcome refused = tasks.run("p", BACKEND, KEY, Capacity.FARGATE);
        assertEquals(new RunOutcome.Failed("RunTask runner:7 in cluster ci: ClientException: TaskDefinition is inactive"),
                refused);
    }

    @Test
    void anUnreachableEcsIsRetriedLater() {
        server.stop(0);
        RunOutcome outcome = new EcsFargateTasks(client(server.getAddress().getPort()))
                .run("p", BACKEND, KEY, Capacity.FARGATE);
        assertInstanceOf(RunOutcome.Retry.class, outcome);
    }

    @Test
    void findLooksUpTheKeyByStartedByAmongRunningThenStoppedTasks() {
        answer = "{\"taskArns\":[]}";
        assertEquals(Optional.empty(), tasks.find(BACKEND, KEY));
        assertEquals(2, requests.size());
        assertEquals("runnerscale/42/4242/2", requests.get(0).get("startedBy").asText());
        assertEquals("RUNNING", requests.get(0).get("desiredStatus").asText());
        assertEquals("STOPPED", requests.get(1).get("desiredStatus").asText());
        answer = "{\"taskArns\":[\"arn:aws:ecs:us-east-1:1:task/ci/feed\"]}";
        assertEquals(Optional.of("arn:aws:ecs:us-east-1:1:task/ci/feed"), tasks.find(BACKEND, KEY));
    }
}
