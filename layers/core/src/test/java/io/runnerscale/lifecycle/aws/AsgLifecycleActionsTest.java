package io.runnerscale.lifecycle.aws;

import com.sun.net.httpserver.HttpServer;
import io.runnerscale.lifecycle.LifecycleActions;
import io.runnerscale.lifecycle.RetryableError;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Auto Scaling requests as they go over the wire, recorded by a loopback server answering in
 * Auto Scaling's query/XML protocol: moto_server does not implement CompleteLifecycleAction or
 * RecordLifecycleActionHeartbeat, so their shape is checked here, against the SDK's own marshalling.
 */
class AsgLifecycleActionsTest {
    private static final String NS = "http://autoscaling.amazonaws.com/doc/2011-01-01/";

    HttpServer server;
    final List<Map<String, String>> requests = Collections.synchronizedList(new ArrayList<>());
    volatile int status = 200;
    volatile String errorCode;
    volatile String errorMessage;
    AutoScalingClient client;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            Map<String, String> form = new TreeMap<>();
            Arrays.stream(body.split("&")).filter(p -> !p.isEmpty()).forEach(p -> {
                String[] kv = p.split("=", 2);
                form.put(URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
                        kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
            });
            requests.add(form);
            String action = form.get("Action");
            String answer = status == 200
                    ? "<" + action + "Response xmlns=\"" + NS + "\"><" + action + "Result/>"
                    + "<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></" + action + "Response>"
                    : "<ErrorResponse xmlns=\"" + NS + "\"><Error><Type>Sender</Type><Code>" + errorCode + "</Code>"
                    + "<Message>" + errorMessage + "</Message></Error><RequestId>r-2</RequestId></ErrorResponse>";
            byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("content-type", "text/xml");
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
        client = AutoScalingClient.builder()
                .endpointOverride(URI.create("http://127.0.0.1:" + server.getAddress().getPort()))
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("k", "s")))
                .httpClient(UrlConnectionHttpClient.create())
                .overrideConfiguration(c -> c.retryStrategy(b -> b.maxAttempts(1)))
                .build();
    }

    @AfterEach
    void stop() {
        client.close();
        server.stop(0);
    }

    @Test
    void completeSendsHookGroupInstanceTokenAndResult() {
        new AsgLifecycleActions(client).complete("runnerscale-terminate", "asg-1", "i-0abc", "tok-9",
                LifecycleActions.Result.CONTINUE);
        Map<String, String> request = requests.getFirst();
        assertEquals("CompleteLifecycleAction", request.get("Action"));
        assertEquals("runnerscale-terminate", request.get("LifecycleHookName"));
        assertEquals("asg-1", request.get("AutoScalingGroupName"));
        assertEquals("i-0abc", request.get("InstanceId"));
        assertEquals("tok-9", request.get("LifecycleActionToken"));
        assertEquals("CONTINUE", request.get("LifecycleActionResult"));
    }

    @Test
    void completeCanAbandon() {
        new AsgLifecycleActions(client).complete("runnerscale-launch", "asg-1", "i-0abc", "tok-9",
                LifecycleActions.Result.ABANDON);
        assertEquals("ABANDON", requests.getFirst().get("LifecycleActionResult"));
    }

    @Test
    void heartbeatSendsHookGroupInstanceAndToken() {
        new AsgLifecycleActions(client).heartbeat("runnerscale-terminate", "asg-1", "i-0abc", "tok-9");
        Map<String, String> request = requests.getFirst();
        assertEquals("RecordLifecycleActionHeartbeat", request.get("Action"));
        assertEquals("runnerscale-terminate", request.get("LifecycleHookName"));
        assertEquals("asg-1", request.get("AutoScalingGroupName"));
        assertEquals("i-0abc", request.get("InstanceId"));
        assertEquals("tok-9", request.get("LifecycleActionToken"));
    }

    @Test
    void terminateSendsTheDecrementFlag() {
        new AsgLifecycleActions(client).terminate("i-0abc", false);
        Map<String, String> request = requests.getFirst();
        assertEquals("TerminateInstanceInAutoScalingGroup", request.get("Action"));
        assertEquals("i-0abc", request.get("InstanceId"));
        assertEquals("false", request.get("ShouldDecrementDesiredCapacity"));
    }

    @Test
    void anActionNoLongerHeldCountsAsDone() {
        status = 400;
        errorCode = "ValidationError";
        errorMessage = "No active Lifecycle Action found with instance ID i-0abc";
        new AsgLifecycleActions(client).complete("runnerscale-terminate", "asg-1", "i-0abc", "tok-9",
                LifecycleActions.Result.CONTINUE);
        assertEquals(1, requests.size());
    }

    @Test
    void throttlingIsRetryableAndOtherValidationErrorsAreNot() {
        status = 400;
        errorCode = "Throttling";
        errorMessage = "Rate exceeded";
        RetryableError retryable = assertThrows(RetryableError.class,
                () -> new AsgLifecycleActions(client).heartbeat("h", "asg-1", "i-0abc", "t"));
        assertTrue(retryable.getMessage().contains("Throttling"), retryable.getMessage());

        errorCode = "ValidationError";
        errorMessage = "Invalid lifecycle hook name";
        SdkException refused = assertThrows(SdkException.class,
                () -> new AsgLifecycleActions(client).heartbeat("h", "asg-1", "i-0abc", "t"));
    }
}
