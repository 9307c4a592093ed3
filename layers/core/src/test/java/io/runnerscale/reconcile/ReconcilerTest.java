package io.runnerscale.reconcile;

import io.runnerscale.gitlab.GitLabJobs;
import io.runnerscale.gitlab.GitLabRejectedException;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.gitlab.JobLookup;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolsConfigParser;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.reconcile.ReconcileReport.Kind;
import io.runnerscale.reconcile.ReconcileReport.Stop;
import io.runnerscale.scaling.ScaleRequests;
import io.runnerscale.store.InstanceRecord;
import io.runnerscale.store.JobStore;
import io.runnerscale.testing.DelegatingJobStore;
import io.runnerscale.testing.MutableClock;
import io.runnerscale.webhook.JobUpdateService;
import io.runnerscale.webhook.PoolResolver;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reconciler against a fake GitLab and the in-memory store, through the webhook's own
 * {@link JobUpdateService}: which jobs it asks about, in which order, what it writes, and that a
 * run GitLab cuts short loses nothing and resumes.
 */
class ReconcilerTest {
    static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
    static final String INSTANCE = "i-0123456789abcdef0";
    static final PoolsConfigSource POOLS = PoolsConfigSource.fixed(PoolsConfigParser.parse("""
            pools:
              - name: docker
                match: {tags: [docker], run_untagged: true}
                backend: {type: ec2-asg, asg: g-docker}
              - name: gpu
                match: {tags: [gpu]}
                backend: {type: ec2-asg, asg: g-gpu}
            """, "test"));

    /** GitLab's jobs: an answer (a lookup, or an exception to throw) per job; unknown jobs are 404s. */
    static final class FakeGitLab implements GitLabJobs {
        final Map<JobKey, Object> answers = new HashMap<>();
        final List<JobKey> calls = new ArrayList<>();

        @Override
        public JobLookup job(JobKey key) {
            calls.add(key);
            Object answer = answers.getOrDefault(key, new JobLookup.Gone(key, false, "404 Not found"));
            if (answer instanceof RuntimeException e) {
                throw e;
            }
            return (JobLookup) answer;
        }

        void has(JobKey key, JobStatus status, String runner, List<String> tags) {
            answers.put(key, new JobLookup.Found(event(key, status, runner, tags)));
        }
    }

    final MutableClock clock = new MutableClock(NOW);
    final FakeGitLab gitlab = new FakeGitLab();
    /** The webhook's tag lookup: the reconciler's answers carry the tags, so it is never needed. */
    final AtomicInteger tagLookups = new AtomicInteger();
    final List<String> scaleRequests = new ArrayList<>();
    JobStore store = new DelegatingJobStore();

    static JobEvent event(JobKey key, JobStatus status, String runner, List<String> tags) {
        return new JobEvent(key, status, 6L, "rspec", "test", NOW.minus(Duration.ofHours(3)), null, null, null,
                runner == null ? null : 32L, runner, null, tags);
    }

    static JobKey job(long id) {
        return new JobKey(380, id);
    }

    /** A job stored as the webhook would have stored it, its last event {@code ago} before NOW. */
    void stored(JobKey key, JobStatus status, String pool, Duration ago) {
        if (status != JobStatus.PENDING) {
            store.apply(event(key, JobStatus.PENDING, null, List.of(pool)), pool, NOW.minus(ago).minusSeconds(60));
        }
        store.apply(event(key, status, status == JobStatus.PENDING ? null : INSTANCE, List.of(pool)), pool,
                NOW.minus(ago));
    }

    Reconciler reconciler(ReconcileSettings settings) {
        ScaleRequests requests = new ScaleRequests() {
            @Override
            public void request(String pool, String reason, String dedupeId) {
                scaleRequests.add(pool);
            }

            @Override
            public void request(String pool, String reason, String dedupeId, List<JobKey> jobs) {
                scaleRequests.add(pool);
            }
        };
        JobUpdateService updates = new JobUpdateService(POOLS, store, new PoolResolver(key -> {
            tagLookups.incrementAndGet();
            return List.of("docker");
        }, store, 100), requests, null);
        return new Reconciler(POOLS, store, gitlab, updates, clock, settings);
    }

