package io.runnerscale.reconcile;

import io.runnerscale.gitlab.GitLabJobs;
import io.runnerscale.gitlab.GitLabProjects;
import io.runnerscale.gitlab.GitLabRejectedException;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.gitlab.JobLookup;
import io.runnerscale.gitlab.ProjectHook;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolsConfigParser;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.reconcile.ReconcileReport.Kind;
import io.runnerscale.reconcile.ReconcileReport.Stop;
import io.runnerscale.scaling.ScaleRequests;
import io.runnerscale.store.InMemoryJobStore;
import io.runnerscale.store.ProjectRecord;
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
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reconciler's second half: jobs whose webhooks never arrived, found by listing the pending
 * jobs of the projects runnerscale heard from (and those the pools file names), and runnerscale's
 * hooks that GitLab disabled. Against a fake GitLab that counts its calls and the in-memory store.
 */
class ReconcilerDiscoveryTest {
    static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
    static final String HOOK_URL = "https://abc.execute-api.eu-west-1.amazonaws.com/webhook";
    static final String POOLS_YAML = """
            pools:
              - name: docker
                match: {tags: [docker], run_untagged: true}
                backend: {type: ec2-asg, asg: g-docker}
              - name: gpu
                match: {tags: [gpu]}
                backend: {type: ec2-asg, asg: g-gpu}
            """;

    /** GitLab's projects: pending jobs per project (paged), group members, hooks; what to throw instead. */
    static final class FakeProjects implements GitLabProjects, GitLabJobs {
        final Map<Long, List<JobEvent>> pending = new HashMap<>();
        final Map<String, List<Long>> groups = new HashMap<>();
        final Map<Long, List<ProjectHook>> hooks = new HashMap<>();
        final Map<Long, RuntimeException> failures = new HashMap<>();
        final List<String> calls = new ArrayList<>();
        int perPage = 2;

        @Override
        public Page<JobEvent> liveJobs(long projectId, int page) {
            calls.add("jobs " + projectId + " p" + page);
            fail(projectId);
            List<JobEvent> all = pending.getOrDefault(projectId, List.of());
            int from = (page - 1) * perPage;
            int to = Math.min(all.size(), from + perPage);
            return new Page<>(from >= all.size() ? List.of() : all.subList(from, to), to < all.size() ? page + 1 : null);
        }

        @Override
        public Page<Long> groupProjects(String group, int page) {
            calls.add("group " + group + " p" + page);
            List<Long> all = groups.getOrDefault(group, List.of());
            int from = (page - 1) * perPage;
            int to = Math.min(all.size(), from + perPage);
            return new Page<>(from >= all.size() ? List.of() : all.subList(from, to), to < all.size() ? page + 1 : null);
        }

        @Override
        public List<ProjectHook> hooks(long projectId) {
            calls.add("hooks " + projectId);
            fail(-projectId);
            return hooks.getOrDefault(projectId, List.of());
        }

        @Override
        public JobLookup job(JobKey key) {
            calls.add("job " + key);
            return new JobLookup.Found(pendingEvent(key, List.of("docker")));
        }

        private void fail(long key) {
            RuntimeException failure = failures.get(key);
            if (failure != null) {
                throw failure;
            }
        }

        long listCalls() {
            return calls.stream().filter(c -> c.startsWith("jobs ")).count();
        }
    }

    final MutableClock clock = new MutableClock(NOW);
    final FakeProjects gitlab = new FakeProjects();
    final InMemoryJobStore store = new InMemoryJobStore();
    final List<String> scaleRequests = new ArrayList<>();

    static JobEvent pendingEvent(JobKey key, List<String> tags) {
        return new JobEvent(key, JobStatus.PENDING, 6L, "rspec", "test", NOW.minusSeconds(600), null, null, null,
                null, null, null, tags);
    }

