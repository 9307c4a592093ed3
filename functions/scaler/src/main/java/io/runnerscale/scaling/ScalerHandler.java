package io.runnerscale.scaling;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.compute.AsgCompute;
import io.runnerscale.compute.EcsFargateTasks;
import io.runnerscale.config.AwsClients;
import io.runnerscale.config.CachedParameters;
import io.runnerscale.config.LambdaMetrics;
import io.runnerscale.config.Settings;
import io.runnerscale.config.SnapStartPriming;
import io.runnerscale.lifecycle.DrainCodec;
import io.runnerscale.lifecycle.DrainRequests;
import io.runnerscale.lifecycle.LifecycleSettings;
import io.runnerscale.lifecycle.aws.SfnDrainStarter;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.store.DynamoDemandHistory;
import io.runnerscale.store.DynamoJobStore;
import io.runnerscale.gitlab.GitLab;
import io.runnerscale.gitlab.GitLabApiClient;
import io.runnerscale.gitlab.GitLabCredentials;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.metrics.MeteredGitLab;
import io.runnerscale.metrics.MetricName;
import io.runnerscale.metrics.RunnerscaleMetrics;
import io.runnerscale.webhook.DeferredJobUpdates;
import io.runnerscale.webhook.DeferredJobUpdatesCodec;
import io.runnerscale.webhook.JobUpdateService;
import io.runnerscale.webhook.PoolResolver;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.lambda.powertools.parameters.secrets.SecretsProvider;
import java.util.List;
import org.crac.Core;
import org.slf4j.LoggerFactory;
import org.crac.Resource;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.sfn.SfnClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.lambda.powertools.logging.PowertoolsLogging;
import software.amazon.lambda.powertools.parameters.ssm.SSMProvider;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * The scaler function, with two triggers:
 * <ul>
 *   <li>the FIFO scale queue (one message group per pool, so one decision per pool at a time):
 *       webhook fast-path requests and schedule ticks, decided once per pool per batch;</li>
 *   <li>the one-minute EventBridge schedule: enqueues a tick per pool, so every decision goes through
 *       the queue and its per-pool ordering.</li>
 * </ul>
 * A direct invocation with {@code {"pool": "name"}} decides that pool at once (for operators).
 *
 * <p>The queue also carries the job updates of deliveries too big for the webhook to store before
 * answering ({@code {"type": "job-updates"}}, one message group per part): they are applied with
 * the webhook's own {@link JobUpdateService}, whose scale requests go back through the queue, so
 * pool decisions keep their per-pool ordering.
 */
public final class ScalerHandler implements RequestStreamHandler, Resource {
    private static final Duration POOLS_MAX_AGE = Duration.ofMinutes(1);

    private static final Duration SECRET_MAX_AGE = Duration.ofMinutes(5);

    private final ScalerService scaler;
    private final ScaleRequests queue;
    private final JobUpdateService jobUpdates;
    private final ObjectMapper json = new ObjectMapper();
    private final DeferredJobUpdatesCodec codec = new DeferredJobUpdatesCodec(json);
    private final RunnerscaleMetrics metrics = LambdaMetrics.create();
    private final Clock clock;
    /** For priming only. */
    private final DynamoDbClient dynamo;
    private final String table;

    public ScalerHandler() {
        this(Settings.fromEnvironment(), AwsClients.create(null));
    }

    private ScalerHandler(Settings settings, AwsClients aws) {
        this(settings, LifecycleSettings.DrainSettings.from(System.getenv()), aws.build(DynamoDbClient.builder()),
                aws.build(AutoScalingClient.builder()), aws.build(Ec2Client.builder()), aws.build(EcsClient.builder()),
                aws.build(SsmClient.builder()),
                aws.build(SqsClient.builder()), aws.build(SecretsManagerClient.builder()), aws.build(SfnClient.builder()),
                Clock.systemUTC());
        Core.getGlobalContext().register(this);
    }

