package io.runnerscale.lifecycle;

import io.runnerscale.testing.MutableClock;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.compute.Compute;
import io.runnerscale.compute.GroupState;
import io.runnerscale.gitlab.RunnerOwner;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.ForecastConfig;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.pool.TestPools;
import io.runnerscale.scaling.DemandForecast;
import io.runnerscale.scaling.ScalerService;
import io.runnerscale.store.InMemoryJobStore;
import net.jqwik.api.AfterFailureMode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.config.Configurator;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import io.runnerscale.store.InstanceLifecycle;

/**
 * Issue 7's safety proof, over random interleavings of job events, scaling decisions and lifecycle
 * events, with the real {@link ScalerService}, {@link LifecycleService}, {@link DrainPolicy} and the
 * packaged drain definition run by {@link DrainInterpreter}; only GitLab ({@link ModelGitLab}), the
 * Auto Scaling group, EventBridge/Lambda delivery and Step Functions' scheduling are models.
 *
 * <ol>
 *   <li><b>No instance is ever terminated while GitLab lists a running job on its runner</b>: checked
 *       whenever runnerscale terminates an instance, completes a terminate lifecycle action, and when
 *       AWS ends an instance on its own (a terminate hook timing out, a launch hook abandoned). A spot
 *       interruption is the one termination nobody can hold: there the rule is that by the time AWS
 *       takes the instance (warning + 120 s) the drain has cancelled and retried every job GitLab has
 *       not seen finish on it, unless GitLab was unavailable in those 2 minutes (nothing could be
 *       cancelled then).</li>
 *   <li><b>Every runner created is deleted once its instance is gone</b>, and its token: checked after a
 *       quiescent phase (no new jobs, jobs finish, GitLab available, decisions every minute and drains
 *       run to their end).</li>
 *   <li><b>No job is lost</b>: at the end every job succeeded, or was cancelled and retried (the retry
 *       exists), or is pending with no pool for its tags. A runner is never deleted under a running
 *       job either.</li>
 * </ol>
 *
 * <p>With warm pools ({@link #warmPoolsKeepNoRunnerWhileStoppedAndNothingGoesUnderAJob}) the docker group
 * keeps one instance prepared and stopped in its warm pool, resumes it on scale-out and, with instance
 * reuse, gets instances back on scale-in; checked besides the three above: <b>no stopped instance ever
 * has a runner GitLab knows or a stored token</b>, and <b>no instance is returned to the warm pool while
 * GitLab lists a running job on its runner</b>. The model group honours scale-in protection (every
 * instance protected at launch and at a resume; when desired capacity drops it picks at random among
 * the unprotected ones, and none leaves if none is), and runnerscale's own scale-in drains take the
 * return path ({@link WarmReturnPolicy}: protection lifted, desired capacity − 1) against an operator
 * who lifts protections by hand and stale desired-capacity writes that undo a return's decrement;
 * checked besides: <b>a return's decrement never makes the group pick an instance with a live
 * runner</b>, runnerscale never lifts the protection of one, and a return whose decrement was lost is
 * terminated by the orphan sweep's rule, never left in service.
 *
 * <p>Timing is faithful where safety depends on it: drain executions run when their Wait or retry
 * interval ends, EventBridge events are handled within 10 s (a failed handler is retried after a
 * minute, twice, as Lambda does), a terminate hook not heartbeated for 300 s lets AWS terminate, and
 * a spot instance goes 120 s after its warning. The random actions land between those steps and,
 * through {@link Between}, between the Tasks of one drain run (which Step Functions runs without a
 * wait).
 */
class FleetInterleavingPropertyTest {
    static final Instant T0 = Instant.parse("2026-01-07T09:00:00Z");
    static final Duration TERMINATE_HOOK_TIMEOUT = Duration.ofSeconds(300);
    static final Duration LAUNCH_HOOK_TIMEOUT = Duration.ofSeconds(600);
    static final Duration SPOT_NOTICE = Duration.ofSeconds(120);
    static final Duration EVENT_LATENCY = Duration.ofSeconds(10);
    static final Duration TICK = Duration.ofMinutes(1);
    static final String LAUNCH_HOOK = "runnerscale-launch";
    /**
     * Finding 1 (fixed): a launch event handled after its instance was drained and terminated (a
     * Lambda retry a minute or two later, or a late duplicate) made a runner and token for a gone
     * instance that nothing deleted. A gone instance's record is now a tombstone the launch finds.
     * Modelled always; {@code -Drunnerscale.lateLaunchEvents=false} drops such events instead.
     */
    static final boolean LATE_LAUNCH_EVENTS = !"false".equals(System.getProperty("runnerscale.lateLaunchEvents"));
    /**
     * Finding 3 (fixed): a spot warning handled before the instance's launch event was ignored; the
     * launch then made its runner, the instance took a job in its last two minutes and the
     * interruption took it un-retried. The warning now leaves a tombstone, and the launch abandons.
     */
    static final boolean EARLY_SPOT_WARNINGS = !"false".equals(System.getProperty("runnerscale.earlySpotWarnings"));
    /**
     * Finding 4 (fixed in the definition): GitLab failing 8 calls in a row outlasts a Task's 6 retries;
     * a drain holding a terminate hook then failed, nothing heartbeated, and AWS terminated the instance
     * under its jobs 300 s later. A failed drain now holds on (heartbeats, waits, asks again).
     */
    static final boolean LONG_OUTAGES = !"false".equals(System.getProperty("runnerscale.longOutages"));
    static final String TERMINATE_HOOK = "runnerscale-terminate";

    static final PoolConfig DOCKER = new PoolConfig("docker", new PoolConfig.Match(List.of("docker"), true),
            new PoolConfig.Ec2Asg("docker-asg"), 2, 4, 3, Duration.ofMinutes(5),
            List.of(TestPools.always(0, Duration.ofMinutes(5), 0, 0)), ForecastConfig.OFF);
    static final PoolConfig GPU = new PoolConfig("gpu", new PoolConfig.Match(List.of("gpu"), false),
            new PoolConfig.Ec2Asg("gpu-asg"), 1, 3, 0, Duration.ofMinutes(5),
            List.of(TestPools.always(0, Duration.ofMinutes(2), 0, 0)), ForecastConfig.OFF);
    static final List<PoolConfig> POOLS = List.of(DOCKER, GPU);

    /** The pool with a stopped warm pool of one that reuses instances on scale-in, as the warm world's group has. */
    static PoolConfig reusing(PoolConfig pool) {
        PoolConfig.Ec2Asg ec2 = ((PoolConfig.Ec2Asg) pool.backend())
                .withWarmPool(new PoolConfig.WarmPool(PoolConfig.WarmPool.State.STOPPED, 1, null, true, null));
        return new PoolConfig(pool.name(), pool.match(), ec2, pool.capacityPerInstance(), pool.maxInstances(),
                pool.maxUseCount(), pool.bootTimeout(), pool.policy(), pool.forecast());
    }
    /** Job tags: untagged and docker go to docker, gpu to gpu, the last two to no pool. */
    static final List<List<String>> TAGS = List.of(List.of(), List.of("docker"), List.of("gpu"),
            List.of("docker", "gpu"), List.of("arm"));

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DrainCodec CODEC = new DrainCodec(JSON);
    /** The packaged definition, read once: executions keep their own state. */
    private static final DrainInterpreter INTERPRETER = DrainInterpreter.packaged(JSON);
    private static Level savedLevel;

    @BeforeContainer
    static void quietLogs() {
        // the product logs every drain step at INFO: thousands of lines per run
        savedLevel = LogManager.getLogger("io.runnerscale").getLevel();
        Configurator.setLevel("io.runnerscale", Level.OFF);
    }

    @AfterContainer
    static void restoreLogs() {
        Configurator.setLevel("io.runnerscale", savedLevel);
    }

    // ------------------------------------------------------------------ actions

    /** One thing that happens in the world; int fields pick among what exists then (modulo), so shrinking stays meaningful. */
    sealed interface Action {
    }

    /** A pipeline creates a pending job. */
    record NewJob(int tags) implements Action {
    }

    /** GitLab gives a pending job to a polling runner; its {@code running} webhook may come after the next decision, or never. */
    record Assign(int job, int runner, Hook runningHook) implements Action {
    }

    enum Hook { DELIVERED, LATE, LOST }

    record Finish(int job) implements Action {
    }

    /** GitLab catches up with cancelled jobs. */
    record Settle() implements Action {
    }

