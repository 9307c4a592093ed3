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
 */
public final class SimulatedFleet implements Compute, InstanceDrains {

    /** Told about every launch and termination (the simulator schedules readiness and bills from it). */
    public interface Listener {
        void launched(Instance instance);

        void terminated(Instance instance);
    }

    /** One simulated instance; mutable only by the fleet. */
    public static final class Instance {
        private final String id;
        private final String pool;
        private final Instant launchedAt;
        private final Instant readyAt;
        private Instant terminatedAt;

        Instance(String id, String pool, Instant launchedAt, Instant readyAt) {
            this.id = id;
            this.pool = pool;
            this.launchedAt = launchedAt;
            this.readyAt = readyAt;
        }

        public String id() {
            return id;
        }

        public String pool() {
            return pool;
        }

        public Instant launchedAt() {
            return launchedAt;
        }

        public Instant readyAt() {
            return readyAt;
        }

        public Instant terminatedAt() {
            return terminatedAt;
        }

        public boolean isReady(Instant now) {
            return !now.isBefore(readyAt);
        }
    }

    private final Clock clock;
    private final Supplier<Duration> bootDelay;
    private final Listener listener;
    private final Map<String, Integer> desired = new HashMap<>();
    private final Map<String, Instance> live = new LinkedHashMap<>();
    private long sequence;

    /** @param listener may be null */
    public SimulatedFleet(Clock clock, Supplier<Duration> bootDelay, Listener listener) {
        this.clock = clock;
        this.bootDelay = bootDelay;
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
            launch(pool.name());
        }
        // Like an ASG whose desired capacity drops below its size: it picks instances itself (newest here).
        for (int i = members.size() - 1; i >= capacity; i--) {
            remove(members.get(i));
        }
    }

    @Override
    public void drain(PoolConfig pool, String instanceId, ScalingAction.Reason reason) {
        terminate(pool, instanceId, true);
    }

    /** Terminates one instance; {@code decrement} lowers desired capacity with it, otherwise it is replaced. */
    public synchronized void terminate(PoolConfig pool, String instanceId, boolean decrement) {
        Instance instance = live.get(instanceId);
        if (instance == null) {
            throw new IllegalArgumentException("instance " + instanceId + " is not in pool " + pool.name());
        }
        remove(instance);
        if (decrement) {
            desired.merge(pool.name(), -1, Integer::sum);
        } else {
            launch(pool.name());
        }
    }

    public synchronized List<Instance> members(String pool) {
        return live.values().stream().filter(i -> i.pool.equals(pool)).toList();
    }

    private void launch(String pool) {
        Instant now = clock.instant();
        Instance instance = new Instance(String.format("i-%017x", ++sequence), pool, now, now.plus(bootDelay.get()));
        live.put(instance.id, instance);
        listener.launched(instance);
    }

    private void remove(Instance instance) {
        live.remove(instance.id);
        instance.terminatedAt = clock.instant();
        listener.terminated(instance);
    }
}
