package io.runnerscale.it;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs {@code instance/user-data.sh} (the boot script of a pool instance) with stub {@code aws},
 * {@code gitlab-runner}, {@code systemctl}, {@code curl} (IMDS) and {@code logger} first on PATH.
 * The stubs append each call to a log and answer like the real tools; every path the script
 * writes is under {@code RUNNERSCALE_ROOT} and {@code TMPDIR}, both in the test's temp dir.
 *
 * <p>The rule checked throughout: the runner token reaches gitlab-runner only through the
 * environment ({@code CI_SERVER_TOKEN}) and ends up in config.toml, never in an argument, a log
 * line or the script's output; and the launch lifecycle action is completed exactly once,
 * CONTINUE after a verified runner, ABANDON on any failure.
 */
class InstanceUserDataTest {
    private static final String TOKEN = "glrt-t0pSecretRunnerToken_42";
    private static final String INSTANCE_ID = "i-0123456789abcdef0";
    private static final String ASG = "rs-stk-linux-asg";
    private static final String REGION = "eu-west-1";

    @TempDir
    Path temp;

    private Path root;
    private Path stubLog;
    private final Map<String, String> env = new HashMap<>();

    @BeforeEach
    void writeStubs() throws IOException {
        root = temp.resolve("root");
        Files.createDirectories(root);
        Path bin = Files.createDirectories(temp.resolve("bin"));
        Path tmp = Files.createDirectories(temp.resolve("tmp"));
        stubLog = temp.resolve("calls.log");
        stub(bin, "aws", AWS_STUB);
        stub(bin, "curl", CURL_STUB);
        stub(bin, "gitlab-runner", GITLAB_RUNNER_STUB);
        stub(bin, "systemctl", "#!/usr/bin/env bash\nprintf 'systemctl %s\\n' \"$*\" >>\"$STUB_LOG\"\n");
        stub(bin, "docker", "#!/usr/bin/env bash\nprintf 'docker %s\\n' \"$*\" >>\"$STUB_LOG\"\n"
                + "[[ ${STUB_DOCKER:-ok} != slow ]] || exec sleep 40\n");
        stub(bin, "logger", "#!/usr/bin/env bash\nprintf 'logger %s\\n' \"$*\" >>\"$STUB_LOG\"\n");

        env.put("PATH", bin + ":" + System.getenv("PATH"));
        env.put("TMPDIR", tmp.toString());
        env.put("STUB_LOG", stubLog.toString());
        env.put("STUB_TOKEN", TOKEN);
        env.put("STUB_INSTANCE_ID", INSTANCE_ID);
        env.put("STUB_ASG", ASG);
        env.put("STUB_REGION", REGION);
        env.put("RUNNERSCALE_ROOT", root.toString());
        env.put("RUNNERSCALE_STACK", "stk");
        env.put("RUNNERSCALE_POOL", "linux");
        env.put("GITLAB_URL", "https://gitlab.example.com");
        env.put("CACHE_BUCKET", "rs-cache-bucket");
        env.put("CAPACITY_PER_INSTANCE", "3");
        env.put("JOB_TIMEOUT_SECONDS", "5400");
        env.put("TOKEN_WAIT_SECONDS", "10");
    }

