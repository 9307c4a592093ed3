package io.runnerscale.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.compute.AsgCompute;
import io.runnerscale.compute.Compute;
import io.runnerscale.config.AwsClients;
import io.runnerscale.gitlab.GitLab;
import io.runnerscale.gitlab.GitLabApiClient;
import io.runnerscale.gitlab.GitLabCredentials;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.local.EmbeddedDynamo;
import io.runnerscale.local.LocalScaleRequests;
import io.runnerscale.local.LocalServer;
import io.runnerscale.pool.PoolsConfigParser;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.scaling.DemandForecast;
import io.runnerscale.scaling.InMemoryDemandHistory;
import io.runnerscale.scaling.ScalerService;
import io.runnerscale.scaling.DemandHistoryForecast;
import io.runnerscale.simulate.SimulatedFleet;
import io.runnerscale.store.DynamoJobStore;
import io.runnerscale.webhook.PoolResolver;
import io.runnerscale.webhook.WebhookAuthenticator;
import io.runnerscale.webhook.WebhookService;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * {@code runnerscale serve}: the webhook and the scaler on this machine, with an embedded DynamoDB
 * Local and a simulated fleet (or real Auto Scaling groups with {@code --compute aws}).
 */
final class ServeCommand {
    static final String USAGE = """
            usage: runnerscale serve [--port 8080] [--bind 127.0.0.1] [--config pools.yaml] [--webhook-token T]
                                     [--compute sim|aws] [--aws-endpoint URL] [--boot 30s] [--tick 60s]
                                     [--gitlab-url URL]
              --webhook-token  the X-Gitlab-Token to accept (or env RUNNERSCALE_WEBHOOK_TOKEN; default: a random one, printed)
              --compute        sim: a simulated fleet whose instances are ready after --boot (default);
                               aws: real Auto Scaling groups through the default AWS credential chain
              --aws-endpoint   send AWS calls to this endpoint instead (e.g. a moto_server)
              --gitlab-url     GitLab to read job tags from (API token from env GITLAB_TOKEN); without it
                               every job goes to the pool for untagged jobs
              --tick           how often every pool is re-decided (the EventBridge schedule in AWS)
            """;

    private ServeCommand() {
    }

    static int run(List<String> raw, PrintStream out, PrintStream err) throws Exception {
        Args args = Args.parse(raw, Set.of("port", "bind", "config", "webhook-token", "compute", "aws-endpoint", "boot",
                "tick", "gitlab-url"), Set.of());
        int port = args.integer("port", 8080);
        String configPath = args.get("config", null);
        String configText = PoolsFiles.text(configPath);
        String configName = configPath == null ? PoolsFiles.DEFAULT_NAME : configPath;
        PoolsConfigParser.parse(configText, configName); // fail fast, naming pool and field
        String token = args.get("webhook-token", System.getenv("RUNNERSCALE_WEBHOOK_TOKEN"));
        boolean generated = token == null || token.isBlank();
        if (generated) {
            byte[] random = new byte[16];
            new SecureRandom().nextBytes(random);
            token = HexFormat.of().formatHex(random);
        }
        String mode = args.get("compute", "sim");
        Duration boot = args.duration("boot", Duration.ofSeconds(30));
        Duration tick = args.duration("tick", Duration.ofMinutes(1));
        ObjectMapper json = new ObjectMapper();
        Clock clock = Clock.systemUTC();

        EmbeddedDynamo dynamo = EmbeddedDynamo.start();
        dynamo.createTable("runnerscale-local");
        DynamoJobStore store = new DynamoJobStore(dynamo.client(), "runnerscale-local", Duration.ofDays(7));
        Compute compute = switch (mode) {
            case "sim" -> new SimulatedFleet(clock, () -> boot, null);
            case "aws" -> {
                String endpoint = args.get("aws-endpoint", null);
                yield new AsgCompute(AwsClients.create(endpoint == null ? null : URI.create(endpoint))
                        .build(AutoScalingClient.builder()));
            }
            default -> throw new Args.UsageException("--compute must be sim or aws, not '" + mode + "'");
        };
        // Re-read the file every few seconds: edits apply without a restart; a bad edit keeps the last good config.
        PoolsConfigSource pools = new PoolsConfigSource(() -> PoolsFiles.text(configPath), configName,
                Duration.ofSeconds(5), clock);
        InMemoryDemandHistory history = new InMemoryDemandHistory();
        DemandForecast forecast = new DemandHistoryForecast(history);
        ScalerService scaler = new ScalerService(pools, store, compute, forecast, clock);
        LocalScaleRequests scaleRequests = new LocalScaleRequests(scaler);
        GitLab gitlab = gitlab(args.get("gitlab-url", null), json);
        String webhookToken = token;
        WebhookService webhook = new WebhookService(new WebhookAuthenticator(() -> webhookToken), pools, store,
                new PoolResolver(gitlab, store, 10_000), scaleRequests, json, clock, history);
        LocalServer server = new LocalServer(new InetSocketAddress(args.get("bind", "127.0.0.1"), port), webhook,
                store, compute, pools, json);
        server.start();
        scaleRequests.startTicking(tick);

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            out.println("runnerscale: stopping");
            server.close();
            scaleRequests.close();
            dynamo.close();
            stopped.countDown();
        }, "shutdown"));
        out.println("runnerscale serving on http://" + args.get("bind", "127.0.0.1") + ":" + server.port()
                + "  (POST /webhook, GET /status, GET /jobs/{projectId}/{jobId})");
        out.println("  pools: " + configName + ", compute: " + mode + (mode.equals("sim") ? " (boot " + boot.toSeconds() + "s)" : "")
                + ", DynamoDB Local at " + dynamo.endpoint());
        out.println(generated ? "  webhook token (generated for this run; set --webhook-token to choose one): " + token
                : "  webhook token: as given");
        out.println("  Ctrl-C stops it.");
        out.flush();
        stopped.await();
        return 0;
    }

    private static GitLab gitlab(String url, ObjectMapper json) {
        if (url == null) {
            return job -> {
                throw new GitLabUnavailableException("no GitLab API configured (serve --gitlab-url)", null);
            };
        }
        String token = System.getenv("GITLAB_TOKEN");
        if (token == null || token.isBlank()) {
            throw new Args.UsageException("--gitlab-url needs the API token in env GITLAB_TOKEN");
        }
        GitLabCredentials credentials = new GitLabCredentials(url, token);
        return new GitLabApiClient(GitLabApiClient.defaultHttpClient(), () -> credentials, json);
    }
}
