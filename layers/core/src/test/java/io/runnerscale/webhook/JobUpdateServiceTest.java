package io.runnerscale.webhook;

import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolsConfigParser;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.scaling.InMemoryDemandHistory;
import io.runnerscale.scaling.ScaleRequests;
import io.runnerscale.store.InMemoryJobStore;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Applying job events: one scale request per pool, demand only where forecasting is on, bounded parallelism. */
class JobUpdateServiceTest {
    static final Instant NOW = Instant.parse("2026-01-07T12:00:00Z");
    static final PoolsConfigSource POOLS = PoolsConfigSource.fixed(PoolsConfigParser.parse("""
            pools:
              - name: docker
                match: {tags: [docker], run_untagged: true}
                backend: {type: ec2-asg, asg: g-docker}
                forecast: true
              - name: gpu
                match: {tags: [gpu]}
                backend: {type: ec2-asg, asg: g-gpu}
            """, "test"));

    record Request(String pool, String dedupeId, List<JobKey> jobs) {
    }

    final List<Request> requests = new ArrayList<>();
    final ScaleRequests scaleRequests = new ScaleRequests() {
        @Override
        public void request(String pool, String reason, String dedupeId) {
            request(pool, reason, dedupeId, List.of());
        }

        @Override
        public synchronized void request(String pool, String reason, String dedupeId, List<JobKey> jobs) {
            requests.add(new Request(pool, dedupeId, jobs));
        }
    };
    final InMemoryJobStore store = new InMemoryJobStore();
    final InMemoryDemandHistory demand = new InMemoryDemandHistory();

    JobUpdateService service(io.runnerscale.store.JobStore jobStore) {
        return new JobUpdateService(POOLS, jobStore, new PoolResolver(
                key -> key.jobId() % 2 == 0 ? List.of("gpu") : List.of("docker"), jobStore, 10_000),
                scaleRequests, demand);
    }

    static List<JobEvent> pending(int from, int to) {
        List<JobEvent> events = new ArrayList<>();
        for (int job = from; job <= to; job++) {
            events.add(new JobEvent(new JobKey(5, job), JobStatus.PENDING, null, null, null, null, null, null, null,
                    null, null, null, null));
        }
        return events;
    }

    @Test
    void oneScaleRequestPerPoolNamingItsNewJobsAtMostFiveHundred() {
        service(store).apply(pending(1, 1_201), NOW);

        assertEquals(2, requests.size());
        Request docker = requests.stream().filter(r -> r.pool().equals("docker")).findFirst().orElseThrow();
        Request gpu = requests.stream().filter(r -> r.pool().equals("gpu")).findFirst().orElseThrow();
        assertEquals(JobUpdateService.MAX_HINTS, docker.jobs().size(), "601 new jobs, 500 named: the rest the index lists");
        assertEquals(JobUpdateService.MAX_HINTS, gpu.jobs().size());
        assertEquals(601, store.liveJobs("docker").size());
        assertTrue(docker.dedupeId().startsWith("pending-docker-" + NOW.toEpochMilli() + "-"), docker.dedupeId());
    }

    @Test
    void exactlyFiveHundredNewJobsAreAllNamed() {
        service(store).apply(pending(1, 999), NOW);   // odd ids: 500 docker jobs
        Request docker = requests.stream().filter(r -> r.pool().equals("docker")).findFirst().orElseThrow();
        assertEquals(500, docker.jobs().size());
        assertEquals(new JobKey(5, 1), docker.jobs().getFirst());
    }

    @Test
    void demandIsCountedOnlyForPoolsThatForecastAndOnlyForNewPendingJobs() {
        JobUpdateService service = service(store);
        service.apply(pending(1, 10), NOW);
        service.apply(pending(1, 10), NOW.plusSeconds(5));   // duplicates: stale, not counted again

        assertEquals(5, demand.count("docker", NOW.minusSeconds(60), NOW.plusSeconds(60)));
        assertEquals(0, demand.count("gpu", NOW.minusSeconds(60), NOW.plusSeconds(60)), "gpu does not forecast");
        assertEquals(2, requests.size(), "the stale second batch asks for nothing");
    }

    @Test
    void aFailingDemandCountDoesNotLoseTheJob() {
        JobUpdateService service = new JobUpdateService(POOLS, store, new PoolResolver(key -> List.of(), store, 10),
                scaleRequests, new io.runnerscale.scaling.DemandHistory() {
                    @Override
                    public void record(String pool, Instant requestedAt) {
                        throw new IllegalStateException("throttled");
                    }

                    @Override
                    public int count(String pool, Instant from, Instant to) {
                        return 0;
                    }

                    @Override
                    public Instant since(String pool) {
                        return null;
                    }
                });
        service.apply(pending(1, 1), NOW);
        assertEquals(1, store.liveJobs("docker").size());
        assertEquals(1, requests.size());
    }

