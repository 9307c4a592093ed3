package io.runnerscale.scaling;

import io.runnerscale.compute.GroupState;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.metrics.MetricName;
import io.runnerscale.metrics.RecordingMetrics;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.store.InMemoryJobStore;
import io.runnerscale.testing.MutableClock;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static io.runnerscale.pool.TestPools.always;
import static io.runnerscale.pool.TestPools.asg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a decision tells the metrics port: the gauges, the decision count, ScaleLatency and failures. */
class ScalerServiceMetricsTest {
    static final Instant NOW = Instant.parse("2026-01-07T12:00:00Z");
    static final PoolConfig DOCKER = asg("docker", 1, 10, 0, Duration.ofMinutes(5),
            always(0, Duration.ofMinutes(10), 0, 0));
    static final PoolConfig OTHER = asg("other", 1, 10, 0, Duration.ofMinutes(5),
            always(0, Duration.ofMinutes(10), 0, 0));

    final InMemoryJobStore store = new InMemoryJobStore();
    final MutableClock clock = new MutableClock(NOW);
    final RecordingMetrics metrics = new RecordingMetrics();
    /** Reading the group takes {@link #describeTakes}: the decision ends that much after it began. */
    final TimedCompute compute = new TimedCompute();
    Duration describeTakes = Duration.ZERO;

    /** A group with a fixed state whose reading takes {@link #describeTakes}; failing when {@code broken}. */
    final class TimedCompute implements io.runnerscale.compute.Compute, InstanceDrains {
        GroupState group = new GroupState(0, List.of());
        boolean broken;

        @Override
        public GroupState describe(PoolConfig pool) {
            if (broken) {
                throw new IllegalStateException("throttled");
            }
            clock.advance(describeTakes);
            return group;
        }

        @Override
        public void setDesiredCapacity(PoolConfig pool, int desired) {
        }

        @Override
        public void drain(PoolConfig pool, String instanceId, ScalingAction.Reason reason) {
        }
    }

    @BeforeEach
    void watchedAllAlong() {
        store.observePool("docker", NOW.minusSeconds(60));
        store.observePool("other", NOW.minusSeconds(60));
    }

    ScalerService service() {
        return new ScalerService(PoolsConfigSource.fixed(new PoolsConfig(List.of(DOCKER, OTHER))), store, compute,
                compute, DemandForecast.NONE, clock, ScalerService.DEFAULT_WATCH_GAP, null, metrics);
    }

    /** A job whose webhook (status {@code status}) was received at {@code receivedAt}. */
    JobKey job(long id, JobStatus status, String pool, Instant receivedAt) {
        JobKey key = new JobKey(7, id);
        store.apply(new JobEvent(key, status, null, null, null, null, null, null, null, null, null, null, null),
                pool, receivedAt);
        return key;
    }

    @Test
    void scaleLatencyRunsFromThePendingWebhookToTheEndOfTheDecision() {
        JobKey hinted = job(1, JobStatus.PENDING, "docker", NOW.minusSeconds(4));
        job(2, JobStatus.PENDING, "docker", NOW.minusSeconds(30)); // not hinted: a tick's job, no point
        describeTakes = Duration.ofSeconds(2);

        service().scale("docker", List.of(hinted));

        // received 4 s before the decision began, which took 2 s
        assertEquals(List.of(6.0), metrics.values(MetricName.SCALE_LATENCY, "docker"));
    }

    @Test
    void aDecisionWithoutHintsGivesNoLatencyAndAHintedJobOfAnotherPoolNone() {
        JobKey elsewhere = job(1, JobStatus.PENDING, "other", NOW.minusSeconds(4));
        job(2, JobStatus.PENDING, "docker", NOW.minusSeconds(4));

        service().scale("docker");
        service().scale("docker", List.of(elsewhere));

        assertEquals(List.of(), metrics.of(MetricName.SCALE_LATENCY));
    }

    @Test
    void aHintedJobAlreadyRunningStillCountsItsWaitForTheDecision() {
        // an idle runner took it before the decision ran: the scaler was no faster for that
        JobKey key = job(1, JobStatus.PENDING, "docker", NOW.minusSeconds(10));
        store.apply(new JobEvent(key, JobStatus.RUNNING, null, null, null, null, null, null, null, null, null, null,
                null), "docker", NOW.minusSeconds(3));

        service().scale("docker", List.of(key));

        assertEquals(List.of(10.0), metrics.values(MetricName.SCALE_LATENCY, "docker"));
    }

    @Test
    void everyDecisionCountsAndSetsItsGaugesWithInstancesByState() {
        job(1, JobStatus.PENDING, "docker", NOW.minusSeconds(5));
        job(2, JobStatus.PENDING, "docker", NOW.minusSeconds(5));
        job(3, JobStatus.RUNNING, "docker", NOW.minusSeconds(5));
        compute.group = new GroupState(2, List.of(new GroupState.Instance("i-0aaaaaaaaaaaaaaa1", true, NOW.minusSeconds(600)),
                new GroupState.Instance("i-0bbbbbbbbbbbbbbb2", false, NOW.minusSeconds(20))));

        ScalingDecision decision = service().scale("docker").orElseThrow();
        service().scale("docker");

        assertEquals(2.0, metrics.total(MetricName.SCALE_DECISIONS, "docker"));
        assertEquals(2.0, metrics.values(MetricName.PENDING_JOBS, "docker").getLast());
        assertEquals(decision.desiredAfter(), metrics.values(MetricName.DESIRED_INSTANCES, "docker").getLast());
        assertEquals(3.0, metrics.values(MetricName.NEEDED_SLOTS, "docker").getLast(), "2 pending + 1 running");
        // the running job is on no instance the store knows: both instances read as not busy
        assertEquals(1.0, metrics.values(MetricName.INSTANCES, "docker", "idle").getLast());
        assertEquals(1.0, metrics.values(MetricName.INSTANCES, "docker", "booting").getLast());
        assertEquals(0.0, metrics.values(MetricName.INSTANCES, "docker", "busy").getLast(), "zeros are given too");
        assertEquals(0.0, metrics.values(MetricName.INSTANCES, "docker", "draining").getLast());
    }

    @Test
    void aFailedDecisionIsCountedAndRethrown() {
        compute.broken = true;
        ScalerService service = service();

        assertThrows(IllegalStateException.class, () -> service.scale("docker"));

        assertEquals(1.0, metrics.total(MetricName.DECISION_FAILURES, "docker"));
        assertTrue(metrics.of(MetricName.SCALE_DECISIONS).isEmpty());
    }
}
