package io.runnerscale.it;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs {@code fargate/entrypoint.sh} (the runner container's entrypoint of a Fargate pool task) with
 * a stub {@code gitlab-runner} first on PATH and a real task metadata endpoint: an HTTP server on a
 * random loopback port that answers {@code GET /task} as ECS's v4 endpoint does, queried with the
 * real curl. The stub records the arguments it was exec'd with and the environment it got.
 *
 * <p>What is checked: the system id file next to config.toml is {@code s_} + the task id's first 12
 * characters (GitLab's {@code ^[sr]_[0-9a-zA-Z]{12}$}); config.toml is mode 0600 in a 0700
 * directory and holds the one runner run-single is told to use; gitlab-runner is exec'd with
 * exactly the contract's arguments and without RUNNER_TOKEN in its environment; every missing or
 * malformed input stops the script before anything is written, with a message naming it; and the
 * token is never on stdout or stderr.
 */
class FargateEntrypointTest {
    private static final String TOKEN = "glrt-t0pSecret_FargateToken.01.x9";
    private static final String TASK_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    private static final String TASK_ARN = "arn:aws:ecs:eu-west-1:123456789012:task/ci/" + TASK_ID;
    private static final String URL = "https://gitlab.example.com";

    @TempDir
    Path temp;

    private Path home;
    private Path runnerLog;
    private HttpServer metadata;
    private volatile String metadataBody;
    private volatile int metadataStatus = 200;
    private final List<String> metadataRequests = new CopyOnWriteArrayList<>();
    private final Map<String, String> env = new HashMap<>();

    @BeforeEach
    void startMetadataEndpointAndWriteStub() throws IOException {
        // The shape of ECS's task metadata v4 response (fields runnerscale does not read trimmed).
        metadataBody = """
                {"Cluster":"arn:aws:ecs:eu-west-1:123456789012:cluster/ci",
                 "TaskARN": "%s",
                 "Family":"gitlab-runner-fargate","Revision":"3","DesiredStatus":"RUNNING",
                 "Containers":[{"Name":"runner","DockerId":"%s-1234567890"}],
                 "LaunchType":"FARGATE"}
                """.formatted(TASK_ARN, TASK_ID);
        metadata = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        metadata.createContext("/", exchange -> {
            metadataRequests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath());
            boolean task = exchange.getRequestURI().getPath().equals("/v4/abc-123/task");
            byte[] body = (task ? metadataBody : "not found").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(task ? metadataStatus : 404, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        metadata.start();

        home = Files.createDirectories(temp.resolve("home"));
        Path bin = Files.createDirectories(temp.resolve("bin"));
        runnerLog = temp.resolve("gitlab-runner.log");
        Path stub = bin.resolve("gitlab-runner");
        // One argument per line, then whether the token variable reached it.
        Files.writeString(stub, """
                #!/usr/bin/env bash
                { printf 'arg %s\\n' "$@"; printf 'RUNNER_TOKEN set: %s\\n' "${RUNNER_TOKEN+yes}"; } >"$STUB_LOG"
                echo "Runtime platform   arch=amd64 os=linux"
                """);
        Files.setPosixFilePermissions(stub, PosixFilePermissions.fromString("rwxr-xr-x"));

        env.put("PATH", bin + ":" + System.getenv("PATH"));
        env.put("HOME", home.toString());
        env.put("TMPDIR", Files.createDirectories(temp.resolve("tmp")).toString());
        env.put("STUB_LOG", runnerLog.toString());
        env.put("CI_SERVER_URL", URL);
        env.put("RUNNER_TOKEN", TOKEN);
        env.put("ECS_CONTAINER_METADATA_URI_V4", "http://127.0.0.1:" + metadata.getAddress().getPort() + "/v4/abc-123");
        env.put("RUNNERSCALE_WAIT_TIMEOUT", "90");
        env.put("RUNNERSCALE_JOB", "42/1977");
        env.put("RUNNERSCALE_METADATA_RETRIES", "1");
    }

    @AfterEach
    void stopMetadataEndpoint() {
        metadata.stop(0);
    }

    @Test
    void writesTheSystemIdAndAPrivateConfigThenExecsRunSingleWithTheContractsArguments() throws Exception {
        Run run = run();

        assertEquals(0, run.exitCode(), run::describe);
        Path configDir = home.resolve(".runnerscale");
        Path config = configDir.resolve("config.toml");
        assertEquals(List.of(
                "arg run-single",
                "arg --config", "arg " + config,
                "arg --runner", "arg runnerscale",
                "arg --max-builds", "arg 1",
                "arg --wait-timeout", "arg 90",
                "RUNNER_TOKEN set: "), Files.readAllLines(runnerLog),
                "exec'd with the contract's arguments, without RUNNER_TOKEN in its environment");
        assertEquals(List.of("GET /v4/abc-123/task"), metadataRequests);

        String systemId = Files.readString(configDir.resolve(".runner_system_id")).strip();
        assertEquals("s_0a1b2c3d4e5f", systemId);
        assertTrue(Pattern.matches("^[sr]_[0-9a-zA-Z]{12}$", systemId), "GitLab's system id format: " + systemId);

        assertEquals("""
                concurrent = 1

                [[runners]]
                  name = "runnerscale"
                  url = "https://gitlab.example.com"
                  token = "%s"
                  executor = "shell"
                  shell = "bash"
                  builds_dir = "%s"
                """.formatted(TOKEN, home.resolve("builds")), Files.readString(config));
        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(config));
        assertEquals(PosixFilePermissions.fromString("rwx------"), Files.getPosixFilePermissions(configDir));
        assertTrue(Files.isDirectory(home.resolve("builds")), "the builds directory exists");

        assertTrue(run.stderr().contains("task " + TASK_ARN + ": system id s_0a1b2c3d4e5f")
                && run.stderr().contains("job 42/1977") && run.stderr().contains("up to 90s"), run::describe);
        assertTrue(run.stdout().contains("Runtime platform"), "the runner's own output passes through: " + run.describe());
        assertTokenNotPrinted(run);
    }

    @Test
    void theWaitTimeoutDefaultsTo120SecondsAndTheDirectoriesCanBeMoved() throws Exception {
        env.remove("RUNNERSCALE_WAIT_TIMEOUT");
        Path configDir = temp.resolve("etc/runner");
        env.put("RUNNERSCALE_CONFIG_DIR", configDir.toString());
        env.put("RUNNERSCALE_BUILDS_DIR", temp.resolve("b").toString());

        Run run = run();

        assertEquals(0, run.exitCode(), run::describe);
        List<String> args = Files.readAllLines(runnerLog);
        assertEquals("arg " + configDir.resolve("config.toml"), args.get(2), args.toString());
        assertEquals(List.of("arg --wait-timeout", "arg 120"), args.subList(7, 9), args.toString());
        assertEquals("s_0a1b2c3d4e5f", Files.readString(configDir.resolve(".runner_system_id")).strip());
        assertTrue(Files.readString(configDir.resolve("config.toml")).contains("builds_dir = \"" + temp.resolve("b") + "\""));
        assertFalse(Files.exists(home.resolve(".runnerscale")), "nothing under HOME when moved");
    }

    @Test
    void withoutCiServerUrlItStopsBeforeWritingAnything() throws Exception {
        env.remove("CI_SERVER_URL");

        Run run = run();

        assertEquals(2, run.exitCode(), run::describe);
        assertTrue(run.stderr().contains("error: CI_SERVER_URL is not set"), run::describe);
        assertNothingStarted(run);
    }

    @Test
    void aUrlThatWouldBreakTheTomlStringIsRejected() throws Exception {
        env.put("CI_SERVER_URL", "https://gitlab.example.com\"\n  executor = \"docker");

        Run run = run();

        assertEquals(2, run.exitCode(), run::describe);
        assertTrue(run.stderr().contains("CI_SERVER_URL must be an http(s) URL"), run::describe);
        assertNothingStarted(run);
    }

    @Test
    void withoutRunnerTokenItNamesTheSecretToSet() throws Exception {
        env.remove("RUNNER_TOKEN");

        Run run = run();

        assertEquals(2, run.exitCode(), run::describe);
        assertTrue(run.stderr().contains("error: RUNNER_TOKEN is not set")
                && run.stderr().contains("secrets"), run::describe);
        assertNothingStarted(run);
    }

    @Test
    void thePlaceholderOfTheTemplatesSecretIsNotATokenYet() throws Exception {
        env.put("RUNNER_TOKEN", "REPLACE_ME");

        Run run = run();

        assertEquals(2, run.exitCode(), run::describe);
        assertTrue(run.stderr().contains("RUNNER_TOKEN is still the placeholder"), run::describe);
        assertNothingStarted(run);
    }

    @Test
    void aSecretHoldingJsonInsteadOfTheBareTokenIsRejectedWithoutEchoingIt() throws Exception {
        String json = "{\"token\":\"" + TOKEN + "\"}";
        env.put("RUNNER_TOKEN", json);

        Run run = run();

        assertEquals(2, run.exitCode(), run::describe);
        assertTrue(run.stderr().contains("the secret must hold the bare token"), run::describe);
        assertFalse(run.stdout().contains(json) || run.stderr().contains(json), run::describe);
        assertNothingStarted(run);
    }

    @Test
    void aWaitTimeoutThatIsNotANumberIsRejected() throws Exception {
        env.put("RUNNERSCALE_WAIT_TIMEOUT", "2m");

        Run run = run();

        assertEquals(2, run.exitCode(), run::describe);
        assertTrue(run.stderr().contains("RUNNERSCALE_WAIT_TIMEOUT must be a positive whole number of seconds"), run::describe);
        assertNothingStarted(run);
    }

    @Test
    void outsideAnEcsTaskItSaysSo() throws Exception {
        env.remove("ECS_CONTAINER_METADATA_URI_V4");

        Run run = run();

        assertEquals(3, run.exitCode(), run::describe);
        assertTrue(run.stderr().contains("ECS_CONTAINER_METADATA_URI_V4 is not set"), run::describe);
        assertNothingStarted(run);
    }

    @Test
    void anUnreachableMetadataEndpointIsNamedAfterItsRetries() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        env.put("ECS_CONTAINER_METADATA_URI_V4", "http://127.0.0.1:" + closedPort + "/v4/abc-123");

        Run run = run();

        assertEquals(3, run.exitCode(), run::describe);
        assertTrue(run.stderr().contains("the task metadata endpoint http://127.0.0.1:" + closedPort
                + "/v4/abc-123/task is unreachable: curl: (7)"), run::describe);
        assertNothingStarted(run);
    }

    @Test
    void aMetadataErrorStatusIsRetriedThenReported() throws Exception {
        metadataStatus = 500;

        Run run = run();

        assertEquals(3, run.exitCode(), run::describe);
        assertTrue(run.stderr().contains("is unreachable: curl: (22)"), run::describe);
        assertEquals(2, metadataRequests.size(), "one retry (RUNNERSCALE_METADATA_RETRIES=1): " + metadataRequests);
        assertNothingStarted(run);
    }

    @Test
    void metadataWithoutATaskArnIsReported() throws Exception {
        metadataBody = "{\"Cluster\":\"ci\",\"Family\":\"x\"}";

        Run run = run();

        assertEquals(3, run.exitCode(), run::describe);
        assertTrue(run.stderr().contains("has no TaskARN"), run::describe);
        assertNothingStarted(run);
    }

    @Test
    void aTaskIdTooShortForASystemIdIsReported() throws Exception {
        metadataBody = "{\"TaskARN\":\"arn:aws:ecs:eu-west-1:123456789012:task/ci/0a1b2c\"}";

        Run run = run();

        assertEquals(3, run.exitCode(), run::describe);
        assertTrue(run.stderr().contains("unexpected task ARN 'arn:aws:ecs:eu-west-1:123456789012:task/ci/0a1b2c'"), run::describe);
        assertNothingStarted(run);
    }

    @Test
    void theScriptIsShellcheckClean() throws Exception {
        assumeTrue(onPath("shellcheck"), "shellcheck is not installed (.ci/run installs it)");
        Process process = new ProcessBuilder("shellcheck", script().toString()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "shellcheck finished");
        assertEquals(0, process.exitValue(), output);
    }

    @Test
    void theImageRunsThisScriptAsItsEntrypoint() throws IOException {
        String dockerfile = Files.readString(script().resolveSibling("Dockerfile"));
        assertTrue(dockerfile.contains("COPY --chmod=755 entrypoint.sh /usr/local/bin/runnerscale-entrypoint"), dockerfile);
        assertTrue(dockerfile.contains("ENTRYPOINT [\"/usr/bin/dumb-init\", \"--rewrite\", \"15:3\", \"/usr/local/bin/runnerscale-entrypoint\"]"),
                dockerfile);
        assertTrue(Pattern.compile("(?m)^USER gitlab-runner$").matcher(dockerfile).find(), "not root: " + dockerfile);
    }

    private void assertNothingStarted(Run run) throws IOException {
        assertFalse(Files.exists(runnerLog), "gitlab-runner was not started: " + run.describe());
        assertFalse(Files.exists(home.resolve(".runnerscale/config.toml")), "no config.toml written");
        assertTokenNotPrinted(run);
    }

    private static void assertTokenNotPrinted(Run run) {
        assertFalse(run.stdout().contains(TOKEN) || run.stderr().contains(TOKEN), "token printed: " + run.describe());
        assertFalse(run.stdout().contains("t0pSecret") || run.stderr().contains("t0pSecret"), "part of the token printed: " + run.describe());
    }

    private record Run(int exitCode, String stdout, String stderr) {
        String describe() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    private Run run() throws IOException, InterruptedException {
        assertTrue(onPath("curl"), "curl is needed (the entrypoint queries the metadata endpoint with it)");
        ProcessBuilder builder = new ProcessBuilder("bash", script().toString()).directory(temp.toFile());
        builder.environment().clear();
        builder.environment().putAll(env);
        builder.redirectOutput(temp.resolve("stdout").toFile()).redirectError(temp.resolve("stderr").toFile());
        Process process = builder.start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("entrypoint.sh did not finish within 60 s");
        }
        return new Run(process.exitValue(), Files.readString(temp.resolve("stdout")), Files.readString(temp.resolve("stderr")));
    }

    /** The repository root: the nearest folder up from the working directory holding the script. */
    private static Path script() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("fargate/entrypoint.sh");
            if (Files.isRegularFile(candidate)) return candidate;
        }
        throw new IllegalStateException("fargate/entrypoint.sh not found above " + Path.of("").toAbsolutePath());
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }
}
