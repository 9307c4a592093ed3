package io.runnerscale.it;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.client.builder.AwsSyncClientBuilder;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.ssm.SsmClient;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * One {@code moto_server} per test JVM, started on first use as a child process on a free loopback
 * port and stopped by a shutdown hook.
 *
 * <pre>{@code
 * @ExtendWith(MotoServer.ResetBetweenTests.class)   // optional: a clean moto before each test
 * class MyTest {
 *     MotoServer moto = MotoServer.shared();
 *     AutoScalingClient asg = moto.autoScaling();     // region us-east-1, dummy keys, URLConnection client
 *     SsmClient ssm = moto.client(SsmClient.builder());
 * }
 * }</pre>
 *
 * Tests share the one instance, so they must use unique resource names (queues, groups, parameters):
 * then they can run in parallel. {@link ResetBetweenTests} resets moto only when no other test using it
 * is running, so it never wipes a neighbour's resources.
 *
 * <p>The command is {@code moto_server} from PATH, or {@code $MOTO_SERVER}. Its output goes to
 * {@code target/moto-server.log}. Known moto 5.2.1 gaps: CompleteLifecycleAction and
 * RecordLifecycleActionHeartbeat answer 500; every second Step Functions StartExecution fails unless a
 * reset comes between; Auto Scaling instances are InService the moment they are launched.
 */
public final class MotoServer {
    public static final Region REGION = Region.US_EAST_1;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static volatile MotoServer shared;

    private final Process process;
    private final URI endpoint;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final SdkHttpClient sdkHttp = UrlConnectionHttpClient.builder()
            .connectionTimeout(Duration.ofSeconds(5)).socketTimeout(Duration.ofSeconds(60)).build();
    private final Object usersLock = new Object();
    private int users;

    private MotoServer(Process process, URI endpoint) {
        this.process = process;
        this.endpoint = endpoint;
    }

    /** The JVM's instance, started on first call. */
    public static MotoServer shared() {
        MotoServer server = shared;
        if (server == null) {
            synchronized (MotoServer.class) {
                server = shared;
                if (server == null) {
                    server = start();
                    MotoServer started = server;
                    Runtime.getRuntime().addShutdownHook(new Thread(started::stop, "moto-server-stop"));
                    shared = server;
                }
            }
        }
        return server;
    }

    /** Starts a new moto_server and waits until it answers (the caller stops it). */
    public static MotoServer start() {
        String command = System.getenv().getOrDefault("MOTO_SERVER", "moto_server");
        int port = freePort();
        Path log = Path.of("target", "moto-server.log");
        Process process;
        try {
            Files.createDirectories(log.getParent());
            process = new ProcessBuilder(command, "-H", "127.0.0.1", "-p", Integer.toString(port))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run '" + command + "' (moto 5.x on PATH, or set MOTO_SERVER): "
                    + e.getMessage(), e);
        }
        MotoServer server = new MotoServer(process, URI.create("http://127.0.0.1:" + port));
        try {
            server.awaitReady();
        } catch (RuntimeException e) {
            server.stop();
            throw e;
        }
        return server;
    }

    private void awaitReady() {
        Instant deadline = Instant.now().plus(START_TIMEOUT);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("moto_server exited with " + process.exitValue()
                        + " before answering; see target/moto-server.log");
            }
            try {
                HttpResponse<Void> response = http.send(HttpRequest.newBuilder(endpoint.resolve("/moto-api/"))
                        .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.discarding());
                if (response.statusCode() < 500) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for moto_server", e);
            }
            sleep(100);
        }
        throw new IllegalStateException("moto_server did not answer at " + endpoint + " within " + START_TIMEOUT);
    }

    public URI endpoint() {
        return endpoint;
    }

    public int port() {
        return endpoint.getPort();
    }

    /** Forgets every resource in every service ({@code POST /moto-api/reset}). */
    public void reset() {
        post("/moto-api/reset", "");
    }

    /** {@code POST /moto-api/config}, e.g. {@code {"stepfunctions":{"execute_state_machine":true}}}. */
    public void configure(String json) {
        post("/moto-api/config", json);
    }

    /**
     * {@code POST /moto-api/state-manager/set-transition}: how a model's status advances, e.g.
     * {@code ("ecs::task", "{\"progression\": \"manual\", \"times\": 1000000}")}. Global to the server.
     */
    public void setTransition(String modelName, String transitionJson) {
        post("/moto-api/state-manager/set-transition",
                "{\"model_name\": \"" + modelName + "\", \"transition\": " + transitionJson + "}");
    }

    private void post(String path, String body) {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(endpoint.resolve(path))
                    .timeout(Duration.ofSeconds(30)).header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() >= 300) {
                throw new IllegalStateException("moto " + path + " answered " + response.statusCode() + ": "
                        + response.body());
            }
        } catch (IOException e) {
            throw new IllegalStateException("moto " + path + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Any SDK v2 sync client pointed at this moto: us-east-1, static dummy credentials, URLConnection HTTP. */
    public <B extends AwsClientBuilder<B, C> & AwsSyncClientBuilder<B, C>, C> C client(B builder) {
        return configure(builder, endpoint).httpClient(sdkHttp).build();
    }

    /** The same settings for any endpoint (DynamoDB Local, a second moto). */
    public static <B extends AwsClientBuilder<B, C> & AwsSyncClientBuilder<B, C>, C> B configure(B builder,
                                                                                                  URI endpoint) {
        return builder.endpointOverride(endpoint).region(REGION)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("testing", "testing")));
    }

    public AutoScalingClient autoScaling() {
        return client(AutoScalingClient.builder());
    }

    public SqsClient sqs() {
        return client(SqsClient.builder());
    }

    public SsmClient ssm() {
        return client(SsmClient.builder());
    }

    public SecretsManagerClient secretsManager() {
        return client(SecretsManagerClient.builder());
    }

    /** Stops the process (and any children it started). */
    public void stop() {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        children.forEach(ProcessHandle::destroy);
        try {
            if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
                children.forEach(ProcessHandle::destroyForcibly);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        sdkHttp.close();
    }

    /**
     * Resets the shared moto before a test when no other test is using it; with tests in parallel the
     * reset waits for a quiet moment instead of pulling resources from under a running test.
     */
    public static final class ResetBetweenTests implements BeforeEachCallback, AfterEachCallback {
        @Override
        public void beforeEach(ExtensionContext context) {
            MotoServer moto = shared();
            synchronized (moto.usersLock) {
                if (moto.users == 0) {
                    moto.reset();
                }
                moto.users++;
            }
        }

        @Override
        public void afterEach(ExtensionContext context) {
            MotoServer moto = shared();
            synchronized (moto.usersLock) {
                moto.users--;
            }
        }
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
