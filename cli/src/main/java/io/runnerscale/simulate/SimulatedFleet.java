package io.runnerscale.simulate;

import io.runnerscale.compute.Compute;
import io.runnerscale.compute.GroupState;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.scaling.InstanceDrains;
import io.runnerscale.scaling.ScalingAction;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;

/**
 * A stand-in for Auto Scaling groups that behaves like one where the scaler can tell: desired
 * capacity launches instances, which become ready after a boot delay; terminations with
 * {@code decrement=false} are replaced. Runs on any clock: wall time for {@code serve}, virtual
 * time for {@code simulate}.
 *
 * <p>Drains: as {@code serve}'s {@link InstanceDrains} a drain ends at once (the scaler drains only
 * instances with no job on them): the instance is terminated, lowering desired capacity as every
 * drain does (the scaler's decision asked for any replacement already). {@code simulate} models
 * drains that take time, wait for jobs and meet spot deadlines itself ({@link Simulation}) and calls
 * {@link #terminate} as they end.
 *
 * <p>Warm pools ({@link PoolConfig.WarmPool}), as AWS keeps them: the warm pool's target size is
 * {@code max(min_size, (max_prepared ?? max_instances) - desired)}; the group launches instances into
 * it while it is below that (each boots for a cold boot time, billed as running, then waits in the
 * pool's state) and terminates the newest ones above it. A scale-out draws prepared instances first
 * (ready after the resume time plus the runner start; from {@code running}, the runner start alone),
 * and launches cold only when none is prepared. With {@code reuse_on_scale_in} an instance leaving
 * through a scale-in goes back to the warm pool (stopped at once: its drain already deleted the
 * runner) while the pool is below target. Warm instances are not in the group's instances
 * ({@link #describe}), as in AWS's DescribeAutoScalingGroups: the scaler never sees them as
 * capacity, and nothing can give them a job. The fleet keeps their hours itself ({@link #warmUsage}).
 */
public final class SimulatedFleet implements Compute, InstanceDrains {

    /** Told about every instance entering and leaving service (the simulator schedules readiness and bills from it). */
    public interface Listener {
        /** An instance entered service: launched cold, or drawn from the warm pool (then ready sooner). */
        void launched(Instance instance);

        /** An instance left service: terminated, or (when {@link Instance#returnedToWarmPool()}) stopped into the warm pool. */
        void terminated(Instance instance);
    }

    /**
     * Where the fleet's times come from. {@link #coldBoot} is drawn for every launch (into service or
     * into the warm pool), {@link #uniform} for a resume and a runner start.
     */
    public interface Timing {
        Duration coldBoot(PoolConfig pool, boolean intoWarmPool);

        Duration uniform(PoolConfig.StartTime range);
    }

    /**
     * The times of {@code serve}: a pool's {@code backend.boot_time} when it has one, else {@code bootDelay};
     * resume and runner start drawn uniformly from {@code random}.
     */
    public static Timing timing(Supplier<Duration> bootDelay, Random random) {
        return new Timing() {
            @Override
            public Duration coldBoot(PoolConfig pool, boolean intoWarmPool) {
                if (pool.backend() instanceof PoolConfig.Ec2Asg ec2 && ec2.bootTime() != null) {
                    return SimulatedFargate.uniformStartTime(ec2.bootTime(), random);
                }
                return bootDelay.get();
            }

            @Override
            public Duration uniform(PoolConfig.StartTime range) {
                return SimulatedFargate.uniformStartTime(range, random);
            }
        };
    }

    /** One simulated instance in service (one period of it: a reused instance gets a new one); mutable only by the fleet. */
    public static final class Instance {
        private final String id;
        private final String pool;
        private final Instant launchedAt;
        private final Instant readyAt;
        private final boolean fromWarmPool;
        private Instant terminatedAt;
        private boolean returnedToWarmPool;

        Instance(String id, String pool, Instant launchedAt, Instant readyAt) {
            this(id, pool, launchedAt, readyAt, false);
        }

        Instance(String id, String pool, Instant launchedAt, Instant readyAt, boolean fromWarmPool) {
            this.id = id;
            this.pool = pool;
            this.launchedAt = launchedAt;
            this.readyAt = readyAt;
            this.fromWarmPool = fromWarmPool;
        }

        public String id() {
            return id;
        }

        public String pool() {
            return pool;
        }

        /** When it entered service: its launch, or its draw from the warm pool (when its bill restarts). */
        public Instant launchedAt() {
            return launchedAt;
        }

        public Instant readyAt() {
            return readyAt;
        }

        public Instant terminatedAt() {
            return terminatedAt;
        }

        /** Drawn from the warm pool rather than launched cold. */
        public boolean fromWarmPool() {
            return fromWarmPool;
        }

        /** Left service into the warm pool (reuse on scale-in), not terminated. */
        public boolean returnedToWarmPool() {
            return returnedToWarmPool;
        }

        public boolean isReady(Instant now) {
            return !now.isBefore(readyAt);
        }
    }

