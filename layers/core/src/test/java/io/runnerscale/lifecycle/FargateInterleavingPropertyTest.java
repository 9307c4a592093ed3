package io.runnerscale.lifecycle;

import io.runnerscale.compute.FargateTasks;
import io.runnerscale.compute.TaskEvent;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.gitlab.CreatedRunner;
import io.runnerscale.gitlab.GitLabRunners;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.gitlab.RunnerInfo;
import io.runnerscale.gitlab.RunnerOwner;
import io.runnerscale.gitlab.RunnerSpec;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.TestPools;
import io.runnerscale.scaling.ScaleRequests;
import io.runnerscale.scaling.TaskScaler;
import io.runnerscale.store.InMemoryJobStore;
import io.runnerscale.testing.MutableClock;
import net.jqwik.api.AfterFailureMode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fargate pools over random interleavings, with the real {@link TaskScaler}, {@link TaskLifecycle}
 * and store; ECS (tasks, client tokens, event delivery in any order and more than once, lost RunTask
 * answers, Spot with no capacity, tasks that fail to start, Spot interruptions) and GitLab (a shared
 * runner whose tasks take any pending job) are models.
 * <ol>
 *   <li><b>One task per key</b>: however decisions, lost answers and resumes interleave, ECS never
 *       starts two tasks under one {@link TaskKey} (the claim, then the client token).</li>
 *   <li><b>No job is lost</b>: after a quiet phase (no new jobs, no failures, every event delivered,
 *       a decision after each step) every job has run to success, or was cancelled at a Spot
 *       interruption and its retry ran, or is given up after max_task_attempts failed tasks.</li>
 * </ol>
 */
class FargateInterleavingPropertyTest {
    static final Instant T0 = Instant.parse("2026-01-07T09:00:00Z");
    static final long RUNNER_ID = 77;

    sealed interface Action {
    }

    record NewJob() implements Action {
    }

    record Decide() implements Action {
    }

    record LoseNextAnswer() implements Action {
    }

    record NoSpotCapacity(boolean none) implements Action {
    }

    record Advance(int task) implements Action {
    }

    record FailStart(int task) implements Action {
    }

    record TakeJob(int task) implements Action {
    }

    record FinishJob(int task) implements Action {
    }

    record Interrupt(int task) implements Action {
    }

    record Deliver(int event, boolean duplicate) implements Action {
    }

