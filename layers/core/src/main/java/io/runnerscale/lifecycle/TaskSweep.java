package io.runnerscale.lifecycle;

import io.runnerscale.compute.FargateTasks;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.gitlab.GitLabRejectedException;
import io.runnerscale.gitlab.GitLabRunners;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.store.JobStore;
import io.runnerscale.store.TaskRecord;
import io.runnerscale.store.TaskStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * The orphan sweep's part for Fargate pools: nothing is left running once its job is gone. A task
 * runs {@code gitlab-runner run-single} for one job and ends itself ({@code --max-builds 1}, and
 * {@code --wait-timeout} when no job comes); one still running long after that (a hung runner, a job
 * GitLab dropped) costs money until someone stops it. One run, per Fargate pool:
 * <ol>
 *   <li>lists the running tasks of the pool's cluster that runnerscale started (their
 *       {@code startedBy} names a {@link TaskKey}; no other task is ever looked at);</li>
 *   <li>keeps a task this store never claimed (another stack sharing the cluster) or claimed for
 *       another pool (that pool's run decides, against that pool's runner);</li>
 *   <li>keeps a task younger than the pool's {@code start_time.max + wait_timeout} plus
 *       {@link Settings#grace}, or whose start ECS does not say;</li>
 *   <li>asks GitLab for the running jobs of the task's runner manager (the system id its entrypoint
 *       derives from the task id) under every runner id among the pool's running jobs: a task GitLab
 *       lists a job for is kept; one it lists none for under all of them is stopped, with a reason.</li>
 * </ol>
 * <b>Never stops blind</b>: a task is kept when no runner id is known (no running job of the pool
 * names its runner), when its ARN gives no system id, when GitLab refuses the listing, and when GitLab
 * is unavailable (the run ends there). <b>Bounded</b>: at most {@code maxActions} GitLab calls and
 * stops and {@code timeBudget} a run; the next run continues. Safe to run twice at once: stopping a
 * stopped task changes nothing.
 */
public final class TaskSweep {
    private static final Logger LOG = LoggerFactory.getLogger(TaskSweep.class);

    /**
     * @param grace      beyond start_time.max + wait_timeout before a task without a job is stopped:
     *                   the runner's own exit, ECS's stop and a late job event come first
     * @param maxActions GitLab calls and stops per run
     * @param timeBudget time per run (after the EC2 sweep's, inside the lifecycle function's timeout)
     */
    public record Settings(Duration grace, int maxActions, Duration timeBudget) {
        public static final Settings DEFAULT = new Settings(Duration.ofMinutes(5), 50, Duration.ofSeconds(5));

        public Settings {
            if (grace == null || grace.isNegative() || maxActions < 1 || timeBudget == null || timeBudget.isNegative()
                    || timeBudget.isZero()) {
                throw new IllegalArgumentException("task sweep settings need a grace, at least one action and a time budget");
            }
        }
    }

    /**
     * What one run did.
     *
     * @param seen      running tasks of the Fargate pools that runnerscale started and claimed for the pool
     * @param stopped   tasks stopped: old enough, and GitLab lists no job on their runner manager (ids: key and task id)
     * @param busy      old tasks GitLab lists a running job for: kept
     * @param unchecked old tasks that could not be checked (no runner id known, no system id, GitLab
     *                  refused, the stop failed): kept
     * @param cutShort  the run stopped at its budget, at GitLab being unavailable, or a cluster could not
     *                  be listed; the next run continues
     */
    public record Report(int seen, SweepReport.Kind stopped, SweepReport.Kind busy, SweepReport.Kind unchecked,
                         boolean cutShort) {
    }

    private final Supplier<PoolsConfig> pools;
    private final FargateTasks fargate;
    private final GitLabRunners gitlab;
    private final TaskStore tasks;
    private final JobStore jobs;
    private final Settings settings;
    private final Clock clock;

    public TaskSweep(Supplier<PoolsConfig> pools, FargateTasks fargate, GitLabRunners gitlab, TaskStore tasks,
                     JobStore jobs, Settings settings, Clock clock) {
        this.pools = pools;
        this.fargate = fargate;
        this.gitlab = gitlab;
        this.tasks = tasks;
        this.jobs = jobs;
        this.settings = settings;
        this.clock = clock;
    }

    /** Thrown inside a run when its budget is spent; ends the run, not an error. */
    private static final class BudgetSpent extends RuntimeException {
        BudgetSpent() {
            super(null, null, false, false);
        }
    }

    /** One run's state. */
    private final class Run {
        final Instant started = clock.instant();
        final Instant deadline = started.plus(settings.timeBudget());
        /** The cluster's listing, for pools sharing a cluster. */
        final Map<String, List<FargateTasks.StartedTask>> listed = new HashMap<>();
        final SweepReport.Tally stopped = new SweepReport.Tally();
        final SweepReport.Tally busy = new SweepReport.Tally();
        final SweepReport.Tally unchecked = new SweepReport.Tally();
        int seen;
        int actions;
        boolean cutShort;

        void spend(String what) {
            if (actions >= settings.maxActions() || !clock.instant().isBefore(deadline)) {
                LOG.warn("task sweep: cut short before {} ({} actions, {} ms); the next run continues", what, actions,
                        Duration.between(started, clock.instant()).toMillis());
                cutShort = true;
                throw new BudgetSpent();
            }
            actions++;
        }

