package io.runnerscale.cli;

import io.runnerscale.text.Quoted;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.runnerscale.compute.AsgCompute;
import io.runnerscale.compute.Compute;
import io.runnerscale.config.AwsClients;
import io.runnerscale.gitlab.GitLab;
import io.runnerscale.gitlab.GitLabApiClient;
import io.runnerscale.reconcile.ProjectSightings;
import io.runnerscale.gitlab.GitLabCredentials;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.gitlab.GitLabRunners;
import io.runnerscale.gitlab.GitLabRunnersApiClient;
import io.runnerscale.gitlab.RunnerOwner;
import io.runnerscale.lifecycle.DrainCodec;
import io.runnerscale.lifecycle.DrainInterpreter;
import io.runnerscale.lifecycle.DrainRequests;
import io.runnerscale.lifecycle.LifecycleActions;
import io.runnerscale.lifecycle.LifecycleEvents;
import io.runnerscale.lifecycle.LifecycleService;
import io.runnerscale.lifecycle.aws.AsgLifecycleActions;
import io.runnerscale.lifecycle.aws.AwsFailures;
import io.runnerscale.local.EmbeddedDynamo;
import io.runnerscale.local.LocalDrains;
import io.runnerscale.local.LocalLifecycle;
import io.runnerscale.local.LocalRunnerTokens;
import io.runnerscale.local.SimulatedGitLabRunners;
import io.runnerscale.local.SimulatedLifecycle;
import io.runnerscale.local.SimulatedTasks;
import io.runnerscale.lifecycle.TaskLifecycle;
import io.runnerscale.scaling.TaskScaler;
import io.runnerscale.local.LocalJobUpdateQueue;
import io.runnerscale.webhook.DeferredJobUpdatesCodec;
import io.runnerscale.webhook.JobUpdateService;
import io.runnerscale.local.LocalScaleRequests;
import io.runnerscale.local.LocalReconciler;
import io.runnerscale.local.LocalServer;
import io.runnerscale.local.PrometheusMetrics;
import io.runnerscale.metrics.MeteredGitLab;
import io.runnerscale.pool.PoolsConfigParser;
import io.runnerscale.reconcile.ReconcileSettings;
import io.runnerscale.reconcile.Reconciler;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.scaling.DemandForecast;
import io.runnerscale.scaling.InstanceDrains;
import io.runnerscale.scaling.ScalerService;
import io.runnerscale.scaling.DemandHistoryForecast;
import io.runnerscale.simulate.SimulatedFleet;
import io.runnerscale.store.DynamoDemandHistory;
import io.runnerscale.store.DynamoJobStore;
import io.runnerscale.webhook.PoolResolver;
import io.runnerscale.webhook.WebhookAuthenticator;
import io.runnerscale.webhook.WebhookSignatures;
import io.runnerscale.webhook.WebhookService;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;

import java.io.IOException;
import io.runnerscale.lifecycle.DrainReason;
import io.runnerscale.lifecycle.InstanceState;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.store.InstanceRecord;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code runnerscale serve}: the webhook and the scaler on this machine, with an embedded DynamoDB
 * Local and a simulated fleet (or real Auto Scaling groups with {@code --compute aws}).
 */