    @Provide
    Arbitrary<List<Action>> actions() {
        Arbitrary<Integer> index = Arbitraries.integers().between(0, 30);
        Arbitrary<Action> action = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, Arbitraries.just(new NewJob())),
                net.jqwik.api.Tuple.of(5, Arbitraries.just(new Decide())),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(new LoseNextAnswer())),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(true, false).map(NoSpotCapacity::new)),
                net.jqwik.api.Tuple.of(4, index.map(Advance::new)),
                net.jqwik.api.Tuple.of(1, index.map(FailStart::new)),
                net.jqwik.api.Tuple.of(4, index.map(TakeJob::new)),
                net.jqwik.api.Tuple.of(3, index.map(FinishJob::new)),
                net.jqwik.api.Tuple.of(1, index.map(Interrupt::new)),
                net.jqwik.api.Tuple.of(5, net.jqwik.api.Combinators.combine(index, Arbitraries.of(true, false))
                        .as(Deliver::new)));
        return action.list().ofMinSize(5).ofMaxSize(60);
    }

    /** A task in the model ECS. */
    static final class ModelTask {
        final String arn;
        final TaskKey key;
        final String capacity;
        String lastStatus = "PROVISIONING";
        String desired = "RUNNING";
        JobKey job;
        int version;

        ModelTask(String arn, TaskKey key, String capacity) {
            this.arn = arn;
            this.key = key;
            this.capacity = capacity;
        }
    }

    /** ECS: client tokens are idempotent; events are queued for delivery in any order. */
    final class ModelEcs implements FargateTasks {
        final Map<String, ModelTask> byToken = new HashMap<>();
        final Map<TaskKey, List<ModelTask>> byKey = new HashMap<>();
        final List<ModelTask> tasks = new ArrayList<>();
        boolean loseNextAnswer;
        boolean noSpot;

        @Override
        public RunOutcome run(String pool, PoolConfig.Fargate backend, TaskKey key, Capacity capacity) {
            if (capacity == Capacity.FARGATE_SPOT && noSpot) {
                return new RunOutcome.Failed("Capacity is unavailable at this time");
            }
            String token = key.clientToken(capacity.name());
            ModelTask task = byToken.get(token);
            if (task == null) {
                // ECS task ids are random: their first 12 characters (the system id) differ
                task = new ModelTask("arn:aws:ecs:r:1:task/ci/" + String.format("%012x%020x", tasks.size() + 1, 0), key,
                        capacity.name());
                byToken.put(token, task);
                byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(task);
                tasks.add(task);
                emit(task, null, null, null);
            }
            if (loseNextAnswer) {
                loseNextAnswer = false;
                throw new IllegalStateException("the answer was lost");
            }
            return new RunOutcome.Started(task.arn, capacity);
        }

        @Override
        public Optional<String> find(PoolConfig.Fargate backend, TaskKey key) {
            List<ModelTask> started = byKey.getOrDefault(key, List.of());
            return started.isEmpty() ? Optional.empty() : Optional.of(started.getFirst().arn);
        }

        @Override
        public void stop(PoolConfig.Fargate backend, String taskArn, String reason) {
            throw new AssertionError("nothing stops tasks here");
        }

        @Override
        public List<StartedTask> list(PoolConfig.Fargate backend) {
            return List.of();
        }
    }

    /** GitLab: the pool's one runner; each task's manager runs at most one job. */
    final class ModelGitLab implements GitLabRunners {
        @Override
        public List<JobKey> runningJobs(long runnerId, String systemId) {
            List<JobKey> running = new ArrayList<>();
            for (ModelTask task : ecs.tasks) {
                if (task.job != null && TaskKey.systemId(task.arn).orElseThrow().equals(systemId)
                        && status.get(task.job) == JobStatus.RUNNING) {
                    running.add(task.job);
                }
            }
            return running;
        }

        @Override
        public void cancelJob(JobKey job) {
            if (status.get(job) == JobStatus.RUNNING || status.get(job) == JobStatus.PENDING) {
                jobEvent(job, JobStatus.CANCELED);
                // its runner ends with the job (run-single --max-builds 1)
                for (ModelTask task : ecs.tasks) {
                    if (job.equals(task.job) && !task.lastStatus.equals("STOPPED")) {
                        stop(task, "EssentialContainerExited", 0, "job cancelled");
                    }
                }
            }
        }

        @Override
        public Optional<JobKey> retryJob(JobKey job) {
            if (retries.containsKey(job)) {
                return Optional.empty();
            }
            JobKey retry = newJob();
            retries.put(job, retry);
            return Optional.of(retry);
        }

        @Override public CreatedRunner createRunner(RunnerSpec spec) { throw new AssertionError(); }
        @Override public void setPaused(long runnerId, boolean paused) { throw new AssertionError(); }
        @Override public List<JobKey> runningJobs(long runnerId) { throw new AssertionError(); }
        @Override public void deleteRunner(long runnerId) { throw new AssertionError(); }
        @Override public List<RunnerInfo> runnersOf(RunnerOwner owner) { throw new AssertionError(); }
    }

    final PoolConfig pool = TestPools.fargate("f", 4, 2, true);
    final MutableClock clock = new MutableClock(T0);
    final InMemoryJobStore store = new InMemoryJobStore();
    final ModelEcs ecs = new ModelEcs();
    final Map<JobKey, JobStatus> status = new LinkedHashMap<>();
    final Map<JobKey, JobKey> retries = new HashMap<>();
    final List<TaskEvent> events = new ArrayList<>();
    final TaskScaler scaler = new TaskScaler(store, ecs);
    final TaskLifecycle lifecycle = new TaskLifecycle(() -> new PoolsConfig(List.of(pool)), store, store,
            new ModelGitLab(), new ScaleRequests() {
        @Override
        public void request(String p, String reason, String dedupeId) {
            // decisions come from the actions and the quiet phase
        }
    }, clock);
    long nextJob = 1;

    JobKey newJob() {
        JobKey job = new JobKey(1, nextJob++);
        jobEvent(job, JobStatus.PENDING);
        return job;
    }

    void jobEvent(JobKey job, JobStatus next) {
        status.put(job, next);
        store.apply(new JobEvent(job, next, null, null, null, clock.instant(), null, null, null,
                next == JobStatus.PENDING ? null : RUNNER_ID, "fargate", null, List.of("fargate")), "f", clock.instant());
    }

    void emit(ModelTask task, String stopCode, Integer exitCode, String reason) {
        task.version++;
        events.add(new TaskEvent(task.key, task.arn, task.lastStatus, task.desired, stopCode, reason, null, exitCode,
                task.capacity, task.version, clock.instant()));
    }

    void decide() {
        scaler.scale(pool, clock.instant(), store.liveJobs("f"));
    }

    ModelTask task(int index, String lastStatus) {
        List<ModelTask> matching = ecs.tasks.stream().filter(t -> t.lastStatus.equals(lastStatus)).toList();
        return matching.isEmpty() ? null : matching.get(index % matching.size());
    }

    void stop(ModelTask task, String stopCode, Integer exitCode, String reason) {
        task.desired = "STOPPED";
        task.lastStatus = "STOPPED";
        emit(task, stopCode, exitCode, reason);
    }

    void deliver(int index, boolean duplicate) {
        if (events.isEmpty()) {
            return;
        }
        TaskEvent event = duplicate ? events.get(index % events.size()) : events.remove(index % events.size());
        lifecycle.onTaskStateChange(event);
    }

    void run(Action action) {
        clock.advance(java.time.Duration.ofSeconds(5));
        switch (action) {
            case NewJob n -> newJob();
            case Decide d -> decide();
            case LoseNextAnswer l -> ecs.loseNextAnswer = true;
            case NoSpotCapacity n -> ecs.noSpot = n.none();
            case Advance a -> {
                ModelTask task = task(a.task(), "PROVISIONING");
                if (task != null) {
                    task.lastStatus = "RUNNING";
                    emit(task, null, null, null);
                }
            }
            case FailStart f -> {
                ModelTask task = task(f.task(), "PROVISIONING");
                if (task != null) {
                    stop(task, "TaskFailedToStart", null, "CannotPullContainerError: model");
                }
            }
            case TakeJob t -> takeJob(task(t.task(), "RUNNING"));
            case FinishJob f -> finishJob(f.task());
            case Interrupt i -> {
                ModelTask task = task(i.task(), "RUNNING");
                if (task != null && task.capacity.equals("FARGATE_SPOT")) {
                    task.desired = "STOPPED";
                    emit(task, "SpotInterruption", null, "Your Spot Task was interrupted.");
                    // the warning's 2 minutes end: if nobody cancelled its job, it dies with the task
                    task.lastStatus = "STOPPED";
                    if (task.job != null && status.get(task.job) == JobStatus.RUNNING) {
                        lostToSpot.add(task.job);
                        jobEvent(task.job, JobStatus.FAILED);
                    }
                    emit(task, "SpotInterruption", null, "Your Spot Task was interrupted.");
                }
            }
            case Deliver d -> deliver(d.event(), d.duplicate());
        }
    }

    final List<JobKey> lostToSpot = new ArrayList<>();

    void takeJob(ModelTask task) {
        if (task == null || task.job != null || !task.desired.equals("RUNNING")) {
            return;
        }
        status.entrySet().stream().filter(e -> e.getValue() == JobStatus.PENDING).findFirst().ifPresent(e -> {
            task.job = e.getKey();
            jobEvent(task.job, JobStatus.RUNNING);
        });
    }

    void finishJob(int index) {
        List<ModelTask> busy = ecs.tasks.stream().filter(t -> t.job != null && t.lastStatus.equals("RUNNING")
                && status.get(t.job) == JobStatus.RUNNING).toList();
        if (busy.isEmpty()) {
            return;
        }
        ModelTask task = busy.get(index % busy.size());
        jobEvent(task.job, JobStatus.SUCCESS);
        stop(task, "EssentialContainerExited", 0, "Essential container in task exited");
    }

    @Property(tries = 300, afterFailure = AfterFailureMode.SAMPLE_FIRST, edgeCases = EdgeCasesMode.NONE)
    void oneTaskPerKeyAndNoJobLost(@ForAll("actions") List<Action> actions) {
        // jqwik keeps one instance per property: each try gets a fresh world
        new FargateInterleavingPropertyTest().check(actions);
    }

    void check(List<Action> actions) {
        for (Action action : actions) {
            run(action);
            assertOneTaskPerKey();
        }
        // quiet phase: every event delivered, no failures, tasks start and take jobs, jobs finish
        ecs.loseNextAnswer = false;
        for (int round = 0; round < 60; round++) {
            while (!events.isEmpty()) {
                deliver(0, false);
            }
            decide();
            for (ModelTask task : List.copyOf(ecs.tasks)) {
                if (task.lastStatus.equals("PROVISIONING")) {
                    task.lastStatus = "RUNNING";
                    emit(task, null, null, null);
                }
            }
            for (ModelTask task : List.copyOf(ecs.tasks)) {
                if (task.lastStatus.equals("RUNNING")) {
                    takeJob(task);
                }
            }
            for (int i = 0; i < ecs.tasks.size(); i++) {
                finishJob(0);
            }
            // tasks that found no job wait out their wait timeout
            clock.advance(java.time.Duration.ofMinutes(3));
            for (ModelTask task : List.copyOf(ecs.tasks)) {
                if (task.lastStatus.equals("RUNNING") && task.job == null) {
                    stop(task, "EssentialContainerExited", 0, "no job within the wait timeout");
                }
            }
            assertOneTaskPerKey();
        }
        for (Map.Entry<JobKey, JobStatus> job : status.entrySet()) {
            JobKey key = job.getKey();
            boolean givenUp = store.tasks("f").stream().filter(t -> t.key().job().equals(key) && t.failed()).count()
                    >= 2;
            switch (job.getValue()) {
                case SUCCESS -> { }
                case CANCELED, FAILED -> assertTrue(retries.containsKey(key) || lostToSpot.contains(key),
                        "job " + key + " ended " + job.getValue() + " without a retry");
                case PENDING -> assertTrue(givenUp, "job " + key + " still waits and was not given up: "
                        + store.tasks("f") + " ecs: " + ecs.tasks.stream().map(t -> t.key + " " + t.lastStatus + "/"
                        + t.desired + " job " + t.job + " v" + t.version).toList() + " undelivered " + events);
                default -> throw new AssertionError("job " + key + " is still " + job.getValue());
            }
        }
    }

    void assertOneTaskPerKey() {
        for (Map.Entry<TaskKey, List<ModelTask>> entry : ecs.byKey.entrySet()) {
            assertEquals(1, entry.getValue().size(), "tasks started under " + entry.getKey());
        }
    }
}
