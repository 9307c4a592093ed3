package io.runnerscale.simulate;

import io.runnerscale.gitlab.GitLab;
import io.runnerscale.gitlab.GitLabJobs;
import io.runnerscale.gitlab.GitLabProjects;
import io.runnerscale.gitlab.GitLabRejectedException;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.gitlab.JobLookup;
import io.runnerscale.gitlab.ProjectHook;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * GitLab as the simulation knows it: every job's real state, whether or not its webhooks reached
 * runnerscale. The reconciler reads it back through the same ports it uses against gitlab.com
 * ({@link GitLabJobs}, {@link GitLabProjects}), and the webhook's pool lookup reads tags through
 * {@link GitLab}. The simulation writes each change here as it happens in "GitLab"
 * ({@link #created}, {@link #started}, {@link #ended}).
 *
 * <p>A trace is one project's history: every job is in {@link #PROJECT_ID}, one group
 * ({@link #GROUP}) holds it, and its one hook delivers job events to runnerscale. Another project
 * is not found, as GitLab answers a token that cannot see it.
 */
public final class SimulatedGitLab implements GitLab, GitLabJobs, GitLabProjects {
    /** The project of every simulated job. */
    public static final long PROJECT_ID = 1;
    /** The group of that project. */
    public static final String GROUP = "simulated";
    /** The project's hook: job events to runnerscale's webhook, working. */
    public static final ProjectHook HOOK = new ProjectHook(1, "https://runnerscale.invalid/webhook", true, "executable",
            null);

    private final Map<JobKey, Job> jobs = new HashMap<>();
    /** Pending and running jobs by id, so a page of them is read in GitLab's order (newest first) without a sort. */
    private final NavigableMap<Long, Job> live = new TreeMap<>();
    private long calls;

    /** One job's state in GitLab. */
    private static final class Job {
        final JobKey key;
        final List<String> tags;
        final Instant createdAt;
        JobStatus status = JobStatus.PENDING;
        Instant startedAt;
        Instant finishedAt;
        Long runnerId;
        String instanceId;

        Job(JobKey key, List<String> tags, Instant createdAt) {
            this.key = key;
            this.tags = List.copyOf(tags);
            this.createdAt = createdAt;
        }

        JobEvent event() {
            // the runner's description is its instance's id, as the webhook reads it
            return new JobEvent(key, status, null, null, null, createdAt, startedAt, finishedAt, null, runnerId,
                    instanceId, null, tags);
        }
    }

    /** A job is created pending (a trace job asking for a runner, or a retry). */
    public void created(JobKey key, List<String> tags, Instant at) {
        if (key.projectId() != PROJECT_ID) {
            throw new IllegalArgumentException("simulated jobs are in project " + PROJECT_ID + ", not " + key);
        }
        Job job = new Job(key, tags, at);
        if (jobs.putIfAbsent(key, job) != null) {
            throw new IllegalStateException("job " + key + " created twice");
        }
        live.put(key.jobId(), job);
    }

    /**
     * A runner took the job.
     *
     * @param instanceId the instance it runs on (EC2), or null
     * @param runnerId   the runner (a Fargate pool's shared one), or null
     */
    public void started(JobKey key, String instanceId, Long runnerId, Instant at) {
        Job job = known(key);
        job.status = JobStatus.RUNNING;
        job.startedAt = at;
        job.instanceId = instanceId;
        job.runnerId = runnerId;
    }

    /** The job ended: success, or canceled (an interruption's cancel), or failed. */
    public void ended(JobKey key, JobStatus status, Instant at) {
        if (!status.isTerminal()) {
            throw new IllegalArgumentException("a job ends with a terminal status, not " + status);
        }
        Job job = known(key);
        job.status = status;
        job.finishedAt = at;
        live.remove(key.jobId());
    }

    /** The job's status in GitLab; null for a job it never had. */
    public JobStatus status(JobKey key) {
        Job job = jobs.get(key);
        return job == null ? null : job.status;
    }

    /** Calls answered so far, of every kind. */
    public long calls() {
        return calls;
    }

    private Job known(JobKey key) {
        Job job = jobs.get(key);
        if (job == null) {
            throw new IllegalStateException("job " + key + " was never created");
        }
        return job;
    }

    @Override
    public List<String> jobTags(JobKey key) {
        calls++;
        Job job = jobs.get(key);
        if (job == null) {
            throw new GitLabUnavailableException("404 Not found: job " + key, null);
        }
        return job.tags;
    }

    @Override
    public JobLookup job(JobKey key) {
        calls++;
        if (key.projectId() != PROJECT_ID) {
            return new JobLookup.Gone(key, true, "404 Project Not Found");
        }
        Job job = jobs.get(key);
        return job == null ? new JobLookup.Gone(key, false, "404 Not found") : new JobLookup.Found(job.event());
    }

    @Override
    public Page<JobEvent> liveJobs(long projectId, int page) {
        calls++;
        requireProject(projectId);
        requirePage(page);
        List<JobEvent> items = new ArrayList<>(PER_PAGE);
        int skip = (page - 1) * PER_PAGE;
        boolean more = false;
        for (Job job : live.descendingMap().values()) {
            if (skip > 0) {
                skip--;
            } else if (items.size() < PER_PAGE) {
                items.add(job.event());
            } else {
                more = true;
                break;
            }
        }
        return new Page<>(items, more ? page + 1 : null);
    }

    @Override
    public Page<Long> groupProjects(String group, int page) {
        calls++;
        requirePage(page);
        if (!GROUP.equals(group)) {
            throw new GitLabRejectedException("404 Group Not Found", 404);
        }
        return new Page<>(page == 1 ? List.of(PROJECT_ID) : List.of(), null);
    }

    @Override
    public List<ProjectHook> hooks(long projectId) {
        calls++;
        requireProject(projectId);
        return List.of(HOOK);
    }

    private static void requireProject(long projectId) {
        if (projectId != PROJECT_ID) {
            throw new GitLabRejectedException("404 Project Not Found", 404);
        }
    }

    private static void requirePage(int page) {
        if (page < 1) {
            throw new IllegalArgumentException("pages count from 1, got " + page);
        }
    }
}
