package io.runnerscale.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.simulate.SimulatedFleet;
import io.runnerscale.store.JobStore;
import io.runnerscale.webhook.PoolResolver;
import io.runnerscale.webhook.WebhookAuthenticator;
import io.runnerscale.webhook.WebhookService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link LocalServer} over a store that fails: the failure is answered, not dropped. */
@Timeout(30)
class LocalServerTest {
    private static final String POOLS = """
            pools:
              - name: default
                match: {run_untagged: true}
                backend: {type: ec2-asg, asg: gitlab-runners}
                capacity_per_instance: 1
                max_instances: 5
                boot_timeout: 5m
                policy:
                  - {idle_count: 0, idle_time: 2m}
            """;

    private final ObjectMapper json = new ObjectMapper();
    private LocalServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** Reads fail: what a DynamoDB outage looks like to the status API. */
    private static final class FailingReads extends io.runnerscale.testing.DelegatingJobStore {
        @Override
        public Optional<JobRecord> find(JobKey key) {
            throw new IllegalStateException("store unavailable");
        }
    }

    @Test
    void aFailingStoreIsAnswered500WithAMessage() throws Exception {
        Clock clock = Clock.systemUTC();
        JobStore store = new FailingReads();
        PoolsConfigSource pools = new PoolsConfigSource(() -> POOLS, "test pools", Duration.ofMinutes(1), clock);
        WebhookService webhook = new WebhookService(new WebhookAuthenticator(() -> "token"), pools, store,
                new PoolResolver(job -> {
                    throw new GitLabUnavailableException("no GitLab in this test", null);
                }, store, 10), (pool, reason, dedupeId) -> { }, json, clock);
        server = new LocalServer(LocalServer.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)), webhook,
                store, new SimulatedFleet(clock, () -> Duration.ZERO, null), pools, json);
        server.start();

        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.port() + "/jobs/380/1977")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(500, response.statusCode(), response.body());
        assertTrue(json.readTree(response.body()).get("error").asText().contains("internal error: IllegalStateException"),
                response.body());
    }
}