    /**
     * Wires the services from clients; tests pass clients pointed at DynamoDB Local and moto_server.
     *
     * @param secretsManager reads the GitLab API secret, for the tags of jobs in deferred job updates
     * @param sfn            starts drains: the scaler lets an instance go only through the drain state machine
     */
    public ScalerHandler(Settings settings, LifecycleSettings.DrainSettings drain, DynamoDbClient dynamo,
                         AutoScalingClient autoScaling, SsmClient ssm, SqsClient sqs,
                         SecretsManagerClient secretsManager, SfnClient sfn, Clock clock) {
        this(settings, drain, dynamo, autoScaling, null, ssm, sqs, secretsManager, sfn, clock);
    }

    /**
     * @param ec2 reads instances' launch times and launch template versions (rolling upgrades); null reads
     *            nothing from EC2: idle clocks start when an instance is first seen, and versions are known
     *            only as far as Auto Scaling reports them
     */
    public ScalerHandler(Settings settings, LifecycleSettings.DrainSettings drain, DynamoDbClient dynamo,
                         AutoScalingClient autoScaling, Ec2Client ec2, SsmClient ssm, SqsClient sqs,
                         SecretsManagerClient secretsManager, SfnClient sfn, Clock clock) {
        this(settings, drain, dynamo, autoScaling, ec2, null, ssm, sqs, secretsManager, sfn, clock);
    }

