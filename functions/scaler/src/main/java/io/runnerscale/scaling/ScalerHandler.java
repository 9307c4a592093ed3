package io.runnerscale.scaling;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.compute.AsgCompute;
import io.runnerscale.config.AwsClients;
import io.runnerscale.config.CachedParameters;
import io.runnerscale.config.LambdaMetrics;
import io.runnerscale.config.Settings;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.store.DynamoDemandHistory;
import io.runnerscale.store.DynamoJobStore;
import org.crac.Core;
import org.slf4j.LoggerFactory;
import org.crac.Resource;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.lambda.powertools.logging.PowertoolsLogging;
import software.amazon.lambda.powertools.metrics.model.MetricUnit;
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
 */
public final class ScalerHandler implements RequestStreamHandler, Resource {
    private static final Duration POOLS_MAX_AGE = Duration.ofMinutes(1);

    private final ScalerService scaler;
    private final ScaleRequests queue;
    private final ObjectMapper json = new ObjectMapper();
    private final LambdaMetrics metrics = LambdaMetrics.create();
    private final Clock clock;

    public ScalerHandler() {
        this(Settings.fromEnvironment(), AwsClients.create(null));
    }

    private ScalerHandler(Settings settings, AwsClients aws) {
        this(settings, aws.build(DynamoDbClient.builder()), aws.build(AutoScalingClient.builder()),
                aws.build(SsmClient.builder()), aws.build(SqsClient.builder()), Clock.systemUTC());
        Core.getGlobalContext().register(this);
    }

    public ScalerHandler(Settings settings, DynamoDbClient dynamo, AutoScalingClient autoScaling, SsmClient ssm,
                         SqsClient sqs, Clock clock) {
        SSMProvider parameters = SSMProvider.builder().withClient(ssm).build();
        PoolsConfigSource pools = new PoolsConfigSource(CachedParameters.of(parameters, settings.poolsParameter(),
                POOLS_MAX_AGE), "ssm:" + settings.poolsParameter(), POOLS_MAX_AGE, clock);
        this.scaler = new ScalerService(pools, new DynamoJobStore(dynamo, settings.tableName(), settings.jobTtl()),
                new AsgCompute(autoScaling), new DemandHistoryForecast(new DynamoDemandHistory(dynamo,
                        settings.tableName(), Duration.ofDays(57))), clock);
        this.queue = new SqsScaleRequests(sqs, settings.scaleQueueUrl(), json);
        this.clock = clock;
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
        response.putArray("batchItemFailures");
        batch.messageIdsByPool().forEach((pool, messageIds) -> {
            try {
                scaler.scale(pool, batch.jobsByPool().getOrDefault(pool, Set.of())).ifPresent(d -> {
                    decided.addObject().put("pool", pool).put("desired", d.desiredAfter()).put("actions", d.actions().size());
                    metrics.put("DesiredInstances", d.desiredAfter(), MetricUnit.COUNT, "Pool", pool);
                    metrics.put("NeededSlots", d.neededSlots(), MetricUnit.COUNT, "Pool", pool);
                });
            } catch (RuntimeException e) {
                LoggerFactory.getLogger(ScalerHandler.class).error("pool {}: decision failed", pool, e);
                metrics.count("DecisionFailures", "Pool", pool);
            }
        });
        return response;
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

    @Override
    public void beforeCheckpoint(org.crac.Context<? extends Resource> context) {
        ScalerTrigger.from(json.createObjectNode().put("pool", "prime"));
    }

    @Override
    public void afterRestore(org.crac.Context<? extends Resource> context) {
        // nothing captured at init depends on time, randomness or secrets
    }
}
