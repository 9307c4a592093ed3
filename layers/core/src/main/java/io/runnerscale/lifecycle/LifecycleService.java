package io.runnerscale.lifecycle;

import io.runnerscale.text.Quoted;

import io.runnerscale.gitlab.CreatedRunner;
import io.runnerscale.gitlab.GitLabRejectedException;
import io.runnerscale.gitlab.GitLabRunners;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.gitlab.RunnerInfo;
import io.runnerscale.gitlab.RunnerOwner;
import io.runnerscale.gitlab.RunnerSpec;
import io.runnerscale.job.JobKey;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.scaling.ScaleRequests;
import io.runnerscale.store.InstanceLifecycle;
import io.runnerscale.store.InstanceLifecycleStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * An EC2 runner instance's life, from the launch lifecycle hook to the last drain step. Plain Java
 * behind ports: the lifecycle Lambda parses events and task payloads and calls this.
 *
 * <ul>
 *   <li><b>Launch</b> ({@link #onLaunch}): the pool whose {@code backend.asg} is the group; a GitLab
 *       runner described by the instance id with the pool's tags; its token in the instance's SSM
 *       SecureString; {@code INST#<id>} registered. The instance's user data completes the hook. A
 *       group no pool names is abandoned at once (a runner-less instance can do nothing; the hook's
 *       DefaultResult would abandon it too, ten minutes later).</li>
 *   <li><b>Drain starts</b> ({@link #onTerminateHook}, {@link #onSpotWarning}, {@link #onRebalance}):
 *       one drain execution per instance, reason and attempt. Spot and rebalance events come for every
 *       instance of the account: an instance runnerscale has no record of is ignored.</li>
 *   <li><b>Drain tasks</b> ({@link #task}): the steps the drain state machine calls; each is
 *       idempotent (Step Functions retries them) and decisions come from {@link DrainPolicy}.</li>
 * </ul>
 * GitLab being unavailable (429, 5xx, unreachable) is thrown as {@link RetryableError}; a refusal
 * ({@link GitLabRejectedException}) is not retried.
 */
public final class LifecycleService {
    private static final Logger LOG = LoggerFactory.getLogger(LifecycleService.class);
    /**
     * How long a launch claim keeps a second handler out: longer than the function's timeout (30 s),
     * so it outlives only a handler that died, and shorter than Lambda's first retry of the event
     * (about a minute), which then takes over; a handler that fails releases its claim at once.
     */
    static final Duration LAUNCH_LEASE = Duration.ofSeconds(45);

    private final Supplier<PoolsConfig> pools;
    private final InstanceLifecycleStore store;
    private final GitLabRunners gitlab;
    private final RunnerTokens tokens;
    private final LifecycleActions actions;
    private final DrainRequests drainRequests;
    private final RunnerOwner owner;
    private final ScaleRequests scaleRequests;
    private final ScaleInReturns returns;
    private final Clock clock;

    /**
     * @param scaleRequests asks the scaler for a decision when a spot or rebalance drain starts, so the
     *                      instance's replacement launches at once instead of at the next tick
     */
    public LifecycleService(Supplier<PoolsConfig> pools, InstanceLifecycleStore store, GitLabRunners gitlab,
                            RunnerTokens tokens, LifecycleActions actions, DrainStarter drains,
                            ScaleRequests scaleRequests, RunnerOwner owner, Duration jobTimeout, Clock clock) {
        this(pools, store, gitlab, tokens, actions, drains, scaleRequests, owner, jobTimeout, clock, null);
    }

    /**
     * @param returns how a scale-in drain of a pool with {@code warm_pool.reuse_on_scale_in} hands its
     *                instance back to the warm pool ({@link WarmReturnPolicy}); null: every drain terminates
     */
    public LifecycleService(Supplier<PoolsConfig> pools, InstanceLifecycleStore store, GitLabRunners gitlab,
                            RunnerTokens tokens, LifecycleActions actions, DrainStarter drains,
                            ScaleRequests scaleRequests, RunnerOwner owner, Duration jobTimeout, Clock clock,
                            ScaleInReturns returns) {
        this.returns = returns;
        this.pools = pools;
        this.store = store;
        this.gitlab = gitlab;
        this.tokens = tokens;
        this.actions = actions;
        this.drainRequests = new DrainRequests(store, drains, jobTimeout, clock);
        this.owner = owner;
        this.scaleRequests = scaleRequests;
        this.clock = clock;
    }

    public enum LaunchResult {
        /** A runner was created, its token stored and the instance recorded as registered. */
        REGISTERED,
        /** The instance already has its runner (a repeated event): nothing created. */
        ALREADY_REGISTERED,
        /** No pool uses the group: the launch lifecycle action was completed with ABANDON. */
        ABANDONED_UNKNOWN_GROUP,
        /** The instance is gone already (drained, or interrupted before this event): no runner, ABANDON. */
        ABANDONED_GONE,
        /** Another handler holds the launch (a copy of the event handled at the same time): nothing created. */
        IN_PROGRESS,
        /**
         * Launched into the group's warm pool: recorded warm, no runner and no token (the instance
         * prepares, completes the action itself and is stopped by the group).
         */
        WARM,
        /**
         * A resume event from before the instance last went warm (a late copy of an earlier one): the
         * instance is stopped in the warm pool, so nothing is made and no action completed.
         */
        STALE
    }

    /**
     * Where a launch lifecycle action takes the instance, from the event's {@code Origin} and
     * {@code Destination} (only groups with a warm pool send them).
     */
    public enum LaunchPath {
        /** Launched straight into the group ({@code EC2} → {@code AutoScalingGroup}, or no warm pool). */
        COLD,
        /** Launched into the warm pool ({@code EC2} → {@code WarmPool}). */
        TO_WARM_POOL,
        /** Leaves the warm pool for the group ({@code WarmPool} → {@code AutoScalingGroup}): it resumes. */
        FROM_WARM_POOL;

        /** From the event's fields; either may be null (a group without a warm pool sends neither). */
        public static LaunchPath of(String origin, String destination) {
            if ("WarmPool".equals(destination)) {
                return TO_WARM_POOL;
            }
            return "WarmPool".equals(origin) ? FROM_WARM_POOL : COLD;
        }
    }

    public enum DrainRequestResult {
        STARTED,
        /** A drain of this instance for this reason runs already. */
        ALREADY_RUNNING,
        /** The instance was drained already: the terminate lifecycle action was completed at once. */
        COMPLETED_AT_ONCE,
        /** Not an instance runnerscale knows (spot and rebalance events cover the whole account). */
        IGNORED_UNKNOWN_INSTANCE,
        /** The instance is gone already: nothing to drain. */
        IGNORED_GONE,
        /** A rebalance recommendation for a pool that does not drain on them. */
        IGNORED_NOT_ASKED
    }

    // ------------------------------------------------------------------ launch

    /**
     * The launch lifecycle action of {@code instanceId} in {@code asg}. Idempotent: an instance
     * already registered gets nothing new. A previous attempt that stopped half-way left a runner
     * whose token runnerscale may not hold (GitLab shows it once): that runner and any stored token
     * are deleted and a fresh runner created, unless the record shows the token was stored for the
     * recorded runner.
     *
     * @param instanceArn the instance's ARN, the tag that lets only this instance read its token
     */
    public LaunchResult onLaunch(String asg, String instanceId, String instanceArn, String hookName, String token) {
        return onLaunch(asg, instanceId, instanceArn, hookName, token, LaunchPath.COLD, null);
    }

    /**
     * The launch lifecycle action on any of its paths. Into the warm pool: the instance is recorded
     * warm and gets no runner and no token, so a stopped instance can take no job and keeps no
     * credential on its disk; its user data prepares it and completes the action. Out of the warm
     * pool: the same as a cold launch (one runner even for two copies of the event; abandoned if the
     * instance was drained meanwhile), with the boot clock restarted at the resume.
     *
     * @param eventTime the event's time (null if unknown): when a warm launch went warm, and what tells a
     *                  resume from a late copy of one that came before the instance went back to the warm pool
     */
    public LaunchResult onLaunch(String asg, String instanceId, String instanceArn, String hookName, String token,
                                 LaunchPath path, Instant eventTime) {
        Optional<PoolConfig> pool = poolOfGroup(asg);
        if (pool.isEmpty()) {
            LOG.error("launch of {} in group {}: no pool has backend.asg {}; the lifecycle action is abandoned",
                    instanceId, Quoted.abbreviate(asg), Quoted.abbreviate(asg));
            actions.complete(hookName, asg, instanceId, token, LifecycleActions.Result.ABANDON);
            return LaunchResult.ABANDONED_UNKNOWN_GROUP;
        }
        String poolName = pool.get().name();
        Optional<InstanceLifecycle> record = store.lifecycle(instanceId);
        if (record.isPresent() && record.get().state() == InstanceState.GONE) {
            // drained (or its spot warning came first) before this event was handled: a runner made now
            // would never be used nor deleted; an action still held is given up at once
            LOG.warn("launch of {}: the instance is gone already (late or repeated event); no runner, action abandoned",
                    instanceId);
            actions.complete(hookName, asg, instanceId, token, LifecycleActions.Result.ABANDON);
            return LaunchResult.ABANDONED_GONE;
        }
        if (path == LaunchPath.TO_WARM_POOL) {
            if (store.markWarm(instanceId, poolName, eventTime != null ? eventTime : clock.instant())) {
                LOG.info("instance {} of pool {}: launched into the warm pool; no runner until it resumes", instanceId,
                        poolName);
                return LaunchResult.WARM;
            }
            // past warm already (resumed, draining): a late or repeated event, nothing to undo
            return LaunchResult.ALREADY_REGISTERED;
        }
        boolean warm = record.isPresent() && record.get().state() == InstanceState.WARM;
        if (path == LaunchPath.FROM_WARM_POOL && record.isPresent() && record.get().state() == InstanceState.RETURNING) {
            // returned by its scale-in drain, and resumed before its terminate hook (Destination WarmPool)
            // was handled (lost, or the group has no terminate hook): it is warm, as that hook would have made it
            Optional<Instant> since = store.returningSince(instanceId);
            Instant at = eventTime != null ? eventTime : clock.instant();
            if (since.isPresent() && !at.isBefore(since.get())) {
                store.returnToWarm(instanceId, poolName, since.get());
                LOG.info("launch of {}: resumes after its return to the warm pool; warm before resuming", instanceId);
                warm = true;   // returnToWarm writes unconditionally: no need to read it back
            }
        }
        if (warm) {
            // resuming (or a cold-path event for a warm instance): its runner is made now, while EC2 starts it
            if (store.resumeFromWarm(instanceId, clock.instant(), eventTime)) {
                LOG.info("instance {} of pool {}: leaves the warm pool; creating its runner", instanceId, poolName);
            }
            record = store.lifecycle(instanceId);
            if (record.isPresent() && record.get().state() == InstanceState.WARM) {
                LOG.info("launch of {}: a resume event from {}, before the instance went back to the warm pool;"
                        + " nothing made", instanceId, eventTime);
                return LaunchResult.STALE;
            }
        }
        // past launching (registered, ready, draining or gone, with or without a runner): a late or
        // repeated event; a runner made now for a draining or terminated instance would never be deleted
        if (record.isPresent() && record.get().state() != null && record.get().state() != InstanceState.LAUNCHING) {
            return LaunchResult.ALREADY_REGISTERED;
        }
        // one handler per launch: two copies of the event at once must not make two runners
        if (!store.claimLaunch(instanceId, poolName, clock.instant(), LAUNCH_LEASE)) {
            LOG.info("launch of {}: another handler is creating its runner (or it is past launching)", instanceId);
            return LaunchResult.IN_PROGRESS;
        }
        try {
            if (record.isPresent() && record.get().state() == InstanceState.LAUNCHING && record.get().runnerId() != null
                    && tokens.exists(instanceId)) {
                // the token was stored after this runner was recorded (a stale token is deleted before a new runner)
                store.recordRunner(instanceId, poolName, record.get().runnerId(), InstanceState.REGISTERED, clock.instant());
                return LaunchResult.REGISTERED;
            }
            if (record.isPresent() && record.get().state() == InstanceState.LAUNCHING) {
                removeHalfMadeRunners(instanceId, record.get().runnerId());
            }
            RunnerSpec spec = new RunnerSpec(owner, instanceId, pool.get().match().tags(), pool.get().match().runUntagged(),
                    Optional.empty());
            CreatedRunner runner = gitlab(() -> gitlab.createRunner(spec));
            store.recordRunner(instanceId, poolName, runner.id(), InstanceState.LAUNCHING, clock.instant());
            tokens.put(instanceId, runner.token(), instanceArn);
            store.recordRunner(instanceId, poolName, runner.id(), InstanceState.REGISTERED, clock.instant());
            LOG.info("instance {} of pool {}: runner {} created, token stored", instanceId, poolName, runner.id());
            return LaunchResult.REGISTERED;
        } catch (RuntimeException e) {
            try {
                store.releaseLaunch(instanceId);   // the event's retry need not wait out the lease
            } catch (RuntimeException ignored) {
                // the lease expires on its own
            }
            throw e;
        }
    }

    /** A retried launch: every runner of the instance has a token runnerscale cannot vouch for. */
    private void removeHalfMadeRunners(String instanceId, Long recordedRunner) {
        tokens.delete(instanceId);
        Set<Long> stale = new LinkedHashSet<>();
        if (recordedRunner != null) {
            stale.add(recordedRunner);
        }
        try {
            gitlab(() -> gitlab.findRunnersByDescription(owner, instanceId)).stream().map(RunnerInfo::id).forEach(stale::add);
        } catch (GitLabRejectedException e) {
            // listing needs more rights than creating (an administrator for instance runners): go on without
            LOG.warn("instance {}: cannot list {} runners to remove a half-made one: {}", instanceId, owner, e.getMessage());
        }
        for (long runnerId : stale) {
            gitlab(() -> {
                gitlab.deleteRunner(runnerId);
                return null;
            });
            LOG.info("instance {}: runner {} of an interrupted launch deleted", instanceId, runnerId);
        }
    }

    /**
     * Auto Scaling's "EC2 Instance Launch Successful": the instance's user data registered its runner
     * and completed the launch action, so gitlab-runner polls for jobs: registered → ready. Only
     * from registered: a drain (or its end) that came first is never undone.
     */
    public boolean onLaunchSuccessful(String instanceId) {
        boolean ready = store.advanceState(instanceId, InstanceState.REGISTERED, InstanceState.READY);
        if (ready) {
            LOG.info("instance {}: in service, its runner polls for jobs (ready)", instanceId);
        }
        return ready;
    }

    // ------------------------------------------------------------------ drain starts

    /**
     * The terminate lifecycle action (AWS terminates the instance, or runnerscale's own drain did): an
     * instance already drained completes at once; otherwise it is drained first, the drain holding the
     * action and completing it with CONTINUE.
     */
    public DrainRequestResult onTerminateHook(String asg, String instanceId, String hookName, String token) {
        return onTerminateHook(asg, instanceId, hookName, token, false);
    }

    /**
     * @param toWarmPool the group returns the instance to its warm pool (the event's {@code Destination}
     *                   is {@code WarmPool}: instance reuse on scale-in): drained the same way (no job may
     *                   be running when it stops), but it ends warm, without runner or token, not gone
     */
    public DrainRequestResult onTerminateHook(String asg, String instanceId, String hookName, String token,
                                              boolean toWarmPool) {
        Optional<InstanceLifecycle> record = store.lifecycle(instanceId);
        if (record.isPresent() && record.get().state() == InstanceState.GONE) {
            actions.complete(hookName, asg, instanceId, token, LifecycleActions.Result.CONTINUE);
            return DrainRequestResult.COMPLETED_AT_ONCE;
        }
        if (record.isPresent() && record.get().state() == InstanceState.RETURNING) {
            // drained already and handed back by its scale-in drain (runner and token deleted): no second
            // GitLab round. Into the warm pool it is warm; terminated instead (the warm pool is full, or
            // no warm pool) it is gone.
            if (toWarmPool) {
                store.returnToWarm(instanceId, record.get().pool(), clock.instant());
                LOG.info("instance {}: returned by its scale-in drain; back in the warm pool (warm)", instanceId);
            } else {
                store.setState(instanceId, InstanceState.GONE);
                LOG.info("instance {}: returned by its scale-in drain, but the group terminates it (gone)", instanceId);
            }
            actions.complete(hookName, asg, instanceId, token, LifecycleActions.Result.CONTINUE);
            return DrainRequestResult.COMPLETED_AT_ONCE;
        }
        if (record.isPresent() && record.get().state() == InstanceState.WARM) {
            // warm: no runner to drain. Returned already (a repeated event), or terminated from the warm pool.
            if (!toWarmPool) {
                tokens.delete(instanceId);   // none is made for a warm instance; deleting none is harmless
                store.setState(instanceId, InstanceState.GONE);
            }
            actions.complete(hookName, asg, instanceId, token, LifecycleActions.Result.CONTINUE);
            return DrainRequestResult.COMPLETED_AT_ONCE;
        }
        Optional<String> pool = poolOfGroup(asg).map(PoolConfig::name).or(() -> record.map(InstanceLifecycle::pool));
        if (pool.isEmpty()) {
            LOG.warn("terminate of {} in group {}: no pool uses the group; the lifecycle action is completed",
                    instanceId, Quoted.abbreviate(asg));
            actions.complete(hookName, asg, instanceId, token, LifecycleActions.Result.CONTINUE);
            return DrainRequestResult.COMPLETED_AT_ONCE;
        }
        return startDrain(instanceId, pool.get(), asg, DrainReason.LIFECYCLE_HOOK,
                new LifecycleHook(hookName, token, toWarmPool), clock.instant(), record);
    }

    /**
     * EC2's two-minute spot interruption warning: drain at once, deadline {@link DrainPolicy#SPOT_DEADLINE}
     * after {@code warnedAt} (the event's time, so a repeated delivery starts the same drain).
     */
    public DrainRequestResult onSpotWarning(String instanceId, Instant warnedAt) {
        return drainKnownInstance(instanceId, DrainReason.SPOT, warnedAt);
    }

    /**
     * EC2's rebalance recommendation: drained like scale-in (never abandoned) when the instance's pool
     * says {@code backend.drain_on_rebalance: true}; otherwise ignored (the default: a recommendation
     * often comes long before an interruption, or never leads to one).
     */
    public DrainRequestResult onRebalance(String instanceId, Instant recommendedAt) {
        Optional<InstanceLifecycle> record = store.lifecycle(instanceId);
        boolean asked = record.map(InstanceLifecycle::pool).flatMap(p -> pools.get().pool(p))
                .map(PoolConfig::backend)
                .filter(b -> b instanceof PoolConfig.Ec2Asg asg && asg.drainOnRebalance())
                .isPresent();
        if (record.isPresent() && record.get().pool() != null && !asked) {
            LOG.info("rebalance recommendation for {} of pool {}: not drained (backend.drain_on_rebalance is off)",
                    instanceId, record.get().pool());
            return DrainRequestResult.IGNORED_NOT_ASKED;
        }
        return drainKnownInstance(instanceId, DrainReason.REBALANCE, recommendedAt);
    }

    /**
     * A drain the orphan sweep asks for (an instance in {@code asg} that has no runner, reason
     * {@link DrainReason#BOOT_TIMEOUT}): the same path as every other drain start, so a second request
     * for the same instance and reason finds the execution running.
     */
    public DrainRequestResult startDrain(String instanceId, String pool, String asg, DrainReason reason) {
        return startDrain(instanceId, pool, asg, reason, null, clock.instant(), store.lifecycle(instanceId));
    }

    private DrainRequestResult drainKnownInstance(String instanceId, DrainReason reason, Instant at) {
        Optional<InstanceLifecycle> record = store.lifecycle(instanceId);
        if (reason == DrainReason.SPOT && (record.isEmpty() || record.get().state() == null)) {
            // Maybe another stack's or nobody's instance, or one of ours whose launch event is not handled
            // yet: a tombstone makes that launch create no runner (a job it took would be lost in two minutes).
            if (store.markGoneIfUnknown(instanceId, clock.instant())) {
                LOG.info("spot warning for {}: no runner of ours (yet); marked gone so a late launch makes none", instanceId);
                return DrainRequestResult.IGNORED_UNKNOWN_INSTANCE;
            }
            record = store.lifecycle(instanceId);   // its launch was handled meanwhile
        }
        if (record.isEmpty() || record.get().pool() == null) {
            LOG.info("{} for {}: not a runnerscale instance, ignored", reason.wireName(), instanceId);
            return DrainRequestResult.IGNORED_UNKNOWN_INSTANCE;
        }
        Optional<String> asg = pools.get().pool(record.get().pool()).map(PoolConfig::backend)
                .filter(b -> b instanceof PoolConfig.Ec2Asg).map(b -> ((PoolConfig.Ec2Asg) b).asg());
        if (asg.isEmpty()) {
            LOG.error("{} for {}: its pool {} is no longer an EC2 pool in the configuration; not drained",
                    reason.wireName(), instanceId, record.get().pool());
            return DrainRequestResult.IGNORED_UNKNOWN_INSTANCE;
        }
        DrainRequestResult result = startDrain(instanceId, record.get().pool(), asg.get(), reason, null,
                at != null ? at : clock.instant(), record);
        if (result == DrainRequestResult.STARTED || result == DrainRequestResult.ALREADY_RUNNING) {
            // The instance leaves within minutes: draining now (its drain's MarkDraining says so too), so the
            // scaler counts it out and launches the replacement at once, not when the instance is gone.
            store.setState(instanceId, reason == DrainReason.SPOT ? InstanceState.INTERRUPTED : InstanceState.DRAINING);
            scaleRequests.request(record.get().pool(), reason.wireName() + " " + instanceId,
                    "replace-" + instanceId + "-" + reason.wireName());
            LOG.warn("{} of {} (pool {}): drain {}, replacement requested; jobs running at the warning are listed"
                    + " by the drain", reason.wireName(), instanceId, record.get().pool(),
                    result == DrainRequestResult.STARTED ? "started" : "already running");
        }
        return result;
    }

    private DrainRequestResult startDrain(String instanceId, String pool, String asg, DrainReason reason,
                                          LifecycleHook hook, Instant startedAt, Optional<InstanceLifecycle> record) {
        return switch (drainRequests.start(instanceId, pool, asg, reason, hook, startedAt, record)) {
            case STARTED -> DrainRequestResult.STARTED;
            case ALREADY_RUNNING -> DrainRequestResult.ALREADY_RUNNING;
            case IGNORED_GONE -> DrainRequestResult.IGNORED_GONE;
        };
    }

    // ------------------------------------------------------------------ drain tasks

    /** One Task of the drain state machine: the drain after the task (see statemachine/README.md). */
    public Drain task(String task, Drain drain) {
        return switch (task == null ? "" : task) {
            case "MarkDraining" -> markDraining(drain);
            case "PauseRunner" -> pauseRunner(drain);
            case "RunningJobs" -> runningJobs(drain);
            case "Heartbeat" -> heartbeat(drain);
            case "CancelAndRetryJobs" -> cancelAndRetryJobs(drain);
            case "UnpauseRunner" -> unpauseRunner(drain);
            case "DeleteRunner" -> deleteRunner(drain);
            case "Terminate" -> terminate(drain);
            default -> throw new IllegalArgumentException("task '" + Quoted.abbreviate(String.valueOf(task))
                    + "' is not one of MarkDraining, PauseRunner, RunningJobs, Heartbeat, CancelAndRetryJobs,"
                    + " UnpauseRunner, DeleteRunner, Terminate");
        };
    }

    /**
     * State draining (the scaler stops counting it); the jobs running now become the drain's baseline,
     * so a job that was already running is not taken for one that started during the drain. A drain
     * started without a runner id takes the recorded one.
     */
    private Drain markDraining(Drain drain) {
        Optional<InstanceLifecycle> record = store.lifecycle(drain.instanceId());
        Long runnerId = drain.runnerId() != null ? drain.runnerId() : record.map(InstanceLifecycle::runnerId).orElse(null);
        InstanceState draining = drain.reason() == DrainReason.SPOT ? InstanceState.INTERRUPTED : InstanceState.DRAINING;
        if (!store.setState(drain.instanceId(), draining)) {
            store.recordRunner(drain.instanceId(), drain.pool(), runnerId, draining, clock.instant());
        }
        List<JobKey> running = runnerId == null ? List.of() : runningOf(runnerId).orElse(List.of());
        if (drain.reason() == DrainReason.SPOT || drain.reason() == DrainReason.REBALANCE) {
            LOG.warn("{} of {} (pool {}, runner {}): running jobs {}", drain.reason().wireName(), drain.instanceId(),
                    drain.pool(), runnerId, running);
        }
        return new Drain(drain.instanceId(), drain.pool(), drain.asg(), runnerId, drain.reason(), drain.lifecycleHook(),
                drain.startedAt(), drain.deadline(), drain.heartbeatSeconds(), running, drain.jobStartedDuringDrain(),
                drain.cancelledJobs(), drain.outcome(), drain.next());
    }

    private Drain pauseRunner(Drain drain) {
        if (drain.runnerId() != null) {
            setPausedUnlessGone(drain, true);
            store.setRunnerPaused(drain.instanceId(), true);
        }
        return drain;
    }

    /**
     * The check {@link DrainPolicy} decides on. A runner GitLab no longer knows (404: another drain of
     * the instance, e.g. spot beside the terminate hook, deleted it) runs no job: the next step is
     * DeleteRunner, which counts it deleted and still removes the token.
     */
    private Drain runningJobs(Drain drain) {
        Optional<List<JobKey>> running = runningUnlessGone(drain);
        if (running.isEmpty()) {
            return drain.observed(List.of()).withNext(new DrainStep.DeleteRunner());
        }
        DrainStep step = DrainPolicy.next(drain, clock.instant(), running.get(), runnerPaused(drain));
        return drain.observed(running.get()).withNext(step);
    }

    private Drain heartbeat(Drain drain) {
        if (drain.lifecycleHook() != null) {
            actions.heartbeat(drain.lifecycleHook().name(), drain.asg(), drain.instanceId(), drain.lifecycleHook().token());
        }
        return drain;
    }

    /** Decides afresh: only jobs {@link DrainPolicy} says to cancel now, each cancelled then retried once. */
    private Drain cancelAndRetryJobs(Drain drain) {
        List<JobKey> running = runningUnlessGone(drain).orElse(List.of());
        if (!(DrainPolicy.next(drain, clock.instant(), running, runnerPaused(drain)) instanceof DrainStep.CancelAndRetry c)) {
            return drain;
        }
        Drain after = drain;
        for (JobKey job : c.jobs()) {
            gitlab(() -> {
                gitlab.cancelJob(job);
                return null;
            });
            Optional<JobKey> retried = gitlab(() -> gitlab.retryJob(job));
            LOG.info("drain of {}: job {} cancelled, retried as {}", drain.instanceId(), job,
                    retried.map(Object::toString).orElse("nothing (not retryable)"));
            after = after.withCancelled(List.of(job));
        }
        return after;
    }

    /**
     * An abandoned drain gives the instance back: unpaused, ready. Only while it is still just
     * draining: a spot warning (interrupted) or a drain's end (gone) that came meanwhile owns it now,
     * and unpausing would hand new jobs to an instance that is leaving. Unpause before the state
     * moves, so a retry after a failed unpause still finds it draining.
     */
    private Drain unpauseRunner(Drain drain) {
        InstanceState state = store.lifecycle(drain.instanceId()).map(InstanceLifecycle::state).orElse(null);
        if (state != InstanceState.DRAINING) {
            LOG.info("drain of {} abandoned, but the instance is {} now: left paused to what owns it",
                    drain.instanceId(), state == null ? "unknown" : state.wireName());
        } else {
            if (drain.runnerId() != null) {
                setPausedUnlessGone(drain, false);
                store.setRunnerPaused(drain.instanceId(), false);
            }
            store.advanceState(drain.instanceId(), InstanceState.DRAINING, InstanceState.READY);
        }
        // this execution's name is spent: a later drain of the instance needs the next attempt
        store.nextDrainAttempt(drain.instanceId());
        return drain.withOutcome(DrainOutcome.ABANDONED);
    }

    /**
     * Deletes the runner and its token. The rule is checked once more here: a runner GitLab lists a
     * running job on is not deleted (a plain error, not retried: the state machine's cleanup re-checks).
     */
    private Drain deleteRunner(Drain drain) {
        if (drain.runnerId() != null) {
            Optional<List<JobKey>> running = runningUnlessGone(drain);
            if (running.isPresent() && !running.get().isEmpty()) {
                throw new IllegalStateException("runner " + drain.runnerId() + " of " + drain.instanceId()
                        + " still lists " + running.get().size() + " running job(s); not deleted");
            }
            if (running.isPresent()) {
                gitlab(() -> {
                    gitlab.deleteRunner(drain.runnerId());
                    return null;
                });
            }
        }
        tokens.delete(drain.instanceId());
        store.clearRunner(drain.instanceId());
        return drain.withRunnerDeleted();
    }

    /**
     * Completes the held terminate lifecycle action with CONTINUE, or terminates the instance. The
     * state is gone before the call: terminating fires the terminate hook, whose event may arrive
     * before this returns, and must find the instance drained.
     */
    private Drain terminate(Drain drain) {
        if (drain.runnerId() != null) {
            throw new IllegalStateException("instance " + drain.instanceId() + " still has runner " + drain.runnerId()
                    + "; DeleteRunner comes before Terminate");
        }
        if (drain.lifecycleHook() != null && drain.lifecycleHook().toWarmPool()) {
            // back to the warm pool: runner and token are deleted, so it is warm again; the next drain of
            // this instance (after a resume) needs a new execution name
            store.returnToWarm(drain.instanceId(), drain.pool(), clock.instant());
            actions.complete(drain.lifecycleHook().name(), drain.asg(), drain.instanceId(), drain.lifecycleHook().token(),
                    LifecycleActions.Result.CONTINUE);
            LOG.info("drain of {}: runner and token deleted; the group returns it to its warm pool (warm)",
                    drain.instanceId());
            return drain.withOutcome(DrainOutcome.TERMINATED);
        }
        if (drain.lifecycleHook() == null && returnToWarmPool(drain)) {
            return drain.withOutcome(DrainOutcome.TERMINATED);
        }
        if (!store.setState(drain.instanceId(), InstanceState.GONE)) {
            store.recordRunner(drain.instanceId(), drain.pool(), null, InstanceState.GONE, clock.instant());
        }
        if (drain.lifecycleHook() != null) {
            actions.complete(drain.lifecycleHook().name(), drain.asg(), drain.instanceId(), drain.lifecycleHook().token(),
                    LifecycleActions.Result.CONTINUE);
        } else {
            // always lowering desired capacity: runnerscale alone decides replacements (a spot or
            // rebalance drain asked the scaler for one when it started)
            actions.terminate(drain.instanceId(), true);
        }
        return drain.withOutcome(DrainOutcome.TERMINATED);
    }

    /**
     * A scale-in drain's end for a pool that reuses instances: back to the warm pool instead of
     * terminated, when {@link WarmReturnPolicy} allows (read its rule there). In order: describe the
     * group and decide; record the instance returning (only from draining: a spot warning that came
     * meanwhile owns it, and then it is terminated); lift its scale-in protection; lower desired
     * capacity by one from the value just read. The record comes first because the terminate hook
     * (Destination WarmPool) may arrive before this returns and must find the instance drained.
     *
     * <p>No atomic decrement exists: a scaler decision or another return that writes desired capacity
     * between the read and the write may undo this decrement. That costs capacity, not safety: only
     * instances without a runner are unprotected, so whatever the group then takes out runs no job, and
     * an instance left in service stays returning (the scaler counts it out, the orphan sweep terminates
     * it after a grace time). A Terminate retried after its decrement succeeded finds the instance out
     * of service (it is then done), or lowers desired once more: again capacity only.
     *
     * @return true when the instance was returned (or was already); false: terminate it as usual
     */
    private boolean returnToWarmPool(Drain drain) {
        if (returns == null) {
            return false;
        }
        boolean reuse = pools.get().pool(drain.pool()).map(PoolConfig::warmPool)
                .map(PoolConfig.WarmPool::reuseOnScaleIn).orElse(false);
        if (!WarmReturnPolicy.candidate(drain.reason(), reuse, false)) {
            return false;
        }
        String id = drain.instanceId();
        InstanceState state = store.lifecycle(id).map(InstanceLifecycle::state).orElse(null);
        Optional<GroupMembers.Group> group = returns.describe(drain.asg());
        if (state == InstanceState.WARM || state == InstanceState.RETURNING && group.isPresent()
                && group.get().members().stream().noneMatch(m -> m.instanceId().equals(id) && m.inService())) {
            // a repeated Terminate: returned already (the hook made it warm, or the group is taking it out)
            LOG.info("drain of {}: returned to the warm pool already ({})", id, state.wireName());
            return true;
        }
        WarmReturnPolicy.Verdict verdict = WarmReturnPolicy.decide(drain.reason(), reuse, false, id, group,
                other -> store.lifecycle(other).map(InstanceLifecycle::state).orElse(null) == InstanceState.RETURNING);
        if (!verdict.decision().returns()) {
            LOG.info("drain of {} (pool {}): terminated, not returned to the warm pool: {}", id, drain.pool(),
                    verdict.why());
            return false;
        }
        if (!store.markReturning(id, clock.instant())) {
            LOG.info("drain of {} (pool {}): terminated, not returned to the warm pool: the instance is {} now",
                    id, drain.pool(), store.lifecycle(id).map(l -> String.valueOf(l.state())).orElse("unknown"));
            return false;
        }
        returns.releaseProtection(drain.asg(), id);
        int desired = group.get().desiredCapacity() - 1;
        returns.setDesiredCapacity(drain.asg(), desired);
        LOG.info("drain of {} (pool {}): runner and token deleted; scale-in protection lifted and desired capacity"
                + " set to {}: the group returns it to its warm pool (returning)", id, drain.pool(), desired);
        return true;
    }

    /**
     * The runner's running jobs, or empty when GitLab answers 404: a retried DeleteRunner whose first
     * try deleted the runner and then failed (the token deletion throttled, the Lambda timed out). A
     * deleted runner runs no job, and {@link GitLabRunners#deleteRunner} counts 404 as deleted too;
     * without this the retry fails for good and the token stays behind. Other refusals propagate.
     */
    private Optional<List<JobKey>> runningUnlessGone(Drain drain) {
        return drain.runnerId() == null ? Optional.of(List.of()) : runningOf(drain.runnerId());
    }

    private Optional<List<JobKey>> runningOf(long runnerId) {
        try {
            return Optional.of(gitlab(() -> gitlab.runningJobs(runnerId)));
        } catch (GitLabRejectedException e) {
            if (e.status() == 404) {
                LOG.info("runner {} is gone already (404)", runnerId);
                return Optional.empty();
            }
            throw e;
        }
    }

    /** Pauses or unpauses the runner; one GitLab no longer knows (404) takes no job either way. */
    private void setPausedUnlessGone(Drain drain, boolean paused) {
        try {
            gitlab(() -> {
                gitlab.setPaused(drain.runnerId(), paused);
                return null;
            });
        } catch (GitLabRejectedException e) {
            if (e.status() != 404) {
                throw e;
            }
            LOG.info("drain of {}: runner {} is gone already (404)", drain.instanceId(), drain.runnerId());
        }
    }

    private boolean runnerPaused(Drain drain) {
        return store.lifecycle(drain.instanceId()).map(InstanceLifecycle::runnerPaused).orElse(false);
    }

    // ------------------------------------------------------------------ helpers

    private Optional<PoolConfig> poolOfGroup(String asg) {
        return pools.get().pools().stream()
                .filter(p -> p.backend() instanceof PoolConfig.Ec2Asg ec2 && ec2.asg().equals(asg))
                .findFirst();
    }

    private static <T> T gitlab(Supplier<T> call) {
        try {
            return call.get();
        } catch (GitLabUnavailableException e) {
            throw new RetryableError("GitLab unavailable: " + e.getMessage(), e);
        }
    }
}