    /**
     * The scaler's decision for one pool, after some seconds; with {@code jobLandsOnChosen}, GitLab gives
     * a job to each instance the decision lets go, between the decision's snapshot and its drain request.
     */
    record Scale(int pool, int afterSeconds, boolean jobLandsOnChosen) implements Action {
    }

    /** EventBridge hands a queued event to the lifecycle function early, out of order; a duplicate stays queued. */
    record Deliver(int event, boolean duplicate) implements Action {
    }

    /** A launched instance's user data registers its runner (with the stored token) and completes the launch hook. */
    record Boot(int instance) implements Action {
    }

    /** One drain execution runs to its next wait (the clock moves to when it is due), with events between its Tasks. */
    record StepDrain(int execution, List<Between> between) implements Action {
    }

    record SpotWarning(int instance) implements Action {
    }

    record Rebalance(int instance) implements Action {
    }

    /** AWS replaces an instance (health check): the terminate lifecycle hook holds it. */
    record AwsTerminates(int instance) implements Action {
    }

    /**
     * Warm pools: an operator lifts one instance's scale-in protection and lowers the group's size by one;
     * the group returns that instance to the warm pool (through its terminate hook, which drains it).
     */
    record ReuseScaleIn(int instance) implements Action {
    }

    /**
     * Warm pools: a scaler decision that read the group's desired capacity before a change and writes it
     * after (no atomic decrement exists): the docker group's desired goes back to its previous value
     * now, or ({@code racesNextReturn}) right after runnerscale's next return lowers it, before the group
     * acted on the lower value: that decrement is lost and the released instance stays in service.
     */
    record StaleDesired(boolean racesNextReturn) implements Action {
    }

    /**
     * Warm pools: an operator lifts one in-service instance's scale-in protection and leaves desired
     * capacity as it is: a runnerscale return must then not lower desired capacity (the group could
     * pick that instance, busy or not), but terminate its own instance instead.
     */
    record OperatorUnprotects(int instance) implements Action {
    }

    /**
     * EventBridge delivers a copy of a queued event minutes later (at least once, best effort): with
     * warm pools, a resume event's copy may come after the instance went back to the warm pool.
     */
    record DuplicateLater(int event, int minutes) implements Action {
    }

    /** Warm pools: the group terminates a stopped warm instance (the pool is larger than needed, an instance refresh). */
    record WarmPoolShrinks(int instance) implements Action {
    }

    /** GitLab answers 503 to the next calls. */
    record GitLabDown(int calls) implements Action {
    }

    record ClockJump(int seconds) implements Action {
    }

    /** What GitLab does between two Tasks of a drain: at the drained instance, or anywhere. */
    enum Between { NOTHING, JOB_STARTS_HERE, JOB_FINISHES_HERE, SETTLE, GITLAB_DOWN }

    /** DRAIN_JOB_TIMEOUT_MINUTES: short ones let drains reach their deadline (cancel and retry) within a run. */
    @Provide
    Arbitrary<Duration> jobTimeouts() {
        return Arbitraries.of(Duration.ofMinutes(2), Duration.ofMinutes(5), Duration.ofMinutes(30));
    }

    @Provide
    Arbitrary<List<Action>> actions() {
        return action().list().ofMinSize(1).ofMaxSize(60).withSizeDistribution(RandomDistribution.uniform());
    }

    Arbitrary<Action> action() {
        Arbitrary<Integer> pick = Arbitraries.integers().between(0, 7);
        return Arbitraries.frequencyOf(
                Tuple.of(12, Arbitraries.integers().between(0, TAGS.size() - 1).map(NewJob::new)),
                Tuple.of(10, Combinators.combine(pick, pick, Arbitraries.frequency(Tuple.of(4, Hook.DELIVERED),
                        Tuple.of(2, Hook.LATE), Tuple.of(2, Hook.LOST))).as(Assign::new)),
                Tuple.of(4, pick.map(Finish::new)),
                Tuple.of(2, Arbitraries.just(new Settle())),
                Tuple.of(12, Combinators.combine(Arbitraries.integers().between(0, 1),
                        Arbitraries.integers().between(0, 240), Arbitraries.of(false, false, false, true)).as(Scale::new)),
                Tuple.of(4, Combinators.combine(pick, Arbitraries.of(false, false, true)).as(Deliver::new)),
                Tuple.of(8, pick.map(Boot::new)),
                Tuple.of(12, Combinators.combine(pick, Arbitraries.frequency(
                        Tuple.of(10, Between.NOTHING), Tuple.of(3, Between.JOB_STARTS_HERE),
                        Tuple.of(2, Between.JOB_FINISHES_HERE), Tuple.of(1, Between.SETTLE), Tuple.of(1, Between.GITLAB_DOWN))
                        .list().ofMaxSize(5)).as(StepDrain::new)),
                Tuple.of(3, Arbitraries.frequency(Tuple.of(4, 0), Tuple.of(1, 1), Tuple.of(1, 3)).map(SpotWarning::new)),
                Tuple.of(1, pick.map(Rebalance::new)),
                Tuple.of(1, pick.map(AwsTerminates::new)),
                // a few calls: a Task's 6 retries ride it out (see LONG_OUTAGES for more)
                Tuple.of(2, Arbitraries.frequency(Tuple.of(3, 1), Tuple.of(3, 3), Tuple.of(1, LONG_OUTAGES ? 8 : 4))
                        .map(GitLabDown::new)),
                Tuple.of(3, Arbitraries.frequency(Tuple.of(4, 10), Tuple.of(4, 60), Tuple.of(3, 300), Tuple.of(1, 1800))
                        .map(ClockJump::new)));
    }

    /** The actions above, and the warm pool's own: scale-in returning an instance, the pool shrinking. */
    @Provide
    Arbitrary<List<Action>> warmActions() {
        Arbitrary<Integer> pick = Arbitraries.integers().between(0, 7);
        Arbitrary<Action> warm = Arbitraries.frequencyOf(
                Tuple.of(3, pick.map(ReuseScaleIn::new)),
                Tuple.of(2, Arbitraries.of(false, true).map(StaleDesired::new)),
                Tuple.of(3, pick.map(OperatorUnprotects::new)),
                Tuple.of(1, pick.map(WarmPoolShrinks::new)),
                Tuple.of(2, Combinators.combine(pick, Arbitraries.integers().between(2, 20)).as(DuplicateLater::new)));
        Arbitrary<Action> any = Arbitraries.frequencyOf(Tuple.of(9, action()), Tuple.of(2, warm));
        return any.list().ofMinSize(1).ofMaxSize(60).withSizeDistribution(RandomDistribution.uniform());
    }

    // ------------------------------------------------------------------ the properties

    @Property(tries = 200, afterFailure = AfterFailureMode.SAMPLE_FIRST, edgeCases = EdgeCasesMode.NONE)
    void noInstanceGoesUnderARunningJobAndNothingIsLeftBehind(@ForAll("actions") List<Action> actions,
                                                             @ForAll boolean groupsProtectedFromScaleIn,
                                                             @ForAll("jobTimeouts") Duration jobTimeout) {
        World world = new World(groupsProtectedFromScaleIn, false, jobTimeout);
        world.run(actions);
        world.quiesce();
        world.checkNothingLeftBehind();
        world.collectStatistics();
    }

    @Property(tries = 120, afterFailure = AfterFailureMode.SAMPLE_FIRST, edgeCases = EdgeCasesMode.NONE)
    void warmPoolsKeepNoRunnerWhileStoppedAndNothingGoesUnderAJob(@ForAll("warmActions") List<Action> actions,
                                                                 @ForAll("jobTimeouts") Duration jobTimeout) {
        World world = new World(true, false, jobTimeout, true);
        world.run(actions);
        world.quiesce();
        world.checkNothingLeftBehind();
        world.collectStatistics();
        world.checkNoLostReturnInService();
        Statistics.label("resumed from the warm pool").collect(world.counts.getOrDefault("resumes", 0) > 0);
        Statistics.label("returned to the warm pool").collect(world.counts.getOrDefault("returns", 0) > 0);
        Statistics.label("runnerscale's own returns").collect(world.counts.getOrDefault("return decrements", 0) > 0);
        Statistics.label("stale desired writes").collect(world.counts.getOrDefault("stale desired writes", 0) > 0);
        Statistics.label("lost decrements").collect(world.counts.getOrDefault("lost decrements", 0) > 0);
        Statistics.label("lost returns terminated by the sweep")
                .collect(world.counts.getOrDefault("lost returns terminated", 0) > 0);
    }

