package io.runnerscale.lifecycle;

import io.runnerscale.gitlab.CreatedRunner;
import io.runnerscale.gitlab.GitLabRejectedException;
import io.runnerscale.gitlab.GitLabRunners;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.gitlab.RunnerInfo;
import io.runnerscale.gitlab.RunnerOwner;
import io.runnerscale.gitlab.RunnerSpec;
import io.runnerscale.job.JobKey;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * GitLab as the source of truth for {@link FleetInterleavingPropertyTest}: runners (description =
 * instance id) and jobs, with GitLab's own rules. It never gives a job to a paused or deleted runner;
 * {@link #runningJobs} lists what {@code GET /runners/:id/jobs?status=running} would; a cancelled job
 * may still be listed until the next {@link #settle()} (GitLab's answer lags the runner stopping it);
 * retry makes a new pending job of a finished one, once. The job changes go to {@link Hooks}, as
 * GitLab's job webhooks would.
 */
final class ModelGitLab implements GitLabRunners {

    enum Status { PENDING, RUNNING, CANCELING, CANCELED, SUCCESS, FAILED }

    static final class Runner {
        final long id;
        final String description;
        final List<String> tags;
        final boolean runUntagged;
        boolean paused;
        boolean deleted;

        Runner(long id, String description, List<String> tags, boolean runUntagged) {
            this.id = id;
            this.description = description;
            this.tags = tags;
            this.runUntagged = runUntagged;
        }

        boolean accepts(List<String> jobTags) {
            return jobTags.isEmpty() ? runUntagged : tags.containsAll(jobTags);
        }

        @Override
        public String toString() {
            return "runner " + id + " (" + description + (paused ? ", paused" : "") + (deleted ? ", deleted" : "") + ")";
        }
    }

    static final class Job {
        final JobKey key;
        final List<String> tags;
        Status status = Status.PENDING;
        Long runnerId;
        /** Cancelled, but GitLab still lists it running on its runner until the next settle. */
        boolean listedAfterCancel;
        JobKey retriedAs;
        final JobKey retryOf;

        Job(JobKey key, List<String> tags, JobKey retryOf) {
            this.key = key;
            this.tags = tags;
            this.retryOf = retryOf;
        }

        boolean listedRunning() {
            return status == Status.RUNNING || listedAfterCancel;
        }

        @Override
        public String toString() {
            return "job " + key + " " + status + (runnerId != null ? " on " + runnerId : "")
                    + (listedAfterCancel ? " (still listed)" : "") + (retriedAs != null ? " retried as " + retriedAs : "");
        }
    }

    /** GitLab's job webhooks (status changes), delivered to runnerscale's job store. */
    interface Hooks {
        void jobChanged(Job job, Runner runner);
    }

    final Map<Long, Runner> runners = new LinkedHashMap<>();
    final Map<JobKey, Job> jobs = new LinkedHashMap<>();
    final List<String> problems = new ArrayList<>();
    private final Hooks hooks;
    /** Graceful cancel (gitlab-runner 16.10+): a cancelled running job is {@code canceling}, not listed, not retryable. */
    final boolean gracefulCancel;
    /** The next this many API calls fail with 503 (before doing anything). */
    int unavailableCalls;
    private long nextRunner = 100;
    private long nextJob = 1;

    ModelGitLab(Hooks hooks, boolean gracefulCancel) {
        this.hooks = hooks;
        this.gracefulCancel = gracefulCancel;
    }

    // ------------------------------------------------------------------ GitLab's own side

    Job createJob(List<String> tags) {
        return createJob(tags, null);
    }

    private Job createJob(List<String> tags, JobKey retryOf) {
        Job job = new Job(new JobKey(7, nextJob++), List.copyOf(tags), retryOf);
        jobs.put(job.key, job);
        hooks.jobChanged(job, null);
        return job;
    }

    /** A runner that polls takes a pending job: GitLab hands it out only to an active runner that accepts its tags. */
    void assign(Job job, Runner runner) {
        if (runner.paused || runner.deleted || job.status != Status.PENDING || !runner.accepts(job.tags)) {
            throw new IllegalStateException("GitLab would not give " + job + " to " + runner);
        }
        job.status = Status.RUNNING;
        job.runnerId = runner.id;
        hooks.jobChanged(job, runner);
    }

    void finish(Job job, Status end) {
        job.status = end;
        job.listedAfterCancel = false;
        hooks.jobChanged(job, job.runnerId == null ? null : runners.get(job.runnerId));
    }

    /** GitLab catches up: cancelled jobs are no longer listed, canceling ones are canceled. */
    void settle() {
        for (Job job : jobs.values()) {
            job.listedAfterCancel = false;
            if (job.status == Status.CANCELING) {
                finish(job, Status.CANCELED);
            }
        }
    }

    List<Job> runningOn(long runnerId) {
        return jobs.values().stream().filter(j -> j.runnerId != null && j.runnerId == runnerId && j.listedRunning()).toList();
    }

    List<Runner> liveRunnersOf(String instanceId) {
        return runners.values().stream().filter(r -> !r.deleted && r.description.equals(instanceId)).toList();
    }

    List<Job> listedRunningOnInstance(String instanceId) {
        List<Job> out = new ArrayList<>();
        for (Runner runner : runners.values()) {
            if (runner.description.equals(instanceId)) {
                out.addAll(runningOn(runner.id));
            }
        }
        return out;
    }

    /** Jobs GitLab has not seen finish on the instance (running, canceling, or still listed). */
    List<Job> unfinishedOnInstance(String instanceId) {
        List<Job> out = new ArrayList<>();
        for (Job job : jobs.values()) {
            if (job.runnerId != null && runners.get(job.runnerId).description.equals(instanceId)
                    && (job.listedRunning() || job.status == Status.CANCELING)) {
                out.add(job);
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ the API runnerscale calls

    private void call() {
        if (unavailableCalls > 0) {
            unavailableCalls--;
            throw new GitLabUnavailableException("GitLab answered 503", null);
        }
    }

    private Runner runner(long runnerId, String what) {
        Runner runner = runners.get(runnerId);
        if (runner == null || runner.deleted) {
            throw new GitLabRejectedException(what + " /runners/" + runnerId + ": 404", 404);
        }
        return runner;
    }

    @Override
    public CreatedRunner createRunner(RunnerSpec spec) {
        call();
        Runner runner = new Runner(nextRunner++, spec.description(), spec.tags(), spec.runUntagged());
        runners.put(runner.id, runner);
        return new CreatedRunner(runner.id, "glrt-" + runner.id);
    }

    @Override
    public void setPaused(long runnerId, boolean paused) {
        call();
        runner(runnerId, "PUT").paused = paused;
    }

    @Override
    public List<JobKey> runningJobs(long runnerId) {
        call();
        runner(runnerId, "GET");
        return runningOn(runnerId).stream().map(j -> j.key).toList();
    }

    @Override
    public void deleteRunner(long runnerId) {
        call();
        Runner runner = runners.get(runnerId);
        if (runner == null || runner.deleted) {
            return;
        }
        List<Job> running = jobs.values().stream()
                .filter(j -> j.runnerId != null && j.runnerId == runnerId && j.status == Status.RUNNING).toList();
        if (!running.isEmpty()) {
            problems.add("runner " + runnerId + " of " + runner.description + " deleted under running " + running);
        }
        runner.deleted = true;
    }

    @Override
    public void cancelJob(JobKey key) {
        call();
        Job job = jobs.get(key);
        if (job == null) {
            return;
        }
        switch (job.status) {
            case PENDING -> finish(job, Status.CANCELED);
            case RUNNING -> {
                if (gracefulCancel) {
                    job.status = Status.CANCELING;
                    hooks.jobChanged(job, runners.get(job.runnerId));
                } else {
                    finish(job, Status.CANCELED);
                    job.listedAfterCancel = true;
                }
            }
            default -> { }
        }
    }

    @Override
    public Optional<JobKey> retryJob(JobKey key) {
        call();
        Job job = jobs.get(key);
        // 403 "Job is not retryable": still running or canceling, or retried already
        if (job == null || job.retriedAs != null
                || !(job.status == Status.CANCELED || job.status == Status.FAILED || job.status == Status.SUCCESS)) {
            return Optional.empty();
        }
        Job retry = createJob(job.tags, job.key);
        job.retriedAs = retry.key;
        return Optional.of(retry.key);
    }

    @Override
    public List<RunnerInfo> runnersOf(RunnerOwner owner) {
        call();
        return runners.values().stream().filter(r -> !r.deleted)
                .map(r -> new RunnerInfo(r.id, r.description, owner.type(), r.paused)).toList();
    }
}