    Reconciler reconciler(String yaml, ReconcileSettings settings, String deploymentHookUrl) {
        PoolsConfigSource pools = PoolsConfigSource.fixed(PoolsConfigParser.parse(yaml, "test"));
        ScaleRequests requests = new ScaleRequests() {
            @Override
            public void request(String pool, String reason, String dedupeId) {
                scaleRequests.add(pool);
            }

            @Override
            public void request(String pool, String reason, String dedupeId, List<JobKey> jobs) {
                scaleRequests.add(pool + " " + jobs);
            }
        };
        JobUpdateService updates = new JobUpdateService(pools, store, new PoolResolver(key -> List.of("docker"),
                store, 100), requests, null);
        return new Reconciler(pools, store, gitlab, new Reconciler.Discovery(gitlab, store, deploymentHookUrl),
                updates, clock, settings);
    }

    Reconciler reconciler() {
        return reconciler(POOLS_YAML, ReconcileSettings.DEFAULTS, HOOK_URL);
    }

    Optional<JobStatus> status(JobKey key) {
        return store.find(key).map(JobRecord::status);
    }

    @Test
    void aPendingJobWhoseWebhookNeverArrivedIsStoredAndAsksForCapacity() {
        store.projectSeen(7, NOW.minus(Duration.ofHours(2)));
        JobKey lost = new JobKey(7, 101);
        gitlab.pending.put(7L, List.of(pendingEvent(lost, List.of("gpu"))));

        ReconcileReport report = reconciler().run();

        assertEquals(Optional.of(JobStatus.PENDING), status(lost));
        assertEquals("gpu", store.find(lost).orElseThrow().pool(), "its tags found its pool, as a hook would");
        assertEquals(List.of("gpu [7/101]"), scaleRequests);
        assertEquals(1, report.count(Kind.DISCOVERED));
        assertEquals(1, report.repaired());
        assertEquals(0, report.checked(), "a discovered job was listed, not read back");
        assertEquals(new ReconcileReport.Repair(lost, "gpu", null, JobStatus.PENDING, Kind.DISCOVERED),
                report.repairs().getFirst());
        assertEquals(1, report.projects().listed());
        assertEquals(Stop.COMPLETE, report.stop());
        assertEquals(NOW, store.projects().getFirst().listedAt());

        scaleRequests.clear();
        ReconcileReport again = reconciler().run();
        assertEquals(0, again.count(Kind.DISCOVERED), "a job the store has live is not discovered twice");
        assertEquals(List.of(), scaleRequests);
    }

    @Test
    void jobsNoPoolTakesAreNotStoredAndKnownJobsAreNotWrittenAgain() {
        store.projectSeen(7, NOW);
        JobKey foreign = new JobKey(7, 1);
        JobKey known = new JobKey(7, 2);
        JobKey untaggedUnknown = new JobKey(7, 3);
        store.apply(pendingEvent(known, List.of("docker")), "docker", NOW.minusSeconds(30));
        gitlab.pending.put(7L, List.of(pendingEvent(foreign, List.of("windows")), pendingEvent(known, List.of("docker")),
                pendingEvent(untaggedUnknown, null)));

        ReconcileReport report = reconciler().run();

        assertEquals(Optional.empty(), status(foreign), "no pool takes windows jobs");
        assertEquals(NOW.minusSeconds(30), store.find(known).orElseThrow().updatedAt(), "not written again");
        assertEquals(Optional.of(JobStatus.PENDING), status(untaggedUnknown), "tags unknown: resolved as a hook's");
        assertEquals(1, report.count(Kind.DISCOVERED));
    }

    @Test
    void theProjectsListedAreTheNamedOnesTheGroupsAndThoseSeenWithinADay() {
        store.projectSeen(1, NOW.minus(Duration.ofHours(23)));
        store.projectSeen(2, NOW.minus(Duration.ofHours(25)));
        gitlab.groups.put("my-org/ci", List.of(30L, 31L));
        String yaml = POOLS_YAML + "reconcile: {projects: [10], groups: [my-org/ci]}\n";

        reconciler(yaml, ReconcileSettings.DEFAULTS, HOOK_URL).run();

        assertEquals(List.of("jobs 1 p1", "jobs 10 p1", "jobs 30 p1", "jobs 31 p1"),
                gitlab.calls.stream().filter(c -> c.startsWith("jobs ")).sorted().toList());
        assertEquals(1, gitlab.calls.stream().filter(c -> c.startsWith("group ")).count());

        gitlab.calls.clear();
        clock.advance(Duration.ofMinutes(10));
        Reconciler same = reconciler(yaml, ReconcileSettings.DEFAULTS, HOOK_URL);
        same.run();
        same.run();
        assertEquals(1, gitlab.calls.stream().filter(c -> c.startsWith("group ")).count(),
                "one instance lists a group once an hour");
    }