    /** A job runs on a resumed instance; scale-in returns it: it goes back warm only after its job, runner and token deleted. */
    @net.jqwik.api.Example
    void aResumedInstanceGoesBackWarmOnlyAfterItsJobWithoutRunnerOrToken() {
        World world = new World(true, false, Duration.ofMinutes(30), true);
        world.run(List.of(new ClockJump(60), new NewJob(1), new ClockJump(120), new ClockJump(120), new ReuseScaleIn(0),
                new StepDrain(0, List.of()), new ClockJump(60)));
        if (world.counts.getOrDefault("resumes", 0) == 0) {
            world.fail("the warm instance was expected to resume for the job");
        }
        if (world.instances.values().stream().noneMatch(i -> i.state == World.State.RETURN_WAIT)) {
            world.fail("the busy instance was expected to wait in its return hook");
        }
        world.quiesce();
        if (world.counts.getOrDefault("returns", 0) == 0) {
            world.fail("the instance never went back to the warm pool");
        }
        world.checkNothingLeftBehind();
    }

    /**
     * A copy of the resume event comes after the instance went back to the warm pool: it must not make a
     * runner and token for the stopped instance (the event is older than the instance's return).
     */
    @net.jqwik.api.Example
    void aLateCopyOfAResumeEventMakesNoRunnerForTheStoppedInstance() {
        World world = new World(true, false, Duration.ofMinutes(30), true);
        world.run(List.of(new ClockJump(60), new NewJob(1), new Scale(0, 0, false), new DuplicateLater(0, 15),
                new ClockJump(120), new ClockJump(120)));
        world.run(List.of(new Finish(0), new Scale(0, 0, false), new ReuseScaleIn(0), new ClockJump(300)));
        if (world.counts.getOrDefault("returns", 0) == 0) {
            world.fail("the instance was expected back in the warm pool before the copy came");
        }
        world.run(List.of(new ClockJump(900)));
        world.quiesce();
        world.checkNothingLeftBehind();
    }

    /**
     * The scaler's view is wrong (the job's running webhook was lost), so it lets a busy instance go:
     * the drain finds the job in GitLab and the instance goes only after it (the property's shrunk
     * counterexample when the scaler terminated directly).
     */
    @net.jqwik.api.Example
    void aBusyInstanceTheScalerThinksIdleGoesOnlyAfterItsJob() {
        World world = new World(true, false, Duration.ofMinutes(30));
        world.run(List.of(new NewJob(2), new NewJob(2), new Scale(1, 0, false), new Deliver(0, false), new Deliver(0, false),
                new Boot(0), new Boot(0), new Assign(0, 0, Hook.LOST), new Assign(0, 0, Hook.DELIVERED), new Finish(1),
                new ClockJump(300)));
        String busy = "i-00000000000000001";
        if (world.executions.keySet().stream().noneMatch(name -> name.startsWith("drain-" + busy + "-scale-in"))) {
            world.fail("the scaler was expected to let " + busy + " go");
        }
        if (world.instances.get(busy).state == World.State.TERMINATED) {
            world.fail(busy + " went while its job ran");
        }
        world.quiesce();
        world.checkNothingLeftBehind();
    }

    // ------------------------------------------------------------------ the world

    static final class World implements Compute, LifecycleActions, DrainStarter, ModelGitLab.Hooks, ScaleInReturns {
        final MutableClock clock = new MutableClock(T0);
        final InMemoryJobStore store = new InMemoryJobStore();
        final ModelGitLab gitlab;
        final Tokens tokens = new Tokens();
        final DrainCodec codec = CODEC;
        final DrainInterpreter interpreter = INTERPRETER;
        final LifecycleService lifecycle;
        final ScalerService scaler;
        final boolean protectedFromScaleIn;
        final List<String> trace = new ArrayList<>();

        final Map<String, Group> groups = new LinkedHashMap<>();
        final Map<String, Instance> instances = new LinkedHashMap<>();
        final Map<String, Execution> executions = new LinkedHashMap<>();
        final Deque<Event> events = new ArrayDeque<>();
        final Map<String, Integer> counts = new HashMap<>();
        Hook runningHook = Hook.DELIVERED;
        boolean jobLandsOnChosen;
        boolean quiescent;
        Instant nextTick = T0.plus(TICK);
        final List<Runnable> lateHooks = new ArrayList<>();
        /** Jobs a spot interruption took while GitLab was down: nothing could cancel or retry them in time. */
        final java.util.Set<io.runnerscale.job.JobKey> excusedLosses = new java.util.HashSet<>();
        Instant gitLabLastDown;
        private int nextInstance = 1;
        private int nextToken = 1;

        /** Pools with a scale request waiting, and when its decision runs. */
        final Map<String, Instant> scaleRequests = new java.util.LinkedHashMap<>();

        World(boolean protectedFromScaleIn, boolean gracefulCancel, Duration jobTimeout) {
            this(protectedFromScaleIn, gracefulCancel, jobTimeout, false);
        }

        final boolean warm;
        /** The orphan sweep, for its returning-instance rule only (every 10 minutes in warm worlds). */
        final OrphanSweep sweep;

        /** @param warm the docker group keeps one instance in a warm pool (stopped) and reuses instances on scale-in */
        World(boolean protectedFromScaleIn, boolean gracefulCancel, Duration jobTimeout, boolean warm) {
            this.protectedFromScaleIn = protectedFromScaleIn;
            this.warm = warm;
            this.gitlab = new ModelGitLab(this, gracefulCancel);
            for (PoolConfig pool : POOLS) {
                Group group = new Group(pool);
                if (warm && pool == DOCKER) {
                    group.warmMin = 1;
                    group.reuse = true;
                }
                groups.put(asg(pool), group);
            }
            // with warm pools the docker pool's configuration says reuse_on_scale_in, so its scale-in drains
            // take the return path (scale-in protection lifted, desired capacity - 1) instead of terminating
            PoolsConfig config = new PoolsConfig(warm ? List.of(reusing(DOCKER), GPU) : POOLS);
            // the fast path: a scale request is a decision for the pool about a second later (SQS + the scaler)
            this.lifecycle = new LifecycleService(() -> config, store, new CountingGitLab(), tokens, this, this,
                    (pool, reason, dedupeId) -> scaleRequests.putIfAbsent(pool, clock.instant().plusSeconds(1)),
                    RunnerOwner.instance(), jobTimeout, clock, this);
            DrainRequests drains = new DrainRequests(store, this, jobTimeout, clock);
            this.scaler = new ScalerService(PoolsConfigSource.fixed(config), store, this, (pool, id, reason) -> {
                if (jobLandsOnChosen) {
                    happenAt(id, Between.JOB_STARTS_HERE);
                }
                drains.drain(pool, id, reason);
            }, DemandForecast.NONE, clock);
            this.sweep = new OrphanSweep(() -> config, store, store, new CountingGitLab(), RunnerOwner.instance(), tokens,
                    null, null, null, OrphanSweep.Settings.DEFAULT, this, clock);
        }

        /**
         * The sweep's safety net: a returning instance still in service past its grace time (its decrement
         * was lost to a stale write) is terminated; the rule's own code decides.
         */
        void sweepLostReturns() {
            for (Instance i : List.copyOf(instances.values())) {
                if (i.state == State.IN_SERVICE && store.lifecycle(i.id).map(InstanceLifecycle::state)
                        .orElse(null) == InstanceState.RETURNING) {
                    int before = counts.getOrDefault("terminate calls", 0);
                    sweep.sweepReturningOnly(i.id, i.pool.name());
                    if (counts.getOrDefault("terminate calls", 0) > before) {
                        count("lost returns terminated");
                    }
                }
            }
        }

        // ---------------------------------------------------------------- running the actions

        int actionCount;

        /** The group's choice among unprotected instances on scale-in: random, the same for the same actions. */
        java.util.Random choice = new java.util.Random(0);

        void run(List<Action> actions) {
            actionCount = actions.size();
            choice = new java.util.Random(actions.toString().hashCode());
            groups.values().forEach(this::reconcile);   // a warm pool fills at once
            for (Action action : actions) {
                log("> " + action);
                apply(action);
                checkStopped();
            }
        }

        /** No stopped (warm) instance has a runner GitLab knows, nor a stored token: it could take no job with it anyway. */
        void checkStopped() {
            for (Instance instance : instances.values()) {
                if (instance.state != State.WARMED) {
                    continue;
                }
                if (tokens.values.containsKey(instance.id)) {
                    fail("warm (stopped) instance " + instance.id + " has a stored runner token");
                }
                List<ModelGitLab.Runner> live = gitlab.liveRunnersOf(instance.id);
                if (!live.isEmpty()) {
                    fail("warm (stopped) instance " + instance.id + " has live runner(s) " + live);
                }
            }
        }