    /** An instance in a warm pool: warming (booting, billed as running) until {@code preparedAt}, then in the pool's state. */
    private static final class Warm {
        final String id;
        final Instant since;
        final Instant preparedAt;

        Warm(String id, Instant since, Instant preparedAt) {
            this.id = id;
            this.since = since;
            this.preparedAt = preparedAt;
        }
    }

    /**
     * A pool's warm-pool hours so far: warming (launched into the warm pool, booting: billed as running,
     * at least a minute a launch), prepared in state running (billed as running) or stopped/hibernated
     * (billed only for the EBS volumes).
     */
    public record WarmUsage(double warmingSeconds, double runningSeconds, double stoppedSeconds, int launched,
                            int drawn, int returned) {
        public static final WarmUsage NONE = new WarmUsage(0, 0, 0, 0, 0, 0);
    }

    private final Clock clock;
    private final Timing timing;
    private final Listener listener;
    private final Map<String, Integer> desired = new HashMap<>();
    private final Map<String, Instance> live = new LinkedHashMap<>();
    private final Map<String, List<Warm>> warm = new HashMap<>();
    private final Map<String, double[]> warmHours = new HashMap<>();
    private final Map<String, int[]> warmCounts = new HashMap<>();
    private long sequence;

    /** @param listener may be null */
    public SimulatedFleet(Clock clock, Supplier<Duration> bootDelay, Listener listener) {
        this(clock, timing(bootDelay, new Random(0)), listener);
    }

    /** @param listener may be null */
    public SimulatedFleet(Clock clock, Timing timing, Listener listener) {
        this.clock = clock;
        this.timing = timing;
        this.listener = listener != null ? listener : new Listener() {
            @Override
            public void launched(Instance instance) {
            }

            @Override
            public void terminated(Instance instance) {
            }
        };
    }

    @Override
    public synchronized GroupState describe(PoolConfig pool) {
        Instant now = clock.instant();
        List<GroupState.Instance> instances = new ArrayList<>();
        for (Instance instance : live.values()) {
            if (instance.pool.equals(pool.name())) {
                instances.add(new GroupState.Instance(instance.id, instance.isReady(now), instance.launchedAt));
            }
        }
        return new GroupState(desired.getOrDefault(pool.name(), 0), instances);
    }

    @Override
    public synchronized void setDesiredCapacity(PoolConfig pool, int capacity) {
        if (capacity < 0 || capacity > pool.maxInstances() && capacity > desired.getOrDefault(pool.name(), 0)) {
            throw new IllegalArgumentException("desired capacity " + capacity + " outside 0.." + pool.maxInstances());
        }
        desired.put(pool.name(), capacity);
        List<Instance> members = members(pool.name());
        for (int i = members.size(); i < capacity; i++) {
            scaleOut(pool);
        }
        // Like an ASG whose desired capacity drops below its size: it picks instances itself (newest here).
        for (int i = members.size() - 1; i >= capacity; i--) {
            remove(members.get(i));
        }
        refill(pool);
    }

    @Override
    public void drain(PoolConfig pool, String instanceId, ScalingAction.Reason reason) {
        terminate(pool, instanceId, true, reason == ScalingAction.Reason.IDLE);
    }

    /** Terminates one instance; {@code decrement} lowers desired capacity with it, otherwise it is replaced. */
    public synchronized void terminate(PoolConfig pool, String instanceId, boolean decrement) {
        terminate(pool, instanceId, decrement, false);
    }

    /**
     * Takes one instance out of service; {@code decrement} lowers desired capacity with it, otherwise it
     * is replaced.
     *
     * @param scaleIn it leaves through a scale-in: with {@code reuse_on_scale_in} it goes back to the warm
     *                pool (stopped) while the pool is below its target size, instead of being terminated
     * @return true when it went back to the warm pool
     */
    public synchronized boolean terminate(PoolConfig pool, String instanceId, boolean decrement, boolean scaleIn) {
        Instance instance = live.get(instanceId);
        if (instance == null) {
            throw new IllegalArgumentException("instance " + instanceId + " is not in pool " + pool.name());
        }
        if (decrement) {
            desired.merge(pool.name(), -1, Integer::sum);
        }
        PoolConfig.WarmPool spec = pool.warmPool();
        boolean reuse = decrement && scaleIn && spec != null && spec.reuseOnScaleIn()
                && warm(pool.name()).size() < warmTarget(pool);
        if (reuse) {
            instance.returnedToWarmPool = true;
            Instant now = clock.instant();
            warm(pool.name()).add(new Warm(instance.id, now, now));
            counts(pool.name())[2]++;
        }
        remove(instance);
        if (!decrement) {
            scaleOut(pool);
        }
        refill(pool);
        return reuse;
    }

    public synchronized List<Instance> members(String pool) {
        return live.values().stream().filter(i -> i.pool.equals(pool)).toList();
    }

    /** Whether {@code instanceId} is in a warm pool now (warming or prepared): it must never hold a job. */
    public synchronized boolean isWarm(String pool, String instanceId) {
        return warm(pool).stream().anyMatch(w -> w.id.equals(instanceId));
    }