    @Test
    void aGroupListingCutShortResumesAtItsNextPageInTheNextRun() {
        gitlab.groups.put("big", List.of(30L, 31L, 32L, 33L, 34L));   // 3 pages of 2
        String yaml = POOLS_YAML + "reconcile: {groups: [big]}\n";
        // no hook URL: no hook checks, so the whole budget goes to the group and the listing
        Reconciler reconciler = reconciler(yaml, ReconcileSettings.DEFAULTS.withBudget(2), null);

        reconciler.run();
        assertEquals(List.of("group big p1", "group big p2"), gitlab.calls);
        gitlab.calls.clear();
        reconciler.run();
        assertEquals("group big p3", gitlab.calls.getFirst(), "taken up at the page the last run did not reach");
        assertEquals(List.of("jobs 30 p1"), gitlab.calls.subList(1, gitlab.calls.size()),
                "then the listing's first project, with the budget left");
        gitlab.calls.clear();
        reconciler.run();
        assertEquals(2, gitlab.listCalls());
        assertEquals(2, gitlab.calls.size(), "the group is known now: no group call " + gitlab.calls);
    }

    @Test
    void everyPageIsListedAndTheLeastRecentlyListedProjectComesFirst() {
        store.projectSeen(1, NOW);
        store.projectSeen(2, NOW);
        store.projectListed(1, NOW.minusSeconds(60));
        store.projectListed(2, NOW.minusSeconds(600));
        List<JobEvent> five = new ArrayList<>();
        for (long id = 1; id <= 5; id++) {
            five.add(pendingEvent(new JobKey(1, id), List.of("docker")));
        }
        gitlab.pending.put(1L, five);

        ReconcileReport report = reconciler().run();

        assertEquals(List.of("jobs 2 p1", "jobs 1 p1", "jobs 1 p2", "jobs 1 p3"),
                gitlab.calls.stream().filter(c -> c.startsWith("jobs ")).toList());
        assertEquals(5, report.count(Kind.DISCOVERED));
    }

    @Test
    void aRunOutOfBudgetLeavesTheProjectUnlistedAndTheNextRunTakesItFirst() {
        store.projectSeen(1, NOW);
        store.projectSeen(2, NOW);
        store.projectListed(2, NOW.minusSeconds(60));
        List<JobEvent> five = new ArrayList<>();
        for (long id = 1; id <= 5; id++) {
            five.add(pendingEvent(new JobKey(1, id), List.of("docker")));
        }
        gitlab.pending.put(1L, five);
        ReconcileSettings two = ReconcileSettings.DEFAULTS.withBudget(2);

        ReconcileReport first = reconciler(POOLS_YAML, two, null).run();

        assertEquals(Stop.BUDGET, first.stop());
        assertEquals(List.of("jobs 1 p1", "jobs 1 p2"), gitlab.calls);
        assertEquals(4, first.count(Kind.DISCOVERED), "what was listed is stored at once");
        assertEquals(0, first.projects().listed());
        assertEquals(2, first.projects().notListed());
        assertNull(store.projects().stream().filter(p -> p.projectId() == 1).findFirst().orElseThrow().listedAt());

        gitlab.calls.clear();
        ReconcileReport second = reconciler(POOLS_YAML, two, null).run();
        assertEquals(List.of("jobs 1 p1", "jobs 1 p2"), gitlab.calls, "project 1, never listed, first again");
        assertEquals(0, second.count(Kind.DISCOVERED), "its first jobs are live now");
    }