    @Test
    void registersWithTheTokenFromItsParameterAndCompletesTheLaunchWithContinue() throws Exception {
        Run run = run();

        assertEquals(0, run.exitCode(), run::describe);
        List<String> calls = calls();
        assertTrue(calls.contains("aws ssm get-parameter --name /runnerscale/stk/runners/" + INSTANCE_ID
                + " --with-decryption --query Parameter.Value --output text"), run::describe);

        String register = only(calls, "gitlab-runner register ");
        assertTrue(register.contains(" --non-interactive "), register);
        assertTrue(register.contains(" --url https://gitlab.example.com "), register);
        assertTrue(register.contains(" --executor docker "), register);
        assertTrue(register.contains(" --docker-image alpine:3.20 "), register);
        assertTrue(register.endsWith(" --description " + INSTANCE_ID), register);
        assertTrue(calls.contains("gitlab-runner env CI_SERVER_TOKEN=" + TOKEN.length() + " chars"),
                "the token reaches register through CI_SERVER_TOKEN: " + run.describe());
        assertTokenNowhereVisible(run);

        String config = Files.readString(root.resolve("etc/gitlab-runner/config.toml"));
        assertTrue(config.contains("token = \"" + TOKEN + "\""), "register stored the token: " + config);
        assertTrue(config.lines().anyMatch("concurrent = 3"::equals), config);
        assertTrue(config.contains("\n  limit = 3\n"), config);
        assertTrue(config.contains("""
                  [runners.cache]
                    Type = "s3"
                    Path = "linux"
                    Shared = true
                    [runners.cache.s3]
                      ServerAddress = "s3.amazonaws.com"
                      BucketName = "rs-cache-bucket"
                      BucketLocation = "eu-west-1"
                      AuthenticationType = "iam"
                """), config);
        assertFalse(config.contains("AccessKey") || config.contains("SecretKey") || config.contains("SessionToken"),
                "no keys in the cache section: " + config);
        assertEquals(PosixFilePermissions.fromString("rw-------"),
                Files.getPosixFilePermissions(root.resolve("etc/gitlab-runner/config.toml")));

        String dropIn = Files.readString(root.resolve("etc/systemd/system/gitlab-runner.service.d/runnerscale.conf"));
        assertTrue(dropIn.lines().anyMatch("KillSignal=SIGQUIT"::equals), dropIn);
        assertTrue(dropIn.lines().anyMatch("TimeoutStopSec=5400"::equals), dropIn);

        int restart = calls.indexOf("systemctl restart gitlab-runner");
        int verify = indexOfPrefix(calls, "gitlab-runner verify");
        int complete = indexOfPrefix(calls, "aws autoscaling complete-lifecycle-action");
        assertTrue(calls.indexOf("systemctl daemon-reload") >= 0 && calls.indexOf("systemctl daemon-reload") < restart, run::describe);
        assertTrue(calls.contains("systemctl disable gitlab-runner"), "only runnerscale-boot starts it: " + calls);
        assertFalse(calls.contains("systemctl enable gitlab-runner"), run::describe);
        assertTrue(restart >= 0 && restart < verify && verify < complete, "restart, verify, then complete: " + calls);
        assertEquals("aws autoscaling complete-lifecycle-action --lifecycle-hook-name runnerscale-launch"
                        + " --auto-scaling-group-name " + ASG + " --instance-id " + INSTANCE_ID
                        + " --lifecycle-action-result CONTINUE",
                only(calls, "aws autoscaling complete-lifecycle-action"));
        assertFalse(calls.stream().anyMatch(c -> c.startsWith("aws ec2 describe-tags")),
                "the group name came from IMDS tags: " + calls);
    }

    // ------------------------------------------------------------------ warm pools