    Reconciler reconciler() {
        return reconciler(ReconcileSettings.DEFAULTS);
    }

    JobStatus status(JobKey key) {
        return store.find(key).map(JobRecord::status).orElseThrow();
    }

    @Test
    void aLostRunningAndALostFinishAreRepairedThroughTheWebhooksWrite() {
        stored(job(1), JobStatus.PENDING, "docker", Duration.ofMinutes(10));
        stored(job(2), JobStatus.RUNNING, "docker", Duration.ofHours(2));
        gitlab.has(job(1), JobStatus.RUNNING, INSTANCE, List.of("docker"));
        gitlab.has(job(2), JobStatus.SUCCESS, INSTANCE, List.of("docker"));

        ReconcileReport report = reconciler().run();

        assertEquals(JobStatus.RUNNING, status(job(1)));
        assertEquals(JobStatus.SUCCESS, status(job(2)));
        assertEquals(List.of(job(1)), store.liveJobs("docker").stream().map(JobRecord::key).toList());
        InstanceRecord instance = store.instances("docker").stream()
                .filter(i -> i.instanceId().equals(INSTANCE)).findFirst().orElseThrow();
        assertEquals(NOW, instance.lastJobFinishedAt(), "idle from the repair, as after the lost hook");
        assertEquals(1, instance.useCount());
        assertEquals(1, report.count(Kind.TO_RUNNING));
        assertEquals(1, report.count(Kind.TO_FINISHED));
        assertEquals(2, report.checked());
        assertEquals(2, report.repaired());
        assertEquals(Stop.COMPLETE, report.stop());
        assertEquals(0, report.left());
        assertEquals(List.of(
                        new ReconcileReport.Repair(job(2), "docker", JobStatus.RUNNING, JobStatus.SUCCESS, Kind.TO_FINISHED),
                        new ReconcileReport.Repair(job(1), "docker", JobStatus.PENDING, JobStatus.RUNNING, Kind.TO_RUNNING)),
                report.repairs(), "oldest last event first");
        assertEquals(0, tagLookups.get(), "the read-back's tags find the pool: no second call");
        assertEquals(List.of(), scaleRequests, "nothing became newly pending");
    }

    @Test
    void jobsWithRecentEventsAreNotAsked() {
        stored(job(1), JobStatus.PENDING, "docker", Duration.ofMinutes(4));
        stored(job(2), JobStatus.RUNNING, "gpu", Duration.ofMinutes(59));
        stored(job(3), JobStatus.CANCELING, "gpu", Duration.ofMinutes(9));

        ReconcileReport report = reconciler().run();

        assertEquals(List.of(), gitlab.calls);
        assertEquals(0, report.stale());
        assertEquals(Stop.COMPLETE, report.stop());
    }

    @Test
    void eachStatusHasItsThreshold() {
        stored(job(1), JobStatus.PENDING, "docker", Duration.ofMinutes(5));
        stored(job(2), JobStatus.RUNNING, "gpu", Duration.ofMinutes(30));
        stored(job(3), JobStatus.RUNNING, "gpu", Duration.ofMinutes(61));
        stored(job(4), JobStatus.CANCELING, "gpu", Duration.ofMinutes(11));
        gitlab.has(job(1), JobStatus.PENDING, null, List.of("docker"));
        gitlab.has(job(3), JobStatus.RUNNING, INSTANCE, List.of("gpu"));
        gitlab.has(job(4), JobStatus.CANCELED, INSTANCE, List.of("gpu"));

        ReconcileReport report = reconciler().run();

        assertEquals(List.of(job(3), job(4), job(1)), gitlab.calls, "pending at 5 min, running past 1 h, canceling past 10 min");
        assertEquals(2, report.count(Kind.UNCHANGED));
        assertEquals(1, report.count(Kind.TO_FINISHED));
        assertEquals(JobStatus.CANCELED, status(job(4)));
    }

