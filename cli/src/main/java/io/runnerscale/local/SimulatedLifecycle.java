package io.runnerscale.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.lifecycle.InstanceState;
import io.runnerscale.lifecycle.LifecycleActions;
import io.runnerscale.lifecycle.LifecycleEvents;
import io.runnerscale.lifecycle.RetryableError;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.simulate.SimulatedFleet;
import io.runnerscale.store.InstanceLifecycle;
import io.runnerscale.store.InstanceLifecycleStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The Auto Scaling side of an instance's life for {@code serve}'s simulated fleet, as the lifecycle
 * hooks and the instance's user data play it in AWS:
 * <ul>
 *   <li>each launched instance fires the {@value LifecycleEvents#LAUNCH} event (hook
 *       {@value #LAUNCH_HOOK}) through the same event code as {@code POST /events}: its runner is
 *       created (launching, registered);</li>
 *   <li>when its boot ends, the instance completes the launch action with CONTINUE, as its user data
 *       does once gitlab-runner is registered: the instance is then ready (registered → ready);
 *       ABANDON terminates it, and the group replaces it;</li>
 *   <li>{@link #terminate} terminates through the fleet (with or without lowering desired capacity);
 *       completing any other held action (a terminate hook from {@code POST /events}) lets the
 *       instance go, and the group replaces it.</li>
 * </ul>
 * Heartbeats are accepted: the simulated hooks never time out.
 */
public final class SimulatedLifecycle implements LifecycleActions, SimulatedFleet.Listener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SimulatedLifecycle.class);
    public static final String LAUNCH_HOOK = "runnerscale-launch";
    /** A launch event that fails with a retryable error is delivered again this often, this many times (as Lambda's async retries). */
    static final Duration LAUNCH_RETRY = Duration.ofSeconds(1);
    static final int LAUNCH_TRIES = 5;

    private final PoolsConfigSource pools;
    private final InstanceLifecycleStore store;
    private final ObjectMapper json;
    private final Clock clock;
    private final ScheduledThreadPoolExecutor scheduler;
    /** Instance id -> token of its held launch action. */
    private final Map<String, String> launchActions = new ConcurrentHashMap<>();
    private volatile SimulatedFleet fleet;
    private volatile Function<JsonNode, JsonNode> events;

    public SimulatedLifecycle(PoolsConfigSource pools, InstanceLifecycleStore store, ObjectMapper json, Clock clock) {
        this.pools = pools;
        this.store = store;
        this.json = json;
        this.clock = clock;
        AtomicInteger threads = new AtomicInteger();
        this.scheduler = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "sim-lifecycle-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    /** The fleet whose instances this plays, and where its events go; both before the fleet launches anything. */
    public void attach(SimulatedFleet fleet, Function<JsonNode, JsonNode> events) {
        this.fleet = fleet;
        this.events = events;
    }

    // ------------------------------------------------------------------ fleet listener

    /** Called by the fleet under its lock: the launch flow runs on this class's own thread. */
    @Override
    public void launched(SimulatedFleet.Instance instance) {
        String token = UUID.randomUUID().toString();
        launchActions.put(instance.id(), token);
        submit(() -> launch(instance, token, 1), Duration.ZERO);
    }

    @Override
    public void terminated(SimulatedFleet.Instance instance) {
        launchActions.remove(instance.id());
    }

    private void launch(SimulatedFleet.Instance instance, String token, int attempt) {
        if (!launchActions.containsKey(instance.id())) {
            return;   // terminated before its launch event was handled
        }
        Optional<String> asg = asgOf(instance.pool());
        if (asg.isEmpty()) {
            LOG.warn("launched {} in pool {}, which is no longer an EC2 pool: no launch event", instance.id(), instance.pool());
            return;
        }
        ObjectNode event = json.createObjectNode().put("version", "0").put("id", UUID.randomUUID().toString())
                .put("detail-type", LifecycleEvents.LAUNCH).put("source", "aws.autoscaling")
                .put("account", "000000000000").put("time", clock.instant().toString()).put("region", "us-east-1");   // a real region: the ARN is checked (and unused locally)
        event.putArray("resources");
        event.putObject("detail").put("LifecycleActionToken", token).put("AutoScalingGroupName", asg.get())
                .put("LifecycleHookName", LAUNCH_HOOK).put("EC2InstanceId", instance.id())
                .put("LifecycleTransition", "autoscaling:EC2_INSTANCE_LAUNCHING");
        try {
            JsonNode result = events.apply(event);
            LOG.info("launch of {}: {}", instance.id(), result.path("result").asText());
        } catch (RetryableError e) {
            if (attempt < LAUNCH_TRIES) {
                submit(() -> launch(instance, token, attempt + 1), LAUNCH_RETRY);
            } else {
                LOG.error("launch of {} failed {} times: {}", instance.id(), attempt, e.getMessage());
            }
            return;
        } catch (RuntimeException e) {
            LOG.error("launch of {} failed: {}", instance.id(), e.toString());
            return;
        }
        // the instance's user data: once booted (gitlab-runner registered), it completes the launch action
        Duration untilBooted = Duration.between(clock.instant(), instance.readyAt());
        submit(() -> booted(instance, token), untilBooted.isNegative() ? Duration.ZERO : untilBooted);
    }

    private void booted(SimulatedFleet.Instance instance, String token) {
        Optional<String> asg = asgOf(instance.pool());
        boolean registered = store.lifecycle(instance.id()).map(InstanceLifecycle::state)
                .filter(s -> s == InstanceState.REGISTERED || s == InstanceState.READY).isPresent();
        complete(LAUNCH_HOOK, asg.orElse(""), instance.id(), token, registered ? Result.CONTINUE : Result.ABANDON);
    }

    // ------------------------------------------------------------------ LifecycleActions

    @Override
    public void heartbeat(String hookName, String asg, String instanceId, String token) {
        // simulated hooks never time out
    }

    @Override
    public void complete(String hookName, String asg, String instanceId, String token, Result result) {
        if (token != null && launchActions.remove(instanceId, token)) {
            if (result == Result.CONTINUE) {
                // registered -> ready; a drain that began meanwhile keeps its state
                Optional<InstanceState> state = store.lifecycle(instanceId).map(InstanceLifecycle::state);
                if (state.isPresent() && state.get() == InstanceState.REGISTERED) {
                    store.setState(instanceId, InstanceState.READY);
                }
            } else {
                LOG.warn("launch of {} abandoned: the group replaces it", instanceId);
                terminateIn(instanceId, false);
            }
            return;
        }
        // a terminate action (POST /events): whatever the result, a terminating instance goes; the group replaces it
        terminateIn(instanceId, false);
    }

    @Override
    public void terminate(String instanceId, boolean decrement) {
        terminateIn(instanceId, decrement);
    }

    private void terminateIn(String instanceId, boolean decrement) {
        SimulatedFleet current = fleet;
        for (PoolConfig pool : pools.current().pools()) {
            if (current.members(pool.name()).stream().anyMatch(i -> i.id().equals(instanceId))) {
                current.terminate(pool, instanceId, decrement);
                return;
            }
        }
        LOG.info("terminate {}: not in the fleet (gone already)", instanceId);
    }

    private Optional<String> asgOf(String pool) {
        return pools.current().pool(pool).map(PoolConfig::backend)
                .filter(b -> b instanceof PoolConfig.Ec2Asg).map(b -> ((PoolConfig.Ec2Asg) b).asg());
    }

    private void submit(Runnable step, Duration delay) {
        try {
            scheduler.schedule(() -> {
                try {
                    step.run();
                } catch (RuntimeException e) {
                    LOG.error("simulated lifecycle step failed", e);
                }
            }, delay.toNanos(), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            // serve is stopping
        }
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
