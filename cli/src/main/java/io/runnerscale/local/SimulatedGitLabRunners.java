package io.runnerscale.local;

import io.runnerscale.gitlab.CreatedRunner;
import io.runnerscale.gitlab.GitLabRejectedException;
import io.runnerscale.gitlab.GitLabRunners;
import io.runnerscale.gitlab.RunnerInfo;
import io.runnerscale.gitlab.RunnerOwner;
import io.runnerscale.gitlab.RunnerSpec;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.store.JobStore;
import io.runnerscale.webhook.JobUpdateService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * GitLab's runner API as {@code serve} simulates it when there is no GitLab to ask: runners live in
 * memory, and what a runner runs is what serve's job store says runs on its instance. serve learns
 * where a job runs from GitLab's job hooks, whose {@code runner.description} is the instance id (the
 * description runnerscale gives each runner), so a runner's running jobs are the store's running
 * jobs whose instance is the runner's description.
 *
 * <p>Cancel and retry act as GitLab would, seen through its hooks: a cancelled job is stored as
 * canceled; a retry stores a new pending job (a new job id) with the same project, pipeline, name and
 * tags, through the same {@link JobUpdateService} a webhook delivery uses, so its pool is resolved
 * and a scale-out requested as for GitLab's pending hook.
 */
public final class SimulatedGitLabRunners implements GitLabRunners {
    private static final Logger LOG = LoggerFactory.getLogger(SimulatedGitLabRunners.class);
    /** Ids of retried jobs start here, far above the ids of GitLab instances' jobs seen so far. */
    public static final long FIRST_RETRY_JOB_ID = 1_000_000_000_000L;

    private record Runner(long id, String description, RunnerOwner owner, boolean paused) {
        Runner paused(boolean value) {
            return new Runner(id, description, owner, value);
        }
    }

    private final PoolsConfigSource pools;
    private final JobStore jobs;
    private final Supplier<JobUpdateService> updates;
    private final Clock clock;
    private final Map<Long, Runner> runners = new ConcurrentHashMap<>();
    private final Map<JobKey, JobKey> retried = new ConcurrentHashMap<>();
    private final AtomicLong nextRunnerId = new AtomicLong(1);
    private final AtomicLong nextJobId = new AtomicLong(FIRST_RETRY_JOB_ID);
    private final SecureRandom random = new SecureRandom();

    /** @param updates where a cancelled or retried job goes (as GitLab's hook would bring it); read on use */
    public SimulatedGitLabRunners(PoolsConfigSource pools, JobStore jobs, Supplier<JobUpdateService> updates, Clock clock) {
        this.pools = pools;
        this.jobs = jobs;
        this.updates = updates;
        this.clock = clock;
    }

    @Override
    public CreatedRunner createRunner(RunnerSpec spec) {
        long id = nextRunnerId.getAndIncrement();
        runners.put(id, new Runner(id, spec.description(), spec.owner(), false));
        byte[] secret = new byte[16];
        random.nextBytes(secret);
        return new CreatedRunner(id, "glrt-sim-" + HexFormat.of().formatHex(secret));
    }

    @Override
    public void setPaused(long runnerId, boolean paused) {
        runners.compute(runnerId, (id, runner) -> {
            if (runner == null) {
                throw notFound(runnerId);
            }
            return runner.paused(paused);
        });
    }

    @Override
    public List<JobKey> runningJobs(long runnerId) {
        Runner runner = runners.get(runnerId);
        if (runner == null) {
            throw notFound(runnerId);
        }
        return runningOn(runner.description()).stream().map(JobRecord::key).toList();
    }

    /** Jobs the store lists as running on {@code instanceId}, in every pool. */
    public List<JobRecord> runningOn(String instanceId) {
        List<JobRecord> out = new ArrayList<>();
        for (PoolConfig pool : pools.current().pools()) {
            for (JobRecord job : jobs.liveJobs(pool.name())) {
                if (job.status() == JobStatus.RUNNING && instanceId.equals(job.instanceId())) {
                    out.add(job);
                }
            }
        }
        return out;
    }

    @Override
    public void deleteRunner(long runnerId) {
        runners.remove(runnerId);
    }

    @Override
    public void cancelJob(JobKey job) {
        Optional<JobRecord> record = jobs.find(job);
        if (record.isEmpty() || record.get().status().isTerminal()) {
            return;   // GitLab: a finished job stays as it is, an unknown one counts as cancelled
        }
        JobRecord r = record.get();
        Instant now = clock.instant();
        updates.get().apply(List.of(new JobEvent(job, JobStatus.CANCELED, r.pipelineId(), r.name(), null, r.createdAt(),
                r.startedAt(), now, null, r.runnerId(), r.instanceId(), null, r.tags())), now);
        LOG.info("simulated GitLab: job {} cancelled", job);
    }

    @Override
    public Optional<JobKey> retryJob(JobKey job) {
        Optional<JobRecord> record = jobs.find(job);
        if (record.isEmpty() || !record.get().status().isTerminal()) {
            return Optional.empty();   // GitLab: 404, or 403 "not retryable" while it still runs
        }
        JobKey[] made = new JobKey[1];
        retried.computeIfAbsent(job, original -> made[0] = newKey(original.projectId()));
        if (made[0] == null) {
            return Optional.empty();   // retried already: GitLab refuses a second retry of the same job
        }
        JobRecord r = record.get();
        Instant now = clock.instant();
        updates.get().apply(List.of(new JobEvent(made[0], JobStatus.PENDING, r.pipelineId(), r.name(), null, now, null,
                null, null, null, null, null, r.tags())), now);
        LOG.info("simulated GitLab: job {} retried as {}", job, made[0]);
        return Optional.of(made[0]);
    }

    private JobKey newKey(long projectId) {
        while (true) {
            JobKey key = new JobKey(projectId, nextJobId.getAndIncrement());
            if (jobs.find(key).isEmpty()) {
                return key;
            }
        }
    }

    @Override
    public List<RunnerInfo> runnersOf(RunnerOwner owner) {
        return runners.values().stream().filter(r -> r.owner().equals(owner))
                .map(r -> new RunnerInfo(r.id(), r.description(), owner.type(), r.paused())).toList();
    }

    /** The runner's description (its instance) and whether it is paused; empty once deleted. */
    public Optional<String> describe(long runnerId) {
        Runner runner = runners.get(runnerId);
        return runner == null ? Optional.empty() : Optional.of(runner.paused() ? "paused" : "active");
    }

    private static GitLabRejectedException notFound(long runnerId) {
        return new GitLabRejectedException("runner " + runnerId + " not found (404)", 404);
    }
}
