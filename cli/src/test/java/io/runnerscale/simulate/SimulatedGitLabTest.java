package io.runnerscale.simulate;

import io.runnerscale.gitlab.GitLabProjects.Page;
import io.runnerscale.gitlab.GitLabRejectedException;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.gitlab.GitLabProjects;
import io.runnerscale.gitlab.JobLookup;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The simulated GitLab answers the reconciler's questions from the jobs' real states. */
class SimulatedGitLabTest {
    private static final Instant T0 = Instant.parse("2024-03-04T10:00:00Z");
    private static final long P = SimulatedGitLab.PROJECT_ID;

    private static JobKey key(long id) {
        return new JobKey(P, id);
    }

    @Test
    void aJobReadsBackAsItIsNowWithItsTagsInstanceAndTimes() {
        SimulatedGitLab gitlab = new SimulatedGitLab();
        gitlab.created(key(1), List.of("docker"), T0);

        JobEvent pending = ((JobLookup.Found) gitlab.job(key(1))).event();
        assertEquals(JobStatus.PENDING, pending.status());
        assertEquals(List.of("docker"), pending.tags());
        assertEquals(T0, pending.createdAt());

        gitlab.started(key(1), "i-1", null, T0.plusSeconds(50));
        JobEvent running = ((JobLookup.Found) gitlab.job(key(1))).event();
        assertEquals(JobStatus.RUNNING, running.status());
        assertEquals("i-1", running.runnerDescription(), "the instance, as the runner's description names it");
        assertEquals(T0.plusSeconds(50), running.startedAt());

        gitlab.ended(key(1), JobStatus.SUCCESS, T0.plusSeconds(170));
        JobEvent done = ((JobLookup.Found) gitlab.job(key(1))).event();
        assertEquals(JobStatus.SUCCESS, done.status());
        assertEquals(T0.plusSeconds(170), done.finishedAt());
        assertEquals("i-1", done.runnerDescription());
        assertEquals(JobStatus.SUCCESS, gitlab.status(key(1)));
        assertEquals(3, gitlab.calls());
    }

    @Test
    void anUnknownJobIsGoneAndAnotherProjectIsNotFound() {
        SimulatedGitLab gitlab = new SimulatedGitLab();
        JobLookup.Gone job = assertInstanceOf(JobLookup.Gone.class, gitlab.job(key(7)));
        assertEquals(false, job.projectMissing());
        JobLookup.Gone project = assertInstanceOf(JobLookup.Gone.class, gitlab.job(new JobKey(P + 1, 7)));
        assertTrue(project.projectMissing());
        assertNull(gitlab.status(key(7)));

        assertEquals(404, assertThrows(GitLabRejectedException.class, () -> gitlab.liveJobs(P + 1, 1)).status());
        assertEquals(404, assertThrows(GitLabRejectedException.class, () -> gitlab.hooks(P + 1)).status());
        assertEquals(404, assertThrows(GitLabRejectedException.class, () -> gitlab.groupProjects("other", 1)).status());
        assertThrows(GitLabUnavailableException.class, () -> gitlab.jobTags(key(7)));
        assertThrows(IllegalArgumentException.class, () -> gitlab.created(new JobKey(P + 1, 1), List.of(), T0));
    }

    @Test
    void liveJobsComeNewestFirstAPageAtATimeAndOnlyWhilePendingOrRunning() {
        SimulatedGitLab gitlab = new SimulatedGitLab();
        int jobs = GitLabProjects.PER_PAGE * 2 + 5;
        for (long id = 1; id <= jobs; id++) {
            gitlab.created(key(id), id % 2 == 0 ? List.of("docker") : List.of(), T0.plusSeconds(id));
        }
        gitlab.started(key(jobs), "i-1", null, T0.plusSeconds(1000)); // the newest runs: still listed, running
        gitlab.ended(key(3), JobStatus.CANCELED, T0.plusSeconds(1000)); // ended while pending
        gitlab.started(key(5), "i-2", null, T0.plusSeconds(1000));
        gitlab.ended(key(5), JobStatus.SUCCESS, T0.plusSeconds(1100)); // ran and ended: gone from the list

        List<Long> seen = new ArrayList<>();
        Integer page = 1;
        int pages = 0;
        while (page != null) {
            Page<JobEvent> answer = gitlab.liveJobs(P, page);
            assertTrue(answer.items().size() <= GitLabProjects.PER_PAGE);
            answer.items().forEach(e -> {
                assertEquals(e.key().jobId() == jobs ? JobStatus.RUNNING : JobStatus.PENDING, e.status());
                seen.add(e.key().jobId());
            });
            page = answer.nextPage();
            pages++;
        }
        assertEquals(3, pages);
        assertEquals(jobs - 2, seen.size());
        assertEquals(jobs, seen.getFirst(), "newest first, as GitLab lists jobs");
        assertEquals(1, seen.getLast());
        assertTrue(!seen.contains(3L) && !seen.contains(5L));
        for (int i = 1; i < seen.size(); i++) {
            assertTrue(seen.get(i) < seen.get(i - 1), "strictly newest first, no repeats across pages");
        }
        JobEvent second = gitlab.liveJobs(P, 1).items().stream().filter(e -> e.key().jobId() == jobs - 1)
                .findFirst().orElseThrow();
        assertEquals(List.of("docker"), second.tags(), "each with its tags, so its pool is found without a call");
        assertEquals(List.of(), gitlab.liveJobs(P, 4).items(), "past the last page: nothing");
        assertNull(gitlab.liveJobs(P, 4).nextPage());
        assertThrows(IllegalArgumentException.class, () -> gitlab.liveJobs(P, 0));
    }

    @Test
    void theGroupHoldsTheOneProjectAndItsHookWorks() {
        SimulatedGitLab gitlab = new SimulatedGitLab();
        Page<Long> projects = gitlab.groupProjects(SimulatedGitLab.GROUP, 1);
        assertEquals(List.of(P), projects.items());
        assertNull(projects.nextPage());
        assertEquals(List.of(SimulatedGitLab.HOOK), gitlab.hooks(P));
        assertTrue(SimulatedGitLab.HOOK.jobEvents() && !SimulatedGitLab.HOOK.disabled());
    }

    @Test
    void aJobIsCreatedOnceAndEndsOnlyTerminal() {
        SimulatedGitLab gitlab = new SimulatedGitLab();
        gitlab.created(key(1), List.of(), T0);
        assertThrows(IllegalStateException.class, () -> gitlab.created(key(1), List.of(), T0));
        assertThrows(IllegalArgumentException.class, () -> gitlab.ended(key(1), JobStatus.RUNNING, T0));
        assertThrows(IllegalStateException.class, () -> gitlab.started(key(2), "i-1", null, T0));
        assertEquals(List.of("x"), tagsAfterCreate(gitlab));
    }

    private static List<String> tagsAfterCreate(SimulatedGitLab gitlab) {
        gitlab.created(key(9), List.of("x"), T0);
        return gitlab.jobTags(key(9));
    }
}
