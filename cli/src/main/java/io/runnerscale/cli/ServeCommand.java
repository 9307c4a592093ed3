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
              --port           port to listen on (0: any free port, printed)
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
     */
    static Running start(List<String> raw, PrintStream out) throws Exception {
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
        if (!mode.equals("sim") && !mode.equals("aws")) {
            throw new Args.UsageException("--compute must be sim or aws, not '" + mode + "'");
        }
        Duration boot = args.duration("boot", Duration.ofSeconds(30));
        Duration tick = args.duration("tick", Duration.ofMinutes(1));
        if (tick.isZero() || tick.isNegative()) {
            throw new Args.UsageException("--tick must be longer than 0s");
        }
        ObjectMapper json = new ObjectMapper();
        Clock clock = Clock.systemUTC();
        GitLab gitlab = gitlab(args.get("gitlab-url", null), json);
        String bind = args.get("bind", "127.0.0.1");

        EmbeddedDynamo dynamo = EmbeddedDynamo.start();
        LocalScaleRequests scaleRequests = null;
        LocalServer server = null;
        try {
            dynamo.createTable("runnerscale-local");
            DynamoJobStore store = new DynamoJobStore(dynamo.client(), "runnerscale-local", Duration.ofDays(7));
            SimulatedFleet fleet = null;
            Compute compute;
            if (mode.equals("sim")) {
                fleet = new SimulatedFleet(clock, () -> boot, null);
                compute = fleet;
            } else {
                String endpoint = args.get("aws-endpoint", null);
                compute = new AsgCompute(AwsClients.create(endpoint == null ? null : URI.create(endpoint))
                        .build(AutoScalingClient.builder()));
            }
            // Re-read the file every few seconds: edits apply without a restart; a bad edit keeps the last good config.
            PoolsConfigSource pools = new PoolsConfigSource(() -> PoolsFiles.text(configPath), configName,
                    Duration.ofSeconds(5), clock);
            InMemoryDemandHistory history = new InMemoryDemandHistory();
            DemandForecast forecast = new DemandHistoryForecast(history);
            ScalerService scaler = new ScalerService(pools, store, compute, forecast, clock);
            scaleRequests = new LocalScaleRequests(scaler);
            String webhookToken = token;
            WebhookService webhook = new WebhookService(new WebhookAuthenticator(() -> webhookToken), pools, store,
                    new PoolResolver(gitlab, store, 10_000), scaleRequests, json, clock, history);
            server = new LocalServer(new InetSocketAddress(bind, port), webhook, store, compute, pools, json);
            server.start();
            scaleRequests.startTicking(tick);

            out.println("runnerscale serving on http://" + bind + ":" + server.port()
                    + "  (POST /webhook, GET /status, GET /jobs/{projectId}/{jobId})");
            out.println("  pools: " + configName + ", compute: " + mode + (mode.equals("sim") ? " (boot " + boot.toSeconds() + "s)" : "")
                    + ", DynamoDB Local at " + dynamo.endpoint());
            out.println(generated ? "  webhook token (generated for this run; set --webhook-token to choose one): " + token
                    : "  webhook token: as given");
            out.flush();
            return new Running(server, scaleRequests, dynamo, fleet);
        } catch (Exception | Error e) {
            if (server != null) {
                server.close();
            }
            if (scaleRequests != null) {
                scaleRequests.close();
            }
            dynamo.close();
            throw e;
        }
    }

    /** A started {@code serve}: its port, its simulated fleet (null with {@code --compute aws}); close stops it all. */
    static final class Running implements AutoCloseable {
        private final LocalServer server;
        private final LocalScaleRequests scaleRequests;
        private final EmbeddedDynamo dynamo;
        private final SimulatedFleet fleet;
        private final int port;
        private boolean closed;

        private Running(LocalServer server, LocalScaleRequests scaleRequests, EmbeddedDynamo dynamo, SimulatedFleet fleet) {
            this.server = server;
            this.scaleRequests = scaleRequests;
            this.dynamo = dynamo;
            this.fleet = fleet;
            this.port = server.port();
        }

        int port() {
            return port;
        }

        SimulatedFleet fleet() {
            return fleet;
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            server.close();
            scaleRequests.close();
            dynamo.close();
        }
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
