package io.runnerscale.lifecycle;

import io.runnerscale.gitlab.GitLabRejectedException;
import io.runnerscale.gitlab.GitLabRunners;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.gitlab.RunnerInfo;
import io.runnerscale.gitlab.RunnerOwner;
import io.runnerscale.job.InstanceIds;
import io.runnerscale.job.JobKey;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.store.InstanceLifecycle;
import io.runnerscale.store.InstanceLifecycleStore;
import io.runnerscale.store.InstanceRecord;
import io.runnerscale.store.JobStore;
import io.runnerscale.text.Quoted;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * The scheduled orphan sweep: what a lost event, a failed drain or a crash half-way left behind,
 * over every EC2 pool. One run:
 * <ol>
 *   <li><b>An instance in a group without a runner record</b> (in service, launched longer ago than
 *       the launch hook's timeout, in a group with the {@code runnerscale-launch} hook): a runner
 *       described by its instance id is adopted (recorded, state registered); with none it can run no
 *       runnerscale job and is drained ({@code boot-timeout}, through {@link Drains}: never
 *       terminated here). Several such runners: left alone and logged (which one the instance uses
 *       cannot be told).</li>
 *   <li><b>A returning instance still in service</b> {@link #RETURN_GRACE} after its scale-in drain
 *       handed it back to the warm pool (the decrement of desired capacity was lost to a concurrent
 *       write, see {@link WarmReturnPolicy}): it has no runner, so it is terminated
 *       ({@code TerminateInstanceInAutoScalingGroup}, desired capacity − 1).</li>
 *   <li><b>Instances that are gone</b> (EC2 lists them terminated or shutting down, or no longer
 *       knows them) that have a runner in GitLab, a token parameter or a record: each runner is
 *       deleted unless GitLab lists a running job on it (then it is left for the next run), then the
 *       token, then the record.</li>
 * </ol>
 * <b>Whose runner</b>: a runner is deleted only when its description is the instance id of a gone
 * instance and something shows runnerscale made it: a record the lifecycle function wrote (a state
 * or a runner id), a token parameter under this stack's prefix, or EC2's
 * {@code aws:autoscaling:groupName} tag naming a group of a pool that has the launch hook. A
 * runner with any other description is never looked at; one described by an instance EC2 no longer
 * knows, with no record and no token, is logged and left (nothing shows it is ours: a person may
 * have registered it, or another stack sharing the GitLab owner).
 *
 * <p><b>Safe to run twice at once</b>: every step is idempotent (a runner deleted already answers
 * 404, which counts as done; token deletion and forgetting a record repeat harmlessly; a drain start
 * finds the other run's execution running), each instance's record is read again just before acting
 * on it, a draining instance is left to its drain and a launching one to its launch.
 * <b>Bounded</b>: at most {@code maxActions} GitLab calls and writes and {@code timeBudget} of time
 * a run (the lifecycle function has 30 s); a run cut short says so, and the next continues.
 */
public final class OrphanSweep {
    private static final Logger LOG = LoggerFactory.getLogger(OrphanSweep.class);

    /** How the sweep starts a drain: {@link LifecycleService#startDrain(String, String, String, DrainReason)}. */
    @FunctionalInterface
    public interface Drains {
        LifecycleService.DrainRequestResult start(String instanceId, String pool, String asg, DrainReason reason);
    }

    /**
     * @param launchTimeout how long a launch may take before an instance without a runner record is an
     *                      orphan: the launch hook's heartbeat timeout (600 s in template.yaml), after
     *                      which no launch event is handled any more
     * @param maxActions    GitLab calls and writes per run
     * @param timeBudget    time per run, well inside the function's timeout
     */
    public record Settings(Duration launchTimeout, int maxActions, Duration timeBudget) {
        public static final Settings DEFAULT = new Settings(Duration.ofSeconds(600), 100, Duration.ofSeconds(20));

        public Settings {
            if (launchTimeout == null || launchTimeout.isNegative() || maxActions < 1 || timeBudget == null
                    || timeBudget.isNegative() || timeBudget.isZero()) {
                throw new IllegalArgumentException("sweep settings need a launch timeout, at least one action and a time budget");
            }
        }
    }

    private final Supplier<PoolsConfig> pools;
    private final JobStore jobs;
    private final InstanceLifecycleStore store;
    private final GitLabRunners gitlab;
    private final RunnerOwner owner;
    private final RunnerTokens tokens;
    private final GroupMembers groups;
    private final Ec2Instances ec2;
    private final Drains drains;
    private final Settings settings;
    private final LifecycleActions actions;
    private final Clock clock;

    /**
     * How long a returning instance may stay in service before the sweep terminates it: the group acts
     * on a lowered desired capacity within seconds to a minute; 10 minutes leaves room for its
     * terminate hook and a slow drain's retries without letting a lost decrement cost more than a sweep or two.
     */
    public static final Duration RETURN_GRACE = Duration.ofMinutes(10);

    public OrphanSweep(Supplier<PoolsConfig> pools, JobStore jobs, InstanceLifecycleStore store, GitLabRunners gitlab,
                       RunnerOwner owner, RunnerTokens tokens, GroupMembers groups, Ec2Instances ec2, Drains drains,
                       Settings settings, Clock clock) {
        this(pools, jobs, store, gitlab, owner, tokens, groups, ec2, drains, settings, null, clock);
    }

    /** @param actions terminates a returning instance left in service (null: such instances are only logged) */
    public OrphanSweep(Supplier<PoolsConfig> pools, JobStore jobs, InstanceLifecycleStore store, GitLabRunners gitlab,
                       RunnerOwner owner, RunnerTokens tokens, GroupMembers groups, Ec2Instances ec2, Drains drains,
                       Settings settings, LifecycleActions actions, Clock clock) {
        this.actions = actions;
        this.pools = pools;
        this.jobs = jobs;
        this.store = store;
        this.gitlab = gitlab;
        this.owner = owner;
        this.tokens = tokens;
        this.groups = groups;
        this.ec2 = ec2;
        this.drains = drains;
        this.settings = settings;
        this.clock = clock;
    }

    /** One run's state. */
    private final class Run {
        final SweepReport.Builder report = new SweepReport.Builder();
        final SweepBudget budget = new SweepBudget("orphan sweep", clock, settings.maxActions(), settings.timeBudget());

        void spend(String what) {
            try {
                budget.spend(what);
            } catch (SweepBudget.Spent spent) {
                report.cutShort = true;
                throw spent;
            }
        }
    }

    public SweepReport run() {
        Run run = new Run();
        try {
            sweep(run);
        } catch (SweepBudget.Spent spent) {
            // logged where it happened
        } catch (GitLabUnavailableException e) {
            LOG.warn("orphan sweep: GitLab unavailable ({}); the next run continues", e.getMessage());
            run.report.cutShort = true;
        }
        SweepReport report = run.report.build();
        LOG.info("orphan sweep: {}", report);
        return report;
    }

    private void sweep(Run run) {
        // pool by group; the groups that have runnerscale's launch hook, whose instances runnerscale gives runners
        Map<String, PoolConfig> poolOfGroup = new LinkedHashMap<>();
        for (PoolConfig pool : pools.get().pools()) {
            if (pool.backend() instanceof PoolConfig.Ec2Asg ec2) {
                poolOfGroup.putIfAbsent(ec2.asg(), pool);
            }
        }
        Map<String, GroupMembers.Group> described = new LinkedHashMap<>();
        for (String asg : poolOfGroup.keySet()) {
            Optional<GroupMembers.Group> group = groups.describe(asg);
            if (group.isEmpty()) {
                LOG.warn("orphan sweep: pool {}: Auto Scaling group {} does not exist", poolOfGroup.get(asg).name(),
                        Quoted.abbreviate(asg));
            } else {
                described.put(asg, group.get());
            }
        }
        Set<String> hookGroups = new HashSet<>();
        described.values().stream().filter(GroupMembers.Group::launchHook).forEach(g -> hookGroups.add(g.asg()));

        // everything that names an instance: group members, records, runner descriptions, tokens
        Map<String, String> recordPool = new HashMap<>();
        for (PoolConfig pool : poolOfGroup.values()) {
            for (InstanceRecord record : jobs.instances(pool.name())) {
                recordPool.putIfAbsent(record.instanceId(), pool.name());
            }
        }
        List<RunnerInfo> runners = listRunners();
        Map<String, List<RunnerInfo>> runnersByInstance = new HashMap<>();
        if (runners != null) {
            for (RunnerInfo runner : runners) {
                if (InstanceIds.isInstanceId(runner.description())) {
                    runnersByInstance.computeIfAbsent(runner.description().trim(), d -> new ArrayList<>()).add(runner);
                }
            }
        }
        Set<String> tokenIds = new HashSet<>(tokens.list());
        Set<String> all = new TreeSet<>();
        described.values().forEach(g -> g.members().forEach(m -> all.add(m.instanceId())));
        all.addAll(recordPool.keySet());
        all.addAll(runnersByInstance.keySet());
        tokenIds.stream().filter(InstanceIds::isInstanceId).forEach(all::add);
        Map<String, Ec2Instances.Ec2Instance> known = ec2.describe(all);

        for (GroupMembers.Group group : described.values()) {
            if (group.launchHook()) {
                sweepGroup(run, group, poolOfGroup.get(group.asg()).name(), known, runners == null ? null : runnersByInstance);
            }
        }
        for (String instanceId : all) {
            Ec2Instances.Ec2Instance instance = known.get(instanceId);
            if (instance == null || instance.gone()) {
                sweepGone(run, instanceId, instance, hookGroups, runnersByInstance.getOrDefault(instanceId, List.of()),
                        tokenIds.contains(instanceId), recordPool.containsKey(instanceId));
            }
        }
    }

    /** The owner's runners, or null when GitLab refuses the listing (rules that need it are skipped). */
    private List<RunnerInfo> listRunners() {
        try {
            return gitlab.runnersOf(owner);
        } catch (GitLabRejectedException e) {
            LOG.warn("orphan sweep: cannot list the {} runners ({}); runners are neither adopted nor deleted by"
                    + " description, and no instance without a record is drained", owner, e.getMessage());
            return null;
        }
    }

    /** Instances in the group that have no runner record: adopt their runner, or drain them. */
    private void sweepGroup(Run run, GroupMembers.Group group, String pool, Map<String, Ec2Instances.Ec2Instance> known,
                            Map<String, List<RunnerInfo>> runnersByInstance) {
        Instant launchedBefore = clock.instant().minus(settings.launchTimeout());
        for (GroupMembers.Member member : group.members()) {
            String instanceId = member.instanceId();
            Ec2Instances.Ec2Instance instance = known.get(instanceId);
            // leaving, standby or still held by the launch hook: someone else decides; too young: its launch may still come
            if (!member.inService() || instance == null || instance.gone() || instance.launchedAt() == null
                    || instance.launchedAt().isAfter(launchedBefore)) {
                continue;
            }
            Optional<InstanceLifecycle> record = store.lifecycle(instanceId);
            if (record.isPresent() && record.get().state() == InstanceState.RETURNING) {
                sweepReturning(run, instanceId, pool);
                continue;
            }
            if (hasRunnerRecord(record)) {
                continue;
            }
            if (runnersByInstance == null) {
                continue;   // cannot tell whether it has a runner: never drained blind
            }
            List<RunnerInfo> runners = runnersByInstance.getOrDefault(instanceId, List.of());
            if (runners.size() > 1) {
                LOG.warn("orphan sweep: instance {} of pool {} has no runner record and {} runners described by its id"
                        + " ({}); which one it uses cannot be told, left alone", instanceId, pool, runners.size(),
                        runners.stream().map(RunnerInfo::id).toList());
                continue;
            }
            run.spend("instance " + instanceId);
            if (hasRunnerRecord(store.lifecycle(instanceId))) {
                continue;   // recorded meanwhile (another run, or a late launch)
            }
            if (runners.size() == 1) {
                long runnerId = runners.getFirst().id();
                store.recordRunner(instanceId, pool, runnerId, InstanceState.REGISTERED, clock.instant());
                LOG.info("orphan sweep: instance {} of pool {} had no runner record; runner {} adopted", instanceId,
                        pool, runnerId);
                run.report.adopted.add(instanceId);
            } else {
                LifecycleService.DrainRequestResult result = drains.start(instanceId, pool, group.asg(),
                        DrainReason.BOOT_TIMEOUT);
                LOG.info("orphan sweep: instance {} of pool {} has no runner {} after launching at {}; drain: {}",
                        instanceId, pool, owner, instance.launchedAt(), result);
                if (result == LifecycleService.DrainRequestResult.STARTED) {
                    run.report.drainsStarted.add(instanceId);
                }
            }
        }
    }

    /**
     * Only the returning-instance rule, for one instance the group lists in service (with its record
     * returning): what a run does for it, for models that run the sweep's other rules their own way.
     */
    void sweepReturningOnly(String instanceId, String pool) {
        Run run = new Run();
        sweepReturning(run, instanceId, pool);
    }

    /**
     * A returning instance the group still lists in service: past {@link #RETURN_GRACE} its decrement
     * was lost, and it is terminated (it has no runner: its drain deleted it before returning it).
     */
    private void sweepReturning(Run run, String instanceId, String pool) {
        Optional<Instant> since = store.returningSince(instanceId);
        if (since.isPresent() && since.get().plus(RETURN_GRACE).isAfter(clock.instant())) {
            return;   // the group may still take it out
        }
        if (actions == null) {
            LOG.warn("orphan sweep: returning instance {} of pool {} is still in service since {}; not terminated"
                    + " (no Auto Scaling access)", instanceId, pool, since.orElse(null));
            return;
        }
        run.spend("returning instance " + instanceId);
        // read again: its terminate hook may have come meanwhile (warm, or gone)
        if (store.lifecycle(instanceId).map(InstanceLifecycle::state).orElse(null) != InstanceState.RETURNING) {
            return;
        }
        store.setState(instanceId, InstanceState.GONE);
        actions.terminate(instanceId, true);
        LOG.warn("orphan sweep: instance {} of pool {} was returned to the warm pool at {} but is still in service"
                + " (its desired capacity decrement was lost); terminated", instanceId, pool, since.orElse(null));
        run.report.returnsTerminated.add(instanceId);
    }

    /** A record made by the launch (a state or a runner); the scaler's own records have neither. */
    private static boolean hasRunnerRecord(Optional<InstanceLifecycle> record) {
        return record.isPresent() && (record.get().state() != null || record.get().runnerId() != null);
    }

    /** A gone instance: its runners (if ours and idle), then its token, then its record. */
    private void sweepGone(Run run, String instanceId, Ec2Instances.Ec2Instance instance, Set<String> hookGroups,
                           List<RunnerInfo> described, boolean hasToken, boolean listed) {
        Optional<InstanceLifecycle> record = store.lifecycle(instanceId);
        // a record the scaler wrote may have no lifecycle part, and a lifecycle part may be outside the pool index
        boolean recorded = listed || record.isPresent();
        InstanceState state = record.map(InstanceLifecycle::state).orElse(null);
        if (state == InstanceState.LAUNCHING && instance != null && (instance.launchedAt() == null
                || instance.launchedAt().isAfter(clock.instant().minus(settings.launchTimeout())))) {
            return;   // its launch may still be handled: the launch owns it
        }
        boolean ours = hasRunnerRecord(record) || hasToken
                || instance != null && instance.group() != null && hookGroups.contains(instance.group());
        Set<Long> runnerIds = new LinkedHashSet<>();
        record.map(InstanceLifecycle::runnerId).ifPresent(runnerIds::add);
        if (ours) {
            described.forEach(r -> runnerIds.add(r.id()));
        } else if (!described.isEmpty()) {
            LOG.info("orphan sweep: runner(s) {} described by {}, an instance EC2 no longer runs: nothing shows"
                    + " runnerscale made them (no record, no token, not in a pool's group); left alone",
                    described.stream().map(RunnerInfo::id).toList(), instanceId);
            run.report.unclaimed.add(instanceId);
        }
        if (runnerIds.isEmpty() && !hasToken && !recorded) {
            return;
        }
        boolean runnersGone = true;
        for (long runnerId : runnerIds) {
            runnersGone &= deleteIfIdle(run, instanceId, runnerId);
        }
        if (!runnersGone) {
            return;   // the token and record stay: next run they still show the runner is ours
        }
        if (hasToken) {
            run.spend("token of " + instanceId);
            tokens.delete(instanceId);
            LOG.info("orphan sweep: token of gone instance {} deleted", instanceId);
            run.report.tokensDeleted.add(instanceId);
        }
        if (recorded) {
            run.spend("record of " + instanceId);
            // read again: a drain may have started meanwhile (it then owns the record)
            InstanceState now = store.lifecycle(instanceId).map(InstanceLifecycle::state).orElse(null);
            if (now != null && now.draining()) {
                // EC2 says it is gone but its record still says draining: its drain failed (the held
                // action was lost, or the execution timed out) or is ending; either way what is left is
                // what this sweep just did, and every step repeats harmlessly beside a running drain
                store.setState(instanceId, InstanceState.GONE);
                store.clearRunner(instanceId);
                LOG.info("orphan sweep: gone instance {} was still draining; cleaned, its record a tombstone", instanceId);
                run.report.drainsEnded.add(instanceId);
                return;
            }
            if (now == InstanceState.GONE) {
                // a tombstone (it expires by TTL): a launch event handled late must still find it gone
                store.clearRunner(instanceId);
                return;
            }
            jobs.forgetInstance(instanceId);
            LOG.info("orphan sweep: record of gone instance {} removed", instanceId);
            run.report.recordsForgotten.add(instanceId);
        }
    }

    /** Deletes the runner unless GitLab lists a running job on it; true when it is gone now. */
    private boolean deleteIfIdle(Run run, String instanceId, long runnerId) {
        run.spend("runner " + runnerId);
        List<JobKey> running;
        try {
            running = gitlab.runningJobs(runnerId);
        } catch (GitLabRejectedException e) {
            if (e.status() == 404) {
                return true;   // deleted already (another run, or the drain)
            }
            LOG.warn("orphan sweep: runner {} of gone instance {}: cannot list its jobs ({}); left", runnerId, instanceId,
                    e.getMessage());
            return false;
        }
        if (!running.isEmpty()) {
            LOG.warn("orphan sweep: runner {} of gone instance {} still lists running job(s) {}; left for the next run",
                    runnerId, instanceId, running);
            run.report.runnersBusy.add(runnerId);
            return false;
        }
        run.spend("deleting runner " + runnerId);
        try {
            gitlab.deleteRunner(runnerId);
        } catch (GitLabRejectedException e) {
            LOG.warn("orphan sweep: runner {} of gone instance {}: not deleted ({})", runnerId, instanceId, e.getMessage());
            return false;
        }
        LOG.info("orphan sweep: runner {} of gone instance {} deleted", runnerId, instanceId);
        run.report.runnersDeleted.add(runnerId);
        return true;
    }
}