    @Test
    void boundForTheWarmPoolItPreparesWithoutARunnerAndCompletesWithContinue() throws Exception {
        env.put("STUB_TARGET_STATE", "Warmed:Stopped");

        Run run = run();

        assertEquals(0, run.exitCode(), run::describe);
        List<String> calls = calls();
        assertFalse(calls.stream().anyMatch(c -> c.startsWith("aws ssm ")), "no token is waited for: " + calls);
        assertFalse(calls.stream().anyMatch(c -> c.startsWith("gitlab-runner ")), "nothing registered: " + calls);
        assertFalse(calls.contains("systemctl restart gitlab-runner"), "gitlab-runner not started: " + calls);
        assertTrue(calls.contains("docker pull alpine:3.20"), "the job image is pulled while warming: " + calls);
        assertTrue(only(calls, "aws autoscaling complete-lifecycle-action").endsWith(" --lifecycle-action-result CONTINUE"));
        assertTrue(calls.indexOf("systemctl disable gitlab-runner") < indexOfPrefix(calls, "aws autoscaling complete"),
                "gitlab-runner cannot start on a resume before the new runner's config: " + calls);
        assertTrue(calls.contains("systemctl enable runnerscale-boot.service"), calls.toString());
        assertTrue(calls.contains("systemctl enable --now runnerscale-wipe.service"), calls.toString());
        assertFalse(calls.contains("systemctl start runnerscale-resume.service"), "a stopped one boots on resume: " + calls);
        assertFalse(Files.readString(root.resolve("etc/gitlab-runner/config.toml")).contains("[[runners]]"));

        String boot = Files.readString(root.resolve("etc/systemd/system/runnerscale-boot.service"));
        assertTrue(boot.lines().anyMatch(("ExecStart=" + root + "/usr/local/sbin/runnerscale-boot boot")::equals), boot);
        assertTrue(boot.lines().anyMatch("WantedBy=multi-user.target"::equals), boot);
        String wipe = Files.readString(root.resolve("etc/systemd/system/runnerscale-wipe.service"));
        assertTrue(wipe.lines().anyMatch("Before=gitlab-runner.service"::equals), "stops after gitlab-runner: " + wipe);
        assertTrue(wipe.lines().anyMatch(("ExecStop=" + root + "/usr/local/sbin/runnerscale-boot wipe")::equals), wipe);
        assertEquals(Files.readString(script()), Files.readString(bootScript()), "the boot script is this script");
        assertEquals(PosixFilePermissions.fromString("rw-------"),
                Files.getPosixFilePermissions(root.resolve("etc/runnerscale/boot.env")));
        assertTokenNowhereVisible(run);
    }

    /**
     * The launch hook's heartbeat timeout (600 s, DefaultResult ABANDON) runs while the image is pulled: a
     * pull that outlasts it would have every launch into the warm pool abandoned and replaced, forever.
     */
    @Test
    void aSlowImagePullIsCutAtTheTokenWaitAndTheWarmLaunchStillCompletes() throws Exception {
        env.put("STUB_TARGET_STATE", "Warmed:Stopped");
        env.put("STUB_DOCKER", "slow");
        env.put("TOKEN_WAIT_SECONDS", "2");

        long started = System.nanoTime();
        Run run = run();
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertEquals(0, run.exitCode(), run::describe);
        assertTrue(took.compareTo(Duration.ofSeconds(30)) < 0, "the pull is bounded: " + took);
        assertTrue(only(calls(), "aws autoscaling complete-lifecycle-action").endsWith(" CONTINUE"), run::describe);
        assertTrue(run.stdout().contains("could not pull alpine:3.20"), run::describe);
    }

    @Test
    void onResumeItRegistersTheNewRunnerStartsItAndCompletesWithContinue() throws Exception {
        env.put("STUB_TARGET_STATE", "Warmed:Stopped");
        assertEquals(0, run().exitCode());
        Files.delete(stubLog);

        bootEnvironment("InService");
        long started = System.nanoTime();
        Run run = run(bootScript(), "boot");
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        System.out.println("runnerscale-boot resume path with stub tools (no real EC2 start): " + took.toMillis() + " ms");

        assertEquals(0, run.exitCode(), run::describe);
        List<String> calls = calls();
        String register = only(calls, "gitlab-runner register ");
        assertTrue(register.contains(" --url https://gitlab.example.com ") && register.endsWith(" --description " + INSTANCE_ID),
                "inputs from boot.env: " + register);
        int restart = calls.indexOf("systemctl restart gitlab-runner");
        int verify = indexOfPrefix(calls, "gitlab-runner verify");
        int complete = indexOfPrefix(calls, "aws autoscaling complete-lifecycle-action");
        assertTrue(indexOfPrefix(calls, "gitlab-runner register") < restart && restart < verify && verify < complete,
                "register, start, verify, complete: " + calls);
        assertTrue(only(calls, "aws autoscaling complete-lifecycle-action").endsWith(" --lifecycle-action-result CONTINUE"));
        assertFalse(calls.stream().anyMatch(c -> c.startsWith("systemctl enable")), "units are installed once: " + calls);
        String config = Files.readString(root.resolve("etc/gitlab-runner/config.toml"));
        assertTrue(config.contains("token = \"" + TOKEN + "\"") && config.lines().anyMatch("concurrent = 3"::equals), config);
        assertTokenNowhereVisible(run);
        assertTrue(took.compareTo(Duration.ofSeconds(5)) < 0, "no waiting when the token is there: " + took);
    }

