package io.runnerscale.it;

import io.runnerscale.testing.MutableClock;

import com.fasterxml.jackson.databind.JsonNode;
import io.runnerscale.job.JobStatus;
import io.runnerscale.scaling.ScalerHandler;
import io.runnerscale.store.InstanceRecord;
import io.runnerscale.store.JobStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scaler function on real parts: jobs in DynamoDB Local through the real store, one real Auto
 * Scaling group per pool in moto, the FIFO scale queue in moto.
 */
@ExtendWith(MotoServer.ResetBetweenTests.class)
class ScalerHandlerIntegrationTest {
    static final Instant T0 = Instant.parse("2026-03-02T10:00:00Z");

    TestStack stack;
    io.runnerscale.lifecycle.LifecycleHandler lifecycle;
    /** Names of the drain executions run, in order. */
    final List<String> drained = new ArrayList<>();

    @AfterEach
    void tearDown() {
        if (stack != null) {
            stack.close();
        }
    }

    static final String RULE_POOLS = """
            pools:
              - name: docker          # 5 pending + 2 running + idle_count 1 = 8 slots, 2 per instance -> 4
                match: {tags: [docker], run_untagged: true}
                backend: {type: ec2-asg, asg: rs-@ID@-docker}
                capacity_per_instance: 2
                max_instances: 10
                policy:
                  - {idle_count: 1, idle_time: 10m}
              - name: gpu             # 6 pending, 1 per instance -> 6, capped at 3
                match: {tags: [gpu]}
                backend: {type: ec2-asg, asg: rs-@ID@-gpu}
                capacity_per_instance: 1
                max_instances: 3
              - name: arm             # 4 running + ceil(0.5 x 4) = 2 idle -> 6
                match: {tags: [arm]}
                backend: {type: ec2-asg, asg: rs-@ID@-arm}
                capacity_per_instance: 1
                max_instances: 10
                policy:
                  - {idle_count: 0, idle_time: 10m, scale_factor: 0.5, scale_factor_limit: 10}
              - name: quiet           # nothing to do -> stays 0
                match: {tags: [quiet]}
                backend: {type: ec2-asg, asg: rs-@ID@-quiet}
                max_instances: 5
            """;

    @Test
    void desiredCapacityFollowsTheRuleAndTheCap() {
        stack = TestStack.create(RULE_POOLS);
        Map<String, Integer> max = Map.of("docker", 10, "gpu", 3, "arm", 10, "quiet", 5);
        max.forEach(stack::createAsg);
        long job = 1;
        for (int i = 0; i < 5; i++) {
            apply(stack.store, 100, job++, JobStatus.PENDING, null, "docker", T0);
        }
        for (int i = 0; i < 2; i++) {
            apply(stack.store, 100, job++, JobStatus.RUNNING, null, "docker", T0);   // a runner not ours
        }
        for (int i = 0; i < 6; i++) {
            apply(stack.store, 200, job++, JobStatus.PENDING, null, "gpu", T0);
        }
        for (int i = 0; i < 4; i++) {
            apply(stack.store, 300, job++, JobStatus.RUNNING, null, "arm", T0);
        }
        apply(stack.store, 400, job++, JobStatus.SUCCESS, null, "quiet", T0);        // finished: not live

        ScalerHandler scaler = stack.scalerHandler(new MutableClock(T0));
        JsonNode answer = TestStack.invoke(scaler, stack.sqsEventForPools("docker", "gpu", "arm", "quiet"));

        Map<String, Integer> expected = Map.of("docker", 4, "gpu", 3, "arm", 6, "quiet", 0);
        assertEquals(expected, decided(answer), answer.toString());
        expected.forEach((pool, desired) -> {
            assertEquals(desired, stack.desired(pool), pool + " desired capacity");
            assertEquals(desired, stack.instances(pool).size(), pool + " instances (moto launches at once)");
        });
        assertEquals(0, answer.path("batchItemFailures").size());

        // the same state decided again changes nothing
        JsonNode again = TestStack.invoke(scaler, stack.sqsEventForPools("docker", "gpu", "arm", "quiet"));
        assertEquals(expected, decided(again));
        again.path("decided").forEach(d -> assertEquals(0, d.path("actions").asInt(), again.toString()));
        expected.forEach((pool, desired) -> assertEquals(desired, stack.desired(pool)));
    }

