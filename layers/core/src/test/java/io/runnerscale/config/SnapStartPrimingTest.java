package io.runnerscale.config;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;

/** Priming runs inside beforeCheckpoint: if it threw, SnapStart could not take the snapshot at all. */
class SnapStartPrimingTest {
    @Test
    void theSamplePoolsFileStaysValidUnderTheParsersRules() {
        // a parser rule that refused the sample would fail every publish of a function version
        assertDoesNotThrow(SnapStartPriming::poolsParser);
    }

    @Test
    void anUnreachableDynamoDbDoesNotFailThePriming() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        try (DynamoDbClient dynamo = DynamoDbClient.builder().region(Region.US_EAST_1)
                .endpointOverride(URI.create("http://127.0.0.1:" + closedPort))
                .credentialsProvider(AnonymousCredentialsProvider.create())
                .httpClient(UrlConnectionHttpClient.builder().connectionTimeout(Duration.ofMillis(200)).build())
                .overrideConfiguration(c -> c.retryStrategy(software.amazon.awssdk.core.retry.RetryMode.STANDARD)
                        .apiCallTimeout(Duration.ofSeconds(5)))
                .build()) {
            assertDoesNotThrow(() -> SnapStartPriming.dynamo(dynamo, "no-such-table"));
        }
    }
}