    @Test
    void returnedToTheWarmPoolTheTokenIsWipedAtStopAndTheResumeRegistersOnlyTheNewRunner() throws Exception {
        assertEquals(0, run().exitCode(), "a cold launch: registered, in service");
        assertTrue(Files.readString(root.resolve("etc/gitlab-runner/config.toml")).contains(TOKEN));

        // scaled in with reuse: drained (runner deleted), the group stops it; at shutdown, after gitlab-runner:
        bootEnvironment("InService");
        assertEquals(0, run(bootScript(), "wipe").exitCode());
        assertFalse(Files.exists(root.resolve("etc/gitlab-runner/config.toml")), "no token on the stopped disk");

        // resumed later: the lifecycle function made a new runner and token
        String newToken = "glrt-n3wRunnerAfterReuse_7";
        env.put("STUB_TOKEN", newToken);
        Files.delete(stubLog);
        Run run = run(bootScript(), "boot");
        assertEquals(0, run.exitCode(), run::describe);
        String config = Files.readString(root.resolve("etc/gitlab-runner/config.toml"));
        assertTrue(config.contains(newToken), config);
        assertFalse(config.contains(TOKEN), "the old runner is gone from the config: " + config);
        assertEquals(1, config.lines().filter("[[runners]]"::equals).count(), config);
    }

