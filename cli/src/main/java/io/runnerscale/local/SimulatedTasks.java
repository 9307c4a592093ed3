package io.runnerscale.local;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.compute.TaskEvent;
import io.runnerscale.compute.TaskState;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.lifecycle.LifecycleEvents;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.simulate.SimulatedFargate;
import io.runnerscale.store.JobStore;
import io.runnerscale.store.TaskRecord;
import io.runnerscale.store.TaskStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * {@code serve}'s Fargate pools on a {@link SimulatedFargate} on the wall clock, as the simulated
 * fleet plays Auto Scaling for its EC2 pools. Every task state change reaches the lifecycle
 * function's own code as the "ECS Task State Change" event EventBridge would deliver
 * ({@link #ecsEvent}), so the store follows each task as in AWS.
 *
 * <p>What the task's runner would do is played from the job store, which {@code serve}'s webhook
 * keeps: a task is ready once its start time has passed; a ready task without a job takes a running
 * job of its pool that no task holds (GitLab's Job Hook names the pool's one runner, not the task:
 * the oldest waiting task takes it); a task whose job is no longer running (success, failed,
 * canceled) stops, its runner having exited; a task that got no job within the pool's wait_timeout
 * of being ready stops itself.
 */
public final class SimulatedTasks implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SimulatedTasks.class);
    /** How often the tasks look at the clock and the job store: well under any start time or job. */
    static final Duration STEP = Duration.ofMillis(250);
    private static final String EXITED_REASON = "Essential container in task exited";

    private final PoolsConfigSource pools;
    private final JobStore jobs;
    private final TaskStore tasks;
    private final ObjectMapper json;
    private final Clock clock;
    private final SimulatedFargate fargate;
    private final ScheduledExecutorService scheduler;
    private volatile Function<JsonNode, JsonNode> events;
    /** The last tasks that stopped, oldest first: the scaler forgets a stopped task at once, GET /status shows it a while. */
    private final java.util.ArrayDeque<SimulatedFargate.Task> stopped = new java.util.ArrayDeque<>();
    static final int MAX_STOPPED_SHOWN = 100;
    static final Duration STOPPED_SHOWN = Duration.ofMinutes(10);

    public <S extends JobStore & TaskStore> SimulatedTasks(PoolsConfigSource pools, S store, ObjectMapper json,
                                                          Clock clock, long seed) {
        this.pools = pools;
        this.jobs = store;
        this.tasks = store;
        this.json = json;
        this.clock = clock;
        Random random = new Random(seed);
        this.fargate = new SimulatedFargate(clock, backend -> {
            synchronized (random) {
                return SimulatedFargate.uniformStartTime(backend.startTime(), random);
            }
        }, this::deliver, new SimulatedFargate.Listener() {
            @Override
            public void started(SimulatedFargate.Task task) {
            }

            @Override
            public void stopped(SimulatedFargate.Task task) {
                synchronized (stopped) {
                    stopped.addLast(task);
                    while (stopped.size() > MAX_STOPPED_SHOWN) {
                        stopped.removeFirst();
                    }
                }
            }
        });
        this.scheduler = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "sim-tasks");
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * The pool's tasks that stopped in the last {@link #STOPPED_SHOWN} (at most {@link #MAX_STOPPED_SHOWN}
     * of all pools), oldest first: the scaler takes a stopped task out of its pool's index at once, but
     * why it stopped is worth seeing.
     */
    public java.util.List<io.runnerscale.compute.TaskKey> recentlyStopped(String pool) {
        Instant since = clock.instant().minus(STOPPED_SHOWN);
        synchronized (stopped) {
            return stopped.stream().filter(t -> t.pool().equals(pool) && t.stoppedAt().isAfter(since))
                    .map(SimulatedFargate.Task::key).toList();
        }
    }

    /** The backend the scaler starts tasks on. */
    public SimulatedFargate fargate() {
        return fargate;
    }

    /**
     * Where the task events go (the lifecycle function's code), then starts playing the tasks. Tasks
     * the store says are starting or running were lost with the last {@code serve}: they are stopped
     * first, as ECS would report them, so their jobs get new ones.
     */
    public void start(Function<JsonNode, JsonNode> lifecycle) {
        this.events = lifecycle;
        for (PoolConfig pool : pools.current().pools()) {
            if (!(pool.backend() instanceof PoolConfig.Fargate backend)) {
                continue;
            }
            for (TaskRecord record : tasks.tasks(pool.name())) {
                // a claim RunTask never answered has no task to stop: the scaler runs it again
                if (record.state() != TaskState.STOPPED && record.taskArn() != null
                        && fargate.task(record.taskArn()).isEmpty()) {
                    deliver(new TaskEvent(record.key(), record.taskArn(), "STOPPED", "STOPPED",
                            SimulatedFargate.USER_INITIATED, "serve stopped: its simulated tasks stopped with it", null,
                            null, record.capacityProvider(), record.eventVersion() + 1, clock.instant()), backend);
                }
            }
        }
        scheduler.scheduleWithFixedDelay(this::step, STEP.toMillis(), STEP.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One look at every Fargate pool's tasks: starts that ended, jobs taken, jobs ended, waits timed out. */
    void step() {
        try {
            for (PoolConfig pool : pools.current().pools()) {
                if (pool.backend() instanceof PoolConfig.Fargate backend) {
                    step(pool, backend);
                }
            }
        } catch (RuntimeException e) {
            LOG.error("simulated Fargate tasks: {}", e.toString());
        }
    }

    private void step(PoolConfig pool, PoolConfig.Fargate backend) {
        Instant now = clock.instant();
        Set<JobKey> held = new HashSet<>();
        for (SimulatedFargate.Task task : fargate.live(pool.name())) {
            if (task.job() != null) {
                held.add(task.job());
            }
        }
        var running = jobs.liveJobs(pool.name()).stream().filter(j -> j.status() == JobStatus.RUNNING)
                .map(JobRecord::key).filter(key -> !held.contains(key)).iterator();
        for (SimulatedFargate.Task task : fargate.live(pool.name())) {
            if (task.state() == TaskState.STARTING && !now.isBefore(task.readyAt())) {
                fargate.ready(task.arn());
            }
            if (task.waitingForJob()) {
                if (running.hasNext()) {
                    JobKey job = running.next();
                    fargate.take(task.arn(), job);
                    LOG.info("pool {}: task {} runs job {}", pool.name(), task.key(), job);
                } else if (!now.isBefore(task.readyAt().plus(backend.waitTimeout()))) {
                    LOG.info("pool {}: task {} got no job within its wait timeout ({}): it stops", pool.name(),
                            task.key(), backend.waitTimeout());
                    fargate.end(task.arn(), SimulatedFargate.EXITED, EXITED_REASON, 0);
                }
            } else if (task.state() == TaskState.RUNNING && task.job() != null
                    && jobs.find(task.job()).map(j -> !j.status().isLive()).orElse(true)) {
                fargate.end(task.arn(), SimulatedFargate.EXITED, EXITED_REASON, 0);
            }
        }
    }

    private void deliver(TaskEvent event) {
        PoolConfig.Fargate backend = fargate.task(event.taskArn()).map(SimulatedFargate.Task::backend).orElse(null);
        deliver(event, backend);
    }

    private void deliver(TaskEvent event, PoolConfig.Fargate backend) {
        Function<JsonNode, JsonNode> target = events;
        if (target == null) {
            LOG.error("task {} {}: no lifecycle to tell yet", event.key(), event.lastStatus());
            return;
        }
        try {
            JsonNode result = target.apply(ecsEvent(json, event, backend == null ? "ci" : backend.cluster(),
                    backend == null ? "runner" : backend.taskDefinition(),
                    backend == null ? "runner" : backend.container()));
            LOG.info("task {} ({}) {}: {}", event.key(), event.taskArn(), event.lastStatus(), result.path("result").asText());
        } catch (RuntimeException e) {
            // as EventBridge's retries would, the next change of the task brings the store up to date
            LOG.error("task {} {}: the lifecycle function failed: {}", event.key(), event.lastStatus(), e.toString());
        }
    }

    /**
     * The "ECS Task State Change" event EventBridge delivers for {@code event}, in AWS's shape (the
     * fields runnerscale reads, and a few around them).
     */
    public static ObjectNode ecsEvent(ObjectMapper json, TaskEvent event, String cluster, String taskDefinition,
                                      String container) {
        String region = "us-east-1";
        String account = "000000000000";
        String clusterName = cluster.substring(cluster.lastIndexOf('/') + 1);
        ObjectNode root = json.createObjectNode().put("version", "0").put("id", UUID.randomUUID().toString())
                .put("detail-type", LifecycleEvents.TASK_STATE_CHANGE).put("source", "aws.ecs").put("account", account)
                .put("time", event.at().toString()).put("region", region);
        root.putArray("resources").add(event.taskArn());
        ObjectNode detail = root.putObject("detail")
                .put("clusterArn", "arn:aws:ecs:" + region + ":" + account + ":cluster/" + clusterName)
                .put("taskArn", event.taskArn())
                .put("taskDefinitionArn", "arn:aws:ecs:" + region + ":" + account + ":task-definition/"
                        + taskDefinition.substring(taskDefinition.lastIndexOf('/') + 1)
                        + (taskDefinition.contains(":") ? "" : ":1"))
                .put("startedBy", event.key().startedBy())
                .put("launchType", "FARGATE")
                .put("lastStatus", event.lastStatus())
                .put("desiredStatus", event.desiredStatus())
                .put("version", event.version())
                .put("updatedAt", event.at().toString());
        if (event.capacityProvider() != null) {
            detail.put("capacityProviderName", event.capacityProvider());
        }
        if (event.stopCode() != null) {
            detail.put("stopCode", event.stopCode());
        }
        if (event.stoppedReason() != null) {
            detail.put("stoppedReason", event.stoppedReason());
        }
        ObjectNode runner = detail.putArray("containers").addObject().put("name", container)
                .put("lastStatus", event.lastStatus()).put("taskArn", event.taskArn());
        if (event.exitCode() != null) {
            runner.put("exitCode", event.exitCode());
        }
        if (event.containerReason() != null) {
            runner.put("reason", event.containerReason());
        }
        return root;
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
