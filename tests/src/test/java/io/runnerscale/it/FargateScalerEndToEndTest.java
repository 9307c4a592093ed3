package io.runnerscale.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.lifecycle.LifecycleHandler;
import io.runnerscale.scaling.ScalerHandler;
import io.runnerscale.store.TaskRecord;
import io.runnerscale.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.ecs.model.Task;
import software.amazon.awssdk.services.sqs.model.Message;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Fargate pool end to end on real parts: the pools in moto SSM, the job and task records in
 * DynamoDB Local, ECS in moto, the scale queue in moto SQS; the scaler and lifecycle functions through
 * their Lambda entry points. ECS's events are built from AWS's example event for the tasks moto
 * started (moto sends no events), after the task is stopped in moto as ECS would stop it.
 */
class FargateScalerEndToEndTest {
    static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z");
    static final String POOL = "fargate-small";
    static final JobKey JOB = new JobKey(7, 1);

    MotoFargate place;
    TestStack stack;
    MutableClock clock;
    ScalerHandler scaler;
    LifecycleHandler lifecycle;

    @BeforeEach
    void setUp() {
        place = MotoFargate.create(MotoServer.shared());
        stack = TestStack.create("""
                pools:
                  - name: fargate-small
                    match: {tags: [fargate]}
                    max_instances: 5
                """ + place.backendYaml(false, 2));
        clock = new MutableClock(T0);
        scaler = stack.scalerHandler(clock, place.ecs);
        lifecycle = stack.lifecycleHandler(clock);
    }

    @AfterEach
    void tearDown() {
        stack.close();
        place.close();
    }

    @Test
    void aPendingJobGetsOneTaskAnotherAfterAFailedOneAndNoneOnceMaxTaskAttemptsFailed() {
        stack.store.apply(new JobEvent(JOB, JobStatus.PENDING, 70L, "build", "test", T0, null, null, null, null, null,
                null, List.of("fargate")), POOL, T0);

        JsonNode first = TestStack.invoke(scaler, stack.sqsEventForPools(POOL));
        assertEquals(1, first.path("decided").get(0).path("actions").asInt(), first.toString());
        Task task1 = onlyRunningTask();
        assertEquals("runnerscale/7/1/1", task1.startedBy());

        // the schedule's tick and a second scale request for the same state: nothing more
        clock.set(T0.plusSeconds(60));
        TestStack.invoke(scaler, stack.sqsEventForPools(POOL));
        TestStack.invoke(scaler, Fixtures.JSON.createObjectNode().put("pool", POOL));
        assertEquals(List.of(task1.taskArn()), place.running().stream().map(Task::taskArn).toList());

        // ECS cannot pull the image: the task stops, its event reaches the lifecycle function, which asks the
        // scaler (through the queue) at once; that decision starts attempt 2
        clock.set(T0.plusSeconds(120));
        assertEquals("FAILED", stopWithError(task1, 3).path("result").asText());
        List<Message> requested = stack.drain();
        assertEquals(1, requested.size(), "the lifecycle function's scale request");
        JsonNode second = TestStack.invoke(scaler, stack.sqsEvent(requested));
        assertEquals(Map.of(POOL, 1), ScalerHandlerIntegrationTest.decided(second), second.toString());
        Task task2 = onlyRunningTask();
        assertEquals("runnerscale/7/1/2", task2.startedBy());

        // max_task_attempts: 2 — the second failure is the job's last
        clock.set(T0.plusSeconds(240));
        assertEquals("FAILED", stopWithError(task2, 2).path("result").asText());
        JsonNode third = TestStack.invoke(scaler, stack.sqsEvent(stack.drain()));
        assertEquals(0, third.path("decided").get(0).path("actions").asInt(), third.toString());
        clock.set(T0.plus(Duration.ofMinutes(10)));
        TestStack.invoke(scaler, Fixtures.JSON.createObjectNode().put("pool", POOL));
        assertEquals(List.of(), place.running(), "no third task");
        List<TaskRecord> records = stack.store.tasks(POOL);
        assertEquals(List.of(new TaskKey(JOB, 1), new TaskKey(JOB, 2)),
                records.stream().map(TaskRecord::key).sorted(java.util.Comparator.comparing(TaskKey::attempt)).toList(),
                "both attempts kept while the job still waits: they say it had its tasks");
        assertTrue(records.stream().allMatch(TaskRecord::failed), records.toString());

        // the job ends (another runner took it, or it was cancelled): its tasks are forgotten
        stack.store.apply(new JobEvent(JOB, JobStatus.CANCELED, 70L, "build", "test", T0, null, T0.plusSeconds(700), null,
                null, null, null, List.of("fargate")), POOL, T0.plusSeconds(700));
        clock.set(T0.plus(Duration.ofMinutes(12)));
        TestStack.invoke(scaler, Fixtures.JSON.createObjectNode().put("pool", POOL));
        assertEquals(List.of(), stack.store.tasks(POOL));
        assertEquals(List.of(), place.running());
    }

    // ------------------------------------------------------------------ helpers

    private Task onlyRunningTask() {
        List<Task> running = place.running();
        assertEquals(1, running.size(), running.toString());
        return running.getFirst();
    }

    /**
     * Stops the task in moto as ECS does when it cannot pull the image, and hands the lifecycle function
     * ECS's event for it (AWS's example event, with this task's ARN, startedBy and statuses).
     */
    private JsonNode stopWithError(Task task, long version) {
        place.ecs.stopTask(r -> r.cluster(place.cluster).task(task.taskArn()));
        ObjectNode event = (ObjectNode) Fixtures.json("aws/ecs-task-state-change.awsdocs.json").deepCopy();
        event.put("time", clock.instant().toString()).put("region", "us-east-1").put("account", "123456789012");
        event.putArray("resources").add(task.taskArn());
        ObjectNode detail = (ObjectNode) event.get("detail");
        detail.put("taskArn", task.taskArn()).put("clusterArn", task.clusterArn()).put("startedBy", task.startedBy())
                .put("taskDefinitionArn", task.taskDefinitionArn()).put("version", version)
                .put("lastStatus", "STOPPED").put("desiredStatus", "STOPPED").put("stopCode", "TaskFailedToStart")
                .put("stoppedReason", "CannotPullContainerError: pull image manifest has been retried 5 time(s)");
        ObjectNode container = (ObjectNode) detail.get("containers").get(0);
        container.put("name", MotoFargate.CONTAINER).put("taskArn", task.taskArn()).put("lastStatus", "STOPPED");
        return TestStack.invoke(lifecycle, event);
    }
}
