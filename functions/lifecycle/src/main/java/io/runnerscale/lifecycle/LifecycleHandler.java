package io.runnerscale.lifecycle;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.compute.AsgWarmPools;
import io.runnerscale.compute.EcsFargateTasks;
import io.runnerscale.compute.WarmPoolApplier;
import io.runnerscale.config.AwsClients;
import io.runnerscale.config.CachedParameters;
import io.runnerscale.config.LambdaMetrics;
import io.runnerscale.config.Settings;
import io.runnerscale.config.SnapStartPriming;
import io.runnerscale.gitlab.GitLabApiClient;
import io.runnerscale.gitlab.GitLabCredentials;
import io.runnerscale.gitlab.GitLabRunners;
import io.runnerscale.gitlab.GitLabRunnersApiClient;
import io.runnerscale.lifecycle.aws.AsgGroupMembers;
import io.runnerscale.lifecycle.aws.AsgLifecycleActions;
import io.runnerscale.lifecycle.aws.AsgScaleInReturns;
import io.runnerscale.lifecycle.aws.AwsFailures;
import io.runnerscale.lifecycle.aws.Ec2DescribeInstances;
import io.runnerscale.lifecycle.aws.SfnDrainStarter;
import io.runnerscale.lifecycle.aws.SsmRunnerTokens;
import io.runnerscale.metrics.MeteredGitLab;
import io.runnerscale.metrics.MetricName;
import io.runnerscale.metrics.ReconcileMetrics;
import io.runnerscale.metrics.WarmPoolMetrics;
import io.runnerscale.metrics.RunnerscaleMetrics;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.reconcile.ReconcileSettings;
import io.runnerscale.reconcile.Reconciler;
import io.runnerscale.scaling.SqsScaleRequests;
import io.runnerscale.store.DynamoJobStore;
import io.runnerscale.webhook.JobUpdateService;
import io.runnerscale.webhook.PoolResolver;
import org.crac.Core;
import org.crac.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.sfn.SfnClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.lambda.powertools.logging.PowertoolsLogging;
import software.amazon.lambda.powertools.parameters.secrets.SecretsProvider;
import software.amazon.lambda.powertools.parameters.ssm.SSMProvider;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;

/**
 * The lifecycle function. Two kinds of input:
 * <ul>
 *   <li>a drain Task of the drain state machine, {@code {"task": "<Name>", "drain": {...}}}: answers
 *       the updated drain object (statemachine/README.md); a failure worth retrying throws
 *       {@link RetryableError}, whose class name the state machine's Retry matches;</li>
 *   <li>an EventBridge event: {@code EC2 Instance-launch Lifecycle Action} (create the instance's
 *       runner and token), {@code EC2 Instance-terminate Lifecycle Action}, {@code EC2 Spot Instance
 *       Interruption Warning} and {@code EC2 Instance Rebalance Recommendation} (start a drain);
 *       answers {@code {"result": "..."}};</li>
 *   <li>the orphan sweep's schedule, {@code {"sweep": true}} (or an EventBridge {@code Scheduled Event}):
 *       one {@link OrphanSweep} run, then one {@link TaskSweep} run over the Fargate pools, then the
 *       ec2-asg pools' warm pools applied ({@link WarmPoolApplier}), then one {@link Reconciler} run
 *       (live jobs whose webhooks were lost, read back from GitLab); answers {@code {"result": "SWEPT",
 *       "report": {...}, "tasks": {...}, "warmPools": "...", "reconcile": "..."}}.</li>
 * </ul>
 * Thin on purpose: {@link LifecycleEvents} dispatches (as {@code serve} does too) and
 * {@link LifecycleService} decides. SnapStart: nothing read at init is secret,
 * random or time-dependent (secrets and pools are read on first use); priming keeps no state.
 */
public final class LifecycleHandler implements RequestStreamHandler, Resource {
    private static final Duration POOLS_MAX_AGE = Duration.ofMinutes(1);
    private static final Duration SECRET_MAX_AGE = Duration.ofMinutes(5);
    static final String LAUNCH = LifecycleEvents.LAUNCH;
    static final String TERMINATE = LifecycleEvents.TERMINATE;
    static final String SPOT = LifecycleEvents.SPOT;
    static final String REBALANCE = LifecycleEvents.REBALANCE;
    static final String SCHEDULED = "Scheduled Event";

    private final ObjectMapper json = new ObjectMapper();
    private final DrainCodec codec = new DrainCodec(json);
    private final RunnerscaleMetrics metrics = LambdaMetrics.create();
    private final LifecycleEvents events;
    private final OrphanSweep sweep;
    private static final Logger LOG = LoggerFactory.getLogger(LifecycleHandler.class);
    private final Reconciler reconciler;
    private final Clock clock;
    /** What the function keeps of its timeout to write its answer after a scheduled run. */
    private static final Duration ANSWER_MARGIN = Duration.ofSeconds(3);
    /** Null when built without ECS: Fargate tasks are then not swept. */
    private final TaskSweep taskSweep;
    /** The pools' warm_pool applied to their groups, on this schedule only (see {@link #handle}). */
    private final WarmPoolApplier warmPools;
    /** For priming only. */
    private final DynamoDbClient dynamo;
    private final String table;

