package io.runnerscale.local;

import io.runnerscale.webhook.DeferredJobUpdates;
import io.runnerscale.webhook.DeferredJobUpdatesCodec;
import io.runnerscale.webhook.DeliveryKeys;
import io.runnerscale.webhook.JobUpdateQueue;
import io.runnerscale.webhook.JobUpdateService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * The local stand-in for deferred job updates on the scale queue: big deliveries are written to a
 * spool directory (each part a file, written and synced before the webhook answers) and applied by
 * two workers; a part's file is deleted once applied. Parts left by a crash or a failed store are
 * applied again when {@code serve} starts ({@link #recover()}). Without a spool directory
 * ({@code serve --in-memory}) the parts live only in memory, like everything else then.
 */
public final class LocalJobUpdateQueue implements JobUpdateQueue, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalJobUpdateQueue.class);
    private static final int ATTEMPTS = 5;
    private static final Duration FIRST_RETRY = Duration.ofMillis(400);

    private final JobUpdateService updates;
    private final DeferredJobUpdatesCodec codec;
    private final Path spool;
    private final int attempts;
    private final Duration firstRetry;
    private final ExecutorService workers = Executors.newFixedThreadPool(2, r -> {
        Thread thread = new Thread(r, "job-updates");
        thread.setDaemon(true);
        return thread;
    });
    private final Object lock = new Object();
    private int inFlight;

    /** @param spool directory for the parts not yet applied; null keeps them in memory only */
    public LocalJobUpdateQueue(JobUpdateService updates, DeferredJobUpdatesCodec codec, Path spool) {
        this(updates, codec, spool, ATTEMPTS, FIRST_RETRY);
    }

    /** @param attempts tries per part before it is left for the next start; the wait doubles from {@code firstRetry} */
    LocalJobUpdateQueue(JobUpdateService updates, DeferredJobUpdatesCodec codec, Path spool, int attempts,
                        Duration firstRetry) {
        this.updates = updates;
        this.codec = codec;
        this.spool = spool;
        this.attempts = attempts;
        this.firstRetry = firstRetry;
        if (spool != null) {
            try {
                Files.createDirectories(spool);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create the job updates spool " + spool, e);
            }
        }
    }

    @Override
    public void enqueue(DeferredJobUpdates deferred) {
        List<String> parts = codec.encode(deferred, DeferredJobUpdatesCodec.DEFAULT_MAX_BYTES);
        List<Path> files = new ArrayList<>();
        if (spool != null) {
            String name = DeliveryKeys.sha256Hex(deferred.deliveryId()).substring(0, 32);
            try {
                for (int part = 0; part < parts.size(); part++) {
                    files.add(write(spool.resolve(name + "-" + part + ".json"), parts.get(part)));
                }
            } catch (IOException e) {
                for (Path written : files) {
                    try {
                        Files.deleteIfExists(written);
                    } catch (IOException ignored) {
                        // nothing was acknowledged: at worst a part is applied twice, which changes nothing
                    }
                }
                throw new UncheckedIOException("cannot write the job updates spool " + spool, e);
            }
        }
        for (int part = 0; part < parts.size(); part++) {
            submit(parts.get(part), files.isEmpty() ? null : files.get(part));
        }
    }

    /** Applies the parts a previous run left in the spool; returns how many there were. */
    public int recover() {
        if (spool == null) {
            return 0;
        }
        List<Path> left;
        List<Path> unfinished;
        try (Stream<Path> listing = Files.list(spool)) {
            List<Path> all = listing.sorted().toList();
            left = all.stream().filter(p -> p.getFileName().toString().endsWith(".json")).toList();
            unfinished = all.stream().filter(p -> p.getFileName().toString().endsWith(".json.tmp")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the job updates spool " + spool, e);
        }
        for (Path partial : unfinished) {
            // written by a run that stopped before moving it into place: its delivery was never acknowledged
            try {
                Files.deleteIfExists(partial);
            } catch (IOException e) {
                LOG.warn("cannot remove the unfinished job updates file {}: {}", partial, e.toString());
            }
        }
        for (Path file : left) {
            try {
                submit(Files.readString(file), file);
            } catch (IOException e) {
                LOG.error("job updates file {} cannot be read: {}", file, e.toString());
            }
        }
        return left.size();
    }

    /** Waits until every part queued so far is applied (or given up); tests and benchmarks. */
    public void drain(Duration timeout) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (inFlight > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TimeoutException(inFlight + " job update part(s) still being applied");
                }
                TimeUnit.NANOSECONDS.timedWait(lock, left);
            }
        }
    }

    private void submit(String message, Path file) {
        synchronized (lock) {
            inFlight++;
        }
        workers.execute(() -> {
            try {
                apply(message, file);
            } finally {
                synchronized (lock) {
                    inFlight--;
                    lock.notifyAll();
                }
            }
        });
    }

    private void apply(String message, Path file) {
        DeferredJobUpdates part;
        try {
            part = codec.decode(message);
        } catch (IllegalArgumentException e) {
            LOG.error("job updates file {} is not readable and is left in place: {}", file, e.getMessage());
            return;
        }
        for (int attempt = 1; attempt <= attempts; attempt++) {
            try {
                updates.apply(part.events(), part.receivedAt());
                if (file != null) {
                    Files.deleteIfExists(file);
                }
                return;
            } catch (RuntimeException | IOException e) {
                LOG.warn("job updates of delivery {} part {}: attempt {} of {} failed: {}", part.deliveryId(), part.part(),
                        attempt, attempts, e.toString());
                if (attempt == attempts) {
                    break;
                }
                try {
                    Thread.sleep(firstRetry.toMillis() << (attempt - 1));
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
        LOG.error("job updates of delivery {} part {} not applied after {} attempts; {}", part.deliveryId(), part.part(),
                attempts, file == null ? "lost (in-memory mode)" : "kept in " + file + " for the next start");
    }

    /** Written beside the target, synced, then moved into place: a crash leaves the whole part or none. */
    private static Path write(Path target, String content) throws IOException {
        Path temporary = target.resolveSibling(target.getFileName() + ".tmp");
        try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer bytes = ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            channel.force(true);
        }
        return Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public void close() {
        workers.shutdown();
        try {
            if (!workers.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("job updates still being applied at shutdown{}", spool == null ? " are lost"
                        : "; what was not applied is in " + spool + " for the next start");
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
