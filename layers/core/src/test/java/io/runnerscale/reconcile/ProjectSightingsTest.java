package io.runnerscale.reconcile;

import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolsConfigParser;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.scaling.ScaleRequests;
import io.runnerscale.store.InMemoryJobStore;
import io.runnerscale.store.ProjectRecord;
import io.runnerscale.webhook.JobUpdateService;
import io.runnerscale.webhook.PoolResolver;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Which projects the webhook's path notes for the reconciler, and how rarely it writes. */
class ProjectSightingsTest {
    static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");

    @Test
    void aProjectIsWrittenAtMostOnceAnHourByOneProcess() {
        List<String> writes = new ArrayList<>();
        InMemoryJobStore store = new InMemoryJobStore();
        ProjectSightings sightings = new ProjectSightings(new io.runnerscale.store.ProjectStore() {
            @Override
            public void projectSeen(long projectId, Instant now) {
                writes.add(projectId + "@" + now);
                store.projectSeen(projectId, now);
            }

            @Override
            public List<ProjectRecord> projects() {
                return store.projects();
            }

            @Override
            public void projectListed(long projectId, Instant at) {
            }

            @Override
            public void hooksChecked(long projectId, Instant at, int disabledHooks) {
            }
        });
        sightings.seen(1, NOW);
        sightings.seen(1, NOW.plus(Duration.ofMinutes(59)));
        sightings.seen(2, NOW.plusSeconds(1));
        sightings.seen(1, NOW.plus(Duration.ofMinutes(60)));
        assertEquals(List.of("1@" + NOW, "2@" + NOW.plusSeconds(1), "1@" + NOW.plus(Duration.ofMinutes(60))), writes);
        assertEquals(NOW.plus(Duration.ofMinutes(60)),
                store.projects().stream().filter(p -> p.projectId() == 1).findFirst().orElseThrow().seenAt());
    }

    @Test
    void aFailedWriteIsTriedAgainAtTheNextSighting() {
        AtomicInteger calls = new AtomicInteger();
        InMemoryJobStore store = new InMemoryJobStore();
        ProjectSightings sightings = new ProjectSightings(new io.runnerscale.store.ProjectStore() {
            @Override
            public void projectSeen(long projectId, Instant now) {
                if (calls.incrementAndGet() == 1) {
                    throw new IllegalStateException("throttled");
                }
                store.projectSeen(projectId, now);
            }

            @Override
            public List<ProjectRecord> projects() {
                return store.projects();
            }

            @Override
            public void projectListed(long projectId, Instant at) {
            }

            @Override
            public void hooksChecked(long projectId, Instant at, int disabledHooks) {
            }
        });
        assertThrows(IllegalStateException.class, () -> sightings.seen(3, NOW));
        sightings.seen(3, NOW.plusSeconds(5));
        assertEquals(List.of(new ProjectRecord(3, NOW.plusSeconds(5), null, null, 0)), store.projects());
    }

    @Test
    void theStoreNeverMovesASightingBack() {
        InMemoryJobStore store = new InMemoryJobStore();
        store.projectSeen(4, NOW);
        store.projectSeen(4, NOW.minusSeconds(60));
        store.projectListed(4, NOW.plusSeconds(1));
        store.hooksChecked(4, NOW.plusSeconds(2), 3);
        assertEquals(List.of(new ProjectRecord(4, NOW, NOW.plusSeconds(1), NOW.plusSeconds(2), 3)), store.projects());
    }

    @Test
    void jobUpdatesNoteTheProjectOfEveryJobSeenForTheFirstTimeEvenIfTheNotingFails() {
        PoolsConfigSource pools = PoolsConfigSource.fixed(PoolsConfigParser.parse("""
                pools:
                  - {name: docker, match: {tags: [docker], run_untagged: true}, backend: {type: ec2-asg, asg: g}}
                """, "t"));
        InMemoryJobStore store = new InMemoryJobStore();
        List<String> noted = new ArrayList<>();
        JobUpdateService updates = new JobUpdateService(pools, store, new PoolResolver(key -> List.of(), store, 10),
                new ScaleRequests() {
                    @Override
                    public void request(String pool, String reason, String dedupeId) {
                    }
                }, null).noting((project, at) -> {
                    noted.add(project + "@" + at);
                    if (project == 9) {
                        throw new IllegalStateException("store down");
                    }
                });
        JobEvent pending = event(new JobKey(5, 1), JobStatus.PENDING);
        updates.apply(List.of(pending), NOW);
        updates.apply(List.of(pending), NOW.plusSeconds(1));
        updates.apply(List.of(event(new JobKey(5, 1), JobStatus.RUNNING)), NOW.plusSeconds(2));
        updates.apply(List.of(event(new JobKey(6, 2), JobStatus.SUCCESS), event(new JobKey(9, 3), JobStatus.PENDING)),
                NOW.plusSeconds(3));
        assertEquals(List.of("5@" + NOW, "6@" + NOW.plusSeconds(3), "9@" + NOW.plusSeconds(3)),
                noted.stream().sorted().toList(), "first sightings only, any status");
        assertEquals(JobStatus.PENDING, store.find(new JobKey(9, 3)).orElseThrow().status(),
                "a failed note does not fail the stored job");
    }

    static JobEvent event(JobKey key, JobStatus status) {
        return new JobEvent(key, status, 1L, "b", "test", NOW, null, null, null, null, null, null, List.of());
    }
}