    public LifecycleHandler() {
        this(Settings.fromEnvironment(), LifecycleSettings.from(System.getenv()), AwsClients.create(null));
    }

    private LifecycleHandler(Settings settings, LifecycleSettings lifecycle, AwsClients aws) {
        this(settings, lifecycle, aws.build(DynamoDbClient.builder()), aws.build(SsmClient.builder()),
                aws.build(AutoScalingClient.builder()), aws.build(Ec2Client.builder()), aws.build(EcsClient.builder()),
                aws.build(SfnClient.builder()),
                aws.build(SecretsManagerClient.builder()), aws.build(SqsClient.builder()), Clock.systemUTC());
        Core.getGlobalContext().register(this);
    }

    /** Wires the service from clients; tests pass clients pointed at DynamoDB Local and moto_server. */
    public LifecycleHandler(Settings settings, LifecycleSettings lifecycle, DynamoDbClient dynamo, SsmClient ssm,
                            AutoScalingClient autoScaling, Ec2Client ec2, SfnClient sfn,
                            SecretsManagerClient secretsManager, SqsClient sqs, Clock clock) {
        this(settings, lifecycle, dynamo, ssm, autoScaling, ec2, null, sfn, secretsManager, sqs, clock);
    }

    /** @param ecs lists and stops the Fargate pools' tasks for the sweep; null sweeps no task */
    public LifecycleHandler(Settings settings, LifecycleSettings lifecycle, DynamoDbClient dynamo, SsmClient ssm,
                            AutoScalingClient autoScaling, Ec2Client ec2, EcsClient ecs, SfnClient sfn,
                            SecretsManagerClient secretsManager, SqsClient sqs, Clock clock) {
        SSMProvider parameters = SSMProvider.builder().withClient(ssm).build();
        PoolsConfigSource pools = new PoolsConfigSource(CachedParameters.of(parameters, settings.poolsParameter(),
                POOLS_MAX_AGE), "ssm:" + settings.poolsParameter(), POOLS_MAX_AGE, clock);
        if (settings.gitlabSecretId().isBlank()) {
            throw new IllegalStateException("environment variable GITLAB_SECRET_ID is not set (the lifecycle function"
                    + " creates and deletes GitLab runners)");
        }
        Supplier<String> gitlabSecret = CachedParameters.of(SecretsProvider.builder().withClient(secretsManager).build(),
                settings.gitlabSecretId(), SECRET_MAX_AGE);
        // one HTTP client (connection pool) for both GitLab clients
        HttpClient gitlabHttp = GitLabApiClient.defaultHttpClient();
        // every GitLab call counted by failure kind (GitLabApiErrors) in one place: the ports' decorators
        GitLabRunners gitlab = MeteredGitLab.runners(new GitLabRunnersApiClient(gitlabHttp,
                () -> GitLabCredentials.fromSecretJson(gitlabSecret.get(), json), json, clock), metrics);
        DynamoJobStore store = new DynamoJobStore(dynamo, settings.tableName(), settings.jobTtl());
        SsmRunnerTokens tokens = new SsmRunnerTokens(ssm, lifecycle.runnerTokenPrefix(), lifecycle.runnerTokenKmsKeyId());
        SqsScaleRequests scaleRequests = new SqsScaleRequests(sqs, settings.scaleQueueUrl(), json);
        AsgLifecycleActions actions = new AsgLifecycleActions(autoScaling);
        LifecycleService service = new LifecycleService(pools::current, store, gitlab, tokens,
                actions, new SfnDrainStarter(sfn, lifecycle.drainStateMachineArn(), codec),
                scaleRequests, lifecycle.runnerOwner(), lifecycle.jobTimeout(), clock, new AsgScaleInReturns(autoScaling));
        this.events = new LifecycleEvents(service,
                new TaskLifecycle(pools::current, store, store, gitlab, scaleRequests, clock), codec, json);
        this.sweep = new OrphanSweep(pools::current, store, store, gitlab, lifecycle.runnerOwner(), tokens,
                new AsgGroupMembers(autoScaling), new Ec2DescribeInstances(ec2), service::startDrain,
                OrphanSweep.Settings.DEFAULT, actions, clock);
        // STACK_WARM_POOL_GROUPS: the example group when the stack gives it a warm pool (CloudFormation
        // then stays the only writer of that one); read here, not in LifecycleSettings, as it has no default
        this.warmPools = new WarmPoolApplier(pools::current, new AsgWarmPools(autoScaling, ec2),
                WarmPoolApplier.stackManagedGroups(System.getenv("STACK_WARM_POOL_GROUPS")));
        this.taskSweep = ecs == null ? null : new TaskSweep(pools::current, new EcsFargateTasks(ecs), gitlab, store,
                TaskSweep.Settings.DEFAULT, clock);
        // lost webhooks: stale live jobs read back from GitLab and applied through the webhook's own write
        // it holds back while GitLab's rate limit is within a fifth of its quota: the webhook's lookups come first
        GitLabApiClient jobs = new GitLabApiClient(gitlabHttp,
                () -> GitLabCredentials.fromSecretJson(gitlabSecret.get(), json), json).reservingRateLimit(0.2);
        // no demand history: a repaired job is not a new request the forecast should count
        JobUpdateService updates = new JobUpdateService(pools, store,
                new PoolResolver(MeteredGitLab.tags(jobs, metrics), store, 10_000), scaleRequests, null,
                JobUpdateService.JobWaits.metered(metrics));
        // jobs whose webhooks never arrived: pending and running jobs of the projects seen; hooks checked
        this.reconciler = new Reconciler(pools, store, MeteredGitLab.jobs(jobs, metrics),
                new Reconciler.Discovery(MeteredGitLab.projects(jobs, metrics), store, lifecycle.webhookUrl()),
                updates, clock,
                ReconcileSettings.DEFAULTS);
        this.clock = clock;
        this.dynamo = dynamo;
        this.table = settings.tableName();
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) {
        JsonNode result = PowertoolsLogging.withLogging(context, () -> {
            JsonNode event;
            try {
                event = json.readTree(input);
            } catch (IOException e) {
                throw new IllegalArgumentException("lifecycle input is not JSON");
            }
            try {
                // the reconciler stops before the function's own timeout, leaving time to answer
                return handle(event, clock.instant().plusMillis(Math.max(0, context.getRemainingTimeInMillis()
                        - ANSWER_MARGIN.toMillis())));
            } catch (SdkException e) {
                throw AwsFailures.classify("AWS", e);
            }
        });
        try {
            json.writeValue(output, result);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    JsonNode handle(JsonNode event) {
        return handle(event, null);
    }

    /** @param deadline when a scheduled run must have ended (null: no deadline but the budgets) */
    JsonNode handle(JsonNode event, Instant deadline) {
        // the orphan sweep and the reconciler run only here (on their schedule), not in serve: the rest
        // is the shared dispatch
        if (event != null && event.isObject()
                && (event.path("sweep").asBoolean(false) || SCHEDULED.equals(event.path("detail-type").asText("")))) {
            ObjectNode answer = json.createObjectNode().put("result", "SWEPT");
            answer.set("report", json.valueToTree(sweep.run()));
            if (taskSweep != null) {
                answer.set("tasks", json.valueToTree(taskSweep.run()));
            }
            // Warm pools are applied here only, not by the scaler at its first decision after a cold
            // start: a group works without its warm pool (instances launch cold) until the next run
            // (10 min at most), while the scaler's path is a waiting job's, and its role stays without
            // any write to a group's configuration.
            try {
                WarmPoolApplier.Report applied = warmPools.run();
                WarmPoolMetrics.record(applied, metrics);
                answer.put("warmPools", applied.summary());
            } catch (RuntimeException e) {
                // the pools file could not be read: the next run tries again
                LOG.error("warm pools not applied: {}", e.toString());
                answer.put("warmPools", "failed: " + e.getClass().getSimpleName());
            }
            try {
                io.runnerscale.reconcile.ReconcileReport report = reconciler.run(deadline);
                ReconcileMetrics.record(report, metrics);
                answer.put("reconcile", report.summary());
            } catch (RuntimeException e) {
                // the store or the pools file could not be read: the next run tries again
                LOG.error("reconciler run failed: {}", e.toString());
                answer.put("reconcile", "failed: " + e.getClass().getSimpleName());
            }
            return answer;
        }
        JsonNode answer = events.handle(event);
        String detailType = event.path("detail-type").asText("");
        if (detailType.equals(SPOT) || detailType.equals(REBALANCE)) {
            // counted by result: STARTED is a new interruption drain, ALREADY_RUNNING a repeated warning
            metrics.count(detailType.equals(SPOT) ? MetricName.SPOT_INTERRUPTIONS : MetricName.REBALANCE_RECOMMENDATIONS,
                    answer.path("result").asText("unknown"));
        } else if (detailType.equals(LifecycleEvents.TASK_STATE_CHANGE)) {
            // FAILED (a task that could not start or run) and INTERRUPTED (Fargate Spot) are the ones to watch
            metrics.count(MetricName.FARGATE_TASK_EVENTS, answer.path("result").asText("unknown"));
        }
        return answer;
    }

    @Override
    public void beforeCheckpoint(org.crac.Context<? extends Resource> context) {
        // primes Jackson, the codec, the pools parser and the SDK's request path; no state is kept
        Drain prime = Drain.start("i-00000000", "prime", "prime", null, DrainReason.SCALE_IN, null, Instant.EPOCH,
                Duration.ofHours(1), 60, java.util.List.of());
        codec.read(codec.write(prime));
        SnapStartPriming.poolsParser();
        SnapStartPriming.dynamo(dynamo, table);
    }

    @Override
    public void afterRestore(org.crac.Context<? extends Resource> context) {
        // nothing captured at init depends on time, randomness or secrets
    }
}