    @Test
    void staleJobsHaveHalfTheBudgetFirstAndHooksATenth() {
        assertEquals(new ReconcilePolicy.Shares(50, 40, 10), ReconcilePolicy.shares(100, true));
        assertEquals(new ReconcilePolicy.Shares(2, 0, 1), ReconcilePolicy.shares(3, true));
        assertEquals(new ReconcilePolicy.Shares(1, 0, 1), ReconcilePolicy.shares(1, true));
        assertEquals(new ReconcilePolicy.Shares(0, 0, 0), ReconcilePolicy.shares(0, true));
        assertEquals(new ReconcilePolicy.Shares(7, 0, 0), ReconcilePolicy.shares(7, false));

        // 6 stale pending jobs, 3 projects due, 1 hook check due, budget 10: 5 jobs, 4 lists, 1 hook check
        for (long id = 1; id <= 6; id++) {
            store.apply(pendingEvent(new JobKey(1, 100 + id), List.of("docker")), "docker",
                    NOW.minus(Duration.ofMinutes(60 - id)));
        }
        store.projectSeen(1, NOW);
        store.projectSeen(2, NOW);
        store.projectSeen(3, NOW);
        store.hooksChecked(1, NOW, 0);
        store.hooksChecked(2, NOW, 0);
        ReconcileReport report = reconciler(POOLS_YAML, ReconcileSettings.DEFAULTS.withBudget(10), HOOK_URL).run();

        List<String> kinds = gitlab.calls.stream().map(c -> c.substring(0, c.indexOf(' '))).toList();
        assertEquals(List.of("job", "job", "job", "job", "job", "jobs", "jobs", "jobs", "hooks", "job"), kinds,
                "what a share leaves unused goes back to the stale jobs");
        assertEquals(Stop.COMPLETE, report.stop());
        assertEquals(3, report.projects().listed());
        assertEquals(1, report.projects().hooksChecked());
    }

    @Test
    void aDisabledHookToRunnerscaleIsCountedAndOthersAreNot() {
        store.projectSeen(4, NOW);
        store.projectSeen(5, NOW);
        gitlab.hooks.put(4L, List.of(
                new ProjectHook(1, "HTTPS://ABC.execute-api.eu-west-1.amazonaws.com/webhook/", true,
                        "temporarily_disabled", NOW.plusSeconds(600)),
                new ProjectHook(2, "https://elsewhere.example/webhook", true, "disabled", null),
                new ProjectHook(3, HOOK_URL + "?pool=docker", true, "disabled", null)));
        gitlab.hooks.put(5L, List.of(new ProjectHook(9, HOOK_URL, true, "executable", null)));

        ReconcileReport report = reconciler().run();

        assertEquals(2, report.projects().hooksChecked());
        assertEquals(2, report.projects().disabledHooks(), "hooks 1 and 3 deliver to runnerscale");
        assertTrue(report.projects().hookUrl());
        Map<Long, Integer> stored = new HashMap<>();
        store.projects().forEach(p -> stored.put(p.projectId(), p.disabledHooks()));
        assertEquals(Map.of(4L, 2, 5L, 0), stored);

        gitlab.calls.clear();
        clock.advance(Duration.ofMinutes(59));
        ReconcileReport later = reconciler().run();
        assertFalse(gitlab.calls.stream().anyMatch(c -> c.startsWith("hooks ")), "checked within the hour");
        assertEquals(2, later.projects().disabledHooks(), "the last check's count stands until the next");

        clock.advance(Duration.ofMinutes(1));
        gitlab.hooks.put(4L, List.of());
        ReconcileReport afterAnHour = reconciler().run();
        assertEquals(2, afterAnHour.projects().hooksChecked());
        assertEquals(0, afterAnHour.projects().disabledHooks());
    }