    @Test
    void theBudgetTakesTheOldestAcrossPoolsAndTheRestFollowNextRun() {
        stored(job(1), JobStatus.PENDING, "docker", Duration.ofMinutes(6));
        stored(job(2), JobStatus.RUNNING, "gpu", Duration.ofHours(5));
        stored(job(3), JobStatus.PENDING, "docker", Duration.ofMinutes(30));
        stored(job(4), JobStatus.RUNNING, "docker", Duration.ofHours(2));
        stored(job(5), JobStatus.PENDING, "gpu", Duration.ofMinutes(8));
        for (long id = 1; id <= 5; id++) {
            gitlab.has(job(id), JobStatus.FAILED, INSTANCE, List.of(id == 2 || id == 5 ? "gpu" : "docker"));
        }
        Reconciler reconciler = reconciler(ReconcileSettings.DEFAULTS.withBudget(2));

        ReconcileReport first = reconciler.run();
        assertEquals(List.of(job(2), job(4)), gitlab.calls);
        assertEquals(Stop.BUDGET, first.stop());
        assertEquals(5, first.stale());
        assertEquals(3, first.left());

        clock.advance(Duration.ofMinutes(5));
        ReconcileReport second = reconciler.run();
        assertEquals(List.of(job(2), job(4), job(3), job(5)), gitlab.calls);
        assertEquals(Stop.BUDGET, second.stop());
        assertEquals(1, second.left());

        clock.advance(Duration.ofMinutes(5));
        ReconcileReport third = reconciler.run();
        assertEquals(job(1), gitlab.calls.getLast());
        assertEquals(Stop.COMPLETE, third.stop());
        assertTrue(store.liveJobs("docker").isEmpty() && store.liveJobs("gpu").isEmpty());
    }

    /**
     * A job legitimately running past the threshold is the oldest every run: once found unchanged
     * it is left alone for a threshold, so the budget reaches the stale pending job behind it.
     */
    @Test
    void aJobFoundUnchangedDoesNotStarveTheOthers() {
        stored(job(1), JobStatus.RUNNING, "docker", Duration.ofHours(3));
        stored(job(2), JobStatus.PENDING, "docker", Duration.ofMinutes(10));
        gitlab.has(job(1), JobStatus.RUNNING, INSTANCE, List.of("docker"));
        gitlab.has(job(2), JobStatus.RUNNING, INSTANCE, List.of("docker"));
        Reconciler reconciler = reconciler(ReconcileSettings.DEFAULTS.withBudget(1));

        assertEquals(1, reconciler.run().count(Kind.UNCHANGED));
        clock.advance(Duration.ofMinutes(5));
        ReconcileReport second = reconciler.run();

        assertEquals(List.of(job(1), job(2)), gitlab.calls);
        assertEquals(1, second.count(Kind.TO_RUNNING));
        assertEquals(JobStatus.RUNNING, status(job(2)));

        clock.advance(Duration.ofMinutes(30));
        reconciler.run();
        assertEquals(2, gitlab.calls.size(), "job 1 is quiet for an hour after it was found running");
        clock.advance(Duration.ofMinutes(26));
        reconciler.run();
        assertEquals(job(1), gitlab.calls.getLast(), "and asked again once the hour has passed");
    }

    @Test
    void aJobGitLabNoLongerHasIsCanceledAndItsInstanceFreed() {
        stored(job(1), JobStatus.RUNNING, "docker", Duration.ofHours(2));
        stored(job(2), JobStatus.PENDING, "gpu", Duration.ofMinutes(20));

        ReconcileReport report = reconciler().run();

        assertEquals(JobStatus.CANCELED, status(job(1)));
        assertEquals(JobStatus.CANCELED, status(job(2)));
        assertEquals(2, report.count(Kind.GONE));
        assertTrue(report.repairs().stream().allMatch(r -> r.to() == JobStatus.CANCELED));
        assertTrue(store.liveJobs("docker").isEmpty() && store.liveJobs("gpu").isEmpty());
        InstanceRecord instance = store.instances("docker").getFirst();
        assertEquals(NOW, instance.lastJobFinishedAt(), "the instance it ran on is idle from now");
        assertEquals(0, tagLookups.get());
    }

