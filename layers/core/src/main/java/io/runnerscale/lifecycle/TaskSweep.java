package io.runnerscale.lifecycle;

import io.runnerscale.compute.FargateTasks;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.gitlab.GitLabRejectedException;
import io.runnerscale.gitlab.GitLabRunners;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.store.TaskRecord;
import io.runnerscale.store.TaskStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
 *       derives from the task id) under the pool's runner ({@code backend.runner_id}): a task GitLab
 *       lists a job for is kept; one it lists none for is stopped, with a reason;</li>
 *   <li>marks stopped the pool's records that still serve though ECS no longer runs their task, once
 *       past start_time.max and the grace (their stop events were lost, e.g. to the dead-letter
 *       queue): a record that serves for good would hold a job slot and a max_instances place.</li>
 * </ol>
 * <b>Never stops blind</b>: a task is kept when the pool names no runner id (the runner ids of the
 * pool's running jobs may be another runner's with the same tags, under which GitLab lists nothing:
 * that would read as "no job"), when its ARN gives no system id, when GitLab refuses the listing, and
 * when GitLab is unavailable (the run ends there). <b>Bounded</b>: at most {@code maxActions} GitLab calls and
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
     * @param gone      records that served though ECS no longer ran their task: marked stopped
     * @param cutShort  the run stopped at its budget, at GitLab being unavailable, or a cluster could not
     *                  be listed; the next run continues
     */
    public record Report(int seen, SweepReport.Kind stopped, SweepReport.Kind busy, SweepReport.Kind unchecked,
                         SweepReport.Kind gone, boolean cutShort) {
    }

    private final Supplier<PoolsConfig> pools;
    private final FargateTasks fargate;
    private final GitLabRunners gitlab;
    private final TaskStore tasks;
    private final Settings settings;
    private final Clock clock;

    public TaskSweep(Supplier<PoolsConfig> pools, FargateTasks fargate, GitLabRunners gitlab, TaskStore tasks,
                     Settings settings, Clock clock) {
        this.pools = pools;
        this.fargate = fargate;
        this.gitlab = gitlab;
        this.tasks = tasks;
        this.settings = settings;
        this.clock = clock;
    }

    /** One run's state. */
    private final class Run {
        final SweepBudget budget = new SweepBudget("task sweep", clock, settings.maxActions(), settings.timeBudget());
        /** The cluster's listing, for pools sharing a cluster. */
        final Map<String, List<FargateTasks.StartedTask>> listed = new HashMap<>();
        final SweepReport.Tally stopped = new SweepReport.Tally();
        final SweepReport.Tally busy = new SweepReport.Tally();
        final SweepReport.Tally unchecked = new SweepReport.Tally();
        final SweepReport.Tally gone = new SweepReport.Tally();
        int seen;
        boolean cutShort;

        void spend(String what) {
            try {
                budget.spend(what);
            } catch (SweepBudget.Spent spent) {
                cutShort = true;
                throw spent;
            }
        }

        Report report() {
            return new Report(seen, stopped.kind(), busy.kind(), unchecked.kind(), gone.kind(), cutShort);
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
        } catch (SweepBudget.Spent spent) {
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
        markGone(run, pool, backend, listed, now);
        // by then a task has started, waited for a job and, without one, ended itself
        Duration maxIdle = backend.startTime().max().plus(backend.waitTimeout()).plus(settings.grace());
        Long runner = backend.runnerId();
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
            if (runner == null) {
                LOG.info("task sweep: pool {}: task {} has run {} min; the pool names no backend.runner_id, so GitLab "
                        + "cannot be asked whether it runs a job; left", pool.name(), name, minutes(task, now));
                run.unchecked.add(name);
                continue;
            }
            switch (jobsOn(run, pool, name, runner, systemId.get())) {
                case BUSY -> run.busy.add(name);
                case UNKNOWN -> run.unchecked.add(name);
                case IDLE -> stop(run, pool, backend, task, name, systemId.get(), now);
            }
        }
    }

    private enum Jobs { IDLE, BUSY, UNKNOWN }

    /** Whether GitLab lists a running job for the runner manager under the pool's runner. */
    private Jobs jobsOn(Run run, PoolConfig pool, String name, long runnerId, String systemId) {
        run.spend("asking GitLab about task " + name);
        try {
            return gitlab.runningJobs(runnerId, systemId).isEmpty() ? Jobs.IDLE : Jobs.BUSY;
        } catch (GitLabRejectedException e) {
            LOG.warn("task sweep: pool {}: task {}: GitLab refused the jobs of runner {} manager {} ({}); left",
                    pool.name(), name, runnerId, systemId, e.getMessage());
            return Jobs.UNKNOWN;
        }
    }

    /**
     * Records of the pool that still serve though ECS lists no running task for them, past the time a
     * started task shows up in ECS's list: their stop events were lost. Claims without an answer are
     * left to the scaler (it looks them up and runs them again).
     */
    private void markGone(Run run, PoolConfig pool, PoolConfig.Fargate backend, List<FargateTasks.StartedTask> listed,
                          Instant now) {
        Set<String> running = new HashSet<>();
        listed.forEach(task -> running.add(task.taskArn()));
        Duration settle = backend.startTime().max().plus(settings.grace());
        for (TaskRecord record : tasks.tasks(pool.name())) {
            if (!record.serving() || record.taskArn() == null || running.contains(record.taskArn())
                    || record.claimedAt() == null || now.isBefore(record.claimedAt().plus(settle))) {
                continue;
            }
            String reason = "ECS no longer runs it (its stop events were lost)";
            tasks.taskGone(record.key(), reason, now);
            LOG.warn("task sweep: pool {}: task {} ({}) was still serving in the store, but {}: marked stopped",
                    pool.name(), record.key(), record.taskArn(), reason);
            run.gone.add(record.key() + " " + taskId(record.taskArn()));
        }
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

    private static long minutes(FargateTasks.StartedTask task, Instant now) {
        return Duration.between(task.startedAt(), now).toMinutes();
    }

    private static String taskId(String taskArn) {
        return taskArn == null ? "?" : taskArn.substring(taskArn.lastIndexOf('/') + 1);
    }
}