    /** @param ecs starts the tasks of Fargate pools; null refuses Fargate pools (an error in the log) */
    public ScalerHandler(Settings settings, LifecycleSettings.DrainSettings drain, DynamoDbClient dynamo,
                         AutoScalingClient autoScaling, Ec2Client ec2, EcsClient ecs, SsmClient ssm, SqsClient sqs,
                         SecretsManagerClient secretsManager, SfnClient sfn, Clock clock) {
        SSMProvider parameters = SSMProvider.builder().withClient(ssm).build();
        PoolsConfigSource pools = new PoolsConfigSource(CachedParameters.of(parameters, settings.poolsParameter(),
                POOLS_MAX_AGE), "ssm:" + settings.poolsParameter(), POOLS_MAX_AGE, clock);
        DynamoJobStore store = new DynamoJobStore(dynamo, settings.tableName(), settings.jobTtl());
        DynamoDemandHistory demand = new DynamoDemandHistory(dynamo, settings.tableName(), Duration.ofDays(57));
        DrainRequests drains = new DrainRequests(store,
                new SfnDrainStarter(sfn, drain.drainStateMachineArn(), new DrainCodec(json)), drain.jobTimeout(), clock);
        this.scaler = new ScalerService(pools, store, new AsgCompute(autoScaling, ec2), drains,
                new DemandHistoryForecast(demand), clock, ScalerService.DEFAULT_WATCH_GAP,
                ecs == null ? null : new TaskScaler(store, new EcsFargateTasks(ecs)), metrics);
        this.queue = new SqsScaleRequests(sqs, settings.scaleQueueUrl(), json);
        GitLab gitlab;
        if (settings.gitlabSecretId().isBlank()) {
            gitlab = job -> {
                throw new GitLabUnavailableException("GITLAB_SECRET_ID is not set", null);
            };
        } else {
            var gitlabSecret = CachedParameters.of(SecretsProvider.builder().withClient(secretsManager).build(),
                    settings.gitlabSecretId(), SECRET_MAX_AGE);
            gitlab = MeteredGitLab.tags(new GitLabApiClient(GitLabApiClient.defaultHttpClient(),
                    () -> GitLabCredentials.fromSecretJson(gitlabSecret.get(), json), json), metrics);
        }
        this.jobUpdates = new JobUpdateService(pools, store, new PoolResolver(gitlab, store, 10_000), queue, demand,
                JobUpdateService.JobWaits.metered(metrics))
                .noting(new io.runnerscale.reconcile.ProjectSightings(store));
        this.clock = clock;
        this.dynamo = dynamo;
        this.table = settings.tableName();
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) {
        JsonNode result = PowertoolsLogging.withLogging(context, () -> {
            try {
                return handle(json.readTree(input));
            } catch (IOException e) {
                throw new UncheckedIOException("scaler input is not JSON", e);
            }
        });
        try {
            json.writeValue(output, result);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    JsonNode handle(JsonNode event) {
        ScalerTrigger trigger = ScalerTrigger.from(event);
        return switch (trigger) {
            case ScalerTrigger.QueueBatch batch -> decideBatch(batch);
            case ScalerTrigger.Schedule schedule -> enqueueTicks();
            case ScalerTrigger.Direct direct -> json.valueToTree(Map.of("decision",
                    scaler.scale(direct.pool()).map(Object::toString).orElse("unknown pool")));
        };
    }

    /**
     * One decision per pool in the batch. A failed decision is logged and its messages acknowledged:
     * returning them would hold the pool's message group for a visibility timeout, while the next
     * minute's tick decides afresh anyway.
     */
    private JsonNode decideBatch(ScalerTrigger.QueueBatch batch) {
        ObjectNode response = json.createObjectNode();
        ArrayNode decided = response.putArray("decided");
        ArrayNode failures = response.putArray("batchItemFailures");
        ArrayNode applied = response.putArray("applied");
        for (ScalerTrigger.QueuedJobUpdates message : batch.jobUpdates()) {
            applyDeferred(message, applied, failures);
        }
        batch.messageIdsByPool().forEach((pool, messageIds) -> {
            try {
                // the decision's metrics (DesiredInstances, ScaleLatency, DecisionFailures...) come from ScalerService
                scaler.scale(pool, batch.jobsByPool().getOrDefault(pool, Set.of())).ifPresent(d ->
                        decided.addObject().put("pool", pool).put("desired", d.desiredAfter())
                                .put("actions", d.actions().size()));
            } catch (RuntimeException e) {
                LoggerFactory.getLogger(ScalerHandler.class).error("pool {}: decision failed", pool, e);
            }
        });
        return response;
    }

    /**
     * Applies one message of deferred job updates. A store failure returns the message to the queue
     * (retried, then the dead-letter queue): these are acknowledged deliveries and must not be lost.
     * A message that cannot be read is logged and dropped: retrying cannot make it readable.
     */
    private void applyDeferred(ScalerTrigger.QueuedJobUpdates message, ArrayNode applied, ArrayNode failures) {
        DeferredJobUpdates updates;
        try {
            updates = codec.decode(message.body());
        } catch (IllegalArgumentException e) {
            LoggerFactory.getLogger(ScalerHandler.class).error("deferred job updates message {} dropped: {}",
                    message.messageId(), e.getMessage());
            metrics.count(MetricName.DEFERRED_UPDATES, "unreadable");
            return;
        }
        try {
            List<JobUpdateService.Outcome> outcomes = jobUpdates.apply(updates.events(), updates.receivedAt());
            long count = outcomes.stream().filter(JobUpdateService.Outcome::applied).count();
            applied.addObject().put("delivery", updates.deliveryId()).put("part", updates.part())
                    .put("events", outcomes.size()).put("applied", count);
        } catch (RuntimeException e) {
            LoggerFactory.getLogger(ScalerHandler.class).error("deferred job updates of delivery {} part {}: store failed;"
                    + " the message is retried", updates.deliveryId(), updates.part(), e);
            metrics.count(MetricName.DEFERRED_UPDATES, "failed");
            failures.addObject().put("itemIdentifier", message.messageId());
        }
    }

    private JsonNode enqueueTicks() {
        long minute = clock.instant().getEpochSecond() / 60;
        ArrayNode pools = json.createArrayNode();
        for (String pool : scaler.poolNames()) {
            queue.request(pool, "schedule", "tick-" + pool + "-" + minute);
            pools.add(pool);
        }
        return json.createObjectNode().set("ticked", pools);
    }

    /** SnapStart: JSON, trigger and pools parsing and the SDK's request path into the snapshot; nothing is kept. */
    @Override
    public void beforeCheckpoint(org.crac.Context<? extends Resource> context) {
        ScalerTrigger.from(json.createObjectNode().put("pool", "prime"));
        SnapStartPriming.poolsParser();
        SnapStartPriming.dynamo(dynamo, table);
    }

    @Override
    public void afterRestore(org.crac.Context<? extends Resource> context) {
        // nothing captured at init depends on time, randomness or secrets
    }
}