        void apply(Action action) {
            switch (action) {
                case NewJob a -> gitlab.createJob(TAGS.get(a.tags()));
                case Assign a -> {
                    List<ModelGitLab.Job> pending = pendingJobs();
                    if (pending.isEmpty()) {
                        return;
                    }
                    ModelGitLab.Job job = pending.get(a.job() % pending.size());
                    List<ModelGitLab.Runner> takers = pollingRunners().stream().filter(r -> r.accepts(job.tags)).toList();
                    if (!takers.isEmpty()) {
                        runningHook = a.runningHook();
                        start(job, takers.get(a.runner() % takers.size()));
                    }
                }
                case Finish a -> {
                    List<ModelGitLab.Job> running = gitlab.jobs.values().stream()
                            .filter(j -> j.status == ModelGitLab.Status.RUNNING).toList();
                    if (!running.isEmpty()) {
                        gitlab.finish(running.get(a.job() % running.size()), ModelGitLab.Status.SUCCESS);
                    }
                }
                case Settle a -> gitlab.settle();
                case Scale a -> {
                    advanceTo(clock.instant().plusSeconds(a.afterSeconds()), null);
                    jobLandsOnChosen = a.jobLandsOnChosen();
                    try {
                        decide(POOLS.get(a.pool()));
                    } finally {
                        jobLandsOnChosen = false;
                    }
                }
                case Deliver a -> {
                    if (!events.isEmpty()) {
                        Event event = new ArrayList<>(events).get(a.event() % events.size());
                        if (a.duplicate()) {
                            events.addLast(event.copy(clock.instant().plus(EVENT_LATENCY)));
                        }
                        deliver(event);
                    }
                }
                case Boot a -> {
                    List<Instance> launching = instances.values().stream()
                            .filter(i -> i.state == State.PENDING_WAIT || i.state == State.WARM_PENDING_WAIT).toList();
                    if (!launching.isEmpty()) {
                        boot(launching.get(a.instance() % launching.size()));
                    }
                }
                case StepDrain a -> {
                    List<Execution> running = runningExecutions();
                    if (!running.isEmpty()) {
                        Execution execution = running.get(a.execution() % running.size());
                        advanceTo(execution.dueAt, execution);
                        if (!execution.ended()) {
                            step(execution, a.between());
                        }
                    }
                }
                case SpotWarning a -> {
                    // busy instances first: a small index picks one, where the warning matters most
                    List<Instance> alive = instances.values().stream()
                            .filter(i -> i.state != State.TERMINATED && i.spotKillAt == null && !groups.get(i.asg).warm())
                            .filter(i -> EARLY_SPOT_WARNINGS || store.lifecycle(i.id).map(l -> l.runnerId() != null
                                    || l.state() != InstanceState.LAUNCHING).orElse(false))
                            .sorted(java.util.Comparator.comparing(i -> gitlab.unfinishedOnInstance(i.id).isEmpty()))
                            .toList();
                    if (!alive.isEmpty()) {
                        Instance instance = alive.get(a.instance() % alive.size());
                        instance.spotKillAt = clock.instant().plus(SPOT_NOTICE);
                        count("spot warnings");
                        emit(new Event(Kind.SPOT, instance, null, clock.instant()));
                    }
                }
                case Rebalance a -> {
                    List<Instance> alive = instances.values().stream()
                            .filter(i -> i.state != State.TERMINATED && !groups.get(i.asg).warm()).toList();
                    if (!alive.isEmpty()) {
                        emit(new Event(Kind.REBALANCE, alive.get(a.instance() % alive.size()), null, clock.instant()));
                    }
                }
                case AwsTerminates a -> {
                    List<Instance> inGroup = instances.values().stream().filter(Instance::inGroup).toList();
                    if (!inGroup.isEmpty()) {
                        Instance instance = inGroup.get(a.instance() % inGroup.size());
                        log("AWS replaces " + instance.id);
                        beginTermination(instance);
                        reconcile(groups.get(instance.asg));
                    }
                }
                case ReuseScaleIn a -> {
                    List<Instance> reusable = instances.values().stream()
                            .filter(i -> i.state == State.IN_SERVICE && groups.get(i.asg).reuse).toList();
                    if (!reusable.isEmpty()) {
                        Instance instance = reusable.get(a.instance() % reusable.size());
                        Group group = groups.get(instance.asg);
                        instance.scaleInProtected = false;
                        instance.releasedByOperator = true;
                        log("operator lifts the protection of " + instance.id + " and lowers desired of " + instance.asg
                                + " to " + (group.desired - 1));
                        writeDesired(group, group.desired - 1);
                    }
                }
                case StaleDesired a when a.racesNextReturn() -> staleWriteRacesNextReturn = true;
                case OperatorUnprotects a -> {
                    List<Instance> inService = instances.values().stream()
                            .filter(i -> i.state == State.IN_SERVICE && groups.get(i.asg).reuse).toList();
                    if (!inService.isEmpty()) {
                        Instance instance = inService.get(a.instance() % inService.size());
                        instance.scaleInProtected = false;
                        instance.releasedByOperator = true;
                        count("operator unprotects");
                        log("operator lifts the protection of " + instance.id + " (desired unchanged)");
                    }
                }
                case StaleDesired a -> {
                    Group group = groups.get(asg(DOCKER));
                    if (group.previousDesired >= 0 && group.previousDesired != group.desired) {
                        log("a stale write sets desired of " + asg(DOCKER) + " back to " + group.previousDesired);
                        count("stale desired writes");
                        writeDesired(group, group.previousDesired);
                    }
                }
                case DuplicateLater a -> {
                    if (!events.isEmpty()) {
                        Event event = new ArrayList<>(events).get(a.event() % events.size());
                        events.addLast(event.copy(clock.instant().plus(Duration.ofMinutes(a.minutes()))));
                        log("a copy of " + event + " comes in " + a.minutes() + " min");
                    }
                }
                case WarmPoolShrinks a -> {
                    List<Instance> warmed = instances.values().stream().filter(i -> i.state == State.WARMED).toList();
                    if (!warmed.isEmpty()) {
                        Instance instance = warmed.get(a.instance() % warmed.size());
                        log("AWS terminates warm " + instance.id);
                        beginTermination(instance);
                    }
                }
                case GitLabDown a -> gitlab.unavailableCalls = Math.max(gitlab.unavailableCalls, a.calls());
                case ClockJump a -> advanceTo(clock.instant().plusSeconds(a.seconds()), null);
            }
        }

        /**
         * No new jobs, GitLab available, jobs finish, decisions every minute: until nothing changes for 20
         * minutes, past every idle_time and boot_timeout.
         */
        void quiesce() {
            log("=== quiescent phase");
            quiescent = true;
            gitlab.unavailableCalls = 0;
            String last = "";
            Instant stableSince = clock.instant();
            Instant give_up = clock.instant().plus(Duration.ofHours(12));
            while (clock.instant().isBefore(give_up)) {
                while (!events.isEmpty()) {
                    deliver(events.peekFirst());
                }
                gitlab.settle();
                for (ModelGitLab.Job job : List.copyOf(gitlab.jobs.values())) {
                    if (job.status == ModelGitLab.Status.RUNNING) {
                        gitlab.finish(job, ModelGitLab.Status.SUCCESS);
                    }
                }
                instances.values().stream().filter(i -> i.state == State.PENDING_WAIT || i.state == State.WARM_PENDING_WAIT)
                        .toList().forEach(this::boot);
                for (ModelGitLab.Job job : pendingJobs()) {
                    pollingRunners().stream().filter(r -> r.accepts(job.tags)).findFirst().ifPresent(r -> start(job, r));
                }
                advanceTo(clock.instant().plusSeconds(120), null);
                String now = fingerprint();
                if (!now.equals(last)) {
                    last = now;
                    stableSince = clock.instant();
                } else if (Duration.between(stableSince, clock.instant()).toMinutes() >= 20 && runningExecutions().isEmpty()
                        && events.isEmpty()) {
                    return;
                }
            }
            fail("the world never came to rest: " + fingerprint());
        }

        private String fingerprint() {
            return instances.values().stream().map(i -> i.id + ":" + i.state).toList() + " "
                    + runningExecutions().stream().map(e -> e.name + "@" + e.run.state()).toList() + " "
                    + gitlab.jobs.values().stream().filter(j -> j.status.ordinal() <= ModelGitLab.Status.CANCELING.ordinal())
                    .map(Object::toString).toList() + " events " + events.size();
        }