    @Test
    void aMissingProjectIsGoneOnlyOnceItsJobsAreOldAndItsOtherJobsAreNotAskedMeanwhile() {
        JobKey young = new JobKey(77, 1);
        JobKey sibling = new JobKey(77, 2);
        JobKey old = new JobKey(78, 1);
        JobKey other = new JobKey(79, 1);
        stored(young, JobStatus.RUNNING, "docker", Duration.ofHours(3));
        stored(sibling, JobStatus.RUNNING, "docker", Duration.ofHours(2));
        stored(old, JobStatus.RUNNING, "docker", Duration.ofHours(25));
        stored(other, JobStatus.PENDING, "docker", Duration.ofMinutes(10));
        for (JobKey key : List.of(young, sibling, old)) {
            gitlab.answers.put(key, new JobLookup.Gone(key, true, "404 Project Not Found"));
        }
        gitlab.has(other, JobStatus.RUNNING, INSTANCE, List.of("docker"));

        ReconcileReport report = reconciler().run();

        assertEquals(List.of(old, young, other), gitlab.calls, "project 77 is asked once");
        assertEquals(JobStatus.CANCELED, status(old));
        assertEquals(JobStatus.RUNNING, status(young), "the token may just not see the project");
        assertEquals(JobStatus.RUNNING, status(sibling));
        assertEquals(1, report.count(Kind.GONE));
        assertEquals(1, report.count(Kind.PROJECT_MISSING));
        assertEquals(1, report.count(Kind.TO_RUNNING));
        assertEquals(1, report.left(), "the sibling waits for the next run");
        assertEquals(Stop.COMPLETE, report.stop());
    }

    @Test
    void gitLabUnavailableStopsTheRunKeepingWhatWasReadAndTheNextRunResumes() {
        stored(job(1), JobStatus.RUNNING, "docker", Duration.ofHours(4));
        stored(job(2), JobStatus.RUNNING, "docker", Duration.ofHours(3));
        stored(job(3), JobStatus.RUNNING, "docker", Duration.ofHours(2));
        gitlab.has(job(1), JobStatus.SUCCESS, INSTANCE, List.of("docker"));
        gitlab.answers.put(job(2), new GitLabUnavailableException("GET /api/v4/projects/380/jobs/2 answered 503", null));
        gitlab.has(job(3), JobStatus.SUCCESS, INSTANCE, List.of("docker"));
        Reconciler reconciler = reconciler();

        ReconcileReport report = reconciler.run();

        assertEquals(Stop.UNAVAILABLE, report.stop());
        assertTrue(report.stopMessage().contains("503"), report.stopMessage());
        assertNull(report.retryAfter());
        assertEquals(List.of(job(1), job(2)), gitlab.calls);
        assertEquals(JobStatus.SUCCESS, status(job(1)), "written as soon as read");
        assertEquals(JobStatus.RUNNING, status(job(2)));
        assertEquals(JobStatus.RUNNING, status(job(3)));
        assertEquals(2, report.left());

        gitlab.has(job(2), JobStatus.SUCCESS, INSTANCE, List.of("docker"));
        clock.advance(Duration.ofMinutes(5));
        ReconcileReport next = reconciler.run();
        assertEquals(List.of(job(1), job(2), job(2), job(3)), gitlab.calls);
        assertEquals(Stop.COMPLETE, next.stop());
        assertEquals(2, next.count(Kind.TO_FINISHED));
    }

    @Test
    void aRateLimitIsReportedAndNoCallIsMadeUntilRetryAfterHasPassed() {
        stored(job(1), JobStatus.RUNNING, "docker", Duration.ofHours(4));
        stored(job(2), JobStatus.RUNNING, "docker", Duration.ofHours(3));
        gitlab.answers.put(job(1), new GitLabUnavailableException("429", null, Duration.ofSeconds(60)));
        Reconciler reconciler = reconciler();

        ReconcileReport limited = reconciler.run();
        assertEquals(Stop.RATE_LIMITED, limited.stop());
        assertEquals(Duration.ofSeconds(60), limited.retryAfter());
        assertEquals(2, limited.left());

        clock.advance(Duration.ofSeconds(30));
        ReconcileReport waiting = reconciler.run();
        assertEquals(1, gitlab.calls.size(), "not asked again within Retry-After");
        assertEquals(Stop.RATE_LIMITED, waiting.stop());
        assertEquals(Duration.ofSeconds(30), waiting.retryAfter());
        assertEquals(2, waiting.left());

        gitlab.has(job(1), JobStatus.SUCCESS, INSTANCE, List.of("docker"));
        gitlab.has(job(2), JobStatus.SUCCESS, INSTANCE, List.of("docker"));
        clock.advance(Duration.ofSeconds(30));
        assertEquals(Stop.COMPLETE, reconciler.run().stop());
        assertEquals(3, gitlab.calls.size());
    }

