package io.runnerscale.lifecycle;

import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.TestPools;
import io.runnerscale.scaling.ScalingAction;
import io.runnerscale.store.InMemoryJobStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The scaler's drain requests: the right drain for each choice, and none beside a drain that owns the instance. */
class DrainRequestsTest {
    static final Instant NOW = Instant.parse("2025-03-01T10:00:00Z");
    static final String ID = "i-0abc1234def567890";
    final PoolConfig docker = TestPools.tagged("docker", List.of("docker"), true);
    final InMemoryJobStore store = new InMemoryJobStore();
    final LifecycleServiceTest.FakeDrains starter = new LifecycleServiceTest.FakeDrains();
    final DrainRequests requests = new DrainRequests(store, starter, Duration.ofMinutes(45),
            Clock.fixed(NOW, ZoneOffset.UTC));

    @Test
    void anIdleInstanceIsDrainedForScaleInWithItsRunnerAndTheJobTimeout() {
        store.recordRunner(ID, "docker", 41L, InstanceState.READY, NOW.minus(Duration.ofHours(1)));
        requests.drain(docker, ID, ScalingAction.Reason.IDLE);

        assertEquals(List.of("drain-" + ID + "-scale-in-1"), starter.names);
        Drain drain = starter.started.getFirst();
        assertEquals("docker-asg", drain.asg());
        assertEquals(41L, drain.runnerId());
        assertEquals(NOW.plus(Duration.ofMinutes(45)), drain.deadline());
        assertNull(drain.lifecycleHook(), "the drain terminates the instance itself");
        assertEquals(DrainRequests.HEARTBEAT_SECONDS, drain.heartbeatSeconds());
    }

    @Test
    void anOutdatedInstanceIsDrainedAsOutdatedAndMayBeCalledOff() {
        store.recordRunner(ID, "docker", 41L, InstanceState.READY, NOW.minus(Duration.ofHours(1)));
        requests.drain(docker, ID, ScalingAction.Reason.OUTDATED);

        assertEquals(List.of("drain-" + ID + "-outdated-1"), starter.names);
        Drain drain = starter.started.getFirst();
        assertEquals(DrainReason.OUTDATED, drain.reason());
        assertTrue(drain.reason().abandonable(), "a job that starts meanwhile keeps it until it is idle again");
    }

    @ParameterizedTest
    @EnumSource(ScalingAction.Reason.class)
    void eachChoiceHasItsDrainReason(ScalingAction.Reason reason) {
        DrainReason expected = switch (reason) {
            case IDLE -> DrainReason.SCALE_IN;
            case RETIRED -> DrainReason.RETIRED;
            case BOOT_TIMEOUT -> DrainReason.BOOT_TIMEOUT;
            case OUTDATED -> DrainReason.OUTDATED;
        };
        assertEquals(expected, DrainRequests.reasonOf(reason));
    }

    @Test
    void anInstanceAnotherDrainOwnsIsLeftAlone() {
        store.recordRunner(ID, "docker", 41L, InstanceState.DRAINING, NOW);
        requests.drain(docker, ID, ScalingAction.Reason.IDLE);
        assertTrue(starter.names.isEmpty(), "a second drain could unpause the runner the first one paused");
    }

    @Test
    void aGoneInstanceIsNotDrained() {
        store.recordRunner(ID, "docker", null, InstanceState.GONE, NOW);
        requests.drain(docker, ID, ScalingAction.Reason.RETIRED);
        assertTrue(starter.names.isEmpty());
    }

    @Test
    void aRepeatedDecisionFindsTheRunningDrain() {
        store.recordRunner(ID, "docker", 41L, InstanceState.READY, NOW);
        starter.outcomes.add(DrainStarter.Outcome.ALREADY_RUNNING);
        assertEquals(DrainRequests.Result.ALREADY_RUNNING, requests.start(ID, "docker", "docker-asg",
                DrainReason.SCALE_IN, null, NOW, store.lifecycle(ID)));
    }

    @Test
    void aSpentNameMovesToTheNextAttempt() {
        store.recordRunner(ID, "docker", 41L, InstanceState.READY, NOW);
        starter.outcomes.add(DrainStarter.Outcome.NAME_USED);
        requests.drain(docker, ID, ScalingAction.Reason.IDLE);
        assertEquals(List.of("drain-" + ID + "-scale-in-1", "drain-" + ID + "-scale-in-2"), starter.names);
        assertEquals(2, store.lifecycle(ID).orElseThrow().drainAttempt());
    }

    @Test
    void aFargatePoolIsNotDrainedThisWay() {
        PoolConfig fargate = new PoolConfig("f", docker.match(), new PoolConfig.Fargate("cluster", "task", List.of("subnet-1"),
                List.of(), false), docker.capacityPerInstance(), docker.maxInstances(), docker.maxUseCount(),
                docker.bootTimeout(), docker.policy(), docker.forecast());
        assertThrows(IllegalArgumentException.class, () -> requests.drain(fargate, ID, ScalingAction.Reason.IDLE));
        assertTrue(starter.names.isEmpty());
    }
}