        void checkNothingLeftBehind() {
            for (Execution execution : executions.values()) {
                if (!execution.ended()) {
                    fail("drain " + execution.name + " never ended (in " + execution.run.state() + ")");
                }
            }
            for (Instance instance : instances.values()) {
                if (instance.state != State.TERMINATED) {
                    continue;
                }
                List<ModelGitLab.Runner> left = gitlab.liveRunnersOf(instance.id);
                if (!left.isEmpty()) {
                    fail("instance " + instance.id + " is gone (" + instance.endedBy + ") but GitLab still has " + left);
                }
                if (tokens.values.containsKey(instance.id)) {
                    fail("instance " + instance.id + " is gone (" + instance.endedBy + ") but its runner token is still stored");
                }
            }
            if (!gitlab.problems.isEmpty()) {
                fail(String.join("; ", gitlab.problems));
            }
            for (ModelGitLab.Job job : gitlab.jobs.values()) {
                boolean fine = switch (job.status) {
                    case SUCCESS -> true;
                    case CANCELED, CANCELING -> job.retriedAs != null;
                    case PENDING -> poolFor(job.tags).isEmpty();
                    case FAILED -> excusedLosses.contains(job.key);
                    case RUNNING -> false;
                };
                if (!fine) {
                    fail("job lost: " + job);
                }
            }
        }

        /**
         * Returns whose decrement a stale write lost: none is still in service once the sweep had time for
         * it (grace time plus a sweep interval), and none runs a job meanwhile (it has no runner).
         */
        void checkNoLostReturnInService() {
            run(List.of(new ClockJump(1800)));
            quiesce();
            for (Instance i : instances.values()) {
                if (i.state == State.IN_SERVICE && store.lifecycle(i.id).map(InstanceLifecycle::state)
                        .orElse(null) == InstanceState.RETURNING) {
                    fail("returning instance " + i.id + " is still in service 30 minutes after the quiescent phase");
                }
            }
            checkNothingLeftBehind();
        }

        void collectStatistics() {
            Statistics.label("instances").collect(instances.size() == 0 ? "0" : instances.size() <= 3 ? "1-3" : "4+");
            Statistics.label("actions").collect(actionCount < 10 ? "<10" : actionCount < 30 ? "10-29" : "30+");
            Statistics.label("drain outcomes").collect(executions.values().stream()
                    .map(e -> e.end == null ? "running" : e.end.state()).sorted().distinct().toList());
            Statistics.label("cancelled and retried").collect(gitlab.jobs.values().stream().anyMatch(j -> j.retriedAs != null));
            Statistics.label("scale-in before quiescence").collect(counts.getOrDefault("scale-in before quiescence", 0) > 0);
            Statistics.label("spot kills").collect(counts.getOrDefault("spot kills", 0) > 0);
            Statistics.label("terminated by runnerscale").collect(counts.getOrDefault("terminate calls", 0) > 0);
            Statistics.label("terminate hooks completed").collect(counts.getOrDefault("hook completions", 0) > 0);
        }

        // ---------------------------------------------------------------- the scaler

        private void decide(PoolConfig pool) {
            scaler.scale(pool.name()).ifPresent(d -> {
                if (!d.changesNothing()) {
                    log("scaler " + pool.name() + ": " + d.actions());
                }
                if (!quiescent && d.actions().stream().anyMatch(a -> a instanceof io.runnerscale.scaling.ScalingAction.DrainInstance)) {
                    count("scale-in before quiescence");
                }
            });
            // late running webhooks arrive just after the decision that could not see them
            List<Runnable> late = List.copyOf(lateHooks);
            lateHooks.clear();
            late.forEach(Runnable::run);
        }

        // ---------------------------------------------------------------- GitLab's side

        private List<ModelGitLab.Job> pendingJobs() {
            return gitlab.jobs.values().stream().filter(j -> j.status == ModelGitLab.Status.PENDING).toList();
        }

        /**
         * Runners that ask GitLab for jobs: registered by a booted instance that is still up (a
         * terminating one still polls), not paused or deleted, with a free slot.
         */
        private List<ModelGitLab.Runner> pollingRunners() {
            List<ModelGitLab.Runner> out = new ArrayList<>();
            for (Instance instance : instances.values()) {
                if (instance.registeredRunner == null || instance.state == State.TERMINATED) {
                    continue;
                }
                ModelGitLab.Runner runner = gitlab.runners.get(instance.registeredRunner);
                long busy = gitlab.jobs.values().stream().filter(j -> j.runnerId != null && j.runnerId == runner.id
                        && (j.status == ModelGitLab.Status.RUNNING || j.status == ModelGitLab.Status.CANCELING)).count();
                if (!runner.paused && !runner.deleted && busy < instance.pool.capacityPerInstance()) {
                    out.add(runner);
                }
            }
            return out;
        }

        private void start(ModelGitLab.Job job, ModelGitLab.Runner runner) {
            gitlab.assign(job, runner);
            log("GitLab: " + job + " on " + runner.description);
        }

        @Override
        public void jobChanged(ModelGitLab.Job job, ModelGitLab.Runner runner) {
            if (job.status == ModelGitLab.Status.RUNNING && runningHook != Hook.DELIVERED) {
                Hook hook = runningHook;
                runningHook = Hook.DELIVERED;
                log("running webhook " + hook + ": " + job);
                if (hook == Hook.LATE) {
                    ModelGitLab.Job late = job;
                    lateHooks.add(() -> {
                        if (late.status == ModelGitLab.Status.RUNNING) {
                            jobChanged(late, runner);
                        }
                    });
                }
                return;
            }
            JobStatus status = switch (job.status) {
                case PENDING -> JobStatus.PENDING;
                case RUNNING -> JobStatus.RUNNING;
                case CANCELING -> JobStatus.CANCELING;
                case CANCELED -> JobStatus.CANCELED;
                case SUCCESS -> JobStatus.SUCCESS;
                case FAILED -> JobStatus.FAILED;
            };
            store.apply(new JobEvent(job.key, status, null, null, null, null, null, null, null,
                            runner == null ? null : runner.id, runner == null ? null : runner.description, null, job.tags),
                    poolFor(job.tags).map(PoolConfig::name).orElse(null), clock.instant());
        }

        static Optional<PoolConfig> poolFor(List<String> tags) {
            return POOLS.stream().filter(p -> p.accepts(tags)).findFirst();
        }

        /** Every API call runnerscale makes, so an outage's time is known (the spot rule excuses it). */
        final class CountingGitLab extends ForwardingGitLab {
            CountingGitLab() {
                super(gitlab);
            }

            @Override
            protected void before() {
                if (gitlab.unavailableCalls > 0) {
                    gitLabLastDown = clock.instant();
                }
            }
        }

        // ---------------------------------------------------------------- EventBridge and the lifecycle function

        enum Kind { LAUNCH, TERMINATE_HOOK, SPOT, REBALANCE }

        final class Event {
            final Kind kind;
            final Instance instance;
            final String token;
            final Instant at;
            Instant deliverBy;
            int attempts;
            /** A launch's Origin/Destination; a terminate hook's Destination WarmPool. */
            LifecycleService.LaunchPath path = LifecycleService.LaunchPath.COLD;
            boolean toWarmPool;

            Event(Kind kind, Instance instance, String token, Instant at) {
                this.kind = kind;
                this.instance = instance;
                this.token = token;
                this.at = at;
                this.deliverBy = at.plus(EVENT_LATENCY);
            }

            Event copy(Instant by) {
                Event copy = new Event(kind, instance, token, at);
                copy.deliverBy = by;
                copy.path = path;
                copy.toWarmPool = toWarmPool;
                return copy;
            }

            @Override
            public String toString() {
                return kind + " " + instance.id + (path != LifecycleService.LaunchPath.COLD ? " " + path : "")
                        + (toWarmPool ? " to the warm pool" : "");
            }
        }

        private void emit(Event event) {
            events.addLast(event);
        }

        /** The lifecycle function handles the event; a failure is retried after a minute, twice (Lambda's async retries). */
        private void deliver(Event event) {
            events.remove(event);
            Instance i = event.instance;
            if (event.kind == Kind.LAUNCH && i.state == State.TERMINATED && !LATE_LAUNCH_EVENTS) {
                log("event " + event + " dropped: the instance is gone (finding 1, see LATE_LAUNCH_EVENTS)");
                return;
            }
            try {
                Object result = switch (event.kind) {
                    case LAUNCH -> lifecycle.onLaunch(i.asg, i.id, "arn:aws:ec2:eu-west-1:123456789012:instance/" + i.id,
                            LAUNCH_HOOK, event.token, event.path, event.at);
                    case TERMINATE_HOOK -> lifecycle.onTerminateHook(i.asg, i.id, TERMINATE_HOOK, event.token, event.toWarmPool);
                    case SPOT -> lifecycle.onSpotWarning(i.id, event.at);
                    case REBALANCE -> lifecycle.onRebalance(i.id, event.at);
                };
                log("event " + event + ": " + result);
            } catch (RuntimeException e) {
                event.attempts++;
                log("event " + event + " failed (" + e.getClass().getSimpleName() + ")"
                        + (event.attempts > 2 ? ", given up" : ", retried in a minute"));
                if (event.attempts <= 2) {
                    event.deliverBy = clock.instant().plus(Duration.ofMinutes(1));
                    events.addLast(event);
                }
            }
        }

