package io.runnerscale.webhook;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.config.AwsClients;
import io.runnerscale.config.CachedParameters;
import io.runnerscale.config.LambdaMetrics;
import io.runnerscale.config.Settings;
import io.runnerscale.config.SnapStartPriming;
import io.runnerscale.gitlab.GitLabApiClient;
import io.runnerscale.gitlab.GitLabCredentials;
import io.runnerscale.metrics.MeteredGitLab;
import io.runnerscale.metrics.MetricName;
import io.runnerscale.metrics.RunnerscaleMetrics;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.scaling.SqsScaleRequests;
import io.runnerscale.store.DynamoDemandHistory;
import io.runnerscale.store.DynamoJobStore;
import org.crac.Core;
import org.crac.Resource;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.lambda.powertools.logging.PowertoolsLogging;
import software.amazon.lambda.powertools.parameters.secrets.SecretsProvider;
import software.amazon.lambda.powertools.parameters.ssm.SSMProvider;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.function.Supplier;

/** {@code POST /webhook} behind an API Gateway HTTP API: maps the event to {@link WebhookService} and back. */
public final class WebhookHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse>, Resource {
    private static final Map<String, String> JSON_HEADERS = Map.of("content-type", "application/json");
    private static final Duration SECRET_MAX_AGE = Duration.ofMinutes(5);
    private static final Duration POOLS_MAX_AGE = Duration.ofMinutes(1);
    /** Long enough for a weekly forecast over 8 weeks. */
    static final Duration DEMAND_RETENTION = Duration.ofDays(57);

    private final WebhookService service;
    private final RunnerscaleMetrics metrics = LambdaMetrics.create();
    private final DynamoDbClient dynamo;
    private final String table;

    /** Lambda's constructor: real clients, built once per execution environment (before the SnapStart snapshot). */
    public WebhookHandler() {
        this(Settings.fromEnvironment(), WebhookAuthenticator.Settings.from(System.getenv()), AwsClients.create(null));
    }

    private WebhookHandler(Settings settings, WebhookAuthenticator.Settings auth, AwsClients aws) {
        this(settings, auth, aws.build(DynamoDbClient.builder()), aws.build(SecretsManagerClient.builder()),
                aws.build(SsmClient.builder()), aws.build(SqsClient.builder()));
        Core.getGlobalContext().register(this);
    }

    /** Token authentication only. */
    public WebhookHandler(Settings settings, DynamoDbClient dynamo, SecretsManagerClient secretsManager, SsmClient ssm,
                          SqsClient sqs) {
        this(settings, WebhookAuthenticator.Settings.TOKEN_ONLY, dynamo, secretsManager, ssm, sqs);
    }

    /** Wires the service from clients; tests pass clients pointed at DynamoDB Local and moto_server. */
    public WebhookHandler(Settings settings, WebhookAuthenticator.Settings auth, DynamoDbClient dynamo,
                          SecretsManagerClient secretsManager, SsmClient ssm, SqsClient sqs) {
        ObjectMapper json = new ObjectMapper();
        SecretsProvider secrets = SecretsProvider.builder().withClient(secretsManager).build();
        SSMProvider parameters = SSMProvider.builder().withClient(ssm).build();
        var webhookSecret = CachedParameters.of(secrets, settings.webhookSecretId(), SECRET_MAX_AGE);
        var gitlabSecret = CachedParameters.of(secrets, settings.gitlabSecretId(), SECRET_MAX_AGE);
        DynamoJobStore store = new DynamoJobStore(dynamo, settings.tableName(), settings.jobTtl());
        GitLabApiClient gitlab = new GitLabApiClient(GitLabApiClient.defaultHttpClient(),
                () -> GitLabCredentials.fromSecretJson(gitlabSecret.get(), json), json);
        PoolsConfigSource pools = new PoolsConfigSource(CachedParameters.of(parameters, settings.poolsParameter(),
                POOLS_MAX_AGE), "ssm:" + settings.poolsParameter(), POOLS_MAX_AGE, Clock.systemUTC());
        JobUpdateService updates = new JobUpdateService(pools, store,
                new PoolResolver(MeteredGitLab.tags(gitlab, metrics), store, 10_000),
                new SqsScaleRequests(sqs, settings.scaleQueueUrl(), json),
                new DynamoDemandHistory(dynamo, settings.tableName(), DEMAND_RETENTION),
                JobUpdateService.JobWaits.metered(metrics))
                // the projects jobs come from: the reconciler lists their pending and running jobs
                .noting(new io.runnerscale.reconcile.ProjectSightings(store));
        // big deliveries go to the scale queue, whose consumer (the scaler) applies them with the same service
        // the signing secret is read (and cached) only when signatures are checked
        Supplier<String> signingSecrets = auth.mode().signature()
                ? CachedParameters.of(secrets, auth.signingSecretId(), SECRET_MAX_AGE) : () -> null;
        this.service = new WebhookService(new WebhookAuthenticator(auth.mode(), webhookSecret, signingSecrets,
                Clock.systemUTC()), store, updates,
                new SqsJobUpdateQueue(sqs, settings.scaleQueueUrl(), new DeferredJobUpdatesCodec(json)),
                json, Clock.systemUTC());
        this.dynamo = dynamo;
        this.table = settings.tableName();
    }

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
        return PowertoolsLogging.withLogging(context, () -> handle(event));
    }

    APIGatewayV2HTTPResponse handle(APIGatewayV2HTTPEvent event) {
        WebhookResponse response = service.rejectUnauthenticated(new WebhookRequest(event.getHeaders(), "", 0))
                .orElseGet(() -> decode(event).map(service::handle).orElseGet(() -> new WebhookResponse(400,
                        "{\"error\":\"the body is marked base64-encoded but is not valid base64\"}")));
        metrics.count(MetricName.WEBHOOK_DELIVERIES, Integer.toString(response.status()));
        return APIGatewayV2HTTPResponse.builder().withStatusCode(response.status()).withHeaders(JSON_HEADERS)
                .withBody(response.body()).build();
    }

    /** The delivery with its body decoded; empty when API Gateway marked it base64 and it is not. */
    private static java.util.Optional<WebhookRequest> decode(APIGatewayV2HTTPEvent event) {
        String body = event.getBody() == null ? "" : event.getBody();
        if (event.getIsBase64Encoded()) {
            try {
                body = new String(Base64.getMimeDecoder().decode(body), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException notBase64) {
                return java.util.Optional.empty();
            }
        }
        return java.util.Optional.of(new WebhookRequest(event.getHeaders(), body,
                body.getBytes(StandardCharsets.UTF_8).length));
    }

    /** SnapStart: load the JSON, hook and pools parsing and the SDK's request path into the snapshot; no secret is read. */
    @Override
    public void beforeCheckpoint(org.crac.Context<? extends Resource> context) {
        new GitLabHookParser(new ObjectMapper()).parse(GitLabHookParser.JOB_HOOK,
                "{\"object_kind\":\"build\",\"project_id\":1,\"build_id\":1,\"build_status\":\"pending\","
                        + "\"build_created_at\":\"2021-01-13 17:57:05 UTC\",\"runner\":null}");
        SnapStartPriming.poolsParser();
        SnapStartPriming.dynamo(dynamo, table);
    }

    @Override
    public void afterRestore(org.crac.Context<? extends Resource> context) {
        // nothing captured at init depends on time, randomness or secrets
    }
}