    @Test
    void aFailingScaleRequestDoesNotLoseTheJobs() {
        JobUpdateService service = new JobUpdateService(POOLS, store, new PoolResolver(key -> List.of(), store, 10),
                (pool, reason, dedupe) -> {
                    throw new IllegalStateException("SQS throttled");
                }, null);
        assertEquals(3, service.apply(pending(1, 3), NOW).stream().filter(JobUpdateService.Outcome::applied).count());
        assertEquals(3, store.liveJobs("docker").size());
    }

    @Test
    void atMostSixteenEventsAreAppliedAtOnce() {
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        WebhookServiceTest.FlakyStore slow = new WebhookServiceTest.FlakyStore() {
            @Override
            public ApplyOutcome apply(JobEvent event, String pool, Instant now) {
                most.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                try {
                    Thread.sleep(5);
                    return super.apply(event, pool, now);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                } finally {
                    inFlight.decrementAndGet();
                }
            }
        };
        service(slow).apply(pending(1, 200), NOW);
        assertTrue(most.get() <= JobUpdateService.MAX_PARALLEL, most.get() + " at once");
        assertTrue(most.get() > 1, "applied in parallel: " + most.get());
        assertEquals(100, slow.delegate.liveJobs("docker").size());
    }

    static JobEvent event(long job, JobStatus status, Instant startedAt, Double queuedSeconds) {
        return new JobEvent(new JobKey(5, job), status, null, null, null, NOW.minusSeconds(120), startedAt, null,
                queuedSeconds, status == JobStatus.PENDING ? null : 7L, "r", null, List.of("docker"));
    }

    @Test
    void eachJobsWaitIsReportedOnceWhenItStartsRunning() {
        List<String> waits = new ArrayList<>();
        JobUpdateService service = new JobUpdateService(POOLS, store, new PoolResolver(key -> List.of("docker"), store, 10),
                scaleRequests, null, (pool, wait) -> waits.add(pool + " " + wait.toMillis()));
        service.apply(List.of(event(1, JobStatus.PENDING, null, null)), NOW);
        assertEquals(List.of(), waits, "a pending job has not waited yet");
        // GitLab's own build_queued_duration first
        service.apply(List.of(event(1, JobStatus.RUNNING, NOW, 12.5)), NOW);
        assertEquals(List.of("docker 12500"), waits);
        // a duplicate or a later status of the same job: not again
        service.apply(List.of(event(1, JobStatus.RUNNING, NOW, 12.5)), NOW);
        service.apply(List.of(event(1, JobStatus.SUCCESS, NOW, 12.5)), NOW);
        assertEquals(List.of("docker 12500"), waits);
        // a job first seen running (its pending event lost) still counts, from the payload's queued duration
        service.apply(List.of(event(2, JobStatus.RUNNING, NOW, 3.0)), NOW);
        assertEquals(List.of("docker 12500", "docker 3000"), waits);
        // without a queued duration nor a pending time: nothing to report
        service.apply(List.of(event(3, JobStatus.RUNNING, NOW, null)), NOW);
        assertEquals(2, waits.size());
        // a job that finished without the running event was never seen waiting for a runner
        service.apply(List.of(event(4, JobStatus.PENDING, null, null)), NOW);
        service.apply(List.of(event(4, JobStatus.SUCCESS, NOW, 4.0)), NOW);
        assertEquals(2, waits.size());
    }

    @Test
    void aFailingWaitRecorderLosesNothing() {
        JobUpdateService service = new JobUpdateService(POOLS, store, new PoolResolver(key -> List.of("docker"), store, 10),
                scaleRequests, null, (pool, wait) -> {
                    throw new IllegalStateException("metrics down");
                });
        service.apply(List.of(event(9, JobStatus.RUNNING, NOW, 1.0)), NOW);
        assertEquals(JobStatus.RUNNING, store.find(new JobKey(5, 9)).orElseThrow().status());
    }

    @Test
    void theWaitFallsBackToTheStoredPendingAndStartTimes() {
        JobRecord record = new JobRecord(new JobKey(5, 1), JobStatus.RUNNING, "docker", List.of(), null, null, null,
                NOW.minusSeconds(40), NOW, null, 7L, null, NOW);
        JobUpdateService.Outcome outcome = new JobUpdateService.Outcome(event(1, JobStatus.RUNNING, NOW, null), null,
                new io.runnerscale.store.JobStore.ApplyOutcome.Applied(JobStatus.PENDING, record));
        assertEquals(java.time.Duration.ofSeconds(40), JobUpdateService.waitOf(outcome));
        JobRecord clockSkew = new JobRecord(new JobKey(5, 1), JobStatus.RUNNING, "docker", List.of(), null, null, null,
                NOW.plusSeconds(40), NOW, null, 7L, null, NOW);
        assertEquals(null, JobUpdateService.waitOf(new JobUpdateService.Outcome(event(1, JobStatus.RUNNING, NOW, null),
                null, new io.runnerscale.store.JobStore.ApplyOutcome.Applied(JobStatus.PENDING, clockSkew))));
        assertEquals(null, JobUpdateService.waitOf(new JobUpdateService.Outcome(event(1, JobStatus.RUNNING, NOW, -1.0),
                null, new io.runnerscale.store.JobStore.ApplyOutcome.Applied(JobStatus.RUNNING, record))));
    }
}