        Report report() {
            return new Report(seen, stopped.kind(), busy.kind(), unchecked.kind(), cutShort);
        }
    }

    public Report run() {
        Run run = new Run();
        try {
            for (PoolConfig pool : pools.get().pools()) {
                if (pool.backend() instanceof PoolConfig.Fargate backend) {
                    sweepPool(run, pool, backend);
                }
            }
        } catch (BudgetSpent spent) {
            // logged where it happened
        } catch (GitLabUnavailableException e) {
            LOG.warn("task sweep: GitLab unavailable ({}); no task stopped blind, the next run continues", e.getMessage());
            run.cutShort = true;
        }
        Report report = run.report();
        LOG.info("task sweep: {}", report);
        return report;
    }

    private void sweepPool(Run run, PoolConfig pool, PoolConfig.Fargate backend) {
        List<FargateTasks.StartedTask> listed = run.listed.get(backend.cluster());
        if (listed == null) {
            try {
                listed = fargate.list(backend);
            } catch (RuntimeException e) {
                LOG.warn("task sweep: pool {}: the tasks of cluster {} cannot be listed: {}", pool.name(),
                        backend.cluster(), e.toString());
                run.cutShort = true;
                return;
            }
            run.listed.put(backend.cluster(), listed);
        }
        Instant now = clock.instant();
        // by then a task has started, waited for a job and, without one, ended itself
        Duration maxIdle = backend.startTime().max().plus(backend.waitTimeout()).plus(settings.grace());
        Set<Long> runners = null;
        for (FargateTasks.StartedTask task : listed) {
            Optional<TaskRecord> record = tasks.task(task.key());
            if (record.isEmpty() || !pool.name().equals(record.get().pool())) {
                continue;   // another stack's task in a shared cluster, or another pool's: not judged here
            }
            run.seen++;
            if (task.startedAt() == null || now.isBefore(task.startedAt().plus(maxIdle))) {
                continue;
            }
            String name = task.key() + " " + taskId(task.taskArn());
            Optional<String> systemId = TaskKey.systemId(task.taskArn());
            if (systemId.isEmpty()) {
                LOG.warn("task sweep: pool {}: task {} ({}) has run {} min, but its ARN gives no runner system id to ask "
                        + "GitLab by; left", pool.name(), task.key(), task.taskArn(), minutes(task, now));
                run.unchecked.add(name);
                continue;
            }
            if (runners == null) {
                runners = runnerIds(pool);
            }
            if (runners.isEmpty()) {
                LOG.info("task sweep: pool {}: task {} has run {} min; no running job of the pool names its runner, so "
                        + "GitLab cannot be asked whether it runs one; left", pool.name(), name, minutes(task, now));
                run.unchecked.add(name);
                continue;
            }
            switch (jobsOn(run, pool, name, runners, systemId.get())) {
                case BUSY -> run.busy.add(name);
                case UNKNOWN -> run.unchecked.add(name);
                case IDLE -> stop(run, pool, backend, task, name, systemId.get(), now);
            }
        }
    }

    private enum Jobs { IDLE, BUSY, UNKNOWN }

    /** Whether GitLab lists a running job for the runner manager under any of the runners. */
    private Jobs jobsOn(Run run, PoolConfig pool, String name, Set<Long> runners, String systemId) {
        for (long runnerId : runners) {
            run.spend("asking GitLab about task " + name);
            try {
                if (!gitlab.runningJobs(runnerId, systemId).isEmpty()) {
                    return Jobs.BUSY;
                }
            } catch (GitLabRejectedException e) {
                LOG.warn("task sweep: pool {}: task {}: GitLab refused the jobs of runner {} manager {} ({}); left",
                        pool.name(), name, runnerId, systemId, e.getMessage());
                return Jobs.UNKNOWN;
            }
        }
        return Jobs.IDLE;
    }

    private void stop(Run run, PoolConfig pool, PoolConfig.Fargate backend, FargateTasks.StartedTask task, String name,
                      String systemId, Instant now) {
        run.spend("stopping task " + name);
        String reason = "orphan sweep: no job on runner manager " + systemId + " after " + minutes(task, now) + " min";
        try {
            fargate.stop(backend, task.taskArn(), reason);
        } catch (RuntimeException e) {
            LOG.warn("task sweep: pool {}: task {} could not be stopped: {}", pool.name(), name, e.toString());
            run.unchecked.add(name);
            return;
        }
        LOG.warn("task sweep: pool {}: task {} ({}) stopped: it has run {} min and GitLab lists no job on its runner "
                + "manager {}", pool.name(), task.key(), task.taskArn(), minutes(task, now), systemId);
        run.stopped.add(name);
    }

    /** The runners the pool's running jobs name: every task of the pool shares one, which GitLab knows by id. */
    private Set<Long> runnerIds(PoolConfig pool) {
        Set<Long> runners = new TreeSet<>();
        for (JobRecord job : jobs.liveJobs(pool.name())) {
            if (job.status() == JobStatus.RUNNING && job.runnerId() != null) {
                runners.add(job.runnerId());
            }
        }
        return runners;
    }

    private static long minutes(FargateTasks.StartedTask task, Instant now) {
        return Duration.between(task.startedAt(), now).toMinutes();
    }

    private static String taskId(String taskArn) {
        return taskArn == null ? "?" : taskArn.substring(taskArn.lastIndexOf('/') + 1);
    }
}