    @Test
    void withoutAHookUrlNoHookIsReadAndThePoolsFilesUrlWins() {
        store.projectSeen(4, NOW);
        gitlab.hooks.put(4L, List.of(new ProjectHook(1, "https://mine.example/hook", true, "disabled", null)));

        ReconcileReport none = reconciler(POOLS_YAML, ReconcileSettings.DEFAULTS, null).run();
        assertFalse(gitlab.calls.stream().anyMatch(c -> c.startsWith("hooks ")));
        assertFalse(none.projects().hookUrl());
        assertTrue(none.summary().contains("hooks not checked (no hook URL)"), none.summary());

        ReconcileReport configured = reconciler(POOLS_YAML + "reconcile: {hook_url: 'https://mine.example/hook'}\n",
                ReconcileSettings.DEFAULTS, HOOK_URL).run();
        assertEquals(1, configured.projects().disabledHooks());
        assertTrue(configured.summary().contains("hooks 1 checked, 1 disabled"), configured.summary());
    }

    @Test
    void aProjectThatRefusesIsSkippedButA401EndsTheRun() {
        store.projectSeen(1, NOW);
        store.projectSeen(2, NOW);
        gitlab.pending.put(2L, List.of(pendingEvent(new JobKey(2, 1), List.of("docker"))));
        gitlab.failures.put(1L, new GitLabRejectedException("404 Project Not Found", 404));
        gitlab.failures.put(-2L, new GitLabRejectedException("403 Forbidden", 403));

        ReconcileReport report = reconciler().run();

        assertEquals(Stop.COMPLETE, report.stop());
        assertEquals(1, report.count(Kind.DISCOVERED), "project 2 listed after project 1 refused");
        assertEquals(1, report.projects().hooksUnreadable());
        assertEquals(-1, store.projects().stream().filter(p -> p.projectId() == 2).findFirst().orElseThrow()
                .disabledHooks());

        gitlab.failures.put(1L, new GitLabRejectedException("401 Unauthorized", 401));
        store.projectListed(2, NOW.plusSeconds(1));
        gitlab.calls.clear();
        ReconcileReport refused = reconciler().run();
        assertEquals(Stop.REJECTED, refused.stop());
        assertEquals(List.of("jobs 1 p1"), gitlab.calls, "nothing more is asked with a refused token");
    }

    @Test
    void a429EndsTheRunAndNoCallIsMadeBeforeItsRetryAfter() {
        store.projectSeen(1, NOW);
        gitlab.failures.put(1L, new GitLabUnavailableException("429", null, Duration.ofSeconds(90)));
        Reconciler reconciler = reconciler();

        ReconcileReport limited = reconciler.run();
        assertEquals(Stop.RATE_LIMITED, limited.stop());
        assertEquals(1, limited.projects().notListed());

        gitlab.calls.clear();
        gitlab.failures.clear();
        clock.advance(Duration.ofSeconds(89));
        assertEquals(Stop.RATE_LIMITED, reconciler.run().stop());
        assertEquals(List.of(), gitlab.calls);
        clock.advance(Duration.ofSeconds(1));
        assertEquals(Stop.COMPLETE, reconciler.run().stop());
    }

    @Test
    void aProjectThatCannotBeRememberedStopsTheRun() {
        store.projectSeen(1, NOW);
        PoolsConfigSource pools = PoolsConfigSource.fixed(PoolsConfigParser.parse(POOLS_YAML, "test"));
        JobUpdateService updates = new JobUpdateService(pools, store, new PoolResolver(key -> List.of(), store, 100),
                new ScaleRequests() {
                    @Override
                    public void request(String pool, String reason, String dedupeId) {
                    }
                }, null);
        io.runnerscale.store.ProjectStore broken = new io.runnerscale.store.ProjectStore() {
            @Override
            public void projectSeen(long projectId, Instant now) {
            }

            @Override
            public List<ProjectRecord> projects() {
                return store.projects();
            }

            @Override
            public void projectListed(long projectId, Instant at) {
                throw new IllegalStateException("ProvisionedThroughputExceeded");
            }

            @Override
            public void hooksChecked(long projectId, Instant at, int disabledHooks) {
            }
        };
        ReconcileReport report = new Reconciler(pools, store, gitlab, new Reconciler.Discovery(gitlab, broken, null),
                updates, clock, ReconcileSettings.DEFAULTS).run();
        assertEquals(Stop.STORE_FAILED, report.stop());
        assertTrue(report.stopMessage().contains("project 1"), report.stopMessage());
    }
}
