package io.runnerscale.simulate;

import io.runnerscale.compute.FargateTasks;
import io.runnerscale.compute.TaskEvent;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.gitlab.CreatedRunner;
import io.runnerscale.gitlab.GitLabRunners;
import io.runnerscale.gitlab.RunnerInfo;
import io.runnerscale.gitlab.RunnerOwner;
import io.runnerscale.gitlab.RunnerSpec;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.lifecycle.DrainPolicy;
import io.runnerscale.lifecycle.InstanceState;
import io.runnerscale.lifecycle.TaskLifecycle;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.pool.PolicyEntry;
import io.runnerscale.reconcile.ReconcileReport;
import io.runnerscale.reconcile.ReconcileSettings;
import io.runnerscale.reconcile.ProjectSightings;
import io.runnerscale.reconcile.Reconciler;
import io.runnerscale.scaling.InMemoryDemandHistory;
import io.runnerscale.scaling.InstanceDrains;
import io.runnerscale.scaling.ScalingAction;
import io.runnerscale.scaling.ScalerService;
import io.runnerscale.scaling.DemandHistoryForecast;
import io.runnerscale.scaling.TaskScaler;
import io.runnerscale.store.InMemoryJobStore;
import io.runnerscale.webhook.JobUpdateService;
import io.runnerscale.webhook.PoolResolver;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import java.util.function.IntConsumer;