    /** Instances in the pool's warm pool now, warming or prepared. */
    public synchronized int warmSize(String pool) {
        return warm(pool).size();
    }

    /** Of those, the prepared ones (a scale-out may draw them). */
    public synchronized int preparedSize(String pool) {
        Instant now = clock.instant();
        return (int) warm(pool).stream().filter(w -> !now.isBefore(w.preparedAt)).count();
    }

    /**
     * The warm pool's hours of {@code pool} up to {@code until}, counting the instances still in it as
     * if they left then.
     */
    public synchronized WarmUsage warmUsage(PoolConfig pool, Instant until) {
        double[] hours = warmHours.getOrDefault(pool.name(), new double[3]).clone();
        for (Warm instance : warm(pool.name())) {
            account(pool, instance, until, hours);
        }
        int[] c = warmCounts.getOrDefault(pool.name(), new int[3]);
        return new WarmUsage(hours[0], hours[1], hours[2], c[0], c[1], c[2]);
    }

    /** AWS's warm pool size: the prepared capacity beyond the desired capacity, at least the min size. */
    static int warmTarget(PoolConfig pool, int desiredCapacity) {
        PoolConfig.WarmPool spec = pool.warmPool();
        if (spec == null) {
            return 0;
        }
        int maxPrepared = spec.maxPrepared() != null ? spec.maxPrepared() : pool.maxInstances();
        return Math.max(spec.minSize(), maxPrepared - desiredCapacity);
    }

    private int warmTarget(PoolConfig pool) {
        return warmTarget(pool, desired.getOrDefault(pool.name(), 0));
    }

    /** One more instance in service: a prepared warm one when there is one (the oldest), else a cold launch. */
    private void scaleOut(PoolConfig pool) {
        Instant now = clock.instant();
        List<Warm> pooled = warm(pool.name());
        for (int i = 0; i < pooled.size(); i++) {
            Warm candidate = pooled.get(i);
            if (!now.isBefore(candidate.preparedAt)) {
                pooled.remove(i);
                leaveWarmPool(pool, candidate, now);
                counts(pool.name())[1]++;
                PoolConfig.WarmPool spec = pool.warmPool();
                PoolConfig.Ec2Asg ec2 = (PoolConfig.Ec2Asg) pool.backend();
                Duration start = timing.uniform(ec2.runnerStartTime());
                Duration ready = spec.state() == PoolConfig.WarmPool.State.RUNNING ? start
                        : timing.uniform(spec.resumeTime()).plus(start);
                Instance instance = new Instance(candidate.id, pool.name(), now, now.plus(ready), true);
                live.put(instance.id, instance);
                listener.launched(instance);
                return;
            }
        }
        Instance instance = new Instance(nextId(), pool.name(), now, now.plus(timing.coldBoot(pool, false)));
        live.put(instance.id, instance);
        listener.launched(instance);
    }

    /** Launches into the warm pool while it is below target; terminates its newest (warming first) above it. */
    private void refill(PoolConfig pool) {
        if (pool.warmPool() == null) {
            return;
        }
        List<Warm> pooled = warm(pool.name());
        int target = warmTarget(pool);
        Instant now = clock.instant();
        while (pooled.size() < target) {
            pooled.add(new Warm(nextId(), now, now.plus(timing.coldBoot(pool, true))));
            counts(pool.name())[0]++;
        }
        while (pooled.size() > target) {
            leaveWarmPool(pool, pooled.removeLast(), now);
        }
    }

    private void leaveWarmPool(PoolConfig pool, Warm instance, Instant at) {
        account(pool, instance, at, warmHours.computeIfAbsent(pool.name(), p -> new double[3]));
    }

    /** Adds a warm instance's time from joining the pool to {@code at} to {@code hours} (warming, running, stopped). */
    private static void account(PoolConfig pool, Warm instance, Instant at, double[] hours) {
        Instant prepared = instance.preparedAt.isAfter(at) ? at : instance.preparedAt;
        if (prepared.isAfter(instance.since)) {
            // a launch into the warm pool bills as running while it boots, at least a minute as every start
            hours[0] += Math.max(60, Duration.between(instance.since, prepared).toMillis() / 1000.0);
        }
        if (at.isAfter(prepared)) {
            double seconds = Duration.between(prepared, at).toMillis() / 1000.0;
            hours[pool.warmPool().state() == PoolConfig.WarmPool.State.RUNNING ? 1 : 2] += seconds;
        }
    }

    private List<Warm> warm(String pool) {
        return warm.computeIfAbsent(pool, p -> new ArrayList<>());
    }

    private int[] counts(String pool) {
        return warmCounts.computeIfAbsent(pool, p -> new int[3]);
    }

    private String nextId() {
        return String.format("i-%017x", ++sequence);
    }

    private void remove(Instance instance) {
        live.remove(instance.id);
        instance.terminatedAt = clock.instant();
        listener.terminated(instance);
    }
}