    @Test
    void aRefusedTokenStopsTheRunAtTheFirstCall() {
        stored(job(1), JobStatus.RUNNING, "docker", Duration.ofHours(4));
        stored(job(2), JobStatus.RUNNING, "docker", Duration.ofHours(3));
        gitlab.answers.put(job(1), new GitLabRejectedException("GET ... answered 403: needs read_api", 403));

        ReconcileReport report = reconciler().run();

        assertEquals(Stop.REJECTED, report.stop());
        assertEquals(1, gitlab.calls.size());
        assertEquals(2, report.left());
        assertEquals(JobStatus.RUNNING, status(job(1)));
    }

    @Test
    void anUnreadableAnswerIsCountedAndTheRunGoesOn() {
        stored(job(1), JobStatus.RUNNING, "docker", Duration.ofHours(4));
        stored(job(2), JobStatus.RUNNING, "docker", Duration.ofHours(3));
        gitlab.answers.put(job(1), new JobLookup.Unreadable(job(1), "status \"exploded\" is not a job status"));
        gitlab.has(job(2), JobStatus.SUCCESS, INSTANCE, List.of("docker"));

        ReconcileReport report = reconciler().run();

        assertEquals(1, report.count(Kind.UNREADABLE));
        assertEquals(1, report.count(Kind.TO_FINISHED));
        assertEquals(JobStatus.RUNNING, status(job(1)));
        assertEquals(Stop.COMPLETE, report.stop());
    }

    @Test
    void unknownTagsInTheAnswerKeepTheStoredOnesAndThePool() {
        stored(job(1), JobStatus.RUNNING, "gpu", Duration.ofHours(4));
        gitlab.has(job(1), JobStatus.CANCELING, INSTANCE, null);

        ReconcileReport report = reconciler().run();

        assertEquals(1, report.count(Kind.TO_CANCELING));
        JobRecord record = store.find(job(1)).orElseThrow();
        assertEquals("gpu", record.pool());
        assertEquals(List.of("gpu"), record.tags());
        assertEquals(0, tagLookups.get());
    }

    @Test
    void repairsAreListedUpToTheBoundAndAllCounted() {
        for (long id = 1; id <= 5; id++) {
            stored(job(id), JobStatus.RUNNING, "docker", Duration.ofHours(2).plusMinutes(id));
            gitlab.has(job(id), JobStatus.SUCCESS, INSTANCE, List.of("docker"));
        }
        ReconcileSettings settings = new ReconcileSettings(Duration.ofMinutes(5), Duration.ofHours(1),
                Duration.ofMinutes(10), 100, Duration.ofHours(24), 2);

        ReconcileReport report = reconciler(settings).run();

        assertEquals(5, report.repaired());
        assertEquals(2, report.repairs().size());
        assertEquals(3, report.repairsNotListed());
    }

    @Test
    void aStoreFailureStopsTheRunAndLeavesTheRestForTheNext() {
        AtomicInteger writes = new AtomicInteger();
        store = new DelegatingJobStore() {
            @Override
            public ApplyOutcome apply(JobEvent event, String pool, Instant now) {
                if (now.equals(NOW) && writes.incrementAndGet() == 2) {
                    throw new IllegalStateException("ProvisionedThroughputExceeded");
                }
                return super.apply(event, pool, now);
            }
        };
        for (long id = 1; id <= 3; id++) {
            stored(job(id), JobStatus.RUNNING, "docker", Duration.ofHours(5).minusMinutes(id));
            gitlab.has(job(id), JobStatus.SUCCESS, INSTANCE, List.of("docker"));
        }

        ReconcileReport report = reconciler().run();

        assertEquals(Stop.STORE_FAILED, report.stop());
        assertTrue(report.stopMessage().contains("ProvisionedThroughputExceeded"), report.stopMessage());
        assertEquals(1, report.count(Kind.TO_FINISHED));
        assertEquals(2, report.left());
        assertEquals(JobStatus.RUNNING, status(job(2)));
        assertFalse(report.stop() == Stop.COMPLETE);
    }