        // ---------------------------------------------------------------- Step Functions

        final class Execution {
            final String name;
            final String instanceId;
            final DrainInterpreter.Execution run;
            Instant dueAt;
            DrainInterpreter.Step.Ended end;

            Execution(String name, Drain drain) {
                this.name = name;
                this.instanceId = drain.instanceId();
                this.run = interpreter.start(codec.toJson(drain));
                this.dueAt = clock.instant();
            }

            boolean ended() {
                return end != null;
            }
        }

        @Override
        public Outcome start(Drain drain, int attempt) {
            String name = DrainStarter.executionName(drain, attempt);
            Execution existing = executions.get(name);
            if (existing != null) {
                return existing.ended() ? Outcome.NAME_USED : Outcome.ALREADY_RUNNING;
            }
            executions.put(name, new Execution(name, drain));
            log("drain " + name + " started");
            return Outcome.STARTED;
        }

        private List<Execution> runningExecutions() {
            return executions.values().stream().filter(e -> !e.ended()).toList();
        }

        /** Runs the execution's states up to its next wait; {@code between} happens before its Tasks, one each. */
        private void step(Execution execution, List<Between> between) {
            Iterator<Between> interleave = between.iterator();
            DrainInterpreter.Step step = execution.run.advance(payload -> {
                if (interleave.hasNext()) {
                    happenAt(execution.instanceId, interleave.next());
                }
                String task = payload.get("task").asText();
                Drain drain = codec.fromJson(payload.get("drain"));
                try {
                    Drain after = lifecycle.task(task, drain);
                    log("  " + execution.name + " " + task + " -> " + (after.next() != null && task.equals("RunningJobs")
                            ? after.next() + " " + after.runningJobs() : "ok"));
                    return codec.toJson(after);
                } catch (RuntimeException e) {
                    log("  " + execution.name + " " + task + " threw " + e.getClass().getSimpleName() + ": " + e.getMessage());
                    throw e;
                }
            });
            switch (step) {
                case DrainInterpreter.Step.Waiting w -> execution.dueAt = clock.instant().plus(w.delay());
                case DrainInterpreter.Step.Ended e -> {
                    execution.end = e;
                    log("drain " + execution.name + " ended in " + e.state());
                }
            }
        }

        private void happenAt(String instanceId, Between what) {
            Instance instance = instances.get(instanceId);
            switch (what) {
                case NOTHING -> { }
                case JOB_STARTS_HERE -> {
                    if (instance == null) {
                        return;
                    }
                    pollingRunners().stream().filter(r -> r.id == (instance.registeredRunner == null ? -1 : instance.registeredRunner))
                            .findFirst().ifPresent(runner -> {
                                ModelGitLab.Job job = pendingJobs().stream().filter(j -> runner.accepts(j.tags)).findFirst()
                                        .orElseGet(() -> gitlab.createJob(runner.tags.subList(0, 1)));
                                start(job, runner);
                            });
                }
                case JOB_FINISHES_HERE -> gitlab.jobs.values().stream()
                        .filter(j -> j.status == ModelGitLab.Status.RUNNING && j.runnerId != null
                                && gitlab.runners.get(j.runnerId).description.equals(instanceId))
                        .findFirst().ifPresent(j -> gitlab.finish(j, ModelGitLab.Status.SUCCESS));
                case SETTLE -> gitlab.settle();
                case GITLAB_DOWN -> gitlab.unavailableCalls = Math.max(gitlab.unavailableCalls, 1);
            }
        }

        // ---------------------------------------------------------------- time

        /** Moves the clock to {@code until}, running on the way whatever falls due, in time order. */
        void advanceTo(Instant until, Execution except) {
            for (int guard = 0; guard < 100_000; guard++) {
                Instant next = null;
                Runnable due = null;
                for (Execution e : runningExecutions()) {
                    if (e != except && (next == null || e.dueAt.isBefore(next))) {
                        next = e.dueAt;
                        due = () -> step(e, List.of());
                    }
                }
                for (Event e : events) {
                    if (next == null || e.deliverBy.isBefore(next)) {
                        next = e.deliverBy;
                        due = () -> deliver(e);
                    }
                }
                for (Instance i : instances.values()) {
                    if (i.state == State.TERMINATED) {
                        continue;
                    }
                    if (i.spotKillAt != null && (next == null || i.spotKillAt.isBefore(next))) {
                        next = i.spotKillAt;
                        due = () -> kill(i, "spot interruption");
                    }
                    if (i.state == State.TERMINATING_WAIT && (next == null || i.hookDeadline.isBefore(next))) {
                        next = i.hookDeadline;
                        due = () -> kill(i, "terminate hook timed out (DefaultResult)");
                    }
                    if (i.state == State.RETURN_WAIT && (next == null || i.hookDeadline.isBefore(next))) {
                        next = i.hookDeadline;
                        due = () -> stopInWarmPool(i, "return hook timed out (DefaultResult)");
                    }
                    if ((i.state == State.PENDING_WAIT || i.state == State.WARM_PENDING_WAIT)
                            && (next == null || i.launchDeadline.isBefore(next))) {
                        next = i.launchDeadline;
                        due = () -> {
                            log("launch hook of " + i.id + " timed out: ABANDON");
                            beginTermination(i);
                            reconcile(groups.get(i.asg));
                        };
                    }
                }
                for (Map.Entry<String, Instant> request : scaleRequests.entrySet()) {
                    if (next == null || request.getValue().isBefore(next)) {
                        next = request.getValue();
                        String pool = request.getKey();
                        due = () -> {
                            scaleRequests.remove(pool);
                            POOLS.stream().filter(p -> p.name().equals(pool)).forEach(this::decide);
                        };
                    }
                }
                if (next == null || nextTick.isBefore(next)) {
                    next = nextTick;
                    due = () -> {
                        // the scaler's schedule: a decision for every pool every minute; meanwhile launched
                        // instances with a token boot, and free runners take pending jobs
                        nextTick = nextTick.plus(TICK);
                        instances.values().stream().filter(i -> i.state == State.PENDING_WAIT
                                || i.state == State.WARM_PENDING_WAIT).toList().forEach(this::boot);
                        for (ModelGitLab.Job job : pendingJobs()) {
                            pollingRunners().stream().filter(r -> r.accepts(job.tags)).findFirst().ifPresent(r -> start(job, r));
                        }
                        POOLS.forEach(this::decide);
                        if (warm && nextTick.getEpochSecond() % 600 == 0) {
                            sweepLostReturns();
                        }
                    };
                }
                if (next.isAfter(until)) {
                    if (until.isAfter(clock.instant())) {
                        clock.set(until);
                    }
                    return;
                }
                if (next.isAfter(clock.instant())) {
                    clock.set(next);
                }
                due.run();
                checkStopped();
            }
            fail("time does not move: something falls due forever");
        }

        // ---------------------------------------------------------------- the Auto Scaling groups

        /**
         * The group's words, and the warm pool's: WARM_PENDING_WAIT (launched into the warm pool, the launch
         * hook holds it), WARMED (stopped in the warm pool), RETURN_WAIT (scaled in with reuse: the
         * terminate hook holds it on its way back to the warm pool, still running).
         */
        enum State { PENDING_WAIT, IN_SERVICE, TERMINATING_WAIT, TERMINATED, WARM_PENDING_WAIT, WARMED, RETURN_WAIT }

        static final class Group {
            final PoolConfig pool;
            int desired;
            /** Warm pool minimum size; 0: no warm pool. */
            int warmMin;
            /** Instance reuse on scale-in. */
            boolean reuse;
            /** Desired capacity before its last change (-1: never changed): what a stale write puts back. */
            int previousDesired = -1;

            Group(PoolConfig pool) {
                this.pool = pool;
            }

            boolean warm() {
                return warmMin > 0;
            }
        }