    /**
     * Leaving a Running or Hibernated warm pool is no boot (the instance runs on, or wakes with its RAM),
     * so runnerscale-boot.service never runs then: a watcher started while warming must register it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"Warmed:Running", "Warmed:Hibernated"})
    void warmedRunningOrHibernatedItStartsAWatcherThatRegistersOnceInService(String warmState) throws Exception {
        env.put("STUB_TARGET_STATE", warmState);
        Run warm = run();
        assertEquals(0, warm.exitCode(), warm::describe);
        List<String> calls = calls();
        int watcher = calls.indexOf("systemctl start runnerscale-resume.service");
        assertTrue(watcher >= 0 && watcher < indexOfPrefix(calls, "aws autoscaling complete-lifecycle-action"),
                "the watcher starts before CONTINUE lets the group hibernate the instance: " + calls);
        assertFalse(calls.stream().anyMatch(c -> c.startsWith("gitlab-runner ") || c.startsWith("aws ssm ")), calls.toString());
        String unit = Files.readString(root.resolve("etc/systemd/system/runnerscale-resume.service"));
        assertTrue(unit.lines().anyMatch(("ExecStart=" + root + "/usr/local/sbin/runnerscale-boot resume")::equals), unit);
        assertFalse(unit.contains("[Install]"), "started only by the warm path, never at boot: " + unit);
        Files.delete(stubLog);

        // the watcher: a failed read (no InService guessed: the instance is warm), warm, then drawn (no boot)
        bootEnvironment(warmState);
        env.remove("STUB_TARGET_STATE");
        env.put("STUB_TARGET_STATES", "fail," + warmState + ",InService");
        env.put("RESUME_POLL_SECONDS", "0");
        Run run = run(bootScript(), "resume");

        assertEquals(0, run.exitCode(), run::describe);
        calls = calls();
        assertEquals(3, calls.stream().filter(c -> c.endsWith("/latest/meta-data/autoscaling/target-lifecycle-state")).count(),
                "polled until InService: " + calls);
        assertTrue(calls.stream().filter(c -> c.contains(" -X PUT ")).count() >= 3,
                "a new IMDS session per poll (a hibernation outlasts the token's TTL): " + calls);
        int register = indexOfPrefix(calls, "gitlab-runner register");
        int restart = calls.indexOf("systemctl restart gitlab-runner");
        assertTrue(register >= 0 && register < restart && restart < indexOfPrefix(calls, "aws autoscaling complete"), calls.toString());
        assertTrue(only(calls, "aws autoscaling complete-lifecycle-action").endsWith(" --lifecycle-action-result CONTINUE"));
        assertTokenNowhereVisible(run);
    }

    @Test
    void restartedWhileWarmTheRunnerStaysStoppedAndAMissingActionIsNoFailure() throws Exception {
        assertEquals(0, run().exitCode());
        Files.delete(stubLog);
        bootEnvironment("Warmed:Stopped");
        env.put("STUB_COMPLETE", "fail");

        Run run = run(bootScript(), "boot");

        assertEquals(0, run.exitCode(), run::describe);
        List<String> calls = calls();
        assertTrue(calls.contains("systemctl stop gitlab-runner"), calls.toString());
        assertFalse(calls.contains("systemctl restart gitlab-runner"), calls.toString());
        assertFalse(calls.stream().anyMatch(c -> c.startsWith("gitlab-runner register") || c.startsWith("aws ssm")),
                calls.toString());
        assertTrue(run.stdout().contains("no launch lifecycle action to complete"), run::describe);
    }

    @Test
    void aRebootWhileInServiceRegistersAgainAndAMissingLaunchActionIsNoFailure() throws Exception {
        assertEquals(0, run().exitCode(), "a cold launch");
        bootEnvironment("InService");
        assertEquals(0, run(bootScript(), "wipe").exitCode(), "the reboot's shutdown");
        Files.delete(stubLog);
        env.put("STUB_COMPLETE", "fail");

        Run run = run(bootScript(), "boot");

        assertEquals(0, run.exitCode(), run::describe);
        List<String> calls = calls();
        assertTrue(calls.contains("systemctl restart gitlab-runner"), calls.toString());
        assertTrue(only(calls, "aws autoscaling complete-lifecycle-action").endsWith(" CONTINUE"),
                "no ABANDON for an instance in service: " + calls);
        assertTrue(Files.readString(root.resolve("etc/gitlab-runner/config.toml")).contains(TOKEN));
    }

    @Test
    void aResumeThatCannotRegisterAbandonsSoTheGroupReplacesTheInstance() throws Exception {
        env.put("STUB_TARGET_STATE", "Warmed:Stopped");
        assertEquals(0, run().exitCode());
        Files.delete(stubLog);
        bootEnvironment("InService");
        env.put("STUB_REGISTER", "fail");

        Run run = run(bootScript(), "boot");

        assertNotEquals(0, run.exitCode(), run::describe);
        List<String> calls = calls();
        assertTrue(only(calls, "aws autoscaling complete-lifecycle-action").endsWith(" --lifecycle-action-result ABANDON"),
                calls.toString());
        assertFalse(calls.contains("systemctl restart gitlab-runner"), calls.toString());
        assertTokenNowhereVisible(run);
    }

    /** What runnerscale-boot.service gives the script: no inputs in the environment (boot.env has them). */
    private void bootEnvironment(String targetState) {
        for (String input : List.of("RUNNERSCALE_STACK", "RUNNERSCALE_POOL", "GITLAB_URL", "CACHE_BUCKET",
                "CAPACITY_PER_INSTANCE", "JOB_TIMEOUT_SECONDS", "TOKEN_WAIT_SECONDS")) {
            env.remove(input);
        }
        env.put("STUB_TARGET_STATE", targetState);
    }

    private Path bootScript() {
        return root.resolve("usr/local/sbin/runnerscale-boot");
    }