    static final String TWO_POOLS = """
            pools:
              - name: linux
                match: {tags: [linux], run_untagged: true}
                backend: {type: ec2-asg, asg: rs-@ID@-linux}
                max_instances: 5
              - name: windows
                match: {tags: [windows]}
                backend: {type: ec2-asg, asg: rs-@ID@-windows}
                max_instances: 5
            """;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"aws/scheduled-event.aws-lambda-java-libs.json",
            "aws/eventbridge-scheduler-event.aws-lambda-java-libs.json"})
    void scheduleFansOutOneRequestPerPool(String fixture) {
        stack = TestStack.create(TWO_POOLS);
        stack.createAsg("linux", 5);
        stack.createAsg("windows", 5);
        apply(stack.store, 1, 1, JobStatus.PENDING, null, "linux", T0);
        apply(stack.store, 1, 2, JobStatus.PENDING, null, "windows", T0);
        apply(stack.store, 1, 3, JobStatus.PENDING, null, "windows", T0);
        ScalerHandler scaler = stack.scalerHandler(new MutableClock(T0));

        JsonNode ticked = TestStack.invoke(scaler, Fixtures.json(fixture));
        assertEquals("[\"linux\",\"windows\"]", ticked.path("ticked").toString(), ticked.toString());
        assertEquals(0, stack.desired("linux"), "the tick itself decides nothing");
        assertEquals(2, stack.queueDepth());
        // the same minute's tick again (a retried invocation) is deduplicated by the FIFO queue
        // (moto dedupes only against messages still queued, so this is checked before receiving)
        TestStack.invoke(scaler, Fixtures.json(fixture));
        assertEquals(2, stack.queueDepth(), "same minute, same deduplication ids");

        List<Message> messages = stack.drain();
        Map<String, String> bodyPoolByGroup = new HashMap<>();
        for (Message message : messages) {
            bodyPoolByGroup.put(message.attributes().get(MessageSystemAttributeName.MESSAGE_GROUP_ID),
                    readTree(message.body()).path("pool").asText());
        }
        assertEquals(Map.of("linux", "linux", "windows", "windows"), bodyPoolByGroup);

        // the queue hands the ticks back to the scaler: one decision per pool
        JsonNode decided = TestStack.invoke(scaler, stack.sqsEvent(messages));
        assertEquals(Map.of("linux", 1, "windows", 2), decided(decided));
        assertEquals(1, stack.desired("linux"));
        assertEquals(2, stack.desired("windows"));
    }

    @Test
    void aPoolWhoseGroupIsMissingDoesNotHoldUpTheOthers() {
        stack = TestStack.create(TWO_POOLS);
        stack.createAsg("linux", 5);                               // windows' group was never created
        apply(stack.store, 1, 1, JobStatus.PENDING, null, "linux", T0);
        apply(stack.store, 1, 2, JobStatus.PENDING, null, "windows", T0);
        ScalerHandler scaler = stack.scalerHandler(new MutableClock(T0));

        JsonNode answer = TestStack.invoke(scaler, stack.sqsEventForPools("windows", "linux", "removed-pool"));
        assertEquals(Map.of("linux", 1), decided(answer), answer.toString());
        assertEquals(0, answer.path("batchItemFailures").size(), "failed decisions are not retried: the tick redoes them");
        assertEquals(1, stack.desired("linux"));

        // an operator's direct invocation
        JsonNode direct = TestStack.invoke(scaler, Fixtures.JSON.createObjectNode().put("pool", "linux"));
        assertTrue(direct.path("decision").asText().contains("desiredAfter=1"), direct.toString());
        assertEquals("unknown pool", TestStack.invoke(scaler, Fixtures.JSON.createObjectNode().put("pool", "nope"))
                .path("decision").asText());
    }

    static final String SCALE_IN_POOL = """
            pools:
              - name: docker
                match: {tags: [docker], run_untagged: true}
                backend: {type: ec2-asg, asg: rs-@ID@-docker}
                capacity_per_instance: 1
                max_instances: 5
                policy:
                  - {idle_count: 0, idle_time: 10m}
            """;

    @Test
    void scaleInRemovesOnlyInstancesIdlePastIdleTimeAndNeverOneWithARunningJob() {
        stack = TestStack.create(SCALE_IN_POOL);
        stack.createAsg("docker", 5);
        MutableClock clock = new MutableClock(T0);
        ScalerHandler scaler = stack.scalerHandler(clock);
        lifecycle = stack.lifecycleHandler(clock);
        for (long job = 1; job <= 3; job++) {
            apply(stack.store, 500, job, JobStatus.PENDING, null, "docker", T0);
        }

        decide(scaler, 3);
        List<String> all = stack.instances("docker");
        assertEquals(3, all.size());
        clock.set(T0.plus(Duration.ofMinutes(1)));
        decide(scaler, 3);                                        // the tick that first sees the instances
        assertEquals(Set.copyOf(all), Set.copyOf(instanceIds(stack.store.instances("docker"))));

        String a = all.get(0);
        String b = all.get(1);
        String c = all.get(2);
        // jobs 1 and 2 start on a and b; job 3 is cancelled: pending drops to 0
        apply(stack.store, 500, 1, JobStatus.RUNNING, a, "docker", T0.plus(Duration.ofMinutes(2)));
        apply(stack.store, 500, 2, JobStatus.RUNNING, b, "docker", T0.plus(Duration.ofMinutes(2)));
        apply(stack.store, 500, 3, JobStatus.CANCELED, null, "docker", T0.plus(Duration.ofMinutes(2)));

        tickUntil(scaler, clock, 5);                // c idle 4 min < 10 min: kept
        decide(scaler, 3);
        assertEquals(all, stack.instances("docker"));

        tickUntil(scaler, clock, 12);               // c went at the tick of minute 11 (idle 10 min since first seen); a and b run jobs
        decide(scaler, 2);
        assertEquals(sorted(a, b), stack.instances("docker"));
        assertEquals(List.of("drain-" + c + "-scale-in-1"), drained, "c left through a scale-in drain");

        apply(stack.store, 500, 2, JobStatus.SUCCESS, b, "docker", T0.plus(Duration.ofMinutes(20)),
                T0.plus(Duration.ofMinutes(20)));
        tickUntil(scaler, clock, 25);               // b idle 5 min since its job: kept
        decide(scaler, 2);
        assertEquals(sorted(a, b), stack.instances("docker"));

        tickUntil(scaler, clock, 31);               // b went at minute 30 (idle 10 min since its job)
        decide(scaler, 1);
        assertEquals(List.of(a), stack.instances("docker"));

        tickUntil(scaler, clock, 90);               // a's long job still runs: a stays
        decide(scaler, 1);
        assertEquals(List.of(a), stack.instances("docker"));

        apply(stack.store, 500, 1, JobStatus.SUCCESS, a, "docker", T0.plus(Duration.ofMinutes(91)),
                T0.plus(Duration.ofMinutes(91)));
        tickUntil(scaler, clock, 95);
        decide(scaler, 1);
        assertEquals(List.of(a), stack.instances("docker"));
        tickUntil(scaler, clock, 102);
        decide(scaler, 0);
        assertEquals(List.of(), stack.instances("docker"));
        assertEquals(List.of("drain-" + c + "-scale-in-1", "drain-" + b + "-scale-in-1", "drain-" + a + "-scale-in-1"),
                drained, "each instance drained once, only once idle");
        decide(scaler, 0);
        assertEquals(List.of(), stack.store.instances("docker"), "instances that left the group are forgotten");
    }

    @Test
    void newPendingJobsScaleOutPastBusyInstancesWithoutTouchingThem() {
        stack = TestStack.create(SCALE_IN_POOL);
        stack.createAsg("docker", 5);
        MutableClock clock = new MutableClock(T0);
        ScalerHandler scaler = stack.scalerHandler(clock);
        lifecycle = stack.lifecycleHandler(clock);
        apply(stack.store, 600, 1, JobStatus.PENDING, null, "docker", T0);
        apply(stack.store, 600, 2, JobStatus.PENDING, null, "docker", T0);
        decide(scaler, 2);
        clock.set(T0.plus(Duration.ofMinutes(1)));
        decide(scaler, 2);
        List<String> first = stack.instances("docker");
        apply(stack.store, 600, 1, JobStatus.RUNNING, first.get(0), "docker", T0.plus(Duration.ofMinutes(2)));
        apply(stack.store, 600, 2, JobStatus.RUNNING, first.get(1), "docker", T0.plus(Duration.ofMinutes(2)));
        for (long job = 3; job <= 9; job++) {                    // 7 more pending: 9 slots wanted, max 5
            apply(stack.store, 600, job, JobStatus.PENDING, null, "docker", T0.plus(Duration.ofMinutes(3)));
        }
        clock.set(T0.plus(Duration.ofMinutes(30)));
        decide(scaler, 5);
        List<String> now = stack.instances("docker");
        assertEquals(5, now.size());
        assertTrue(now.containsAll(first), "busy instances untouched: " + first + " in " + now);
    }

    @Test
    void anUpgradeDrainsIdleInstancesOfTheOldVersionAndLeavesBusyOnesToTheirJobs() {
        stack = TestStack.create(SCALE_IN_POOL);
        stack.createAsgFromTemplate("docker", 5);
        MutableClock clock = new MutableClock(T0);
        ScalerHandler scaler = stack.scalerHandler(clock);
        lifecycle = stack.lifecycleHandler(clock);
        for (long job = 1; job <= 3; job++) {
            apply(stack.store, 700, job, JobStatus.PENDING, null, "docker", T0);
        }
        decide(scaler, 3);
        clock.set(T0.plus(Duration.ofMinutes(1)));
        decide(scaler, 3);
        List<String> all = stack.instances("docker");
        String a = all.get(0);
        String b = all.get(1);
        String c = all.get(2);
        // a runs job 1; b ran job 2; job 3 was cancelled: b and c idle, but far from idle_time (10 min)
        apply(stack.store, 700, 1, JobStatus.RUNNING, a, "docker", T0.plus(Duration.ofMinutes(2)));
        apply(stack.store, 700, 2, JobStatus.RUNNING, b, "docker", T0.plus(Duration.ofMinutes(2)));
        apply(stack.store, 700, 2, JobStatus.SUCCESS, b, "docker", T0.plus(Duration.ofMinutes(3)),
                T0.plus(Duration.ofMinutes(3)));
        apply(stack.store, 700, 3, JobStatus.CANCELED, null, "docker", T0.plus(Duration.ofMinutes(2)));
        tickUntil(scaler, clock, 4);
        decide(scaler, 3);
        assertEquals(List.of(), stack.drainExecutions(), "nothing idle long enough, nothing outdated");

        stack.upgradeTemplate("docker");                 // a new AMI / runner version: launch template version 2
        clock.set(T0.plus(Duration.ofMinutes(5)));
        JsonNode answer = TestStack.invoke(scaler, stack.sqsEventForPools("docker"));
        assertEquals(Map.of("docker", 1), decided(answer), "b and c go; a stays for its job " + answer);
        assertEquals(sorted("drain-" + b + "-outdated-1", "drain-" + c + "-outdated-1"), stack.drainExecutions());
        assertEquals(3, stack.desired("docker"), "b and c still in the group: each drain lowers it as it terminates");

        // a new pending job: its instance comes from version 2 and is not drained; a keeps its job
        apply(stack.store, 700, 4, JobStatus.PENDING, null, "docker", T0.plus(Duration.ofMinutes(6)));
        clock.set(T0.plus(Duration.ofMinutes(6)));
        JsonNode scaledOut = TestStack.invoke(scaler, stack.sqsEventForPools("docker"));
        assertEquals(Map.of("docker", 2), decided(scaledOut), "a for its job, one new for job 4 " + scaledOut);
        assertEquals(4, stack.desired("docker"), "plus b and c until their drains end");
        assertEquals(4, stack.instances("docker").size());
        clock.set(T0.plus(Duration.ofMinutes(7)));
        TestStack.invoke(scaler, stack.sqsEventForPools("docker"));
        assertEquals(sorted("drain-" + b + "-outdated-1", "drain-" + c + "-outdated-1"), stack.drainExecutions(),
                "a (busy) and the new instance are left alone; b and c's drains are the running ones");

        // b and c's drains end (GitLab lists no job on them): each lowers desired capacity as it terminates
        assertEquals(sorted(b, c), sorted(drainsRunNow().toArray(String[]::new)));
        clock.set(T0.plus(Duration.ofMinutes(8)));
        decide(scaler, 2);
        List<String> left = stack.instances("docker");
        assertTrue(left.contains(a), "a still runs job 1: " + left);
        assertEquals(2, left.size());

        // a's job ends: a goes as well, the new instance stays for job 4
        apply(stack.store, 700, 1, JobStatus.SUCCESS, a, "docker", T0.plus(Duration.ofMinutes(9)),
                T0.plus(Duration.ofMinutes(9)));
        clock.set(T0.plus(Duration.ofMinutes(9)));
        JsonNode last = TestStack.invoke(scaler, stack.sqsEventForPools("docker"));
        assertEquals(Map.of("docker", 1), decided(last), last.toString());
        assertTrue(stack.drainExecutions().contains("drain-" + a + "-outdated-1"), stack.drainExecutions().toString());
        assertEquals(List.of(a), drainsRunNow());
        assertEquals(1, stack.desired("docker"));
    }

    // ------------------------------------------------------------------ helpers

    /**
     * The drains the scaler started, run as Step Functions would (moto only stores them). These
     * instances have no runner, so a drain goes MarkDraining, PauseRunner (nothing to pause),
     * RunningJobs, Terminate: every one must end terminated, and only an instance the scaler chose
     * (idle) is ever drained.
     */
    private void runDrains() {
        drainsRunNow();
    }

    /** {@link #runDrains}, answering the instances the drains terminated. */
    private List<String> drainsRunNow() {
        List<String> instances = new java.util.ArrayList<>();
        for (String ran : stack.runNewDrains(lifecycle)) {
            assertTrue(ran.endsWith(" Drained"), ran);
            String name = ran.substring(0, ran.indexOf(' '));
            drained.add(name);
            String[] parts = name.split("-");   // drain-i-<hex>-<reason>-<attempt>
            instances.add(parts[1] + "-" + parts[2]);
        }
        return instances;
    }

    /**
     * The schedule's ticks up to {@code minute} (decided directly, as an operator's invocation does),
     * then the clock at {@code minute}: a pool left without decisions for long is one whose instances
     * may have run jobs nobody saw, and is never scaled in.
     */
    private void tickUntil(ScalerHandler scaler, MutableClock clock, int minute) {
        long from = Duration.between(T0, clock.instant()).toMinutes() + 1;
        for (long m = from; m < minute; m++) {
            clock.set(T0.plus(Duration.ofMinutes(m)));
            TestStack.invoke(scaler, Fixtures.JSON.createObjectNode().put("pool", "docker"));
            runDrains();
        }
        clock.set(T0.plus(Duration.ofMinutes(minute)));
    }

    private void decide(ScalerHandler scaler, int expectedDesired) {
        JsonNode answer = TestStack.invoke(scaler, stack.sqsEventForPools("docker"));
        assertEquals(Map.of("docker", expectedDesired), decided(answer), answer.toString());
        runDrains();
        assertEquals(expectedDesired, stack.desired("docker"), "desired capacity in the group");
    }

    static Map<String, Integer> decided(JsonNode answer) {
        Map<String, Integer> out = new HashMap<>();
        answer.path("decided").forEach(d -> out.put(d.path("pool").asText(), d.path("desired").asInt()));
        return out;
    }

    static void apply(JobStore store, long project, long job, JobStatus status, String instanceId, String pool,
                      Instant now) {
        apply(store, project, job, status, instanceId, pool, now, null);
    }

    static void apply(JobStore store, long project, long job, JobStatus status, String instanceId, String pool,
                      Instant now, Instant finishedAt) {
        JobStore.ApplyOutcome outcome = store.apply(TestStack.jobEvent(project, job, status, instanceId, finishedAt),
                pool, now);
        assertInstanceOf(JobStore.ApplyOutcome.Applied.class, outcome, project + "/" + job + " " + status);
    }

    private static List<String> instanceIds(List<InstanceRecord> records) {
        return records.stream().map(InstanceRecord::instanceId).toList();
    }

    private static List<String> sorted(String... ids) {
        return new ArrayList<>(new TreeSet<>(List.of(ids)));
    }

    private static JsonNode readTree(String json) {
        try {
            return Fixtures.JSON.readTree(json);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