        static final class Instance {
            final String id;
            final PoolConfig pool;
            final String asg;
            State state = State.PENDING_WAIT;
            Long registeredRunner;
            String terminateToken;
            Instant launchDeadline;
            Instant hookDeadline;
            Instant spotKillAt;
            String endedBy;
            /** ProtectedFromScaleIn: set at launch and at a resume from the group's NewInstancesProtectedFromScaleIn. */
            boolean scaleInProtected;
            /** An operator lifted its protection by hand ({@link ReuseScaleIn}): the group may pick it busy. */
            boolean releasedByOperator;

            Instance(String id, PoolConfig pool, Instant now) {
                this.id = id;
                this.pool = pool;
                this.asg = asg(pool);
                this.launchDeadline = now.plus(LAUNCH_HOOK_TIMEOUT);
            }

            boolean inGroup() {
                return state == State.PENDING_WAIT || state == State.IN_SERVICE;
            }
        }

        static String asg(PoolConfig pool) {
            return ((PoolConfig.Ec2Asg) pool.backend()).asg();
        }

        @Override
        public GroupState describe(PoolConfig pool) {
            Group group = groups.get(asg(pool));
            return new GroupState(group.desired, instances.values().stream()
                    .filter(i -> i.asg.equals(asg(pool)) && i.inGroup())
                    .map(i -> new GroupState.Instance(i.id, i.state == State.IN_SERVICE, null)).toList());
        }

        @Override
        public void setDesiredCapacity(PoolConfig pool, int desired) {
            Group group = groups.get(asg(pool));
            long inGroup = inGroup(group);
            log("desired " + asg(pool) + " " + group.desired + " -> " + desired + " (" + inGroup + " in the group)");
            if (desired < inGroup) {
                // ScalingPolicy's claim: never below the instances still in the group
                fail("desired capacity of " + asg(pool) + " set to " + desired + " with " + inGroup + " instances in the group");
            }
            writeDesired(group, desired);
        }

        private void writeDesired(Group group, int desired) {
            group.previousDesired = group.desired;
            group.desired = Math.max(desired, 0);
            reconcile(group);
        }

        private long inGroup(Group group) {
            return instances.values().stream().filter(i -> i.asg.equals(asg(group.pool)) && i.inGroup()).count();
        }

        /** The group launches up to desired; below it, an unprotected group terminates the newest instance (through its hook). */
        private void reconcile(Group group) {
            while (inGroup(group) < group.desired) {
                Optional<Instance> warmed = instances.values().stream()
                        .filter(i -> i.asg.equals(asg(group.pool)) && i.state == State.WARMED).findFirst();
                if (warmed.isPresent()) {
                    Instance instance = warmed.get();
                    // started by EC2: the launch hook holds it in Pending:Wait; its old config was wiped at its stop
                    instance.state = State.PENDING_WAIT;
                    instance.launchDeadline = clock.instant().plus(LAUNCH_HOOK_TIMEOUT);
                    // instances leaving the warm pool take the group's protection setting (AWS documents)
                    instance.scaleInProtected = protectedFromScaleIn;
                    instance.releasedByOperator = false;
                    count("resumes");
                    log("AWS resumes " + instance.id + " from the warm pool");
                    Event launch = new Event(Kind.LAUNCH, instance, "launch-" + nextToken++, clock.instant());
                    launch.path = LifecycleService.LaunchPath.FROM_WARM_POOL;
                    emit(launch);
                    continue;
                }
                String id = String.format("i-%017x", nextInstance++);
                Instance instance = new Instance(id, group.pool, clock.instant());
                instance.scaleInProtected = protectedFromScaleIn;
                instances.put(id, instance);
                log("AWS launches " + id + " in " + instance.asg);
                emit(new Event(Kind.LAUNCH, instance, "launch-" + nextToken++, clock.instant()));
            }
            // scale-in: a random one of the unprotected instances; none unprotected, nothing leaves
            while (inGroup(group) > group.desired) {
                List<Instance> unprotected = instances.values().stream()
                        .filter(i -> i.asg.equals(asg(group.pool)) && i.inGroup() && !i.scaleInProtected).toList();
                if (unprotected.isEmpty()) {
                    break;
                }
                Instance picked = unprotected.get(choice.nextInt(unprotected.size()));
                log("AWS scales " + picked.asg + " in: " + picked.id);
                if (pickingForReturn && !gitlab.liveRunnersOf(picked.id).isEmpty()) {
                    fail("runnerscale's return lowered desired capacity and the group picked " + picked.id
                            + ", which has live runner(s) " + gitlab.liveRunnersOf(picked.id));
                }
                if (protectedFromScaleIn && !picked.releasedByOperator && !gitlab.liveRunnersOf(picked.id).isEmpty()) {
                    // only runnerscale lifts a protection in a protecting group, and only of a runner-less instance
                    fail("the group's scale-in picked " + picked.id + ", which has live runner(s) "
                            + gitlab.liveRunnersOf(picked.id));
                }
                if (group.reuse && picked.state == State.IN_SERVICE) {
                    beginReturn(picked);
                } else {
                    beginTermination(picked);
                }
            }
            while (group.warm() && instances.values().stream().filter(i -> i.asg.equals(asg(group.pool))
                    && (i.state == State.WARM_PENDING_WAIT || i.state == State.WARMED)).count() < group.warmMin) {
                String id = String.format("i-%017x", nextInstance++);
                Instance instance = new Instance(id, group.pool, clock.instant());
                instance.state = State.WARM_PENDING_WAIT;
                instances.put(id, instance);
                log("AWS launches " + id + " into the warm pool of " + instance.asg);
                Event launch = new Event(Kind.LAUNCH, instance, "launch-" + nextToken++, clock.instant());
                launch.path = LifecycleService.LaunchPath.TO_WARM_POOL;
                emit(launch);
            }
        }

        /** Scaled in with reuse: the terminate hook holds it (Warmed:Pending:Wait) on its way back to the warm pool. */
        private void beginReturn(Instance instance) {
            instance.state = State.RETURN_WAIT;
            instance.terminateToken = "terminate-" + nextToken++;
            instance.hookDeadline = clock.instant().plus(TERMINATE_HOOK_TIMEOUT);
            Event hook = new Event(Kind.TERMINATE_HOOK, instance, instance.terminateToken, clock.instant());
            hook.toWarmPool = true;
            emit(hook);
        }

        /** The group stops it in its warm pool: the rule is checked as for a termination; the wipe unit removes its config. */
        private void stopInWarmPool(Instance instance, String cause) {
            List<ModelGitLab.Job> listed = gitlab.listedRunningOnInstance(instance.id);
            if (!listed.isEmpty()) {
                fail(instance.id + " returned to the warm pool (" + cause + ") while GitLab lists running " + listed);
            }
            count("returns");
            log("AWS stops " + instance.id + " in the warm pool: " + cause);
            instance.state = State.WARMED;
            instance.registeredRunner = null;
            for (ModelGitLab.Job job : gitlab.unfinishedOnInstance(instance.id)) {
                if (job.status == ModelGitLab.Status.RUNNING) {
                    gitlab.finish(job, ModelGitLab.Status.FAILED);
                }
            }
            reconcile(groups.get(instance.asg));
        }

        /** Terminating:Wait: the terminate hook holds the instance, which still runs (its runner still polls). */
        private void beginTermination(Instance instance) {
            instance.state = State.TERMINATING_WAIT;
            instance.terminateToken = "terminate-" + nextToken++;
            instance.hookDeadline = clock.instant().plus(TERMINATE_HOOK_TIMEOUT);
            emit(new Event(Kind.TERMINATE_HOOK, instance, instance.terminateToken, clock.instant()));
        }

        private void boot(Instance instance) {
            if (instance.state == State.WARM_PENDING_WAIT) {
                // user data sees Warmed:Stopped: prepares without a runner, completes CONTINUE; the group stops it
                instance.state = State.WARMED;
                log(instance.id + " prepared and stopped in the warm pool");
                return;
            }
            String token = tokens.values.get(instance.id);
            if (token == null) {
                return;   // user data waits for its token
            }
            long runnerId = Long.parseLong(token.substring("glrt-".length()));
            if (gitlab.runners.get(runnerId).deleted) {
                log(instance.id + " cannot register runner " + runnerId + " (deleted): launch ABANDON");
                beginTermination(instance);
                reconcile(groups.get(instance.asg));
                return;
            }
            instance.registeredRunner = runnerId;
            instance.state = State.IN_SERVICE;
            log(instance.id + " booted, runner " + runnerId + " polls");
        }