final class ServeCommand {
    static final String USAGE = """
            usage: runnerscale serve [--port 8080] [--bind 127.0.0.1] [--config pools.yaml] [--webhook-token T]
                                     [--webhook-auth token|signature|both] [--data-dir DIR | --in-memory] [--compute sim|aws] [--aws-endpoint URL]
                                     [--boot 30s] [--tick 60s] [--gitlab-url URL]
                                     [--drain-job-timeout 60m] [--drain-wait-factor 1]
                                     [--reconcile-every 5m] [--reconcile-pending-after 5m]
              --port           port to listen on, 0 to 65535 (0: any free port, printed)
              --data-dir       where jobs, deliveries and demand history are kept across restarts
                               (default: env RUNNERSCALE_DATA_DIR, else ${XDG_DATA_HOME:-~/.local/share}/runnerscale);
                               one serve at a time per directory
              --in-memory      keep nothing: state is lost when serve stops
              --webhook-token  the X-Gitlab-Token to accept (or env RUNNERSCALE_WEBHOOK_TOKEN; default: a random one, printed)
              --webhook-auth   token (default), signature or both: signatures are checked against the
                               whsec_ signing token(s) in env RUNNERSCALE_WEBHOOK_SIGNING_SECRET
              --compute        sim: a simulated fleet whose instances are ready after --boot (default);
                               aws: real Auto Scaling groups through the default AWS credential chain
              --aws-endpoint   send AWS calls to this endpoint instead (e.g. a moto_server)
              --gitlab-url     GitLab to read job tags from (API token from env GITLAB_TOKEN); without it
                               every job goes to the pool for untagged jobs
              --tick           how often every pool is re-decided (the EventBridge schedule in AWS)
              --drain-job-timeout  how long a drain waits for a running job before it cancels and
                               retries it (DrainJobTimeoutMinutes in AWS; spot drains wait 100 s)
              --reconcile-every  with --gitlab-url: how often live jobs whose last event is old are read
                               back from GitLab and repaired (lost webhooks); 0s turns it off
              --reconcile-pending-after  how old a pending job's last event must be to be read back
                               (running jobs: 1h)
              --drain-wait-factor  multiplies every wait of the drain state machine (heartbeats,
                               retry backoff), 0 to 1; 1 (default) waits as Step Functions does
            Instances leave only through drains: the packaged drain state machine runs here, every
            task answered by the lifecycle function's code. POST /events takes an EventBridge event
            (spot interruption warning, rebalance recommendation, launch or terminate lifecycle
            action) with the same X-Gitlab-Token as POST /webhook; GET /status shows each instance's
            state and the drains. Runners: simulated (in memory, their jobs from the job store),
            except with --compute aws and --gitlab-url, where they are created in that GitLab.
            Fargate pools (--compute sim): one simulated task per pending job, ready after the pool's
            backend.start_time; a ready task runs a job the Job Hooks say runs in its pool, stops
            when the job ends or after wait_timeout without one; its state changes reach the
            lifecycle function's code as ECS task events. GET /status lists each pool's tasks.
            GET /metrics: the metrics the Lambda functions send to CloudWatch (job wait, scale decisions
            and latency, instances by state, webhook deliveries, GitLab API errors, reconciler repairs),
            in the Prometheus text format.
            """;

    static final String TABLE = "runnerscale-local";
    /** As the Lambda functions keep it: the forecast looks back up to eight weeks. */
    static final Duration DEMAND_RETENTION = Duration.ofDays(57);

    private ServeCommand() {
    }

