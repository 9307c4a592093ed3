package io.runnerscale.local;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolsConfigParser;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.store.JobStore;
import io.runnerscale.webhook.DeferredJobUpdates;
import io.runnerscale.webhook.DeferredJobUpdatesCodec;
import io.runnerscale.webhook.JobUpdateService;
import io.runnerscale.webhook.PoolResolver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** serve's deferred job updates: acknowledged parts are on disk until applied, and survive a restart. */
class LocalJobUpdateQueueTest {
    static final Instant RECEIVED = Instant.parse("2026-01-07T12:00:00Z");
    static final PoolsConfigSource POOLS = PoolsConfigSource.fixed(PoolsConfigParser.parse("""
            pools:
              - name: docker
                match: {tags: [docker], run_untagged: true}
                backend: {type: ec2-asg, asg: g}
            """, "test"));
    final DeferredJobUpdatesCodec codec = new DeferredJobUpdatesCodec(new ObjectMapper());

    @TempDir
    Path spool;

    /** The in-memory store, failing every write while {@code failing}, or holding writes until {@code release}. */
    static final class ControlledStore extends io.runnerscale.testing.DelegatingJobStore {
        volatile boolean failing;
        volatile CountDownLatch release;

        @Override
        public ApplyOutcome apply(JobEvent event, String pool, Instant now) {
            if (failing) {
                throw new IllegalStateException("store unavailable");
            }
            CountDownLatch latch = release;
            if (latch != null) {
                try {
                    latch.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return super.apply(event, pool, now);
        }
    }

    JobUpdateService updates(JobStore store) {
        return new JobUpdateService(POOLS, store, new PoolResolver(key -> List.of("docker"), store, 100),
                (pool, reason, dedupe) -> { }, null);
    }

    static DeferredJobUpdates delivery(String id, int jobs) {
        List<JobEvent> events = new ArrayList<>();
        for (int i = 1; i <= jobs; i++) {
            events.add(new JobEvent(new JobKey(9, i), JobStatus.PENDING, 1L, "job " + "n".repeat(250), "test",
                    RECEIVED, null, null, null, null, null, null, null));
        }
        return new DeferredJobUpdates(id, "Pipeline Hook", RECEIVED, 0, events);
    }

    static long files(Path dir) throws IOException {
        try (Stream<Path> listing = Files.list(dir)) {
            return listing.count();
        }
    }

    @Test
    void aPartIsOnDiskWhenEnqueueReturnsAndGoneOnceApplied() throws Exception {
        ControlledStore store = new ControlledStore();
        store.release = new CountDownLatch(1);
        try (LocalJobUpdateQueue queue = new LocalJobUpdateQueue(updates(store), codec, spool)) {
            queue.enqueue(delivery("d-1", 1_000));
            assertTrue(files(spool) >= 2, "1,000 long-named jobs are several parts, each written before the answer");
            store.release.countDown();
            queue.drain(Duration.ofSeconds(30));
        }
        assertEquals(0, files(spool), "applied parts are deleted");
        assertEquals(1_000, store.delegate.liveJobs("docker").size());
    }

    @Test
    void partsNotAppliedBeforeAStopAreAppliedAtTheNextStart() throws Exception {
        ControlledStore down = new ControlledStore();
        down.failing = true;
        try (LocalJobUpdateQueue queue = new LocalJobUpdateQueue(updates(down), codec, spool, 2, Duration.ofMillis(10))) {
            queue.enqueue(delivery("d-2", 300));
            queue.drain(Duration.ofSeconds(10));
        }
        long left = files(spool);
        assertTrue(left >= 1, "kept for the next start");

        ControlledStore up = new ControlledStore();
        try (LocalJobUpdateQueue restarted = new LocalJobUpdateQueue(updates(up), codec, spool)) {
            assertEquals(left, restarted.recover());
            restarted.drain(Duration.ofSeconds(30));
        }
        assertEquals(0, files(spool));
        assertEquals(300, up.delegate.liveJobs("docker").size(), "no acknowledged job lost");
    }

    @Test
    void aSpoolThatCannotBeWrittenFailsTheEnqueueSoTheWebhookAnswers503() throws Exception {
        Path file = spool.resolve("not-a-directory");
        Files.writeString(file, "x");
        assertThrows(UncheckedIOException.class,
                () -> new LocalJobUpdateQueue(updates(new ControlledStore()), codec, file.resolve("spool")));

        Path readOnly = Files.createDirectory(spool.resolve("read-only"));
        try (LocalJobUpdateQueue queue = new LocalJobUpdateQueue(updates(new ControlledStore()), codec, readOnly)) {
            Files.delete(readOnly);
            Files.writeString(readOnly, "replaced by a file");
            assertThrows(UncheckedIOException.class, () -> queue.enqueue(delivery("d-3", 30)));
        }
    }

    @Test
    void withoutASpoolPartsAreAppliedFromMemory() throws Exception {
        ControlledStore store = new ControlledStore();
        try (LocalJobUpdateQueue queue = new LocalJobUpdateQueue(updates(store), codec, null)) {
            queue.enqueue(delivery("d-4", 50));
            queue.drain(Duration.ofSeconds(10));
            assertEquals(0, queue.recover());
        }
        assertEquals(50, store.delegate.liveJobs("docker").size());
    }

    @Test
    void aPartWrittenButNeverMovedIntoPlaceWasNeverAcknowledgedAndIsRemoved() throws Exception {
        Path unfinished = spool.resolve("abc-0.json.tmp");
        Files.writeString(unfinished, "{\"type\":\"job-updates\",\"delivery\":\"d\",\"receivedAt\":\"2026-01-07T12:00:00Z\",\"ev");
        ControlledStore store = new ControlledStore();
        try (LocalJobUpdateQueue queue = new LocalJobUpdateQueue(updates(store), codec, spool)) {
            assertEquals(0, queue.recover(), "nothing acknowledged to apply");
            queue.drain(Duration.ofSeconds(5));
        }
        assertEquals(0, files(spool));
    }
}
