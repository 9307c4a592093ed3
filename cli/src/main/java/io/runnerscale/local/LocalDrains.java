package io.runnerscale.local;

import com.fasterxml.jackson.databind.JsonNode;
import io.runnerscale.lifecycle.Drain;
import io.runnerscale.lifecycle.DrainCodec;
import io.runnerscale.lifecycle.DrainInterpreter;
import io.runnerscale.lifecycle.DrainStarter;
import io.runnerscale.lifecycle.RetryableError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code serve}'s Step Functions: drain executions of the packaged drain definition, run by
 * {@link DrainInterpreter} on a scheduler with real waits, every Task answered in this process (by
 * the same {@code LifecycleEvents} the lifecycle function runs). Names behave as Step Functions'
 * do: a name that runs answers {@link Outcome#ALREADY_RUNNING}, a name that ended
 * {@link Outcome#NAME_USED} (so {@code DrainRequests} moves to the next attempt).
 *
 * <p>Executions live in memory: {@link #close()} stops them where they are (a drain interrupted
 * that way leaves its instance draining, as a failed execution does in AWS).
 *
 * @see #LocalDrains(DrainInterpreter, DrainCodec, double, Clock) waitFactor
 */
public final class LocalDrains implements DrainStarter, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalDrains.class);
    /** Ended executions kept for {@code GET /status} and for their names. */
    static final int KEEP_ENDED = 500;

    /** One execution as {@code GET /status} shows it. */
    public record Snapshot(String name, String instanceId, String reason, Instant startedAt, boolean running,
                           String state, Instant waitingUntil, Instant endedAt, Boolean succeeded, String outcome) {
    }

    private final DrainInterpreter interpreter;
    private final DrainCodec codec;
    private final double waitFactor;
    private final Clock clock;
    private final ScheduledThreadPoolExecutor scheduler;
    /** Guarded by this; insertion order = start order. */
    private final Map<String, Run> runs = new LinkedHashMap<>();
    private volatile DrainInterpreter.Tasks tasks;
    private boolean closed;

    /**
     * @param waitFactor every wait of an execution (Wait states, Retry intervals) is multiplied by
     *                   this: 1 runs the definition's own waits; tests and quick local trials use less.
     *                   Deadlines are not scaled (they are wall-clock instants in the drain object).
     */
    public LocalDrains(DrainInterpreter interpreter, DrainCodec codec, double waitFactor, Clock clock) {
        if (!(waitFactor >= 0 && waitFactor <= 1)) {
            throw new IllegalArgumentException("wait factor must be from 0 to 1, got " + waitFactor);
        }
        this.interpreter = interpreter;
        this.codec = codec;
        this.waitFactor = waitFactor;
        this.clock = clock;
        AtomicInteger threads = new AtomicInteger();
        this.scheduler = new ScheduledThreadPoolExecutor(2, runnable -> {
            Thread thread = new Thread(runnable, "drain-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        scheduler.setRemoveOnCancelPolicy(true);
    }

    /** Who answers the Tasks (the lifecycle function's code); set once, before the first drain starts. */
    public void answerTasksWith(DrainInterpreter.Tasks answer) {
        this.tasks = answer;
    }

    @Override
    public Outcome start(Drain drain, int attempt) {
        String name = DrainStarter.executionName(drain, attempt);
        synchronized (this) {
            if (closed) {
                throw new RetryableError("serve is stopping: drain " + name + " not started");
            }
            if (tasks == null) {
                throw new IllegalStateException("no task handler: answerTasksWith was not called");
            }
            Run existing = runs.get(name);
            if (existing != null) {
                return existing.ended ? Outcome.NAME_USED : Outcome.ALREADY_RUNNING;
            }
            Run run = new Run(name, drain, interpreter.start(codec.toJson(drain)), clock.instant());
            runs.put(name, run);
            forgetOldEnded();
            scheduler.execute(() -> advance(run));
        }
        LOG.info("drain {} started", name);
        return Outcome.STARTED;
    }

    /** One step of an execution; the next is scheduled after its wait. Steps of one run never overlap. */
    private void advance(Run run) {
        DrainInterpreter.Step step;
        try {
            step = run.execution.advance(tasks);
        } catch (RuntimeException e) {
            // the interpreter refused the definition (not a task failure: those are States errors)
            LOG.error("drain {} stopped: {}", run.name, e.toString());
            run.end(false, run.execution.state(), null, clock.instant());
            return;
        }
        switch (step) {
            case DrainInterpreter.Step.Waiting waiting -> {
                Duration delay = scaled(waiting.delay());
                synchronized (this) {
                    if (closed) {
                        return;
                    }
                    run.waiting(waiting.state(), clock.instant().plus(delay));
                    scheduler.schedule(() -> advance(run), delay.toNanos(), TimeUnit.NANOSECONDS);
                }
            }
            case DrainInterpreter.Step.Ended ended -> {
                JsonNode outcome = ended.output().get("outcome");
                run.end(ended.succeeded(), ended.state(), outcome == null || outcome.isNull() ? null : outcome.asText(),
                        clock.instant());
                LOG.info("drain {} ended in {} ({})", run.name, ended.state(), ended.succeeded() ? "succeeded" : "failed");
            }
        }
    }

    private Duration scaled(Duration delay) {
        return waitFactor == 1 ? delay : Duration.ofNanos(Math.round(delay.toNanos() * waitFactor));
    }

    private void forgetOldEnded() {
        long ended = runs.values().stream().filter(r -> r.ended).count();
        for (Iterator<Run> it = runs.values().iterator(); it.hasNext() && ended > KEEP_ENDED; ) {
            if (it.next().ended) {
                it.remove();
                ended--;
            }
        }
    }

    /** Every execution still known, oldest first. */
    public synchronized List<Snapshot> executions() {
        List<Snapshot> out = new ArrayList<>(runs.size());
        runs.values().forEach(run -> out.add(run.snapshot()));
        return out;
    }

    /** The running execution of an instance, if any. */
    public synchronized java.util.Optional<Snapshot> running(String instanceId) {
        return runs.values().stream().filter(r -> !r.ended && r.drain.instanceId().equals(instanceId))
                .map(Run::snapshot).findFirst();
    }

    /** Stops every execution where it is and the scheduler with them; waits briefly for a step in progress. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        scheduler.shutdownNow();
        try {
            if (!scheduler.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("a drain step was still running when serve stopped");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static final class Run {
        final String name;
        final Drain drain;
        final DrainInterpreter.Execution execution;
        final Instant startedAt;
        volatile boolean ended;
        volatile String state;
        volatile Instant waitingUntil;
        volatile Instant endedAt;
        volatile Boolean succeeded;
        volatile String outcome;

        Run(String name, Drain drain, DrainInterpreter.Execution execution, Instant startedAt) {
            this.name = name;
            this.drain = drain;
            this.execution = execution;
            this.startedAt = startedAt;
            this.state = execution.state();
        }

        void waiting(String next, Instant until) {
            state = next;
            waitingUntil = until;
        }

        void end(boolean ok, String last, String result, Instant at) {
            state = last;
            waitingUntil = null;
            succeeded = ok;
            outcome = result;
            endedAt = at;
            ended = true;
        }

        Snapshot snapshot() {
            return new Snapshot(name, drain.instanceId(), drain.reason().wireName(), startedAt, !ended, state,
                    waitingUntil, endedAt, succeeded, outcome);
        }
    }
}
