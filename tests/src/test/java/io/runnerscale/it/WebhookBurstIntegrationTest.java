package io.runnerscale.it;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.fasterxml.jackson.databind.JsonNode;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.scaling.ScalerHandler;
import io.runnerscale.webhook.WebhookHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A burst of 1,000 pending Job Hooks across three pools, delivered concurrently through the webhook
 * function (one function instance per thread, as Lambda runs one request per environment), then one
 * scaling decision per pool.
 */
@ExtendWith(MotoServer.ResetBetweenTests.class)
class WebhookBurstIntegrationTest {
    static final String POOLS = """
            pools:
              - name: docker          # 500 jobs / 10 per instance = 50, capped at 30
                match: {tags: [docker]}
                backend: {type: ec2-asg, asg: rs-@ID@-docker}
                capacity_per_instance: 10
                max_instances: 30
              - name: gpu             # 300 jobs -> 30
                match: {tags: [gpu]}
                backend: {type: ec2-asg, asg: rs-@ID@-gpu}
                capacity_per_instance: 10
                max_instances: 40
              - name: general         # 200 untagged jobs -> 20
                match: {run_untagged: true}
                backend: {type: ec2-asg, asg: rs-@ID@-general}
                capacity_per_instance: 10
                max_instances: 50
            """;
    static final int THREADS = Integer.getInteger("burst.threads", 4);

    /** project id -> (pool, jobs); each project's jobs get their pool's tags from the GitLab API. */
    record Share(long project, String pool, List<String> tags, int jobs, int max) {
    }

    static final List<Share> SHARES = List.of(
            new Share(601, "docker", List.of("docker"), 500, 30),
            new Share(602, "gpu", List.of("gpu"), 300, 40),
            new Share(603, "general", List.of(), 200, 50));

    TestStack stack;

    @AfterEach
    void tearDown() {
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aThousandPendingJobsAreAllStoredAndScaledFor() throws Exception {
        stack = TestStack.create(POOLS);
        record Delivery(long project, long job) {
        }
        List<Delivery> deliveries = new ArrayList<>();
        long jobId = 3_000_000;
        for (Share share : SHARES) {
            stack.stubJobTags(share.project(), "\\d+", share.tags());
            stack.createAsg(share.pool(), share.max());
            for (int i = 0; i < share.jobs(); i++) {
                deliveries.add(new Delivery(share.project(), jobId++));
            }
        }
        java.util.Collections.shuffle(deliveries, new java.util.Random(42));
        assertEquals(1000, deliveries.size());

        // Lambda's SQS event source drains the scale queue while the burst goes on; so does this consumer
        // (moto's FIFO send also slows down with every message left in the queue).
        ConcurrentLinkedQueue<Message> requests = new ConcurrentLinkedQueue<>();
        AtomicBoolean delivering = new AtomicBoolean(true);
        Thread consumer = Thread.ofPlatform().name("scale-queue-consumer").start(() -> {
            while (delivering.get()) {
                requests.addAll(stack.drain());
                sleep(100);
            }
        });
        ThreadLocal<WebhookHandler> environments = ThreadLocal.withInitial(stack::webhookHandler);
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        long[] latencies = new long[deliveries.size()];
        long start = System.nanoTime();
        try (ExecutorService pool = Executors.newFixedThreadPool(THREADS)) {
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < deliveries.size(); i++) {
                int index = i;
                Delivery delivery = deliveries.get(i);
                futures.add(pool.submit(() -> {
                    long t = System.nanoTime();
                    APIGatewayV2HTTPResponse response;
                    try {
                        response = TestStack.deliverJobHook(environments.get(),
                                Fixtures.jobHook(delivery.project(), delivery.job(), "pending"));
                    } catch (RuntimeException e) {
                        failures.add(delivery + ": " + e);
                        return;
                    }
                    latencies[index] = System.nanoTime() - t;
                    if (response.getStatusCode() / 100 != 2) {
                        failures.add(delivery + ": " + response.getStatusCode() + " " + response.getBody());
                        return;
                    }
                    JsonNode body = TestStack.body(response);
                    JsonNode job = body.path("jobs").path(0);
                    if (body.path("applied").asInt() != 1 || job.has("note")) {
                        failures.add(delivery + ": " + response.getBody());
                    }
                }));
            }
            for (Future<?> future : futures) {
                future.get();
            }
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        delivering.set(false);
        consumer.join();
        requests.addAll(stack.drain());
        long[] sorted = Arrays.stream(latencies).sorted().toArray();
        System.out.printf("burst: 1000 deliveries from %d threads in %d ms (%.0f/s); latency p50 %d ms, p99 %d ms, max %d ms%n",
                THREADS, took.toMillis(), 1000 / (took.toNanos() / 1e9), sorted[500] / 1_000_000,
                sorted[989] / 1_000_000, sorted[999] / 1_000_000);
        assertEquals(List.of(), List.copyOf(failures), "every delivery answered 2xx and applied");

        // nothing lost: every job live and pending, in its pool, through the live index
        for (Share share : SHARES) {
            List<JobRecord> live = stack.store.liveJobs(share.pool());
            assertEquals(share.jobs(), live.size(), share.pool() + " live jobs");
            assertTrue(live.stream().allMatch(j -> j.status() == JobStatus.PENDING && j.pool().equals(share.pool())
                    && j.key().projectId() == share.project() && share.tags().equals(j.tags())), share.pool());
            Set<JobKey> expected = deliveries.stream().filter(d -> d.project() == share.project())
                    .map(d -> new JobKey(d.project(), d.job())).collect(Collectors.toSet());
            assertEquals(expected, live.stream().map(JobRecord::key).collect(Collectors.toSet()));
        }
        assertEquals(1000, stack.gitlab.getAllServeEvents().size(), "one GitLab look-up per job");

        // the fast path asked for every pool; collapse the requests into one decision per pool
        Map<String, Message> firstPerPool = new LinkedHashMap<>();
        for (Message message : requests) {
            firstPerPool.putIfAbsent(message.attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID), message);
        }
        System.out.printf("burst: %d scale requests queued (FIFO deduplicates same-millisecond requests per pool)%n",
                requests.size());
        assertEquals(new TreeSet<>(List.of("docker", "gpu", "general")), new TreeSet<>(firstPerPool.keySet()));

        ScalerHandler scaler = stack.scalerHandler(Clock.systemUTC());
        long decideStart = System.nanoTime();
        JsonNode answer = TestStack.invoke(scaler, stack.sqsEvent(List.copyOf(firstPerPool.values())));
        System.out.printf("burst: one decision per pool in %d ms: %s%n",
                (System.nanoTime() - decideStart) / 1_000_000, answer);
        assertEquals(Map.of("docker", 30, "gpu", 30, "general", 20), ScalerHandlerIntegrationTest.decided(answer));
        assertEquals(30, stack.desired("docker"), "500 jobs want 50 instances; max_instances caps at 30");
        assertEquals(30, stack.desired("gpu"));
        assertEquals(20, stack.desired("general"));
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