        /** AWS ends the instance now: the rule is checked, then its jobs are lost with it. */
        private void kill(Instance instance, String cause) {
            if (cause.startsWith("spot")) {
                count("spot kills");
                boolean gitLabWasDown = gitLabLastDown != null && !gitLabLastDown.isBefore(instance.spotKillAt.minus(SPOT_NOTICE));
                for (ModelGitLab.Job job : gitlab.unfinishedOnInstance(instance.id)) {
                    if (job.retriedAs == null && !gitLabWasDown) {
                        fail("spot interruption took " + instance.id + " with " + job + " neither finished nor retried");
                    }
                    if (job.retriedAs == null) {
                        log("excused: " + job + " lost to a spot interruption while GitLab was down");
                        excusedLosses.add(job.key);
                    }
                }
            } else {
                List<ModelGitLab.Job> listed = gitlab.listedRunningOnInstance(instance.id);
                if (!listed.isEmpty()) {
                    fail(instance.id + " terminated (" + cause + ") while GitLab lists running " + listed);
                }
            }
            log("AWS terminates " + instance.id + ": " + cause);
            instance.state = State.TERMINATED;
            instance.endedBy = cause;
            for (ModelGitLab.Job job : gitlab.unfinishedOnInstance(instance.id)) {
                if (job.status == ModelGitLab.Status.RUNNING) {
                    gitlab.finish(job, ModelGitLab.Status.FAILED);
                }
            }
            if (cause.startsWith("spot")) {
                // the group runs its terminate hook for the interrupted instance too
                instance.terminateToken = "terminate-" + nextToken++;
                emit(new Event(Kind.TERMINATE_HOOK, instance, instance.terminateToken, clock.instant()));
            }
            reconcile(groups.get(instance.asg));
        }

        // ---------------------------------------------------------------- LifecycleActions

        @Override
        public void heartbeat(String hookName, String asg, String instanceId, String token) {
            Instance instance = instances.get(instanceId);
            if (instance != null && (instance.state == State.TERMINATING_WAIT || instance.state == State.RETURN_WAIT)
                    && token.equals(instance.terminateToken)) {
                instance.hookDeadline = clock.instant().plus(TERMINATE_HOOK_TIMEOUT);
            }
        }

        @Override
        public void complete(String hookName, String asg, String instanceId, String token, Result result) {
            Instance instance = instances.get(instanceId);
            if (instance == null) {
                return;
            }
            if (hookName.equals(LAUNCH_HOOK)) {
                if ((instance.state == State.PENDING_WAIT || instance.state == State.WARM_PENDING_WAIT)
                        && result == Result.ABANDON) {
                    beginTermination(instance);
                    reconcile(groups.get(instance.asg));
                }
                return;
            }
            if (instance.state == State.TERMINATING_WAIT && token.equals(instance.terminateToken)) {
                count("hook completions");
                kill(instance, "terminate hook completed " + result);
            }
            if (instance.state == State.RETURN_WAIT && token.equals(instance.terminateToken)) {
                count("hook completions");
                stopInWarmPool(instance, "return hook completed " + result);
            }
        }

        @Override
        public void terminate(String instanceId, boolean decrement) {
            count("terminate calls");
            Instance instance = instances.get(instanceId);
            List<ModelGitLab.Job> listed = gitlab.listedRunningOnInstance(instanceId);
            if (!listed.isEmpty()) {
                fail("runnerscale terminates " + instanceId + " while GitLab lists running " + listed);
            }
            if (instance == null || !instance.inGroup()) {
                return;   // already leaving or gone: counts as done
            }
            Group group = groups.get(instance.asg);
            if (decrement) {
                group.desired--;
            }
            log("TerminateInstanceInAutoScalingGroup " + instanceId + (decrement ? " (desired " + group.desired + ")" : ""));
            beginTermination(instance);
            reconcile(group);
        }

        // ---------------------------------------------------------------- ScaleInReturns

        @Override
        public Optional<GroupMembers.Group> describe(String asg) {
            Group group = groups.get(asg);
            if (group == null) {
                return Optional.empty();
            }
            count("return describes");
            List<GroupMembers.Member> members = new ArrayList<>();
            for (Instance i : instances.values()) {
                if (!i.asg.equals(asg)) {
                    continue;
                }
                String state = switch (i.state) {
                    case PENDING_WAIT -> "Pending:Wait";
                    case IN_SERVICE -> "InService";
                    case TERMINATING_WAIT -> "Terminating:Wait";
                    case RETURN_WAIT -> "Warmed:Pending:Wait";
                    case TERMINATED, WARM_PENDING_WAIT, WARMED -> null;   // gone, or listed with the warm pool
                };
                if (state != null) {
                    members.add(new GroupMembers.Member(i.id, state, i.scaleInProtected));
                }
            }
            return Optional.of(new GroupMembers.Group(asg, true, members, protectedFromScaleIn, group.desired, 0));
        }

        @Override
        public void releaseProtection(String asg, String instanceId) {
            Instance instance = instances.get(instanceId);
            if (instance != null && instance.inGroup()) {
                List<ModelGitLab.Runner> live = gitlab.liveRunnersOf(instanceId);
                if (!live.isEmpty()) {
                    fail("runnerscale lifts the scale-in protection of " + instanceId + " with live runner(s) " + live);
                }
                instance.scaleInProtected = false;
                log("SetInstanceProtection " + instanceId + " false");
            }
        }

        /** The group's scale-in answers a desired capacity a return lowered: it must pick a runner-less instance. */
        boolean pickingForReturn;
        /** The next return's decrement is overwritten by a stale write before the group acts on it. */
        boolean staleWriteRacesNextReturn;

        @Override
        public void setDesiredCapacity(String asg, int desired) {
            count("return decrements");
            Group group = groups.get(asg);
            if (staleWriteRacesNextReturn) {
                staleWriteRacesNextReturn = false;
                count("lost decrements");
                log("SetDesiredCapacity " + asg + " " + group.desired + " -> " + desired + " (a return), overwritten at"
                        + " once by a stale write of " + group.desired + ": the decrement is lost");
                return;
            }
            log("SetDesiredCapacity " + asg + " " + group.desired + " -> " + desired + " (a return)");
            pickingForReturn = true;
            try {
                writeDesired(group, desired);
            } finally {
                pickingForReturn = false;
            }
        }

        // ---------------------------------------------------------------- bookkeeping

        private void count(String what) {
            counts.merge(what, 1, Integer::sum);
        }

        void log(String line) {
            trace.add(Duration.between(T0, clock.instant()).toSeconds() + "s " + line);
        }

        void fail(String message) {
            int from = Math.max(0, trace.size() - 120);
            throw new AssertionError(message + "\n--- trace (last " + (trace.size() - from) + " lines):\n"
                    + String.join("\n", trace.subList(from, trace.size())));
        }
    }

    /** GitLab with a look at every call before it is made. */
    abstract static class ForwardingGitLab implements io.runnerscale.gitlab.GitLabRunners {
        private final io.runnerscale.gitlab.GitLabRunners gitlab;

        ForwardingGitLab(io.runnerscale.gitlab.GitLabRunners gitlab) {
            this.gitlab = gitlab;
        }

        protected abstract void before();

        @Override
        public io.runnerscale.gitlab.CreatedRunner createRunner(io.runnerscale.gitlab.RunnerSpec spec) {
            before();
            return gitlab.createRunner(spec);
        }

        @Override
        public void setPaused(long runnerId, boolean paused) {
            before();
            gitlab.setPaused(runnerId, paused);
        }

        @Override
        public List<io.runnerscale.job.JobKey> runningJobs(long runnerId) {
            before();
            return gitlab.runningJobs(runnerId);
        }

        @Override
        public void deleteRunner(long runnerId) {
            before();
            gitlab.deleteRunner(runnerId);
        }

        @Override
        public void cancelJob(io.runnerscale.job.JobKey job) {
            before();
            gitlab.cancelJob(job);
        }

        @Override
        public Optional<io.runnerscale.job.JobKey> retryJob(io.runnerscale.job.JobKey job) {
            before();
            return gitlab.retryJob(job);
        }

        @Override
        public List<io.runnerscale.gitlab.RunnerInfo> runnersOf(RunnerOwner owner) {
            before();
            return gitlab.runnersOf(owner);
        }
    }

    /** SSM's token parameters. */
    static final class Tokens implements RunnerTokens {
        final Map<String, String> values = new HashMap<>();

        @Override
        public void put(String instanceId, String token, String instanceArn) {
            values.put(instanceId, token);
        }

        @Override
        public boolean exists(String instanceId) {
            return values.containsKey(instanceId);
        }

        @Override
        public void delete(String instanceId) {
            values.remove(instanceId);
        }

        @Override
        public List<String> list() {
            return List.copyOf(values.keySet());
        }
    }

}