    @Test
    void withoutACacheBucketTheRunnerHasNoCacheSection() throws Exception {
        env.remove("CACHE_BUCKET");

        Run run = run();

        assertEquals(0, run.exitCode(), run::describe);
        String config = Files.readString(root.resolve("etc/gitlab-runner/config.toml"));
        assertTrue(config.contains("\n  limit = 3\n"), config);
        assertFalse(config.contains("runners.cache"), config);
    }

    @Test
    void aTokenThatNeverAppearsEndsTheBootWithAbandonAfterTheBoundedWait() throws Exception {
        env.put("STUB_SSM", "missing");
        env.put("STUB_IMDS_TAGS", "off");
        env.put("TOKEN_WAIT_SECONDS", "2");

        long started = System.nanoTime();
        Run run = run();
        Duration took = Duration.ofNanos(System.nanoTime() - started);

        assertNotEquals(0, run.exitCode(), run::describe);
        assertTrue(took.compareTo(Duration.ofSeconds(2)) >= 0 && took.compareTo(Duration.ofSeconds(20)) < 0,
                "waited about TOKEN_WAIT_SECONDS, took " + took);
        List<String> calls = calls();
        long reads = calls.stream().filter(c -> c.startsWith("aws ssm get-parameter ")).count();
        assertTrue(reads >= 2, "retried with backoff within the wait: " + calls);
        assertFalse(calls.stream().anyMatch(c -> c.startsWith("gitlab-runner register")), calls.toString());
        assertEquals("aws autoscaling complete-lifecycle-action --lifecycle-hook-name runnerscale-launch"
                        + " --auto-scaling-group-name " + ASG + " --instance-id " + INSTANCE_ID
                        + " --lifecycle-action-result ABANDON",
                only(calls, "aws autoscaling complete-lifecycle-action"));
        assertTrue(calls.stream().anyMatch(c -> c.startsWith("aws ec2 describe-tags ")),
                "without IMDS tags the group name comes from describe-tags: " + calls);
        assertTrue(run.stdout().contains("no token in /runnerscale/stk/runners/" + INSTANCE_ID)
                && run.stdout().contains("ParameterNotFound"), run::describe);
    }

    @Test
    void aFailedRegistrationEndsTheBootWithAbandonAndKeepsTheTokenOutOfTheLog() throws Exception {
        env.put("STUB_REGISTER", "fail");

        Run run = run();

        assertNotEquals(0, run.exitCode(), run::describe);
        List<String> calls = calls();
        assertTrue(only(calls, "aws autoscaling complete-lifecycle-action").endsWith(" --lifecycle-action-result ABANDON"),
                calls.toString());
        assertFalse(calls.contains("systemctl restart gitlab-runner"), calls.toString());
        assertTrue(run.stdout().contains("gitlab-runner register failed"), run::describe);
        // The stub's error output quotes the token; the script must not pass it on.
        assertTokenNowhereVisible(run);
        assertTrue(run.stdout().contains("glrt-***"), run::describe);
    }

    @Test
    void aRunnerThatGitLabDoesNotVerifyIsAbandoned() throws Exception {
        env.put("STUB_VERIFY", "fail");
        env.put("VERIFY_WAIT_SECONDS", "1");

        Run run = run();

        assertNotEquals(0, run.exitCode(), run::describe);
        assertTrue(only(calls(), "aws autoscaling complete-lifecycle-action").endsWith(" --lifecycle-action-result ABANDON"),
                calls().toString());
        assertTrue(run.stdout().contains("gitlab-runner verify did not succeed"), run::describe);
    }

    @Test
    void aBadInputIsNamedAndAbandonsInsteadOfWaitingForTheHookTimeout() throws Exception {
        env.put("CAPACITY_PER_INSTANCE", "two");

        Run run = run();

        assertEquals(2, run.exitCode(), run::describe);
        assertTrue(run.stdout().contains("CAPACITY_PER_INSTANCE must be a positive whole number"), run::describe);
        assertTrue(only(calls(), "aws autoscaling complete-lifecycle-action").endsWith(" --lifecycle-action-result ABANDON"),
                calls().toString());
        assertFalse(calls().stream().anyMatch(c -> c.startsWith("aws ssm ")), calls().toString());
    }

