package io.runnerscale.simulate;

import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.pool.PolicyEntry;
import io.runnerscale.scaling.InMemoryDemandHistory;
import io.runnerscale.scaling.ScalerService;
import io.runnerscale.scaling.DemandHistoryForecast;
import io.runnerscale.store.InMemoryJobStore;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * Replays a workload through runnerscale's real scaler ({@link ScalerService} with the real
 * policy, on the in-memory store) against a {@link SimulatedFleet}, on a virtual clock. Runners
 * take a pending job as soon as a slot is free; instances bill per second with EC2's 60 s minimum.
 *
 * <p>Every run is bounded whatever its input: the trace may span at most {@link #MAX_SPAN}, the
 * replay stops {@link #DRAIN_LIMIT} after the last job's end even if jobs are still waiting (a pool
 * that can launch nothing), and the timeline keeps at most {@link #MAX_TIMELINE_SAMPLES} samples.
 */
public final class Simulation {
    /** A year of history (the trace reader's window) plus the longest job it accepts, with room to spare. */
    public static final Duration MAX_SPAN = Duration.ofDays(400);
    /** How long after the last job's end the replay goes on for jobs still waiting or instances still idle. */
    public static final Duration DRAIN_LIMIT = Duration.ofDays(7);
    /** The timeline is thinned (every other sample kept, interval doubled) when it would grow past this. */
    public static final int MAX_TIMELINE_SAMPLES = 20_000;

    private final String name;
    private final List<TraceJob> trace;
    private final PoolsConfig config;
    private final SimulationOptions options;
    private final IntConsumer progress;

    private final PriorityQueue<Event> events = new PriorityQueue<>();
    private final Random random;
    private final VirtualClock clock;
    private final InMemoryJobStore store = new InMemoryJobStore();
    private final InMemoryDemandHistory history = new InMemoryDemandHistory();
    private final SimulatedFleet fleet;
    private final ScalerService scaler;
    private final Map<String, ArrayDeque<Waiting>> pending = new HashMap<>();
    private final Map<String, Instant> decisionDue = new HashMap<>();
    private final Map<String, Machine> machines = new LinkedHashMap<>();
    private final List<Double> waits = new ArrayList<>();
    private final List<SimulationResult.Sample> timeline = new ArrayList<>();
    private long sequence;
    private long nextJobId = 1;
    private int outstanding;
    private int requestsLeft;
    private int completed;
    private int peak;
    private int interruptions;
    private int unmatched;
    private double billedSeconds;
    private double idleSeconds;
    private Instant end;
    private final Instant hardStop;
    private Duration sampleInterval;

    public Simulation(String name, List<TraceJob> trace, PoolsConfig config, SimulationOptions options,
                      IntConsumer progress) {
        if (trace.isEmpty()) {
            throw new IllegalArgumentException("the trace has no jobs to simulate");
        }
        Instant first = trace.stream().map(TraceJob::requestedAt).min(Instant::compareTo).orElseThrow();
        Instant lastEnd = trace.stream().map(j -> j.requestedAt().plus(j.duration())).max(Instant::compareTo).orElseThrow();
        Duration span = Duration.between(first, lastEnd);
        if (span.compareTo(MAX_SPAN) > 0) {
            throw new IllegalArgumentException("the trace spans " + span.toDays() + " days, from " + first + " to "
                    + lastEnd + "; the simulator replays at most " + MAX_SPAN.toDays() + " days");
        }
        this.hardStop = lastEnd.plus(DRAIN_LIMIT);
        this.sampleInterval = options.sampleInterval();
        this.name = name;
        this.trace = trace;
        this.config = config;
        this.options = options;
        this.progress = progress;
        this.random = new Random(options.seed());
        this.clock = new VirtualClock(first.minus(options.tickInterval()));
        this.fleet = new SimulatedFleet(clock, this::bootDelay, new FleetListener());
        this.scaler = new ScalerService(PoolsConfigSource.fixed(config), store, fleet, fleet, new DemandHistoryForecast(history), clock);
    }

    public SimulationResult run() {
        for (TraceJob job : trace) {
            push(job.requestedAt(), new Request(job));
        }
        requestsLeft = trace.size();
        push(clock.instant(), new Tick());
        push(clock.instant(), new SampleFleet());
        int reported = 0;
        while (!events.isEmpty()) {
            Event event = events.poll();
            if (event.time.isAfter(end == null || end.isAfter(hardStop) ? hardStop : end)) {
                break;
            }
            clock.advanceTo(event.time);
            handle(event);
            int done = trace.size() - requestsLeft;
            if (done - reported >= 500) {
                reported = done;
                progress.accept(done);
            }
            if (end == null && requestsLeft == 0 && outstanding == 0) {
                end = clock.instant().plus(longestIdleTime()).plus(options.tickInterval().multipliedBy(2));
            }
        }
        progress.accept(trace.size());
        Instant until = end == null ? clock.instant() : end.isAfter(hardStop) ? hardStop : end;
        for (Machine machine : new ArrayList<>(machines.values())) {
            bill(machine, until);
        }
        double[] waitArray = waits.stream().mapToDouble(Double::doubleValue).toArray();
        double hours = billedSeconds / 3600.0;
        Double cost = options.pricePerInstanceHour() > 0 ? hours * options.pricePerInstanceHour() : null;
        return new SimulationResult(name, completed, waitArray, hours, idleSeconds / 3600.0, peak, cost, interruptions,
                timeline);
    }

    /** Jobs whose tags no pool takes; they are not simulated. */
    public int unmatched() {
        return unmatched;
    }

    /**
     * Jobs still waiting or running when the replay stopped at {@link #DRAIN_LIMIT} after the
     * trace's last job: their pool could not run them (no instance allowed, or far too few).
     */
    public int unfinished() {
        return outstanding + requestsLeft;
    }

    private void handle(Event event) {
        switch (event.body()) {
            case Request r -> request(r.job);
            case Decide d -> {
                decisionDue.remove(d.pool);
                scaler.scale(d.pool);
            }
            case Tick t -> {
                for (PoolConfig pool : config.pools()) {
                    scaler.scale(pool.name());
                }
                push(clock.instant().plus(options.tickInterval()), new Tick());
            }
            case Ready r -> {
                Machine machine = machines.get(r.instanceId);
                if (machine != null) {
                    machine.idleFrom = clock.instant();
                    dispatch(machine.pool);
                }
            }
            case Finish f -> finish(f);
            case Interrupt i -> interrupt(i.instanceId);
            case SampleFleet s -> {
                int waiting = pending.values().stream().mapToInt(ArrayDeque::size).sum();
                int running = machines.values().stream().mapToInt(m -> m.running.size()).sum();
                timeline.add(new SimulationResult.Sample(clock.instant().getEpochSecond(), waiting, running, machines.size()));
                if (timeline.size() >= MAX_TIMELINE_SAMPLES) {
                    thinTimeline();
                }
                push(clock.instant().plus(sampleInterval), new SampleFleet());
            }
        }
    }

    private void request(TraceJob job) {
        requestsLeft--;
        String pool = config.poolFor(job.tags()).map(PoolConfig::name).orElse(null);
        if (pool == null) {
            unmatched++;
            return;
        }
        submit(job, pool);
    }

    private void submit(TraceJob job, String pool) {
        JobKey key = new JobKey(1, nextJobId++);
        outstanding++;
        Instant now = clock.instant();
        store.apply(event(key, JobStatus.PENDING, null, null), pool, now);
        history.record(pool, now);
        pending.computeIfAbsent(pool, p -> new ArrayDeque<>()).add(new Waiting(key, job, now));
        Instant due = decisionDue.get(pool);
        if (due == null || due.isBefore(now)) {
            long spread = options.decisionDelayMax().toMillis() - options.decisionDelayMin().toMillis();
            Instant at = now.plus(options.decisionDelayMin()).plusMillis(spread <= 0 ? 0 : (long) (random.nextDouble() * spread));
            decisionDue.put(pool, at);
            push(at, new Decide(pool));
        }
        dispatch(pool);
    }

    /** Free slots take waiting jobs, oldest instance first (it keeps the younger ones free to be scaled in). */
    private void dispatch(String poolName) {
        ArrayDeque<Waiting> queue = pending.get(poolName);
        if (queue == null || queue.isEmpty()) {
            return;
        }
        PoolConfig pool = config.pool(poolName).orElseThrow();
        Instant now = clock.instant();
        for (Machine machine : machines.values()) {
            if (queue.isEmpty()) {
                return;
            }
            if (!machine.pool.equals(poolName) || machine.idleFrom == null && machine.running.isEmpty()) {
                continue; // other pool, or still booting
            }
            while (!queue.isEmpty() && machine.running.size() < pool.capacityPerInstance()
                    && (pool.maxUseCount() == 0 || machine.uses + machine.running.size() < pool.maxUseCount())) {
                Waiting job = queue.poll();
                waits.add(Duration.between(job.requestedAt, now).toMillis() / 1000.0);
                if (machine.running.isEmpty() && machine.idleFrom != null) {
                    idleSeconds += Duration.between(machine.idleFrom, now).toMillis() / 1000.0;
                    machine.idleFrom = null;
                }
                machine.running.add(job.key);
                machine.jobs.put(job.key, job);
                store.apply(event(job.key, JobStatus.RUNNING, machine.id, null), poolName, now);
                push(now.plus(job.job.duration()), new Finish(job.key, machine.id));
            }
        }
    }

    private void finish(Finish finish) {
        Machine machine = machines.get(finish.instanceId);
        if (machine == null || !machine.running.remove(finish.key)) {
            return; // the instance was interrupted and the job retried
        }
        machine.jobs.remove(finish.key);
        machine.uses++;
        outstanding--;
        completed++; // a job retried after a spot interruption counts once, when it finally completes
        Instant now = clock.instant();
        store.apply(event(finish.key, JobStatus.SUCCESS, machine.id, now), machine.pool, now);
        if (machine.running.isEmpty()) {
            machine.idleFrom = now;
        }
        dispatch(machine.pool);
    }

    private void interrupt(String instanceId) {
        Machine machine = machines.get(instanceId);
        if (machine == null) {
            return;
        }
        interruptions++;
        fleet.interrupt(instanceId);
    }

    /** Jobs on an instance that goes away are cancelled and retried at once, as the spot drain does. */
    private void retryJobsOf(Machine machine) {
        Instant now = clock.instant();
        for (JobKey key : List.copyOf(machine.running)) {
            Waiting job = machine.jobs.remove(key);
            machine.running.remove(key);
            outstanding--;
            store.apply(event(key, JobStatus.CANCELED, machine.id, now), machine.pool, now);
            submit(job.job, machine.pool);
        }
    }

    private JobEvent event(JobKey key, JobStatus status, String instanceId, Instant finishedAt) {
        return new JobEvent(key, status, null, null, null, null, null, finishedAt, null, null, instanceId, null, List.of());
    }

    /** Every other sample, then twice the spacing: a long trace keeps a chart of its whole span in bounded memory. */
    private void thinTimeline() {
        List<SimulationResult.Sample> kept = new ArrayList<>(timeline.size() / 2 + 1);
        for (int i = (timeline.size() - 1) % 2; i < timeline.size(); i += 2) { // keeps the latest, so spacing stays even
            kept.add(timeline.get(i));
        }
        timeline.clear();
        timeline.addAll(kept);
        sampleInterval = sampleInterval.multipliedBy(2);
    }

    private Duration bootDelay() {
        return bootDelay(options.bootMean(), options.bootJitter(), random);
    }

    /**
     * The mean times a log-normal factor {@code exp(sigma Z - sigma^2 / 2)}, whose mean is exactly 1:
     * boot times spread around {@code mean} without moving it.
     */
    static Duration bootDelay(Duration mean, double sigma, Random random) {
        double factor = sigma <= 0 ? 1 : Math.exp(sigma * random.nextGaussian() - sigma * sigma / 2);
        return Duration.ofMillis(Math.round(mean.toMillis() * factor));
    }

    private Duration longestIdleTime() {
        return config.pools().stream().flatMap(p -> p.policy().stream()).map(PolicyEntry::idleTime)
                .max(Duration::compareTo).orElse(Duration.ZERO);
    }

    private void bill(Machine machine, Instant until) {
        double seconds = Duration.between(machine.launchedAt, until).toMillis() / 1000.0;
        billedSeconds += Math.max(60, seconds);
        if (machine.idleFrom != null && until.isAfter(machine.idleFrom)) {
            idleSeconds += Duration.between(machine.idleFrom, until).toMillis() / 1000.0;
        }
        machines.remove(machine.id);
    }

    private void push(Instant time, EventBody body) {
        events.add(new Event(time, sequence++, body));
    }

    private final class FleetListener implements SimulatedFleet.Listener {
        @Override
        public void launched(SimulatedFleet.Instance instance) {
            machines.put(instance.id(), new Machine(instance.id(), instance.pool(), instance.launchedAt()));
            peak = Math.max(peak, machines.size());
            push(instance.readyAt(), new Ready(instance.id()));
            double rate = options.spotInterruptionsPerInstanceHour();
            if (rate > 0) {
                double hours = -Math.log(1 - random.nextDouble()) / rate;
                push(instance.launchedAt().plusMillis((long) (hours * 3_600_000)), new Interrupt(instance.id()));
            }
        }

        @Override
        public void terminated(SimulatedFleet.Instance instance) {
            Machine machine = machines.get(instance.id());
            if (machine != null) {
                retryJobsOf(machine);
                bill(machine, instance.terminatedAt());
            }
        }
    }

    private static final class Machine {
        final String id;
        final String pool;
        final Instant launchedAt;
        final Set<JobKey> running = new LinkedHashSet<>();
        final Map<JobKey, Waiting> jobs = new HashMap<>();
        Instant idleFrom;
        int uses;

        Machine(String id, String pool, Instant launchedAt) {
            this.id = id;
            this.pool = pool;
            this.launchedAt = launchedAt;
        }
    }

    private record Waiting(JobKey key, TraceJob job, Instant requestedAt) {
    }

    private record Event(Instant time, long seq, EventBody body) implements Comparable<Event> {
        @Override
        public int compareTo(Event other) {
            int byTime = time.compareTo(other.time);
            return byTime != 0 ? byTime : Long.compare(seq, other.seq);
        }
    }

    private sealed interface EventBody {
    }

    private record Request(TraceJob job) implements EventBody {
    }

    private record Decide(String pool) implements EventBody {
    }

    private record Tick() implements EventBody {
    }

    private record Ready(String instanceId) implements EventBody {
    }

    private record Finish(JobKey key, String instanceId) implements EventBody {
    }

    private record Interrupt(String instanceId) implements EventBody {
    }

    private record SampleFleet() implements EventBody {
    }
}
