package io.runnerscale.reconcile;

import io.runnerscale.gitlab.GitLabJobs;
import io.runnerscale.gitlab.GitLabProjects;
import io.runnerscale.gitlab.JobLookup;
import io.runnerscale.gitlab.ProjectHook;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolsConfigParser;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.scaling.ScaleRequests;
import io.runnerscale.store.InMemoryJobStore;
import io.runnerscale.testing.MutableClock;
import io.runnerscale.webhook.JobUpdateService;
import io.runnerscale.webhook.PoolResolver;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nothing missed: whatever GitLab's webhooks did on the way (each dropped, duplicated, all arriving
 * in any order), one reconciler run with budget enough leaves the store holding GitLab's state for
 * every live job, every job GitLab has pending included, in every project runnerscale heard from or
 * the pools file names; and every pending job it stored asked its pool for capacity.
 */
class ReconcilerPropertyTest {
    static final Instant T0 = Instant.parse("2026-06-01T08:00:00Z");
    static final List<JobStatus> FINAL = List.of(JobStatus.PENDING, JobStatus.RUNNING, JobStatus.SUCCESS,
            JobStatus.FAILED, JobStatus.CANCELED);

    @Property(tries = 200)
    void oneRunMakesTheStoreMatchGitLab(@ForAll @LongRange(min = 1, max = Long.MAX_VALUE) long seed,
                                        @ForAll @IntRange(min = 1, max = 14) int jobs,
                                        @ForAll @IntRange(min = 0, max = 100) int dropPercent) {
        Random random = new Random(seed);
        // GitLab's truth: projects 1 (named in the pools file) and 2..3 (known only from their hooks)
        Map<JobKey, JobStatus> truth = new LinkedHashMap<>();
        List<JobEvent> deliveries = new ArrayList<>();
        for (int i = 1; i <= jobs; i++) {
            JobKey key = new JobKey(1 + random.nextInt(3), i);
            JobStatus last = FINAL.get(random.nextInt(FINAL.size()));
            truth.put(key, last);
            List<JobStatus> history = new ArrayList<>(List.of(JobStatus.PENDING));
            if (last != JobStatus.PENDING) {
                if (last != JobStatus.CANCELED || random.nextBoolean()) {
                    history.add(JobStatus.RUNNING);
                }
                if (last != JobStatus.RUNNING) {
                    history.add(last);
                }
            }
            for (JobStatus status : history) {
                if (random.nextInt(100) >= dropPercent) {
                    int copies = 1 + (random.nextInt(4) == 0 ? 1 : 0);
                    for (int c = 0; c < copies; c++) {
                        deliveries.add(event(key, status));
                    }
                }
            }
        }
        Collections.shuffle(deliveries, random);

        InMemoryJobStore store = new InMemoryJobStore();
        PoolsConfigSource pools = PoolsConfigSource.fixed(PoolsConfigParser.parse("""
                pools:
                  - {name: docker, match: {tags: [docker], run_untagged: true}, backend: {type: ec2-asg, asg: g}}
                reconcile: {projects: [1]}
                """, "test"));
        Set<JobKey> askedFor = new HashSet<>();
        ScaleRequests requests = new ScaleRequests() {
            @Override
            public void request(String pool, String reason, String dedupeId) {
            }

            @Override
            public void request(String pool, String reason, String dedupeId, List<JobKey> keys) {
                askedFor.addAll(keys);
            }
        };
        JobUpdateService updates = new JobUpdateService(pools, store, new PoolResolver(key -> List.of("docker"),
                store, 100), requests, null).noting(new ProjectSightings(store));
        Set<Long> heardFrom = new HashSet<>(List.of(1L));
        for (int i = 0; i < deliveries.size(); i++) {
            updates.apply(List.of(deliveries.get(i)), T0.plusSeconds(i));
            heardFrom.add(deliveries.get(i).key().projectId());
        }

        GitLabTruth gitlab = new GitLabTruth(truth);
        MutableClock clock = new MutableClock(T0.plus(Duration.ofHours(3)));
        ReconcileReport report = new Reconciler(pools, store, gitlab, new Reconciler.Discovery(gitlab, store, null),
                updates, clock, ReconcileSettings.DEFAULTS.withBudget(1000)).run();

        assertEquals(ReconcileReport.Stop.COMPLETE, report.stop(), report.summary());
        truth.forEach((key, status) -> {
            Optional<JobStatus> stored = store.find(key).map(JobRecord::status);
            if (heardFrom.contains(key.projectId()) && !status.isTerminal()) {
                assertEquals(Optional.of(status), stored, key + " in " + report.summary());
            } else {
                // a job never stored holds no capacity; one stored is as GitLab has it
                assertTrue(stored.isEmpty() || stored.get() == status, key + ": " + stored + " vs " + status);
            }
            if (status == JobStatus.PENDING && heardFrom.contains(key.projectId())) {
                assertTrue(askedFor.contains(key), key + " waits with capacity asked for");
            }
        });
        assertEquals(Set.copyOf(store.liveJobs("docker").stream().map(JobRecord::key).toList()),
                Set.copyOf(truth.entrySet().stream().filter(e -> !e.getValue().isTerminal()
                        && heardFrom.contains(e.getKey().projectId())).map(Map.Entry::getKey).toList()),
                "live in the store is exactly live in GitLab");
    }

    static JobEvent event(JobKey key, JobStatus status) {
        boolean started = status != JobStatus.PENDING;
        return new JobEvent(key, status, 9L, "build", "test", T0, started ? T0 : null,
                status.isTerminal() ? T0 : null, null, started ? 5L : null, started ? "i-0abc" : null, null,
                List.of("docker"));
    }

    /** GitLab answering from the truth: readback, the live list one page of two at a time, no hooks. */
    record GitLabTruth(Map<JobKey, JobStatus> truth) implements GitLabJobs, GitLabProjects {
        @Override
        public JobLookup job(JobKey key) {
            JobStatus status = truth.get(key);
            return status == null ? new JobLookup.Gone(key, false, "404") : new JobLookup.Found(event(key, status));
        }

        @Override
        public Page<JobEvent> liveJobs(long projectId, int page) {
            List<JobEvent> pending = truth.entrySet().stream()
                    .filter(e -> e.getKey().projectId() == projectId && !e.getValue().isTerminal())
                    .map(e -> event(e.getKey(), e.getValue())).toList();
            int from = Math.min(pending.size(), (page - 1) * 2);
            int to = Math.min(pending.size(), from + 2);
            return new Page<>(pending.subList(from, to), to < pending.size() ? page + 1 : null);
        }

        @Override
        public Page<Long> groupProjects(String group, int page) {
            return new Page<>(List.of(), null);
        }

        @Override
        public List<ProjectHook> hooks(long projectId) {
            return List.of();
        }
    }
}