    @Test
    void theScriptIsShellcheckClean() throws Exception {
        assumeTrue(onPath("shellcheck"), "shellcheck is not installed (.ci/run installs it)");
        Process process = new ProcessBuilder("shellcheck", script().toString()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "shellcheck finished");
        assertEquals(0, process.exitValue(), output);
    }

    private void assertTokenNowhereVisible(Run run) throws IOException {
        assertFalse(run.stdout().contains(TOKEN) || run.stderr().contains(TOKEN), "token in the script's output: " + run.describe());
        assertFalse(Files.readString(stubLog).contains(TOKEN), "token in an argument or a syslog line: " + Files.readString(stubLog));
    }

    private record Run(int exitCode, String stdout, String stderr) {
        String describe() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    private Run run() throws IOException, InterruptedException {
        return run(script());
    }

    private Run run(Path script, String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("bash", script.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(temp.toFile());
        builder.environment().clear();
        builder.environment().putAll(env);
        builder.redirectOutput(temp.resolve("stdout").toFile()).redirectError(temp.resolve("stderr").toFile());
        Process process = builder.start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail("user-data.sh did not finish within 60 s");
        }
        return new Run(process.exitValue(), Files.readString(temp.resolve("stdout")), Files.readString(temp.resolve("stderr")));
    }

    private List<String> calls() throws IOException {
        return Files.exists(stubLog) ? Files.readAllLines(stubLog) : List.of();
    }

    private static String only(List<String> calls, String prefix) {
        List<String> matching = calls.stream().filter(c -> c.startsWith(prefix)).toList();
        assertEquals(1, matching.size(), "exactly one call starting with '" + prefix + "': " + calls);
        return matching.getFirst();
    }

    private static int indexOfPrefix(List<String> calls, String prefix) {
        for (int i = 0; i < calls.size(); i++) {
            if (calls.get(i).startsWith(prefix)) return i;
        }
        return -1;
    }