    /** A Lambda's remaining time: no call is started that may not end before it, so the report comes back. */
    @Test
    void aRunStopsBeforeItsDeadline() {
        for (long id = 1; id <= 4; id++) {
            stored(job(id), JobStatus.RUNNING, "docker", Duration.ofHours(5).minusMinutes(id));
            gitlab.has(job(id), JobStatus.SUCCESS, INSTANCE, List.of("docker"));
        }
        GitLabJobs slow = key -> {
            clock.advance(Duration.ofSeconds(5));
            return gitlab.job(key);
        };
        JobUpdateService updates = new JobUpdateService(POOLS, store, new PoolResolver(key -> List.of(), store, 10),
                new ScaleRequests() {
                    @Override
                    public void request(String pool, String reason, String dedupeId) {
                    }
                }, null);
        Reconciler reconciler = new Reconciler(POOLS, store, slow, updates, clock, ReconcileSettings.DEFAULTS);

        ReconcileReport report = reconciler.run(NOW.plusSeconds(20));

        assertEquals(3, gitlab.calls.size(), "started at 0, 5 and 10 s; at 15 s one more could end past 20 s");
        assertEquals(Stop.TIME_UP, report.stop());
        assertEquals(3, report.count(Kind.TO_FINISHED));
        assertEquals(1, report.left());
    }

    @Test
    void anAnswerWithoutTagsKeepsTheStoredOnesAndTheJobsPoolWithoutAnotherCall() {
        stored(job(41), JobStatus.PENDING, "gpu", Duration.ofMinutes(10));
        gitlab.has(job(41), JobStatus.RUNNING, INSTANCE, null);

        ReconcileReport report = reconciler().run();

        assertEquals(JobStatus.RUNNING, status(job(41)));
        assertEquals("gpu", store.find(job(41)).orElseThrow().pool(), "the stored tags chose the pool again");
        assertEquals(0, tagLookups.get(), "no tag lookup: the stored tags were enough");
        assertEquals(List.of(new ReconcileReport.Repair(job(41), "gpu", JobStatus.PENDING, JobStatus.RUNNING,
                ReconcileReport.Kind.TO_RUNNING)), report.repairs());
    }

    @Test
    void aRefusalOrAStoreFailureLeavesTheRestForTheNextRunCountingThem() {
        for (int id = 51; id <= 53; id++) {
            stored(job(id), JobStatus.RUNNING, "docker", Duration.ofHours(3 + id - 51));
        }
        // oldest first: 53, 52, 51; GitLab refuses the second
        gitlab.has(job(53), JobStatus.SUCCESS, INSTANCE, List.of("docker"));
        gitlab.answers.put(job(52), new io.runnerscale.gitlab.GitLabRejectedException("403 Forbidden: read_api", 403));
        ReconcileReport refused = reconciler().run();
        assertEquals(ReconcileReport.Stop.REJECTED, refused.stop());
        assertEquals(2, refused.left(), "the refused job and the one after it");
        assertEquals(List.of(job(53), job(52)), gitlab.calls);
    }

    @Test
    void jobsWithTheSameLastEventGoInProjectThenJobOrder() {
        Duration ago = Duration.ofHours(2);
        JobKey laterProject = new JobKey(381, 1);
        stored(laterProject, JobStatus.RUNNING, "docker", ago);
        stored(job(9), JobStatus.RUNNING, "docker", ago);
        stored(job(8), JobStatus.RUNNING, "docker", ago);
        gitlab.has(laterProject, JobStatus.SUCCESS, INSTANCE, List.of("docker"));
        gitlab.has(job(9), JobStatus.SUCCESS, INSTANCE, List.of("docker"));
        gitlab.has(job(8), JobStatus.SUCCESS, INSTANCE, List.of("docker"));

        reconciler().run();

        assertEquals(List.of(job(8), job(9), laterProject), gitlab.calls);
    }
}