/**
 * Replays a workload through runnerscale's real scaler ({@link ScalerService} with the real
 * policy, on the in-memory store) against a {@link SimulatedFleet}, on a virtual clock. Runners
 * take a pending job as soon as a slot is free; instances bill per second with EC2's 60 s minimum.
 *
 * <p>Drains are modelled as in AWS (the drain state machine, {@link DrainPolicy}): a drained
 * instance takes no new job at once (its runner is paused), shows as draining in the store (so the
 * scaler counts it as leaving, not as capacity), waits while a job runs on it, and is terminated
 * {@link SimulationOptions#drainTime()} after its last job, billing until then. A spot interruption
 * warning drains its instance with {@link DrainPolicy#SPOT_DEADLINE}: jobs still running then are
 * cancelled and retried as new pending jobs, and EC2 takes the instance {@link #SPOT_NOTICE} after
 * the warning at the latest. The scaler is asked for a decision at the warning, as the lifecycle
 * function does, so the replacement launches at once; every drain lowers desired capacity as it ends.
 *
 * <p>Fargate pools run on {@link SimulatedFargate} through the real {@link TaskScaler} (one task per
 * pending job beyond the tasks waiting for one). A task is ready after a start time drawn uniformly
 * from the pool's {@code backend.start_time}, takes one pending job of its pool (any: the pool's
 * runner is shared), and stops when that job ends; one that got no job within {@code wait_timeout}
 * of becoming ready stops itself. Every task state change goes, as an ECS event would, to the
 * lifecycle function's own {@link TaskLifecycle}, which updates the store and, at a Fargate Spot
 * interruption, cancels and retries the task's job through "GitLab" (this class) and asks for a
 * decision at once. Tasks bill with {@link FargatePrices}: from RunTask to their stop, per second,
 * at least a minute. An interrupted task stops {@link #SPOT_TASK_STOP} after its warning.
 *
 * <p>The invariant the drains exist for is checked, not assumed: <b>no instance is terminated while
 * a job runs on it</b>, and no Fargate task stops under a job that was not cancelled and retried. A
 * run in which one was fails with an {@link IllegalStateException} naming the first.
 *
 * <p>Webhooks can be lost ({@link WebhookLoss}): each delivery of a job's pending, running or
 * finished event reaches the store with the chance {@code 1 - dropRate}, and only a delivered
 * pending event asks the scaler for a decision (the fast path) and counts as demand. "GitLab" does
 * not care: its runners take any pending job of their pool, known to runnerscale or not. A lost
 * pending event leaves the job without capacity of its own until a free runner of its pool happens
 * to take it (or the reconciler finds it); a lost running event leaves runnerscale asking capacity
 * for a job already running; a lost finished event keeps the job's instance busy to the scaler, so
 * it is never scaled in. The real {@link Reconciler} runs every {@link WebhookLoss#reconcileEvery()}
 * against {@link SimulatedGitLab}, which answers from the jobs' real states. Cancellations at a spot
 * deadline or a Fargate Spot interruption always arrive (runnerscale itself asked for them).
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
    /** EC2 takes a spot instance two minutes after its interruption warning. */
    public static final Duration SPOT_NOTICE = Duration.ofMinutes(2);
    /** Spot draws use their own stream, so turning interruptions on leaves the seed's boot draws alone. */
    private static final long SPOT_STREAM = 0x5b07_5b07_5b07L;
    /** Fargate start times too: a Fargate pool beside EC2 pools leaves their boot draws alone. */
    private static final long FARGATE_STREAM = 0xfa6a_7e00_fa6aL;
    /** Lost webhooks too: dropping some leaves every other draw where it was. */
    private static final long DROP_STREAM = 0xd70b_d70b_d70bL;
    /** A pool's own {@code backend.boot_time} too: setting it on one pool leaves the others' boot draws alone. */
    private static final long BOOT_STREAM = 0xb007_b007_b007L;
    /** Warm pools too (their launches, resumes and runner starts): a pool without one draws as before. */
    private static final long WARM_STREAM = 0x3a73_3a73_3a73L;
    /**
     * From a Fargate Spot interruption to the task's stop: ECS sends SIGTERM at the warning, which makes
     * gitlab-runner abort its job and exit, and SIGKILL after the task definition's stopTimeout (30 s by
     * default). Billed in full: an upper bound.
     */
    public static final Duration SPOT_TASK_STOP = Duration.ofSeconds(30);
    /** The runner id of pool number {@code i} (from 0) is this plus i: a Fargate pool's tasks share one runner. */
    private static final long FIRST_POOL_RUNNER = 1000;

    private final String name;
    private final List<TraceJob> trace;
    private final PoolsConfig config;
    private final SimulationOptions options;
    private final IntConsumer progress;

    private final PriorityQueue<Event> events = new PriorityQueue<>();
    private final Random random;
    private final Random spotRandom;
    private final Random bootRandom;
    private final Random warmRandom;
    private final VirtualClock clock;
    private final InMemoryJobStore store = new InMemoryJobStore();
    private final InMemoryDemandHistory history = new InMemoryDemandHistory();
    private final SimulatedFleet fleet;
    private final Random fargateRandom;
    private final SimulatedFargate fargate;
    private final TaskLifecycle taskLifecycle;
    private final ScalerService scaler;
    /** Fargate tasks that have not stopped, in start order (the oldest waiting task takes the next job). */
    private final Map<String, TaskRun> tasks = new LinkedHashMap<>();
    /** Jobs running on Fargate tasks, and the task each runs on. */
    private final Map<JobKey, TaskJob> taskJobs = new HashMap<>();
    /** Jobs "GitLab" cancelled after an interruption, until retried. */
    private final Map<JobKey, TaskJob> cancelled = new HashMap<>();
    private final Map<String, PoolTally> tallies = new LinkedHashMap<>();
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
    private int unmatched;
    private double billedSeconds;
    private double ec2BilledSeconds;
    private double fargateCost;
    private double idleSeconds;
    private int drainsStarted;
    private double drainingSeconds;
    private int interruptions;
    private int jobsAtWarning;
    private int finishedBeforeDeadline;
    private int retried;
    private double retryWaitSeconds;
    private double lostWorkSeconds;
    private int terminatedBusy;
    private int warmBusy;
    private String firstTerminatedBusy;
    private Function<SimulatedFleet.Instance, Duration> spotWarnings = this::drawSpotWarning;
    private Function<SimulatedFargate.Task, Duration> taskSpotWarnings = this::drawTaskSpotWarning;
    private int lostTasks;
    private String firstLostTask;
    private boolean retryInterruptedTaskJobs = true;
    private boolean cancelAtSpotDeadline = true;
    private Instant end;
    private final Instant hardStop;
    /** "GitLab": every job's real state, for the reconciler's reads. */
    private final SimulatedGitLab gitlab = new SimulatedGitLab();
    private WebhookLoss loss = WebhookLoss.NONE;
    private Random dropRandom;
    private java.util.function.BiPredicate<TraceJob, JobStatus> dropRule;
    private Reconciler reconciler;
    private ProjectSightings sightings;
    private int droppedPending;
    private int droppedRunning;
    private int droppedFinished;
    private int reconcileRuns;
    private final Map<ReconcileReport.Kind, Integer> reconciled = new EnumMap<>(ReconcileReport.Kind.class);
    /** Jobs waiting whose pending webhook was lost, until a runner takes them. */
    private final Set<JobKey> lostPending = new HashSet<>();
    private final List<Double> lostPendingWaits = new ArrayList<>();
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
        this.spotRandom = new Random(options.seed() ^ SPOT_STREAM);
        // spot pools named but not in this pools file belong to another one simulated beside it (--compare):
        // the command checks every name against all of them
        this.clock = new VirtualClock(first.minus(options.tickInterval()));
        this.bootRandom = new Random(options.seed() ^ BOOT_STREAM);
        this.warmRandom = new Random(options.seed() ^ WARM_STREAM);
        this.fleet = new SimulatedFleet(clock, new BootPaths(), new FleetListener());
        this.fargateRandom = new Random(options.seed() ^ FARGATE_STREAM);
        this.fargate = new SimulatedFargate(clock, backend -> SimulatedFargate.uniformStartTime(backend.startTime(),
                fargateRandom), event -> taskLifecycle().onTaskStateChange(event), new TaskListener());
        this.taskLifecycle = new TaskLifecycle(() -> config, store, store, new TaskRunners(),
                (pool, reason, dedupeId) -> requestDecision(pool), clock);
        this.scaler = new ScalerService(PoolsConfigSource.fixed(config), store, fleet, new DrainRunner(),
                new DemandHistoryForecast(history), clock, ScalerService.DEFAULT_WATCH_GAP,
                new TaskScaler(store, fargate));
        for (PoolConfig pool : config.pools()) {
            tallies.put(pool.name(), new PoolTally(pool, FIRST_POOL_RUNNER + tallies.size()));
        }
    }

    private TaskLifecycle taskLifecycle() {
        return taskLifecycle;
    }

    /**
     * Drops webhooks and runs the reconciler as {@code loss} says. The reconciler is the real one,
     * with its default settings, writing through the webhook's own {@link JobUpdateService} (its
     * scale requests are the fast path's decisions) and reading {@link SimulatedGitLab}.
     */
    public Simulation withWebhookLoss(WebhookLoss loss) {
        this.loss = loss;
        this.dropRandom = new Random(options.seed() ^ DROP_STREAM);
        if (loss.reconciles()) {
            PoolsConfigSource pools = PoolsConfigSource.fixed(config);
            JobUpdateService updates = new JobUpdateService(pools, store, new PoolResolver(gitlab, store, 10_000),
                    (pool, reason, dedupeId) -> requestDecision(pool), history);
            this.sightings = new ProjectSightings(store);
            // lists the trace's project, which the webhook path noted, and checks its hook
            this.reconciler = new Reconciler(pools, store, gitlab, new Reconciler.Discovery(gitlab, store,
                    SimulatedGitLab.HOOK.url()), updates.noting(sightings), clock, ReconcileSettings.DEFAULTS);
        } else {
            this.reconciler = null;
            this.sightings = null;
        }
        return this;
    }

    /** Tests: which deliveries are lost, by trace job and event status, instead of the drop rate's draws. */
    Simulation dropDeliveries(java.util.function.BiPredicate<TraceJob, JobStatus> rule) {
        this.dropRule = rule;
        return this;
    }

    /** "GitLab" of this run: its jobs' real states (tests). */
    SimulatedGitLab gitlab() {
        return gitlab;
    }

    /** Tests: when each instance gets its spot warning, after its launch (null: never). */
    Simulation spotWarnings(Function<SimulatedFleet.Instance, Duration> warnings) {
        this.spotWarnings = warnings;
        return this;
    }

    /** Tests: a drain that forgets to cancel at the spot deadline, so EC2 takes the instance under its job. */
    Simulation withoutSpotCancel() {
        this.cancelAtSpotDeadline = false;
        return this;
    }

    /** Tests: when each Fargate Spot task gets its interruption, after RunTask (null: never). */
    Simulation taskSpotWarnings(Function<SimulatedFargate.Task, Duration> warnings) {
        this.taskSpotWarnings = warnings;
        return this;
    }

    /**
     * Tests: a job the store holds as pending from {@code from} to {@code until} though no runner can
     * take it (GitLab cancelled it while pending, and the webhook saying so came late): the scaler
     * starts tasks for it, which get no job and end at their wait timeout.
     */
    Simulation strayPendingJob(String pool, Instant from, Instant until) {
        JobKey key = new JobKey(2, nextJobId++);
        push(from, new Stray(pool, key, JobStatus.PENDING));
        push(until, new Stray(pool, key, JobStatus.CANCELED));
        return this;
    }

    /** Tests: a lifecycle function whose GitLab never names an interrupted task's job, so nothing is retried. */
    Simulation withoutTaskRetry() {
        this.retryInterruptedTaskJobs = false;
        return this;
    }

    /** Jobs given to an instance in a warm pool (never: they are not in service); {@link #run()} fails when this is not 0. */
    public int warmBusy() {
        return warmBusy;
    }

    /** The fleet this run drives (tests). */
    SimulatedFleet fleet() {
        return fleet;
    }

    /** Instances terminated with a job running on them; {@link #run()} fails when this is not 0. */
    public int terminatedBusy() {
        return terminatedBusy;
    }

    public SimulationResult run() {
        for (TraceJob job : trace) {
            push(job.requestedAt(), new Request(job));
        }
        requestsLeft = trace.size();
        for (PoolConfig pool : config.pools()) {
            if (pool.warmPool() != null) {
                fleet.setDesiredCapacity(pool, 0); // the group's warm pool fills as soon as it is configured
            }
        }
        push(clock.instant(), new Tick());
        push(clock.instant(), new SampleFleet());
        if (reconciler != null) {
            push(clock.instant().plus(loss.reconcileEvery()), new Reconcile());
        }
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
                // room for the last idle instances to be drained and for their drains to end
                end = clock.instant().plus(longestIdleTime()).plus(options.drainTime())
                        .plus(options.tickInterval().multipliedBy(2));
            }
        }
        progress.accept(trace.size());
        Instant until = end == null ? clock.instant() : end.isAfter(hardStop) ? hardStop : end;
        for (Machine machine : new ArrayList<>(machines.values())) {
            bill(machine, until);
        }
        for (TaskRun run : new ArrayList<>(tasks.values())) {
            billTask(run, until);
        }
        SimulationResult.WarmFigures warm = SimulationResult.WarmFigures.NONE;
        for (PoolTally tally : tallies.values()) {
            if (tally.pool.warmPool() != null) {
                tally.warm = warmFigures(tally.pool, fleet.warmUsage(tally.pool, until));
                double running = tally.warm.warmRunningHours() * 3600;
                tally.billedSeconds += running;
                billedSeconds += running;
                ec2BilledSeconds += running;
                warm = warm.plus(tally.warm);
            }
        }
        if (warmBusy > 0) {
            throw new IllegalStateException(name + ": " + warmBusy + " job(s) given to an instance in a warm pool, "
                    + "which is not in service");
        }
        if (terminatedBusy > 0) {
            throw new IllegalStateException(name + ": " + terminatedBusy + " instance(s) terminated with a job running "
                    + "on them, which a drain must never let happen; first: " + firstTerminatedBusy);
        }
        if (lostTasks > 0) {
            throw new IllegalStateException(name + ": " + lostTasks + " Fargate task(s) stopped under a job that was "
                    + "neither finished nor cancelled and retried; first: " + firstLostTask);
        }
        double[] waitArray = waits.stream().mapToDouble(Double::doubleValue).toArray();
        double hours = billedSeconds / 3600.0;

        boolean ec2Pools = config.pools().stream().anyMatch(p -> p.backend() instanceof PoolConfig.Ec2Asg);
        // EC2 alone: hours x price, as ever; Fargate pools always have a price
        Double cost = ec2Pools && options.pricePerInstanceHour() <= 0 ? null
                : ec2BilledSeconds / 3600.0 * options.pricePerInstanceHour() + fargateCost;
        SimulationResult.Drains drains = new SimulationResult.Drains(drainsStarted, drainingSeconds / 3600.0,
                interruptions, jobsAtWarning, finishedBeforeDeadline, retried, retryWaitSeconds, lostWorkSeconds);
        List<SimulationResult.PoolResult> pools = tallies.values().stream().map(t -> t.result(options)).toList();
        return new SimulationResult(name, completed, waitArray, hours, idleSeconds / 3600.0, peak, cost, drains,
                timeline, pools, webhooks(), warm);
    }

    private SimulationResult.Webhooks webhooks() {
        int neverStarted = pending.values().stream().mapToInt(ArrayDeque::size).sum() + requestsLeft;
        if (droppedPending + droppedRunning + droppedFinished == 0 && loss.dropRate() == 0 && reconciler == null
                && neverStarted == 0) {
            return SimulationResult.Webhooks.NONE;
        }
        // what runnerscale still takes for live though GitLab has ended it: capacity kept for nothing
        int stale = 0;
        for (PoolConfig pool : config.pools()) {
            for (var job : store.liveJobs(pool.name())) {
                JobStatus real = gitlab.status(job.key());
                if (real != null && real.isTerminal()) {
                    stale++;
                }
            }
        }
        return new SimulationResult.Webhooks(loss.dropRate(), reconciler == null ? null : loss.reconcileEvery(), reconcileRuns, droppedPending, droppedRunning,
                droppedFinished, reconciled, lostPendingWaits.stream().mapToDouble(Double::doubleValue).toArray(),
                neverStarted, stale);
    }

    /**
     * GitLab's delivery of one job event to the webhook, which writes it to the store.
     *
     * @return false when the delivery was lost on the way
     */
    private boolean deliver(JobEvent event, String pool, TraceJob job) {
        boolean lost = dropRule != null ? dropRule.test(job, event.status())
                : loss.dropRate() > 0 && dropRandom.nextDouble() < loss.dropRate();
        if (lost) {
            switch (event.status()) {
                case PENDING -> droppedPending++;
                case RUNNING -> droppedRunning++;
                default -> droppedFinished++;
            }
            return false;
        }
        store.apply(event, pool, clock.instant());
        if (sightings != null) {
            // as the webhook notes the projects jobs come from, for the reconciler to list
            sightings.seen(event.key().projectId(), clock.instant());
        }
        return true;
    }

    private void reconcile() {
        ReconcileReport report = reconciler.run();
        reconcileRuns++;
        report.counts().forEach((kind, count) -> {
            if (count > 0) {
                reconciled.merge(kind, count, Integer::sum);
            }
        });
    }

    /** A job a runner takes: its wait is counted, and apart when runnerscale never heard it was pending. */
    private void started(Waiting job, double wait) {
        if (lostPending.remove(job.key)) {
            lostPendingWaits.add(wait);
        }
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
            case TaskReady r -> taskReady(r.arn);
            case TaskWaitTimeout w -> taskWaitTimeout(w.arn);
            case TaskFinish f -> taskFinish(f);
            case TaskInterrupt i -> taskInterrupt(i.arn);
            case TaskStop t -> fargate.end(t.arn, TaskEvent.SPOT_INTERRUPTION, null, null);
            case Stray st -> {
                Instant now = clock.instant();
                store.apply(new JobEvent(st.key, st.status, null, null, null, null, null,
                        st.status == JobStatus.PENDING ? null : now, null, null, null, null, List.of()), st.pool, now);
                requestDecision(st.pool);
            }
            case Interrupt i -> interrupt(i.instanceId);
            case Reconcile r -> {
                reconcile();
                push(clock.instant().plus(loss.reconcileEvery()), new Reconcile());
            }
            case DrainDeadline d -> drainDeadline(d.instanceId);
            case DrainEnd d -> drainEnd(d.instanceId);
            case Reclaim r -> reclaim(r.instanceId);
            case SampleFleet s -> {
                int waiting = pending.values().stream().mapToInt(ArrayDeque::size).sum();
                int running = machines.values().stream().mapToInt(m -> m.running.size()).sum() + taskJobs.size();
                timeline.add(new SimulationResult.Sample(clock.instant().getEpochSecond(), waiting, running,
                        machines.size() + tasks.size()));
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
        submit(job, pool, false);
    }

    /** @param retry a job cancelled at a spot deadline (or a Fargate Spot interruption), asked for again */
    private JobKey submit(TraceJob job, String pool, boolean retry) {
        JobKey key = new JobKey(SimulatedGitLab.PROJECT_ID, nextJobId++);
        outstanding++;
        Instant now = clock.instant();
        gitlab.created(key, job.tags(), now);
        boolean delivered = deliver(event(key, JobStatus.PENDING, null, null), pool, job);
        if (delivered) {
            history.record(pool, now);
        } else {
            lostPending.add(key);
        }
        pending.computeIfAbsent(pool, p -> new ArrayDeque<>()).add(new Waiting(key, job, pool, now, retry));
        if (delivered) {
            requestDecision(pool); // the webhook's fast path: nothing asks when the hook was lost
        }
        dispatch(pool);
        return key;
    }

    /** The fast path: a decision for the pool after the webhook-to-scaler delay, unless one is due already. */
    private void requestDecision(String pool) {
        Instant now = clock.instant();
        Instant due = decisionDue.get(pool);
        if (due == null || due.isBefore(now)) {
            long spread = options.decisionDelayMax().toMillis() - options.decisionDelayMin().toMillis();
            Instant at = now.plus(options.decisionDelayMin()).plusMillis(spread <= 0 ? 0 : (long) (random.nextDouble() * spread));
            decisionDue.put(pool, at);
            push(at, new Decide(pool));
        }
    }

    /** Free slots take waiting jobs, oldest instance first (it keeps the younger ones free to be scaled in). */
    private void dispatch(String poolName) {
        ArrayDeque<Waiting> queue = pending.get(poolName);
        if (queue == null || queue.isEmpty()) {
            return;
        }
        PoolConfig pool = config.pool(poolName).orElseThrow();
        if (pool.backend() instanceof PoolConfig.Fargate) {
            dispatchTasks(pool, queue);
            return;
        }
        Instant now = clock.instant();
        PoolTally tally = tallies.get(poolName);
        for (Machine machine : machines.values()) {
            if (queue.isEmpty()) {
                return;
            }
            if (!machine.pool.equals(poolName) || machine.idleFrom == null && machine.running.isEmpty()
                    || machine.drain != null) {
                continue; // other pool, still booting, or draining (its runner is paused)
            }
            if (pool.warmPool() != null && fleet.isWarm(poolName, machine.id)) {
                warmBusy++; // a machine the fleet keeps in its warm pool: the accounting went wrong
                continue;
            }
            while (!queue.isEmpty() && machine.running.size() < pool.capacityPerInstance()
                    && (pool.maxUseCount() == 0 || machine.uses + machine.running.size() < pool.maxUseCount())) {
                Waiting job = queue.poll();
                double wait = seconds(job.requestedAt, now);
                waits.add(wait);
                tally.waits.add(wait);
                if (job.retry) {
                    retryWaitSeconds += wait;
                }
                started(job, wait);
                if (machine.running.isEmpty() && machine.idleFrom != null) {
                    double idle = seconds(machine.idleFrom, now);
                    idleSeconds += idle;
                    tally.idleSeconds += idle;
                    machine.idleFrom = null;
                }
                machine.running.put(job.key, new Running(job, now));
                gitlab.started(job.key, machine.id, null, now);
                deliver(event(job.key, JobStatus.RUNNING, machine.id, null), poolName, job.job);
                push(now.plus(job.job.duration()), new Finish(job.key, machine.id));
            }
        }
    }

    private void finish(Finish finish) {
        Machine machine = machines.get(finish.instanceId);
        Running ran = machine == null ? null : machine.running.remove(finish.key);
        if (ran == null) {
            return; // cancelled at a spot deadline and retried
        }
        machine.uses++;
        outstanding--;
        completed++; // a job retried after a spot interruption counts once, when it finally completes
        tallies.get(machine.pool).completed++;
        Instant now = clock.instant();
        gitlab.ended(finish.key, JobStatus.SUCCESS, now);
        deliver(event(finish.key, JobStatus.SUCCESS, machine.id, now), machine.pool, ran.job.job);
        if (machine.running.isEmpty()) {
            machine.idleFrom = now;
        }
        if (machine.drain != null) {
            if (machine.drain.spot) {
                finishedBeforeDeadline++;
            }
            drainStep(machine);
        }
        dispatch(machine.pool);
    }

    // -- Fargate tasks ---------------------------------------------------------------------------

    /** Tasks waiting for a job take the pool's oldest waiting jobs, oldest task first. */
    private void dispatchTasks(PoolConfig pool, ArrayDeque<Waiting> queue) {
        Instant now = clock.instant();
        PoolTally tally = tallies.get(pool.name());
        for (TaskRun run : tasks.values()) {
            if (queue.isEmpty()) {
                return;
            }
            if (!run.task.pool().equals(pool.name()) || !run.task.waitingForJob()) {
                continue;
            }
            Waiting job = queue.poll();
            fargate.take(run.task.arn(), job.key);
            double wait = seconds(job.requestedAt, now);
            waits.add(wait);
            tally.waits.add(wait);
            if (job.retry) {
                retryWaitSeconds += wait;
            }
            started(job, wait);
            double idle = seconds(run.idleFrom, now);
            idleSeconds += idle;
            tally.idleSeconds += idle;
            run.idleFrom = null;
            taskJobs.put(job.key, new TaskJob(job, now, run.task.arn()));
            // the pool's one runner runs it (which task, GitLab knows by the runner's system id)
            gitlab.started(job.key, null, tally.runnerId, now);
            deliver(new JobEvent(job.key, JobStatus.RUNNING, null, null, null, null, now, null, null,
                    tally.runnerId, null, null, List.of()), pool.name(), job.job);
            push(now.plus(job.job.duration()), new TaskFinish(job.key, run.task.arn()));
        }
    }

    private void taskReady(String arn) {
        TaskRun run = tasks.get(arn);
        if (run == null || !fargate.ready(arn)) {
            return; // interrupted while starting
        }
        Instant now = clock.instant();
        run.idleFrom = now;
        push(now.plus(run.task.backend().waitTimeout()), new TaskWaitTimeout(arn));
        dispatch(run.task.pool());
    }

    /** {@code run-single --wait-timeout}: a runner that got no job exits, and its task stops. */
    private void taskWaitTimeout(String arn) {
        TaskRun run = tasks.get(arn);
        if (run != null && run.task.waitingForJob()) {
            fargate.end(arn, SimulatedFargate.EXITED, "Essential container in task exited", 0);
        }
    }

    /** The job ends (its success reaches GitLab), the runner exits ({@code --max-builds 1}) and the task stops. */
    private void taskFinish(TaskFinish finish) {
        TaskJob running = taskJobs.get(finish.key);
        if (running == null || !running.arn.equals(finish.arn)) {
            return; // cancelled after an interruption and retried
        }
        taskJobs.remove(finish.key);
        outstanding--;
        completed++;
        Instant now = clock.instant();
        PoolTally tally = tallies.get(running.job.pool);
        tally.completed++;
        gitlab.ended(finish.key, JobStatus.SUCCESS, now);
        deliver(new JobEvent(finish.key, JobStatus.SUCCESS, null, null, null, null, running.startedAt, now, null,
                tally.runnerId, null, null, List.of()), running.job.pool, running.job.job);
        fargate.end(finish.arn, SimulatedFargate.EXITED, "Essential container in task exited", 0);
    }

    /**
     * Fargate Spot takes a task back: ECS's event goes to the lifecycle function's code, which asks
     * "GitLab" for the task's job by its system id, cancels and retries it, and asks for a decision; the
     * task stops {@link #SPOT_TASK_STOP} later.
     */
    private void taskInterrupt(String arn) {
        TaskRun run = tasks.get(arn);
        if (run == null || run.task.state() != io.runnerscale.compute.TaskState.STARTING
                && run.task.state() != io.runnerscale.compute.TaskState.RUNNING) {
            return;
        }
        interruptions++;
        tallies.get(run.task.pool()).interruptions++;
        if (run.task.job() != null && taskJobs.containsKey(run.task.job())) {
            jobsAtWarning++;
        }
        fargate.interrupt(arn); // the lifecycle function cancels and retries its job meanwhile
        if (run.idleFrom == null) {
            run.idleFrom = clock.instant(); // billed until it stops, serving nothing: idle, as a draining instance
        }
        push(clock.instant().plus(SPOT_TASK_STOP), new TaskStop(arn));
    }

    private Duration drawTaskSpotWarning(SimulatedFargate.Task task) {
        if (task.capacity() != FargateTasks.Capacity.FARGATE_SPOT || !options.spot(task.pool())) {
            return null;
        }
        double hours = -Math.log(1 - spotRandom.nextDouble()) / options.spotInterruptionsPerInstanceHour();
        return Duration.ofMillis((long) Math.min(hours * 3_600_000, MAX_SPAN.toMillis()));
    }

    /** Bills a task from RunTask to {@code until} (its stop, or the end of the run). */
    private void billTask(TaskRun run, Instant until) {
        SimulatedFargate.Task task = run.task;
        Duration ran = Duration.between(task.requestedAt(), until);
        long billed = FargatePrices.billedSeconds(ran);
        double cost = options.fargatePrices().cost(task.backend(), task.capacity(), ran);
        billedSeconds += billed;
        fargateCost += cost;
        PoolTally tally = tallies.get(task.pool());
        tally.billedSeconds += billed;
        tally.cost += cost;
        tally.live--;
        if (run.idleFrom != null && until.isAfter(run.idleFrom)) {
            double idle = seconds(run.idleFrom, until);
            idleSeconds += idle;
            tally.idleSeconds += idle;
            run.idleFrom = null;
        }
        tasks.remove(task.arn());
    }

    private final class TaskListener implements SimulatedFargate.Listener {
        @Override
        public void started(SimulatedFargate.Task task) {
            tasks.put(task.arn(), new TaskRun(task));
            peak = Math.max(peak, machines.size() + tasks.size());
            tallies.get(task.pool()).launched();
            push(task.readyAt(), new TaskReady(task.arn()));
            Duration warning = taskSpotWarnings.apply(task);
            if (warning != null) {
                push(task.requestedAt().plus(warning), new TaskInterrupt(task.arn()));
            }
        }

        @Override
        public void stopped(SimulatedFargate.Task task) {
            TaskRun run = tasks.get(task.arn());
            if (run == null) {
                return;
            }
            TaskJob running = task.job() == null ? null : taskJobs.get(task.job());
            if (running != null && running.arn.equals(task.arn())) {
                // stopped under a job nobody cancelled: GitLab would fail it at its timeout
                lostTasks++;
                if (firstLostTask == null) {
                    firstLostTask = task.arn() + " of pool " + task.pool() + " at " + task.stoppedAt() + " ("
                            + task.stopCode() + ") running job " + task.job();
                }
                taskJobs.remove(task.job());
                outstanding--;
                gitlab.ended(task.job(), JobStatus.FAILED, task.stoppedAt());
                submit(running.job.job, running.job.pool, true); // the figures stay whole; the run fails at its end
            }
            billTask(run, task.stoppedAt());
        }
    }

    /**
     * GitLab's runner API as the lifecycle function uses it at a Fargate Spot interruption: the jobs a
     * runner manager (a task, by its system id) runs, cancel, retry. Nothing else is asked of it here.
     */
    private final class TaskRunners implements GitLabRunners {
        @Override
        public List<JobKey> runningJobs(long runnerId, String systemId) {
            List<JobKey> running = new ArrayList<>();
            if (!retryInterruptedTaskJobs) {
                return running;
            }
            for (TaskJob job : taskJobs.values()) {
                if (tallies.get(job.job.pool).runnerId == runnerId
                        && TaskKey.systemId(job.arn).filter(systemId::equals).isPresent()) {
                    running.add(job.job.key);
                }
            }
            return running;
        }

        @Override
        public void cancelJob(JobKey job) {
            TaskJob running = taskJobs.remove(job);
            if (running == null) {
                return; // finished or cancelled already: GitLab ignores the cancel
            }
            Instant now = clock.instant();
            retried++;
            tallies.get(running.job.pool).retried++;
            lostWorkSeconds += seconds(running.startedAt, now);
            outstanding--;
            gitlab.ended(job, JobStatus.CANCELED, now);
            store.apply(new JobEvent(job, JobStatus.CANCELED, null, null, null, null, running.startedAt, now, null,
                    tallies.get(running.job.pool).runnerId, null, null, List.of()), running.job.pool, now);
            cancelled.put(job, running);
        }

        @Override
        public Optional<JobKey> retryJob(JobKey job) {
            TaskJob was = cancelled.remove(job);
            if (was == null) {
                return Optional.empty();
            }
            return Optional.of(submit(was.job.job, was.job.pool, true));
        }

        @Override
        public List<JobKey> runningJobs(long runnerId) {
            throw new UnsupportedOperationException("the simulator's Fargate runners are asked by system id");
        }

        @Override
        public CreatedRunner createRunner(RunnerSpec spec) {
            throw new UnsupportedOperationException("Fargate pools share one runner: none is created");
        }

        @Override
        public void setPaused(long runnerId, boolean paused) {
            throw new UnsupportedOperationException("Fargate runners are not paused");
        }

        @Override
        public void deleteRunner(long runnerId) {
            throw new UnsupportedOperationException("Fargate pools share one runner: none is deleted");
        }

        @Override
        public List<RunnerInfo> runnersOf(RunnerOwner owner) {
            throw new UnsupportedOperationException("not asked of the simulator");
        }
    }

    // -- drains ----------------------------------------------------------------------------------

    /** The drain state machine as the scaler's port: a drain of an instance, never a bare termination. */
    private final class DrainRunner implements InstanceDrains {
        @Override
        public void drain(PoolConfig pool, String instanceId, ScalingAction.Reason reason) {
            Machine machine = machines.get(instanceId);
            if (machine == null) {
                throw new IllegalArgumentException("instance " + instanceId + " is not in pool " + pool.name());
            }
            // scale-in, retired and boot-timeout drains wait out a running job (the pool's job timeout is
            // longer than any trace job); the scaler drains only idle or unready instances anyway
            startDrain(machine, false, null, null);
            // only a scale-in may send the instance back to the warm pool; retired or timed-out ones terminate
            machine.drain.scaleIn = reason == ScalingAction.Reason.IDLE && !machine.drain.spot;
        }
    }

    /**
     * Starts a drain, or tightens the one that runs (a spot warning on an instance already leaving).
     *
     * @param deadline when jobs still running are cancelled and retried; null: wait for them
     * @param reclaimAt when EC2 takes the instance whatever runs on it; null: never
     */
    private void startDrain(Machine machine, boolean spot, Instant deadline, Instant reclaimAt) {
        Instant now = clock.instant();
        if (machine.drain == null) {
            machine.drain = new Drain(now);
            drainsStarted++;
            // what the lifecycle function writes as it starts the drain: the scaler reads it as draining
            store.recordRunner(machine.id, machine.pool, null, InstanceState.DRAINING, now);
        }
        Drain drain = machine.drain;
        if (spot) {
            drain.scaleIn = false; // an interrupted instance is gone whatever the drain began as
        }
        if (spot && !drain.spot) {
            // interrupted: its running jobs will be retried, so the scaler asks for their slots elsewhere now
            store.setState(machine.id, InstanceState.INTERRUPTED);
        }
        drain.spot |= spot;
        if (deadline != null && (drain.deadline == null || deadline.isBefore(drain.deadline))) {
            drain.deadline = deadline;
            push(deadline, new DrainDeadline(machine.id));
        }
        if (reclaimAt != null && (drain.reclaimAt == null || reclaimAt.isBefore(drain.reclaimAt))) {
            drain.reclaimAt = reclaimAt;
            push(reclaimAt, new Reclaim(machine.id));
        }
        drainStep(machine);
    }

    /** With no job left on a draining instance: delete its runner and terminate it, drain time from now. */
    private void drainStep(Machine machine) {
        Drain drain = machine.drain;
        if (!machine.running.isEmpty()) {
            return; // waits for its jobs (or its deadline)
        }
        Instant at = clock.instant().plus(options.drainTime());
        if (drain.reclaimAt != null && at.isAfter(drain.reclaimAt)) {
            at = drain.reclaimAt;
        }
        if (drain.endAt == null || at.isBefore(drain.endAt)) {
            drain.endAt = at;
            push(at, new DrainEnd(machine.id));
        }
    }

    private void drainEnd(String instanceId) {
        Machine machine = machines.get(instanceId);
        if (machine == null || machine.drain == null || !clock.instant().equals(machine.drain.endAt)) {
            return; // gone already, or superseded by an earlier end
        }
        // every drain lowers desired capacity as it ends: the scaler asked for any replacement already
        terminate(machine, true);
    }

    /** The spot deadline: what still runs is cancelled and retried elsewhere, as a new job. */
    private void drainDeadline(String instanceId) {
        Machine machine = machines.get(instanceId);
        if (machine == null || machine.drain == null || !clock.instant().equals(machine.drain.deadline)) {
            return;
        }
        if (!cancelAtSpotDeadline) {
            return;
        }
        Instant now = clock.instant();
        for (Running running : List.copyOf(machine.running.values())) {
            Waiting job = running.job;
            machine.running.remove(job.key);
            retried++;
            tallies.get(machine.pool).retried++;
            lostWorkSeconds += seconds(running.startedAt, now);
            cancelAndRetry(machine, job);
        }
        if (machine.running.isEmpty() && machine.idleFrom == null) {
            machine.idleFrom = now;
        }
        drainStep(machine);
    }

    /**
     * EC2 takes a spot instance two minutes after the warning, whatever the drain has done. The drain
     * did not end first, so desired capacity was not lowered: the group launches one more instance
     * (beside the replacement the scaler asked for at the warning), as in AWS.
     */
    private void reclaim(String instanceId) {
        Machine machine = machines.get(instanceId);
        if (machine != null) {
            terminate(machine, false);
        }
    }

    private void terminate(Machine machine, boolean decrement) {
        store.setState(machine.id, InstanceState.GONE);
        PoolConfig pool = config.pool(machine.pool).orElseThrow();
        boolean scaleIn = decrement && machine.drain != null && machine.drain.scaleIn;
        if (fleet.terminate(pool, machine.id, decrement, scaleIn)) {
            // stopped into the warm pool: when drawn again it is a new instance to runnerscale (its runner
            // was deleted), so no tombstone may hide it
            store.forgetInstance(machine.id);
        }
    }

    private void cancelAndRetry(Machine machine, Waiting job) {
        Instant now = clock.instant();
        outstanding--;
        gitlab.ended(job.key, JobStatus.CANCELED, now);
        store.apply(event(job.key, JobStatus.CANCELED, machine.id, now), machine.pool, now);
        submit(job.job, machine.pool, true);
    }

    /** A spot interruption warning: the instance drains with the spot deadline; EC2 takes it at the notice's end. */
    private void interrupt(String instanceId) {
        Machine machine = machines.get(instanceId);
        if (machine == null) {
            return;
        }
        Instant now = clock.instant();
        interruptions++;
        tallies.get(machine.pool).interruptions++;
        jobsAtWarning += machine.running.size();
        startDrain(machine, true, now.plus(DrainPolicy.SPOT_DEADLINE), now.plus(SPOT_NOTICE));
        // as the lifecycle function does: the scaler counts the draining instance out and launches its
        // replacement at once
        requestDecision(machine.pool);
    }

    private Duration drawSpotWarning(SimulatedFleet.Instance instance) {
        if (!options.spot(instance.pool())) {
            return null;
        }
        double hours = -Math.log(1 - spotRandom.nextDouble()) / options.spotInterruptionsPerInstanceHour();
        return Duration.ofMillis((long) Math.min(hours * 3_600_000, MAX_SPAN.toMillis()));
    }

    private static double seconds(Instant from, Instant to) {
        return Duration.between(from, to).toMillis() / 1000.0;
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
     * Boot paths per pool: a cold launch takes the pool's {@code backend.boot_time} (uniform, its own
     * stream) or {@code --boot} (log-normal; into a warm pool on the warm stream, else on the main
     * stream as ever); a resume and a runner start are drawn on the warm stream.
     */
    private final class BootPaths implements SimulatedFleet.Timing {
        @Override
        public Duration coldBoot(PoolConfig pool, boolean intoWarmPool) {
            if (pool.backend() instanceof PoolConfig.Ec2Asg ec2 && ec2.bootTime() != null) {
                return SimulatedFargate.uniformStartTime(ec2.bootTime(), bootRandom);
            }
            return intoWarmPool ? bootDelay(options.bootMean(), options.bootJitter(), warmRandom) : bootDelay();
        }

        @Override
        public Duration uniform(PoolConfig.StartTime range) {
            return SimulatedFargate.uniformStartTime(range, warmRandom);
        }
    }

    /** A pool's warm-pool hours in figures: EBS dollars for the stopped hours of its volumes. */
    private SimulationResult.WarmFigures warmFigures(PoolConfig pool, SimulatedFleet.WarmUsage usage) {
        int gib = ((PoolConfig.Ec2Asg) pool.backend()).volumeGib();
        double stoppedHours = usage.stoppedSeconds() / 3600.0;
        double ebs = stoppedHours * gib * options.ebsPricePerGbMonth() / SimulationResult.WarmFigures.HOURS_PER_MONTH;
        return new SimulationResult.WarmFigures(stoppedHours, (usage.warmingSeconds() + usage.runningSeconds()) / 3600.0,
                ebs, usage.launched(), usage.drawn(), usage.returned());
    }

    /**
     * The mean times a log-normal factor {@code exp(sigma Z - sigma^2 / 2)}, whose mean is exactly 1:
     * boot times spread around {@code mean} without moving it.
     */
    static Duration bootDelay(Duration mean, double sigma, Random random) {
        double factor = sigma <= 0 ? 1 : Math.exp(sigma * random.nextGaussian() - sigma * sigma / 2);
        return Duration.ofMillis(Math.round(mean.toMillis() * factor));
    }

    /** How long the last instance may stay idle, or the last Fargate task start and wait for a job. */
    private Duration longestIdleTime() {
        Duration idle = config.pools().stream().flatMap(p -> p.policy().stream()).map(PolicyEntry::idleTime)
                .max(Duration::compareTo).orElse(Duration.ZERO);
        for (PoolConfig pool : config.pools()) {
            if (pool.backend() instanceof PoolConfig.Fargate f) {
                Duration task = f.startTime().max().plus(f.waitTimeout());
                idle = task.compareTo(idle) > 0 ? task : idle;
            }
        }
        return idle;
    }

    private void bill(Machine machine, Instant until) {
        double billed = Math.max(60, seconds(machine.launchedAt, until));
        billedSeconds += billed;
        ec2BilledSeconds += billed;
        PoolTally tally = tallies.get(machine.pool);
        tally.billedSeconds += billed;
        tally.live--;
        if (machine.idleFrom != null && until.isAfter(machine.idleFrom)) {
            double idle = seconds(machine.idleFrom, until);
            idleSeconds += idle;
            tally.idleSeconds += idle;
        }
        if (machine.drain != null && until.isAfter(machine.drain.startedAt)) {
            drainingSeconds += seconds(machine.drain.startedAt, until);
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
            peak = Math.max(peak, machines.size() + tasks.size());
            tallies.get(instance.pool()).launched();
            push(instance.readyAt(), new Ready(instance.id()));
            Duration warning = spotWarnings.apply(instance);
            if (warning != null) {
                push(instance.launchedAt().plus(warning), new Interrupt(instance.id()));
            }
        }

        /** Every way an instance leaves comes here: a drain's end, EC2's reclaim, the group itself. */
        @Override
        public void terminated(SimulatedFleet.Instance instance) {
            Machine machine = machines.get(instance.id());
            if (machine == null) {
                return;
            }
            if (!machine.running.isEmpty()) {
                terminatedBusy++;
                if (firstTerminatedBusy == null) {
                    firstTerminatedBusy = instance.id() + " of pool " + machine.pool + " at " + instance.terminatedAt()
                            + (instance.returnedToWarmPool() ? " (stopped into the warm pool)" : "")
                            + " with " + machine.running.size() + " job(s) running"
                            + (machine.drain == null ? ", not drained" : ", drained since " + machine.drain.startedAt);
                }
            }
            bill(machine, instance.terminatedAt()); // before the retries: they must not land on it again
            // the run fails at its end; until then the jobs run again elsewhere, so the figures stay whole
            for (Running running : List.copyOf(machine.running.values())) {
                machine.running.remove(running.job.key);
                cancelAndRetry(machine, running.job);
            }
        }
    }

    private static final class Machine {
        final String id;
        final String pool;
        final Instant launchedAt;
        final Map<JobKey, Running> running = new LinkedHashMap<>();
        Instant idleFrom;
        int uses;
        Drain drain;

        Machine(String id, String pool, Instant launchedAt) {
            this.id = id;
            this.pool = pool;
            this.launchedAt = launchedAt;
        }
    }

    /** @param retry asked for again after a cancellation at a spot deadline or a Fargate Spot interruption */
    private record Waiting(JobKey key, TraceJob job, String pool, Instant requestedAt, boolean retry) {
    }

    /** A job running on a Fargate task. */
    private record TaskJob(Waiting job, Instant startedAt, String arn) {
    }

    /** A Fargate task that has not stopped, with the simulator's accounting. */
    private static final class TaskRun {
        final SimulatedFargate.Task task;
        /** Since when it has been ready without a job; null while starting, running a job, or stopping. */
        Instant idleFrom;

        TaskRun(SimulatedFargate.Task task) {
            this.task = task;
        }
    }

    /** One pool's share of the figures. */
    private static final class PoolTally {
        final PoolConfig pool;
        final long runnerId;
        final List<Double> waits = new ArrayList<>();
        double billedSeconds;
        double idleSeconds;
        double cost;
        int completed;
        int live;
        int peak;
        int interruptions;
        int retried;
        SimulationResult.WarmFigures warm = SimulationResult.WarmFigures.NONE;

        PoolTally(PoolConfig pool, long runnerId) {
            this.pool = pool;
            this.runnerId = runnerId;
        }

        void launched() {
            live++;
            peak = Math.max(peak, live);
        }

        SimulationResult.PoolResult result(SimulationOptions options) {
            Double usd = pool.backend() instanceof PoolConfig.Fargate ? Double.valueOf(cost)
                    : options.pricePerInstanceHour() > 0 ? billedSeconds / 3600.0 * options.pricePerInstanceHour() : null;
            return new SimulationResult.PoolResult(pool.name(), describe(pool.backend()), completed,
                    waits.stream().mapToDouble(Double::doubleValue).toArray(), billedSeconds / 3600.0,
                    idleSeconds / 3600.0, peak, usd, interruptions, retried, warm);
        }
    }

    /** {@code ec2-asg}, or a Fargate task's capacity, size and platform, e.g. {@code fargate-spot 2 vCPU 4 GiB arm64}. */
    static String describe(PoolConfig.Backend backend) {
        if (!(backend instanceof PoolConfig.Fargate f)) {
            return backend.type();
        }
        return (f.spot() ? "fargate-spot " : "fargate ") + number(f.vcpu()) + " vCPU " + number(f.memoryGib()) + " GiB"
                + (f.platform() == PoolConfig.Fargate.Platform.ARM64 ? " arm64" : "");
    }

    private static String number(double value) {
        return java.math.BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
    }

    private record Running(Waiting job, Instant startedAt) {
    }

    /** A drain in progress; mutable as its deadlines tighten and its end is scheduled. */
    private static final class Drain {
        final Instant startedAt;
        boolean spot;
        /** A scale-in (idle, not needed): with reuse_on_scale_in the instance may go back to the warm pool. */
        boolean scaleIn;
        Instant deadline;
        Instant reclaimAt;
        Instant endAt;

        Drain(Instant startedAt) {
            this.startedAt = startedAt;
        }
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

    private record DrainDeadline(String instanceId) implements EventBody {
    }

    private record DrainEnd(String instanceId) implements EventBody {
    }

    private record Reclaim(String instanceId) implements EventBody {
    }

    private record SampleFleet() implements EventBody {
    }

    private record TaskReady(String arn) implements EventBody {
    }

    private record TaskWaitTimeout(String arn) implements EventBody {
    }

    private record TaskFinish(JobKey key, String arn) implements EventBody {
    }

    private record TaskInterrupt(String arn) implements EventBody {
    }

    private record TaskStop(String arn) implements EventBody {
    }

    private record Stray(String pool, JobKey key, JobStatus status) implements EventBody {
    }

    private record Reconcile() implements EventBody {
    }
}