    /** The repository root: the nearest folder up from the working directory holding the script. */
    private static Path script() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("instance/user-data.sh");
            if (Files.isRegularFile(candidate)) return candidate;
        }
        throw new IllegalStateException("instance/user-data.sh not found above " + Path.of("").toAbsolutePath());
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }

    private static void stub(Path bin, String name, String body) throws IOException {
        Path file = bin.resolve(name);
        Files.writeString(file, body);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** IMDSv2: a session token from PUT, and metadata only for requests that carry it. */
    private static final String CURL_STUB = """
            #!/usr/bin/env bash
            printf 'curl %s\\n' "$*" >>"$STUB_LOG"
            url="${*: -1}"
            if [[ " $* " == *" -X PUT "* ]]; then
              [[ $url == */latest/api/token ]] || exit 22
              echo "imds-session-token"; exit 0
            fi
            [[ " $* " == *"X-aws-ec2-metadata-token: imds-session-token"* ]] || { echo "curl: (22) 401" >&2; exit 22; }
            case "$url" in
              */latest/meta-data/instance-id) printf '%s' "$STUB_INSTANCE_ID" ;;
              */latest/meta-data/placement/region) printf '%s' "$STUB_REGION" ;;
              */latest/meta-data/autoscaling/target-lifecycle-state)
                if [[ -n ${STUB_TARGET_STATES:-} ]]; then
                  # one state per read, the last one repeated: a warm instance that the group draws later
                  IFS=, read -ra states <<<"$STUB_TARGET_STATES"
                  n=$(cat "$STUB_LOG.reads" 2>/dev/null || echo 0); echo $((n + 1)) >"$STUB_LOG.reads"
                  state=${states[$((n < ${#states[@]} ? n : ${#states[@]} - 1))]}
                  [[ $state != fail ]] || { echo "curl: (22) The requested URL returned error: 500" >&2; exit 22; }
                  printf '%s' "$state"
                else
                  printf '%s' "${STUB_TARGET_STATE:-InService}"
                fi ;;
              */latest/meta-data/tags/instance/aws:autoscaling:groupName)
                if [[ ${STUB_IMDS_TAGS:-on} == off ]]; then echo "curl: (22) The requested URL returned error: 404" >&2; exit 22; fi
                printf '%s' "$STUB_ASG" ;;
              *) echo "curl: (22) The requested URL returned error: 404" >&2; exit 22 ;;
            esac
            """;

    /** Answers the token only for this instance's parameter, as SSM would. */
    private static final String AWS_STUB = """
            #!/usr/bin/env bash
            printf 'aws %s\\n' "$*" >>"$STUB_LOG"
            [[ -n ${AWS_REGION:-} ]] || { echo "You must specify a region." >&2; exit 253; }
            case "$1 $2" in
              "ssm get-parameter")
                if [[ ${STUB_SSM:-ok} == ok && " $* " == *" --name /runnerscale/stk/runners/$STUB_INSTANCE_ID "* ]]; then
                  printf '%s\\n' "$STUB_TOKEN"
                else
                  echo "An error occurred (ParameterNotFound) when calling the GetParameter operation: " >&2; exit 254
                fi ;;
              "ec2 describe-tags") printf '%s\\n' "$STUB_ASG" ;;
              "autoscaling complete-lifecycle-action")
                if [[ ${STUB_COMPLETE:-ok} == fail ]]; then
                  echo "An error occurred (ValidationError): No active Lifecycle Action found with instance ID" >&2; exit 254
                fi ;;
              *) echo "stub aws: unexpected call $1 $2" >&2; exit 255 ;;
            esac
            """;

    /**
     * register appends a [[runners]] entry (name, url, token from CI_SERVER_TOKEN, executor, then the
     * template's settings) to --config, as the real one does; the failing variant quotes the token in its
     * error output to prove the script filters it.
     */
    private static final String GITLAB_RUNNER_STUB = """
            #!/usr/bin/env bash
            printf 'gitlab-runner %s\\n' "$*" >>"$STUB_LOG"
            command=$1; shift
            config=/etc/gitlab-runner/config.toml
            while (($#)); do
              case "$1" in
                --config) config=$2; shift ;;
                --template-config) template=$2; shift ;;
                --url) url=$2; shift ;;
                --executor) executor=$2; shift ;;
                --description) description=$2; shift ;;
                --docker-image) image=$2; shift ;;
              esac
              shift
            done
            case "$command" in
              register)
                printf 'gitlab-runner env CI_SERVER_TOKEN=%s chars\\n' "${#CI_SERVER_TOKEN}" >>"$STUB_LOG"
                if [[ ${STUB_REGISTER:-ok} == fail ]]; then
                  echo "ERROR: Verifying runner... is not valid   runner=${CI_SERVER_TOKEN:5:8}" >&2
                  echo "PANIC: Failed to register the runner with token $CI_SERVER_TOKEN" >&2
                  exit 1
                fi
                [[ -n ${CI_SERVER_TOKEN:-} ]] || { echo "PANIC: token is required" >&2; exit 1; }
                {
                  echo
                  echo "[[runners]]"
                  echo "  name = \\"$description\\""
                  echo "  url = \\"$url\\""
                  echo "  token = \\"$CI_SERVER_TOKEN\\""
                  echo "  executor = \\"$executor\\""
                  tail -n +2 "$template"
                  echo "  [runners.docker]"
                  echo "    image = \\"$image\\""
                } >>"$config"
                echo "Runner registered successfully." >&2 ;;
              verify)
                if [[ ${STUB_VERIFY:-ok} == fail ]]; then
                  echo "ERROR: Verifying runner... is not valid   runner=abcd1234" >&2
                else
                  echo "Verifying runner... is valid   runner=abcd1234" >&2
                fi ;;
              *) echo "stub gitlab-runner: unexpected $command" >&2; exit 1 ;;
            esac
            """;
}