    static int run(List<String> raw, PrintStream out, PrintStream err) throws Exception {
        Running running = start(raw, out);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            out.println("runnerscale: stopping");
            running.close();
            stopped.countDown();
        }, "shutdown"));
        out.println("  Ctrl-C stops it.");
        out.flush();
        stopped.await();
        return 0;
    }

    /**
     * Starts everything {@code serve} runs and returns at once; {@link Running#close()} stops it.
     * {@code --port 0} binds a free port ({@link Running#port()}).
     *
     * <p>Every argument is checked first, then the data directory is locked and the port bound, and
     * only then DynamoDB Local starts: a bad command line or a port in use fails fast with a plain
     * message and leaves nothing running.
     */
    static Running start(List<String> raw, PrintStream out) throws Exception {
        return start(raw, out, System.getenv());
    }

    static Running start(List<String> raw, PrintStream out, Map<String, String> env) throws Exception {
        Args args = Args.parse(raw, Set.of("port", "bind", "config", "webhook-token", "webhook-auth", "compute", "aws-endpoint", "boot",
                "tick", "gitlab-url", "data-dir", "drain-job-timeout", "drain-wait-factor", "reconcile-every",
                "reconcile-pending-after"), Set.of("in-memory"));
        int port = args.integer("port", 8080);
        if (port < 0 || port > 65535) {
            throw new Args.UsageException("--port: " + port + " is not a port (0 to 65535; 0 = any free port)");
        }
        String configPath = args.get("config", null);
        String configText = PoolsFiles.text(configPath);
        String configName = configPath == null ? PoolsFiles.DEFAULT_NAME : configPath;
        PoolsConfigParser.parse(configText, configName); // fail fast, naming pool and field
        String token = args.get("webhook-token", env.get("RUNNERSCALE_WEBHOOK_TOKEN"));
        boolean generated = token == null || token.isBlank();
        if (generated) {
            byte[] random = new byte[16];
            new SecureRandom().nextBytes(random);
            token = HexFormat.of().formatHex(random);
        }
        WebhookAuthenticator.Mode authMode;
        try {
            authMode = WebhookAuthenticator.Mode.parse(args.get("webhook-auth", "token"));
        } catch (IllegalArgumentException e) {
            throw new Args.UsageException("--webhook-auth: " + e.getMessage());
        }
        String signingSecrets = env.get("RUNNERSCALE_WEBHOOK_SIGNING_SECRET");
        if (authMode.signature()) {
            try {
                WebhookSignatures.of(signingSecrets);
            } catch (IllegalArgumentException e) {
                throw new Args.UsageException("--webhook-auth " + authMode.name().toLowerCase(java.util.Locale.ROOT)
                        + " needs env RUNNERSCALE_WEBHOOK_SIGNING_SECRET (whsec_...): " + e.getMessage());
            }
        }
        String mode = args.get("compute", "sim");
        if (!mode.equals("sim") && !mode.equals("aws")) {
            throw new Args.UsageException("--compute must be sim or aws, not '" + Quoted.abbreviate(mode) + "'");
        }
        Duration boot = args.duration("boot", Duration.ofSeconds(30));
        if (boot.isNegative()) {
            throw new Args.UsageException("--boot must be 0s or longer");
        }
        Duration tick = args.duration("tick", Duration.ofMinutes(1));
        if (tick.isZero() || tick.isNegative()) {
            throw new Args.UsageException("--tick must be longer than 0s");
        }
        Duration jobTimeout = args.durationIn("drain-job-timeout", Duration.ofMinutes(60), Duration.ofSeconds(1),
                Duration.ofDays(2));
        double waitFactor = args.numberIn("drain-wait-factor", 1, 0, 1, "1 = the definition's own waits");
        Duration reconcileEvery = args.durationIn("reconcile-every", Duration.ofMinutes(5), Duration.ZERO,
                Duration.ofDays(1));
        Duration reconcilePendingAfter = args.durationIn("reconcile-pending-after",
                ReconcileSettings.DEFAULTS.pendingAfter(), Duration.ZERO, Duration.ofDays(1));
        ObjectMapper json = new ObjectMapper();
        Clock clock = Clock.systemUTC();
        GitLabCredentials credentials = credentials(args.get("gitlab-url", null), env);
        // the same metrics as the Lambda functions, on GET /metrics
        PrometheusMetrics metrics = new PrometheusMetrics();
        GitLabApiClient gitlabClient = credentials == null ? null
                : new GitLabApiClient(GitLabApiClient.defaultHttpClient(), () -> credentials, json);
        GitLab gitlab = gitlabClient == null ? noGitLab() : MeteredGitLab.tags(gitlabClient, metrics);
        String bind = args.get("bind", "127.0.0.1");
        InetAddress bindAddress = bindAddress(bind);
        if (args.flag("in-memory") && args.get("data-dir", null) != null) {
            throw new Args.UsageException("--data-dir and --in-memory exclude each other");
        }
        Path dataDir = args.flag("in-memory") ? null : dataDirectory(args.get("data-dir", null), env);

        DataDirLock lock = dataDir == null ? null : DataDirLock.acquire(dataDir);
        HttpServer http = null;
        EmbeddedDynamo dynamo = null;
        LocalScaleRequests scaleRequests = null;
        LocalJobUpdateQueue deferred = null;
        LocalServer server = null;
        LocalDrains localDrains = null;
        SimulatedLifecycle simulated = null;
        SimulatedTasks simulatedTasks = null;
        LocalReconciler reconciler = null;
        try {
            http = listen(bindAddress, bind, port);
            dynamo = dataDir == null ? EmbeddedDynamo.start() : EmbeddedDynamo.start(dataDir.resolve("dynamodb"));
            dynamo.createTableIfAbsent(TABLE);
            DynamoJobStore store = new DynamoJobStore(dynamo.client(), TABLE, Duration.ofDays(7));
            // Re-read the file every few seconds: edits apply without a restart; a bad edit keeps the last good config.
            PoolsConfigSource pools = new PoolsConfigSource(() -> PoolsFiles.text(configPath), configName,
                    Duration.ofSeconds(5), clock);
            // instances leave only through drains: the packaged definition, run here (Step Functions in AWS)
            DrainCodec codec = new DrainCodec(json);
            localDrains = new LocalDrains(DrainInterpreter.packaged(json), codec, waitFactor, clock);
            DrainRequests drains = new DrainRequests(store, localDrains, jobTimeout, clock);
            AtomicReference<JobUpdateService> updatesRef = new AtomicReference<>();
            SimulatedFleet fleet = null;
            TaskScaler taskScaler = null;
            Compute compute;
            LifecycleActions actions;
            GitLabRunners runners;
            if (mode.equals("sim")) {
                // simulated instances run no gitlab-runner: their runners are simulated too, whatever --gitlab-url says
                simulated = new SimulatedLifecycle(pools, store, json, clock);
                fleet = new SimulatedFleet(clock, () -> boot, simulated);
                // Fargate pools: tasks on a simulated ECS, started after backend.start_time, one job each
                simulatedTasks = new SimulatedTasks(pools, store, json, clock, System.nanoTime());
                taskScaler = new TaskScaler(store, simulatedTasks.fargate());
                compute = fleet;
                actions = simulated;
                runners = new SimulatedGitLabRunners(pools, store, updatesRef::get, clock);
            } else {
                String endpoint = args.get("aws-endpoint", null);
                AutoScalingClient autoScaling = AwsClients.create(endpoint == null ? null : URI.create(endpoint))
                        .build(AutoScalingClient.builder());
                compute = new AsgCompute(autoScaling);
                actions = new AsgLifecycleActions(autoScaling);
                runners = credentials == null ? new SimulatedGitLabRunners(pools, store, updatesRef::get, clock)
                        : MeteredGitLab.runners(new GitLabRunnersApiClient(GitLabApiClient.defaultHttpClient(),
                                () -> credentials, json, clock), metrics);
            }
            // a spot or rebalance drain asks the scaler for the replacement at once (the scaler is built below)
            AtomicReference<LocalScaleRequests> scaleRequestsRef = new AtomicReference<>();
            LifecycleService lifecycleService = new LifecycleService(pools::current, store, runners, new LocalRunnerTokens(),
                    actions, localDrains, (pool, reason, dedupeId) -> scaleRequestsRef.get().request(pool, reason, dedupeId),
                    RunnerOwner.instance(), jobTimeout, clock);
            // ECS task events (serve's simulated tasks tell theirs here) go to the lifecycle function's code too
            TaskLifecycle taskLifecycle = new TaskLifecycle(pools::current, store, store, runners,
                    (pool, reason, dedupeId) -> scaleRequestsRef.get().request(pool, reason, dedupeId), clock);
            LifecycleEvents events = new LifecycleEvents(lifecycleService, taskLifecycle, codec, json);
            localDrains.answerTasksWith(payload -> lifecycleCall(events, payload));
            if (simulated != null) {
                simulated.attach(fleet, payload -> lifecycleCall(events, payload));
            }
            // the same counters as the Lambda functions keep, so a restart keeps the forecast's history
            DynamoDemandHistory history = new DynamoDemandHistory(dynamo.client(), TABLE, DEMAND_RETENTION);
            DemandForecast forecast = new DemandHistoryForecast(history);
            // a tick every --tick: a pool unwatched for three ticks (at least 5 min) may have missed job events
            Duration watchGap = tick.multipliedBy(3).compareTo(ScalerService.DEFAULT_WATCH_GAP) > 0
                    ? tick.multipliedBy(3) : ScalerService.DEFAULT_WATCH_GAP;
            ScalerService scaler = new ScalerService(pools, store, compute, drains, forecast, clock, watchGap, taskScaler,
                    metrics);
            scaleRequests = new LocalScaleRequests(scaler);
            scaleRequestsRef.set(scaleRequests);
            String webhookToken = token;
            JobUpdateService updates = new JobUpdateService(pools, store, new PoolResolver(gitlab, store, 10_000),
                    scaleRequests, history, JobUpdateService.JobWaits.metered(metrics))
                    .noting(new ProjectSightings(store));
            updatesRef.set(updates);
            // big deliveries: answered once spooled to the data dir, applied right after (as SQS + scaler in AWS)
            deferred = new LocalJobUpdateQueue(updates, new DeferredJobUpdatesCodec(json),
                    dataDir == null ? null : dataDir.resolve("job-updates"));
            int recovered = deferred.recover();
            WebhookService webhook = new WebhookService(new WebhookAuthenticator(authMode, () -> webhookToken,
                    () -> signingSecrets, clock), store, updates,
                    deferred, json, clock);
            server = new LocalServer(http, webhook, store, compute, pools, json,
                    new LocalLifecycle(events, localDrains, compute, store, store, pools, json), metrics);
            server.start();
            if (gitlabClient != null && !reconcileEvery.isZero()) {
                ReconcileSettings defaults = ReconcileSettings.DEFAULTS;
                GitLabApiClient reading = gitlabClient.reservingRateLimit(0.2);
                // hooks are checked only when the pools file names serve's public URL (reconcile.hook_url)
                reconciler = new LocalReconciler(new Reconciler(pools, store, MeteredGitLab.jobs(reading, metrics),
                        new Reconciler.Discovery(MeteredGitLab.projects(reading, metrics), store, null), updates, clock,
                        new ReconcileSettings(reconcilePendingAfter, defaults.runningAfter(), defaults.cancelingAfter(),
                                defaults.budget(), defaults.projectGoneAfter(), defaults.maxListedRepairs())),
                        reconcileEvery, metrics);
            }
            int resumed = resumeDrains(pools, store, compute, drains, clock, out);
            if (simulatedTasks != null) {
                server.showStoppedTasks(simulatedTasks::recentlyStopped);
                simulatedTasks.start(payload -> lifecycleCall(events, payload));
            }
            scaleRequests.startTicking(tick);

            out.println("runnerscale serving on http://" + bind + ":" + server.port()
                    + "  (POST /webhook, POST /events, GET /status, GET /jobs/{projectId}/{jobId}, GET /metrics)");
            out.println("  pools: " + configName + ", compute: " + mode + (mode.equals("sim") ? " (boot " + boot.toSeconds() + "s)" : "")
                    + ", DynamoDB Local at " + dynamo.endpoint());
            out.println("  runners: " + (runners instanceof SimulatedGitLabRunners ? "simulated" : "GitLab " + credentials.baseUrl())
                    + ", drains: the drain state machine run locally" + (waitFactor == 1 ? "" : " (waits x" + waitFactor + ")"));
            boolean fargatePools = pools.current().pools().stream().anyMatch(p -> p.backend() instanceof PoolConfig.Fargate);
            if (fargatePools) {
                out.println(simulatedTasks != null
                        ? "  Fargate pools: simulated tasks (ready after each pool's backend.start_time, one job each)"
                        : "  Fargate pools: not run with --compute aws (ECS task events do not reach serve); use --compute sim");
            }
            out.println(dataDir == null ? "  state: in memory (lost when serve stops)"
                    : "  state: " + dataDir + " (kept across restarts)");
            if (recovered > 0) {
                out.println("  applying " + recovered + " part(s) of big deliveries acknowledged before the last stop");
            }
            if (resumed > 0) {
                out.println("  resuming " + resumed + " drain(s) that were running at the last stop");
            }
            out.println(generated ? "  webhook token (generated for this run; set --webhook-token to choose one): " + token
                    : "  webhook token: as given");
            out.flush();
            return new Running(server, scaleRequests, deferred, dynamo, lock, fleet, localDrains, simulated, drains,
                    simulatedTasks, reconciler);
        } catch (Exception | Error e) {
            if (server != null) {
                server.close();
            } else if (http != null) {
                http.stop(0);
            }
            if (deferred != null) {
                deferred.close();
            }
            if (scaleRequests != null) {
                scaleRequests.close();
            }
            if (localDrains != null) {
                localDrains.close();
            }
            if (simulated != null) {
                simulated.close();
            }
            if (simulatedTasks != null) {
                simulatedTasks.close();
            }
            if (reconciler != null) {
                reconciler.close();
            }
            if (dynamo != null) {
                dynamo.close();
            }
            if (lock != null) {
                lock.close();
            }
            throw e;
        }
    }

    /** {@code --data-dir}, else env {@code RUNNERSCALE_DATA_DIR}, else the XDG data directory; created if missing. */
    static Path dataDirectory(String given, Map<String, String> env) {
        String source = "--data-dir";
        String text = given;
        if (text == null && env.get("RUNNERSCALE_DATA_DIR") != null && !env.get("RUNNERSCALE_DATA_DIR").isBlank()) {
            source = "RUNNERSCALE_DATA_DIR";
            text = env.get("RUNNERSCALE_DATA_DIR");
        }
        Path dir;
        if (text == null) {
            source = "the default data directory";
            dir = defaultDataHome(env).resolve("runnerscale");
        } else {
            try {
                dir = Path.of(text);
            } catch (InvalidPathException e) {
                throw new Args.UsageException(source + ": '" + Quoted.abbreviate(text) + "' is not a path");
            }
        }
        dir = dir.toAbsolutePath().normalize();
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new Main.Failure(source + " " + dir + " is not a directory; choose another with --data-dir, or --in-memory");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new Main.Failure(source + " " + dir + " cannot be created (" + e.getMessage()
                    + "); choose another with --data-dir, or --in-memory");
        }
        if (!Files.isWritable(dir)) {
            throw new Main.Failure(source + " " + dir + " is not writable; choose another with --data-dir, or --in-memory");
        }
        return dir;
    }

    /** {@code $XDG_DATA_HOME} when it is absolute (the XDG spec ignores a relative one), else {@code ~/.local/share}. */
    private static Path defaultDataHome(Map<String, String> env) {
        String xdg = env.get("XDG_DATA_HOME");
        if (xdg != null && !xdg.isBlank()) {
            try {
                Path path = Path.of(xdg);
                if (path.isAbsolute()) {
                    return path;
                }
            } catch (InvalidPathException ignored) {
                // fall through to the spec's default
            }
        }
        String home = env.get("HOME");
        return Path.of(home != null && !home.isBlank() ? home : System.getProperty("user.home"), ".local", "share");
    }

    private static InetAddress bindAddress(String bind) {
        if (bind.isBlank()) {
            throw new Args.UsageException("--bind needs an address, e.g. 127.0.0.1 or 0.0.0.0");
        }
        try {
            return InetAddress.getByName(bind);
        } catch (UnknownHostException e) {
            throw new Args.UsageException("--bind: '" + Quoted.abbreviate(bind) + "' is not an address or a known host name");
        }
    }

    /** The HTTP socket, bound before anything else starts; the JDK's bind errors become a plain message. */
    /**
     * Drains live in memory here (Step Functions keeps them in AWS): instances a drain held when
     * serve last stopped are still {@code draining} in the data dir, which the scaler never counts nor
     * chooses again. Each one still in its group is drained anew, as a scale-in (a job that started on
     * it meanwhile calls the drain off and keeps the instance); one no longer there is recorded gone.
     *
     * @return the drains started
     */
    static <S extends io.runnerscale.store.JobStore & io.runnerscale.store.InstanceLifecycleStore> int resumeDrains(
            PoolsConfigSource pools, S store, Compute compute, DrainRequests drains, Clock clock, PrintStream out) {
        int resumed = 0;
        for (PoolConfig pool : pools.current().pools()) {
            if (!(pool.backend() instanceof PoolConfig.Ec2Asg ec2)) {
                continue;
            }
            List<InstanceRecord> draining = store.instances(pool.name()).stream().filter(InstanceRecord::draining).toList();
            if (draining.isEmpty()) {
                continue;
            }
            java.util.Set<String> inGroup = new java.util.HashSet<>();
            try {
                compute.describe(pool).instances().forEach(i -> inGroup.add(i.id()));
            } catch (RuntimeException e) {
                out.println("  pool " + pool.name() + ": cannot list its group to resume " + draining.size()
                        + " drain(s): " + e.getMessage());
                continue;
            }
            for (InstanceRecord record : draining) {
                if (inGroup.contains(record.instanceId())) {
                    drains.start(record.instanceId(), pool.name(), ec2.asg(), DrainReason.SCALE_IN, null, clock.instant(),
                            store.lifecycle(record.instanceId()));
                    resumed++;
                } else {
                    store.setState(record.instanceId(), InstanceState.GONE);
                }
            }
        }
        return resumed;
    }

    private static HttpServer listen(InetAddress address, String bind, int port) {
        try {
            return LocalServer.bind(new InetSocketAddress(address, port));
        } catch (BindException e) {
            String problem = String.valueOf(e.getMessage());
            if (problem.contains("in use")) {
                throw new Main.Failure("port " + port + " on " + bind + " is in use; choose another with --port");
            }
            throw new Main.Failure("cannot listen on port " + port + " on " + bind + " (" + problem
                    + "); choose another --bind or --port");
        } catch (IOException e) {
            throw new Main.Failure("cannot listen on port " + port + " on " + bind + " (" + e.getMessage() + ")");
        }
    }

    /**
     * The data directory held by one {@code serve}: two DynamoDB Locals writing one SQLite file would
     * corrupt it. An OS lock on {@value #FILE} (released by the OS if the process dies, so no stale
     * lock survives a crash); the file holds the owner's pid for the message.
     */
    static final class DataDirLock implements AutoCloseable {
        static final String FILE = "serve.lock";
        private final FileChannel channel;
        private final FileLock lock;

        private DataDirLock(FileChannel channel, FileLock lock) {
            this.channel = channel;
            this.lock = lock;
        }

        static DataDirLock acquire(Path dir) {
            Path file = dir.resolve(FILE);
            FileChannel channel;
            try {
                channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            } catch (IOException e) {
                throw new Main.Failure("cannot open the lock file " + file + " (" + e.getMessage() + ")");
            }
            try {
                FileLock lock;
                try {
                    lock = channel.tryLock();
                } catch (OverlappingFileLockException heldInThisProcess) {
                    lock = null;
                }
                if (lock == null) {
                    String owner = owner(channel);
                    channel.close();
                    throw new Main.Failure("the data directory " + dir + " is in use by another runnerscale serve"
                            + (owner.isEmpty() ? "" : " (pid " + owner + ")")
                            + "; stop it, or choose another --data-dir (or --in-memory)");
                }
                channel.truncate(0);
                channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
                channel.force(false);
                return new DataDirLock(channel, lock);
            } catch (IOException e) {
                closeQuietly(channel);
                throw new Main.Failure("cannot lock the data directory " + dir + " (" + e.getMessage() + ")");
            }
        }

        /** The pid the holder wrote, digits only; empty when unreadable. */
        private static String owner(FileChannel channel) {
            try {
                ByteBuffer buffer = ByteBuffer.allocate(32);
                channel.read(buffer, 0);
                String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII).strip();
                return text.matches("[0-9]{1,19}") ? text : "";
            } catch (IOException e) {
                return "";
            }
        }

        private static void closeQuietly(FileChannel channel) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing was locked
            }
        }

        /** Releases the lock; the file stays (deleting it could race with a serve that has just opened it). */
        @Override
        public void close() {
            try {
                lock.release();
            } catch (IOException ignored) {
                // closing the channel releases it too
            }
            closeQuietly(channel);
        }
    }

    /** A started {@code serve}: its port, its simulated fleet (null with {@code --compute aws}); close stops it all. */
    static final class Running implements AutoCloseable {
        private final LocalServer server;
        private final LocalScaleRequests scaleRequests;
        private final LocalJobUpdateQueue deferred;
        private final EmbeddedDynamo dynamo;
        private final DataDirLock lock;
        private final SimulatedFleet fleet;
        private final LocalDrains drains;
        private final SimulatedLifecycle simulated;
        private final InstanceDrains drainRequests;
        private final SimulatedTasks tasks;
        private final LocalReconciler reconciler;
        private final int port;
        private boolean closed;

        private Running(LocalServer server, LocalScaleRequests scaleRequests, LocalJobUpdateQueue deferred,
                        EmbeddedDynamo dynamo, DataDirLock lock, SimulatedFleet fleet, LocalDrains drains,
                        SimulatedLifecycle simulated, InstanceDrains drainRequests, SimulatedTasks tasks,
                        LocalReconciler reconciler) {
            this.reconciler = reconciler;
            this.tasks = tasks;
            this.drains = drains;
            this.drainRequests = drainRequests;
            this.simulated = simulated;
            this.server = server;
            this.scaleRequests = scaleRequests;
            this.deferred = deferred;
            this.dynamo = dynamo;
            this.lock = lock;
            this.fleet = fleet;
            this.port = server.port();
        }

        int port() {
            return port;
        }

        SimulatedFleet fleet() {
            return fleet;
        }

        LocalDrains drains() {
            return drains;
        }

        /** What the scaler asks for a drain through (tests ask it directly). */
        InstanceDrains drainRequests() {
            return drainRequests;
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            server.close();
            if (reconciler != null) {
                reconciler.close(); // before the store: its repairs write to it
            }
            deferred.close();   // before the store: what it cannot finish stays in the spool
            scaleRequests.close();
            drains.close();     // before the store: their tasks write to it
            if (simulated != null) {
                simulated.close();
            }
            if (tasks != null) {
                tasks.close(); // before the store: their events write to it
            }
            dynamo.close();
            if (lock != null) {
                lock.close(); // last: DynamoDB Local has written its file
            }
        }
    }

    /** {@code --gitlab-url} with env {@code GITLAB_TOKEN}; null without a URL. */
    private static GitLabCredentials credentials(String url, Map<String, String> env) {
        if (url == null) {
            return null;
        }
        String token = env.get("GITLAB_TOKEN");
        if (token == null || token.isBlank()) {
            throw new Args.UsageException("--gitlab-url needs the API token in env GITLAB_TOKEN");
        }
        return new GitLabCredentials(url, token);
    }

    /** Without --gitlab-url: every tag lookup refused (not counted as a GitLab API error: there is no GitLab). */
    private static GitLab noGitLab() {
        return job -> {
            throw new GitLabUnavailableException("no GitLab API configured (serve --gitlab-url)", null);
        };
    }

    /** The lifecycle function's code on one input; AWS SDK failures classified as the Lambda handler does. */
    private static com.fasterxml.jackson.databind.JsonNode lifecycleCall(LifecycleEvents events,
                                                                        com.fasterxml.jackson.databind.JsonNode input) {
        try {
            return events.handle(input);
        } catch (SdkException e) {
            throw AwsFailures.classify("AWS", e);
        }
    }
}
