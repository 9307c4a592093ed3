package io.runnerscale.it;

import io.runnerscale.compute.EcsFargateTasks;
import io.runnerscale.compute.FargateTasks;
import io.runnerscale.compute.FargateTasks.Capacity;
import io.runnerscale.compute.FargateTasks.RunOutcome;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.compute.TaskState;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.ForecastConfig;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.scaling.TaskScaler;
import io.runnerscale.store.DynamoJobStore;
import io.runnerscale.store.TaskRecord;
import io.runnerscale.store.TaskStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ecs.model.ContainerOverride;
import software.amazon.awssdk.services.ecs.model.DesiredStatus;
import software.amazon.awssdk.services.ecs.model.KeyValuePair;
import software.amazon.awssdk.services.ecs.model.LaunchType;
import software.amazon.awssdk.services.ecs.model.Tag;
import software.amazon.awssdk.services.ecs.model.Task;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ECS adapter on moto_server, and {@link TaskScaler} on it with the real store on DynamoDB Local:
 * what RunTask is asked (the task's name, tags and wait timeout, read back with DescribeTasks), what
 * ECS's refusals become, which tasks the sweep may see, and that a job attempt gets one task.
 *
 * <p>moto ignores RunTask's {@code clientToken} (checked below: the same key twice starts two tasks),
 * so ECS's idempotency cannot be shown here; what this shows instead is runnerscale's own guard, the
 * claim: since moto starts a task for every RunTask call, one task per job in moto is one call per key.
 * See {@link MotoFargate} for the other moto quirks.
 */
class EcsFargateTasksIntegrationTest {
    static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z");
    static final TaskKey KEY = new TaskKey(new JobKey(42, 1001), 1);

    final MotoFargate place = MotoFargate.create(MotoServer.shared());
    final EcsFargateTasks fargate = new EcsFargateTasks(place.ecs);
    String table;

    @AfterEach
    void tearDown() {
        place.close();
        if (table != null) {
            SharedDynamo.dropTable(table);
        }
    }

    @Test
    void runStartsOneFargateTaskNamedAfterItsKeyTaggedAndToldHowLongToWait() {
        RunOutcome outcome = fargate.run("fargate-small", place.backend(false), KEY, Capacity.FARGATE);

        RunOutcome.Started started = assertInstanceOf(RunOutcome.Started.class, outcome, outcome.toString());
        assertEquals(Capacity.FARGATE, started.capacity());
        List<Task> tasks = place.running();
        assertEquals(1, tasks.size(), "one task");
        Task task = tasks.getFirst();
        assertEquals(started.taskArn(), task.taskArn());
        assertEquals("runnerscale/42/1001/1", task.startedBy());
        assertEquals(KEY.startedBy(), task.startedBy());
        assertEquals(LaunchType.FARGATE, task.launchType());
        assertTrue(task.taskDefinitionArn().endsWith(":task-definition/" + place.family + ":1"), task.taskDefinitionArn());
        assertEquals(Map.of(EcsFargateTasks.TAG_POOL, "fargate-small", EcsFargateTasks.TAG_JOB, "42/1001"),
                task.tags().stream().collect(Collectors.toMap(Tag::key, Tag::value)));
        List<ContainerOverride> overrides = task.overrides().containerOverrides();
        assertEquals(1, overrides.size());
        assertEquals(MotoFargate.CONTAINER, overrides.getFirst().name(), "the runner container's name from the pool");
        assertEquals(Map.of("RUNNERSCALE_WAIT_TIMEOUT", "120", "RUNNERSCALE_JOB", "42/1001"),
                overrides.getFirst().environment().stream().collect(Collectors.toMap(KeyValuePair::name, KeyValuePair::value)),
                "wait_timeout 2m in seconds; no token or other secret in the overrides");
        // the awsvpc configuration reached ECS: the task's ENI is in the pool's subnet
        assertEquals(place.subnet, task.attachments().getFirst().details().stream()
                .filter(d -> d.name().equals("subnetId")).findFirst().orElseThrow().value());
    }

    @Test
    void anUnknownTaskDefinitionFailsWithAReasonNamingIt() {
        RunOutcome outcome = fargate.run("fargate-small", place.backend("rs-" + place.id + "-missing", false, 3), KEY,
                Capacity.FARGATE);

        RunOutcome.Failed failed = assertInstanceOf(RunOutcome.Failed.class, outcome, outcome.toString());
        assertTrue(failed.reason().contains("rs-" + place.id + "-missing"), failed.reason());
        assertTrue(failed.reason().contains("ClientException: Unable to describe task definition"), failed.reason());
        assertEquals(List.of(), place.running());
    }

    @Test
    void listNamesOnlyTheRunningTasksWhoseStartedByNamesATaskKey() {
        TaskKey second = new TaskKey(new JobKey(42, 1002), 3);
        String ours = ((RunOutcome.Started) fargate.run("p", place.backend(false), KEY, Capacity.FARGATE)).taskArn();
        String stopped = ((RunOutcome.Started) fargate.run("p", place.backend(false), second, Capacity.FARGATE)).taskArn();
        place.ecs.stopTask(r -> r.cluster(place.cluster).task(stopped));
        place.runForeignTask("ecs-svc/1234567890123456789");
        place.runForeignTask("runnerscale/not-a-key");
        place.runForeignTask(null);
        assertEquals(4, place.running().size(), "ours and three foreign tasks run");

        List<FargateTasks.StartedTask> listed = fargate.list(place.backend(false));

        assertEquals(1, listed.size(), listed.toString());
        assertEquals(ours, listed.getFirst().taskArn());
        assertEquals(KEY, listed.getFirst().key());
        assertEquals("RUNNING", listed.getFirst().lastStatus());
    }

    @Test
    void stopStopsTheTaskAndLeavesRunnerscalesReasonOnIt() {
        String arn = ((RunOutcome.Started) fargate.run("p", place.backend(false), KEY, Capacity.FARGATE)).taskArn();

        fargate.stop(place.backend(false), arn, "no job after 9 min");

        assertEquals(List.of(), place.running());
        assertEquals(List.of(), fargate.list(place.backend(false)));
        Task task = place.tasks(DesiredStatus.STOPPED).getFirst();
        assertEquals(arn, task.taskArn());
        assertEquals("STOPPED", task.lastStatus());
        assertEquals("runnerscale: no job after 9 min", task.stoppedReason());
    }

    // ------------------------------------------------------------------ TaskScaler on moto and DynamoDB Local

    @Test
    void aDecisionRunsEachKeyItClaimedOnceAndTheNextDecisionNone() {
        // moto starts a task for every RunTask call, even under one client token: it cannot dedupe for us,
        // so the tasks in moto count the calls
        TaskKey probe = new TaskKey(new JobKey(9, 9), 1);
        fargate.run("probe", place.backend(false), probe, Capacity.FARGATE);
        fargate.run("probe", place.backend(false), probe, Capacity.FARGATE);
        assertEquals(2, place.running().size(), "moto ignores clientToken: two calls, two tasks");
        place.running().forEach(t -> place.ecs.stopTask(r -> r.cluster(place.cluster).task(t.taskArn())));

        DynamoJobStore store = store();
        PoolConfig pool = pool(place.backend(false), 10);
        for (long job = 1; job <= 4; job++) {
            pending(store, pool, job);
        }
        TaskScaler scaler = new TaskScaler(store, fargate);

        scaler.scale(pool, T0, store.liveJobs(pool.name()));

        assertEquals(Map.of("runnerscale/7/1/1", 1, "runnerscale/7/2/1", 1, "runnerscale/7/3/1", 1,
                "runnerscale/7/4/1", 1), runningByStartedBy(), "each job attempt claimed once, run once");
        for (TaskRecord task : store.tasks(pool.name())) {
            assertEquals(TaskState.STARTING, task.state(), task.toString());
            assertTrue(task.taskArn() != null && task.taskArn().contains(":task/" + place.cluster + "/"), task.toString());
            assertEquals("FARGATE", task.capacityProvider());
        }

        // the next decision (or a duplicate scale message) sees four tasks waiting for the four jobs
        scaler.scale(pool, T0.plusSeconds(60), store.liveJobs(pool.name()));
        assertEquals(4, place.running().size());
    }

    @Test
    void aKeyAnotherDecisionClaimedInBetweenIsNotRun() {
        DynamoJobStore store = store();
        PoolConfig pool = pool(place.backend(false), 10);
        for (long job = 1; job <= 3; job++) {
            pending(store, pool, job);
        }
        TaskKey lost = new TaskKey(new JobKey(7, 2), 1);
        // the interleaving made certain: right after this decision read the pool's tasks, another decision
        // claims job 2's first attempt and starts its task (its RunTask answered)
        TaskStore interleaved = new InterleavingStore(store, () -> {
            assertTrue(store.claimTask(pool.name(), lost, T0));
            store.taskStarted(lost, "arn:aws:ecs:us-east-1:123456789012:task/" + place.cluster
                    + "/0123456789abcdef0123456789abcdef", "FARGATE");
        });

        new TaskScaler(interleaved, fargate).scale(pool, T0, store.liveJobs(pool.name()));

        assertEquals(Map.of("runnerscale/7/1/1", 1, "runnerscale/7/3/1", 1), runningByStartedBy(),
                "the claim lost to the other decision is not run again by this one");
        assertEquals("arn:aws:ecs:us-east-1:123456789012:task/" + place.cluster + "/0123456789abcdef0123456789abcdef",
                store.task(lost).orElseThrow().taskArn(), "the other decision's task stays the job's");
    }

    @Test
    void aSpotPoolWhoseSpotRequestStartsNoTaskGetsAnOnDemandTask() {
        // moto ignores the capacity provider strategy and places a request without a launch type on the
        // cluster's EC2 container instances; one too small for the task makes it answer as ECS does when
        // Fargate Spot has no capacity: 200 and no task (ECS adds a failure reason, moto none)
        String big = "rs-" + place.id + "-big";
        place.registerTaskDefinition(big, 8192);
        String instance = place.ec2.runInstances(r -> r.imageId("ami-12c6146b").instanceType("t3.small").minCount(1)
                .maxCount(1).subnetId(place.subnet)).instances().getFirst().instanceId();
        place.ecs.registerContainerInstance(r -> r.cluster(place.cluster)
                .instanceIdentityDocument("{\"instanceId\": \"" + instance + "\", \"region\": \"us-east-1\"}"));
        DynamoJobStore store = store();
        PoolConfig pool = pool(place.backend(big, true, 3), 5);
        pending(store, pool, 1);

        new TaskScaler(store, fargate).scale(pool, T0, store.liveJobs(pool.name()));

        List<Task> tasks = place.running();
        assertEquals(1, tasks.size(), "the on-demand task, and no other");
        assertEquals(LaunchType.FARGATE, tasks.getFirst().launchType(), "started on FARGATE");
        assertEquals("runnerscale/7/1/1", tasks.getFirst().startedBy(), "under the same key");
        TaskRecord record = store.task(new TaskKey(new JobKey(7, 1), 1)).orElseThrow();
        assertEquals(TaskState.STARTING, record.state());
        assertEquals(tasks.getFirst().taskArn(), record.taskArn());
        assertEquals("FARGATE", record.capacityProvider());
    }

    @Test
    void aSpotRequestAnsweredWithA5xxIsRetriedUnderItsKeyNotFallenBack() {
        // a bare cluster: moto answers a request without a launch type with 500 ("No instances found in
        // cluster"). A 5xx may hide a started task, so the adapter says Retry, and the scaler neither
        // falls back to on-demand (another client token: a second task) nor gives the attempt up
        RunOutcome direct = fargate.run("fargate-small", place.backend(true), new TaskKey(new JobKey(7, 99), 1),
                Capacity.FARGATE_SPOT);
        RunOutcome.Retry retry = assertInstanceOf(RunOutcome.Retry.class, direct, direct.toString());
        assertTrue(retry.reason().contains("500"), "the reason says what ECS answered: " + retry.reason());

        DynamoJobStore store = store();
        PoolConfig pool = pool(place.backend(true), 5);
        pending(store, pool, 1);
        TaskScaler scaler = new TaskScaler(store, fargate);

        scaler.scale(pool, T0, store.liveJobs(pool.name()));
        scaler.scale(pool, T0.plusSeconds(60), store.liveJobs(pool.name()));

        assertEquals(List.of(), place.running());
        List<TaskRecord> records = store.tasks(pool.name());
        assertEquals(1, records.size(), "one claim, resumed, no attempt 2: " + records);
        assertEquals(new TaskKey(new JobKey(7, 1), 1), records.getFirst().key());
        assertEquals(TaskState.CLAIMED, records.getFirst().state());
        assertNull(records.getFirst().taskArn());
    }

    // ------------------------------------------------------------------ helpers

    private Map<String, Integer> runningByStartedBy() {
        Map<String, Integer> byStartedBy = new TreeMap<>();
        place.running().forEach(t -> byStartedBy.merge(t.startedBy(), 1, Integer::sum));
        return byStartedBy;
    }

    /** The real store, with something another decision does run once right after the first read of the tasks. */
    static final class InterleavingStore implements TaskStore {
        private final TaskStore store;
        private Runnable between;

        InterleavingStore(TaskStore store, Runnable between) {
            this.store = store;
            this.between = between;
        }

        @Override
        public List<TaskRecord> tasks(String pool) {
            List<TaskRecord> read = store.tasks(pool);
            if (between != null) {
                between.run();
                between = null;
            }
            return read;
        }

        @Override
        public java.util.Optional<TaskRecord> task(TaskKey key) {
            return store.task(key);
        }

        @Override
        public boolean claimTask(String pool, TaskKey key, Instant now) {
            return store.claimTask(pool, key, now);
        }

        @Override
        public void taskStarted(TaskKey key, String taskArn, String capacityProvider) {
            store.taskStarted(key, taskArn, capacityProvider);
        }

        @Override
        public void taskNotStarted(TaskKey key, String reason, Instant now) {
            store.taskNotStarted(key, reason, now);
        }

        @Override
        public TaskUpdate applyTaskEvent(io.runnerscale.compute.TaskEvent event, Instant now) {
            return store.applyTaskEvent(event, now);
        }

        @Override
        public void forgetTask(TaskKey key) {
            store.forgetTask(key);
        }

        @Override
        public Interruption interruption(TaskKey key) {
            return store.interruption(key);
        }

        @Override
        public void recordInterruption(TaskKey key, java.util.List<io.runnerscale.job.JobKey> jobs, boolean handled) {
            store.recordInterruption(key, jobs, handled);
        }

        @Override
        public void taskGone(TaskKey key, String reason, java.time.Instant now) {
            store.taskGone(key, reason, now);
        }
    }

    private DynamoJobStore store() {
        table = SharedDynamo.newTable("tasks");
        return new DynamoJobStore(SharedDynamo.client(), table, Duration.ofDays(7));
    }

    static PoolConfig pool(PoolConfig.Fargate backend, int maxInstances) {
        return new PoolConfig("fargate-small", new PoolConfig.Match(List.of("fargate"), false), backend, 1,
                maxInstances, 0, null, List.of(), ForecastConfig.OFF);
    }

    static void pending(DynamoJobStore store, PoolConfig pool, long jobId) {
        store.apply(new JobEvent(new JobKey(7, jobId), JobStatus.PENDING, 70L, "build", "test", T0, null, null, null,
                null, null, null, List.of("fargate")), pool.name(), T0);
    }
}
