package io.runnerscale.simulate;

import io.runnerscale.compute.FargateTasks;
import io.runnerscale.compute.TaskEvent;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.compute.TaskState;
import io.runnerscale.job.JobKey;
import io.runnerscale.pool.PoolConfig;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A stand-in for ECS running Fargate tasks, behaving like it where runnerscale can tell: RunTask
 * starts a task (the same key and capacity again return the same task, as ECS's client token does),
 * the task is provisioning until its start time has passed, then running; it stops when its job
 * ends, when it waited out its wait timeout, when Fargate Spot takes it back, or when asked to. Every
 * change is told as an "ECS Task State Change" ({@link TaskEvent}, its version rising per task) to
 * {@code events}: the simulator applies them to the store as the lifecycle function does, {@code
 * serve} hands them to the lifecycle function's own code.
 *
 * <p>Passive, like {@link SimulatedFleet}: whoever drives it (the simulator's event loop on virtual
 * time, a scheduler on the wall clock in {@code serve}) calls {@link #ready}, {@link #take},
 * {@link #end} and {@link #interrupt} when their time comes; {@link Listener#started} says when a
 * task was started and when it will be ready.
 */
public final class SimulatedFargate implements FargateTasks {
    /** ECS's stop code when the essential container (the runner) exited: its job ended, or it waited out its timeout. */
    public static final String EXITED = "EssentialContainerExited";
    public static final String USER_INITIATED = "UserInitiated";
    private static final String REGION = "us-east-1";
    private static final String ACCOUNT = "000000000000";

    /** Told about every task started and stopped. */
    public interface Listener {
        void started(Task task);

        void stopped(Task task);
    }

    /** One simulated task; mutable only by this backend. */
    public static final class Task {
        private final String arn;
        private final String pool;
        private final PoolConfig.Fargate backend;
        private final TaskKey key;
        private final Capacity capacity;
        private final Instant requestedAt;
        private final Instant readyAt;
        private TaskState state = TaskState.STARTING;
        private JobKey job;
        private Instant jobAt;
        private Instant stoppedAt;
        private String stopCode;
        private String reason;
        private long version;

        Task(String arn, String pool, PoolConfig.Fargate backend, TaskKey key, Capacity capacity, Instant requestedAt,
             Instant readyAt) {
            this.arn = arn;
            this.pool = pool;
            this.backend = backend;
            this.key = key;
            this.capacity = capacity;
            this.requestedAt = requestedAt;
            this.readyAt = readyAt;
        }

        public String arn() {
            return arn;
        }

        public String pool() {
            return pool;
        }

        public PoolConfig.Fargate backend() {
            return backend;
        }

        public TaskKey key() {
            return key;
        }

        public Capacity capacity() {
            return capacity;
        }

        /** When RunTask was called: billing starts here (see {@link FargatePrices}). */
        public Instant requestedAt() {
            return requestedAt;
        }

        /** When its runner polls GitLab: {@code requestedAt} plus the drawn start time. */
        public Instant readyAt() {
            return readyAt;
        }

        public synchronized TaskState state() {
            return state;
        }

        /** The job its runner took, null before (a task takes one job in its life). */
        public synchronized JobKey job() {
            return job;
        }

        /** When it took its job, null before. */
        public synchronized Instant jobAt() {
            return jobAt;
        }

        public synchronized Instant stoppedAt() {
            return stoppedAt;
        }

        public synchronized String stopCode() {
            return stopCode;
        }

        /** Running, not asked to stop, and without a job: its runner polls GitLab for one. */
        public synchronized boolean waitingForJob() {
            return state == TaskState.RUNNING && job == null;
        }
    }

    private final Clock clock;
    private final Function<PoolConfig.Fargate, Duration> startTime;
    private final Consumer<TaskEvent> events;
    private final Listener listener;
    private final Map<String, Task> byToken = new HashMap<>();
    private final Map<String, Task> live = new LinkedHashMap<>();
    private final Map<String, Task> all = new HashMap<>();
    private long sequence;

    /**
     * @param startTime from RunTask to the runner polling, per task (see {@link #uniformStartTime})
     * @param events    where every task state change goes
     * @param listener  may be null
     */
    public SimulatedFargate(Clock clock, Function<PoolConfig.Fargate, Duration> startTime, Consumer<TaskEvent> events,
                            Listener listener) {
        this.clock = clock;
        this.startTime = startTime;
        this.events = events;
        this.listener = listener != null ? listener : new Listener() {
            @Override
            public void started(Task task) {
            }

            @Override
            public void stopped(Task task) {
            }
        };
    }

    /**
     * A duration drawn uniformly from {@code range}, to the millisecond: a pool's {@code backend.start_time}
     * here, and the EC2 fleet's boot, resume and runner start times ({@link SimulatedFleet#timing}).
     */
    public static Duration uniformStartTime(PoolConfig.StartTime range, Random random) {
        long min = range.min().toMillis();
        long spread = range.max().toMillis() - min;
        return Duration.ofMillis(min + (spread <= 0 ? 0 : (long) (random.nextDouble() * (spread + 1))));
    }

    @Override
    public RunOutcome run(String pool, PoolConfig.Fargate backend, TaskKey key, Capacity capacity) {
        Task task;
        synchronized (this) {
            Task earlier = byToken.get(key.clientToken(capacity.name()));
            if (earlier != null) {
                return new RunOutcome.Started(earlier.arn, capacity);
            }
            Instant now = clock.instant();
            String arn = "arn:aws:ecs:" + REGION + ":" + ACCOUNT + ":task/" + clusterName(backend.cluster()) + "/"
                    + taskId(++sequence);
            task = new Task(arn, pool, backend, key, capacity, now, now.plus(startTime.apply(backend)));
            byToken.put(key.clientToken(capacity.name()), task);
            live.put(arn, task);
            all.put(arn, task);
        }
        emit(task, "PROVISIONING", "RUNNING", null, null, null);
        listener.started(task);
        return new RunOutcome.Started(task.arn, capacity);
    }

    /** The task's start time has passed: it runs, and its runner polls for a job. False when it is not starting. */
    public boolean ready(String arn) {
        Task task = find(arn);
        synchronized (task) {
            if (task.state != TaskState.STARTING) {
                return false;
            }
            task.state = TaskState.RUNNING;
        }
        emit(task, "RUNNING", "RUNNING", null, null, null);
        return true;
    }

    /** The task's runner took {@code job}. False when it cannot (not running, or it has a job). */
    public boolean take(String arn, JobKey job) {
        Task task = find(arn);
        synchronized (task) {
            if (!task.waitingForJob()) {
                return false;
            }
            task.job = job;
            task.jobAt = clock.instant();
        }
        return true;
    }

    /**
     * Fargate Spot takes the task back: ECS sends the interruption (the two-minute warning, with stop
     * code SpotInterruption and SIGTERM to the runner, which aborts its job); the caller ends the task
     * when its runner has exited. False when it is stopping or stopped already.
     */
    public boolean interrupt(String arn) {
        Task task = find(arn);
        String last;
        synchronized (task) {
            if (task.state != TaskState.STARTING && task.state != TaskState.RUNNING) {
                return false;
            }
            last = task.state == TaskState.RUNNING ? "RUNNING" : "PENDING";
            task.state = TaskState.STOPPING;
            task.stopCode = TaskEvent.SPOT_INTERRUPTION;
            task.reason = "Your Spot Task was interrupted.";
        }
        emit(task, last, "STOPPED", TaskEvent.SPOT_INTERRUPTION, task.reason, null);
        return true;
    }

    /**
     * The task stops: its runner exited ({@link #EXITED}, exit code 0: its job ended or its wait
     * timed out), or it ends an interruption or a stop ({@code stopCode} of the warning is kept).
     * False when it had stopped already.
     */
    public boolean end(String arn, String stopCode, String reason, Integer exitCode) {
        Task task = find(arn);
        synchronized (task) {
            if (task.state == TaskState.STOPPED) {
                return false;
            }
            task.state = TaskState.STOPPED;
            task.stoppedAt = clock.instant();
            if (task.stopCode == null) {
                task.stopCode = stopCode;
                task.reason = reason;
            }
        }
        synchronized (this) {
            live.remove(arn);
        }
        emit(task, "STOPPED", "STOPPED", task.stopCode, task.reason, exitCode);
        listener.stopped(task);
        return true;
    }

    /** StopTask: the runner gets SIGTERM (and aborts what it runs); here the task stops at once. */
    @Override
    public void stop(PoolConfig.Fargate backend, String taskArn, String reason) {
        if (task(taskArn).filter(t -> t.state() != TaskState.STOPPED).isPresent()) {
            end(taskArn, USER_INITIATED, reason == null ? "Task stopped by user" : reason, null);
        }
    }

    @Override
    public synchronized List<StartedTask> list(PoolConfig.Fargate backend) {
        List<StartedTask> tasks = new ArrayList<>();
        for (Task task : live.values()) {
            if (task.backend.cluster().equals(backend.cluster())) {
                tasks.add(new StartedTask(task.arn, task.key, lastStatus(task.state()), task.requestedAt));
            }
        }
        return tasks;
    }

    /** The pool's tasks that have not stopped, oldest first. */
    public synchronized List<Task> live(String pool) {
        return live.values().stream().filter(t -> t.pool.equals(pool)).toList();
    }

    /** A task started here (stopped or not). */
    public synchronized Optional<Task> task(String arn) {
        return Optional.ofNullable(all.get(arn));
    }

    private synchronized Task find(String arn) {
        Task task = all.get(arn);
        if (task == null) {
            throw new IllegalArgumentException("no task " + arn);
        }
        return task;
    }

    private void emit(Task task, String lastStatus, String desiredStatus, String stopCode, String stoppedReason,
                      Integer exitCode) {
        long version;
        synchronized (task) {
            version = ++task.version;
        }
        events.accept(new TaskEvent(task.key, task.arn, lastStatus, desiredStatus, stopCode, stoppedReason, null,
                exitCode, task.capacity.name(), version, clock.instant()));
    }

    private static String lastStatus(TaskState state) {
        return switch (state) {
            case CLAIMED, STARTING -> "PENDING";
            case RUNNING -> "RUNNING";
            case STOPPING -> "DEPROVISIONING";
            case STOPPED -> "STOPPED";
        };
    }

    /**
     * 32 hex digits like ECS's task ids, the same for the same sequence number in every run. The first
     * 12 (the runner's system id, {@link TaskKey#systemId}) are 48 well-mixed bits: two tasks of a run
     * share them with a chance of about n² / 2⁴⁹ (1 in 50,000 for 100,000 tasks).
     */
    static String taskId(long sequence) {
        return String.format("%016x%016x", mix(sequence), mix(~sequence));
    }

    /** SplitMix64's finaliser: a bijection, so distinct sequence numbers give distinct ids. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** A cluster's name from its name or ARN. */
    static String clusterName(String cluster) {
        return cluster.substring(cluster.lastIndexOf('/') + 1);
    }
}
