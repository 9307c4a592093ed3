package io.runnerscale.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.job.JobStatus;
import io.runnerscale.local.EmbeddedDynamo;
import io.runnerscale.store.DynamoJobStore;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.client.builder.AwsSyncClientBuilder;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.sfn.SfnClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.ParameterType;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Lambda start-up of each function, measured: for every run a fresh JVM per function and mode, with
 * exactly the function's Lambda classpath ({@link LambdaClasspath}: its {@code sam build} artifact plus
 * the layer's jars), the template's {@code JAVA_TOOL_OPTIONS} and environment, and AWS pointed at
 * DynamoDB Local (in this JVM) and a moto_server (Secrets Manager, SSM, SQS, Auto Scaling, EC2, ECS,
 * Step Functions), GitLab's API answered by a stub in this JVM. {@link io.runnerscale.bench.lambda.LambdaStartupDriver}
 * constructs the handler and sends it one realistic event (the repository's {@code events/}); in the
 * {@code primed} mode it first runs the handler's SnapStart hooks. A minimal handler on the same JVM
 * options, with and without the layer on its classpath, runs in the same rounds: the ratios to it are
 * what compares across machines and runs, not the milliseconds.
 *
 * <p>What it cannot measure: SnapStart itself (no snapshot/restore here: "primed" only shows what
 * priming takes off the first request), Lambda's arm64 CPUs, its JVM (Corretto 21; this runs the JDK
 * that runs the benchmark) and network latency to AWS.
 */
public final class StartupBenchmark {
    static final String LAYER = "CoreLayer";
    static final String WEBHOOK_TOKEN = "example-token";  // events/webhook-job-pending.json's X-Gitlab-Token
    static final String POOL = "default";                  // events/scaler-sqs.json's pool
    static final JobKey WEBHOOK_JOB = new JobKey(380, 1977); // events/webhook-job-pending.json's job
    private static final String POOLS = """
            pools:
              - name: default
                match: {tags: [docker], run_untagged: true}
                backend: {type: ec2-asg, asg: bench-default}
                max_instances: 10
            """;
    private static final Region REGION = Region.US_EAST_1;

    /** One function started with one event; null {@code functionId}: the minimal handler. */
    public record Case(String name, String functionId, boolean layer, String event) {
        boolean minimal() {
            return functionId == null;
        }
    }

    public static final List<Case> CASES = List.of(
            new Case("minimal handler", null, false, "events/scaler-schedule.json"),
            new Case("minimal handler + layer", null, true, "events/scaler-schedule.json"),
            new Case("webhook (Job Hook, pending)", "WebhookFunction", true, "events/webhook-job-pending.json"),
            new Case("scaler (schedule tick)", "ScalerFunction", true, "events/scaler-schedule.json"),
            new Case("lifecycle (orphan sweep)", "LifecycleFunction", true, "events/lifecycle-sweep.json"));

    /**
     * @param runs     fresh JVMs per case and mode (medians are reported)
     * @param root     the repository (template.yaml, events/)
     * @param buildDir the {@code sam build} output ({@code make sam-build}: .aws-sam/build)
     * @param classLog also log every class loaded (-Xlog:class+load) and report each layer jar's use;
     *                 times are then not comparable with runs without it
     */
    public record Settings(int runs, Path root, Path buildDir, boolean classLog, List<String> only) {
        public Settings {
            only = List.copyOf(only);
        }
    }

    /** Times of one JVM, in milliseconds from the parent's spawn; {@code primeMs} NaN when not primed. */
    public record Sample(double mainMs, double constructedMs, double primeMs, double firstRequestMs, double answeredMs) {
    }

    /** Medians per case: unprimed and primed samples. */
    public record CaseResult(Case testCase, List<Sample> plain, List<Sample> primed) {
    }

    public record LayerSize(int jars, long unpackedBytes, long zipBytes) {
    }

    public record Report(LayerSize layer, List<CaseResult> cases, Map<String, Integer> layerJarClassCounts,
                         List<String> failures) {
    }

    private final Settings settings;
    private final ObjectMapper json = new ObjectMapper();

    public StartupBenchmark(Settings settings) {
        this.settings = settings;
    }

    public Report run(PrintStream out) throws Exception {
        Path template = settings.root().resolve("template.yaml");
        SamFunctions sam = SamFunctions.load(template);
        Path work = Files.createTempDirectory("runnerscale-bench-startup");
        List<Path> runtime = LambdaClasspath.runtimePart(work);
        LayerSize layer = layerSize(settings.buildDir().resolve(LAYER), work);
        String javaToolOptions = sam.function("WebhookFunction").javaToolOptions();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        out.printf(Locale.ROOT, "runnerscale bench-startup: %d fresh JVM(s) per function and mode; %s (Java %s), %d CPUs%n",
                settings.runs(), java, Runtime.version(), Runtime.getRuntime().availableProcessors());
        out.printf(Locale.ROOT, "  artifacts: %s; JAVA_TOOL_OPTIONS=\"%s\" (template.yaml)%n", settings.buildDir(), javaToolOptions);
        out.printf(Locale.ROOT, "  layer: %d jars, %.1f MB unpacked, %.1f MB zipped%n", layer.jars(),
                layer.unpackedBytes() / 1e6, layer.zipBytes() / 1e6);
        out.println("  work files and each JVM's output: " + work);
        out.flush();

        List<Case> cases = CASES.stream().filter(c -> c.minimal() || settings.only().isEmpty()
                || settings.only().stream().anyMatch(o -> c.functionId().toLowerCase(Locale.ROOT).startsWith(o))).toList();
        Map<Case, List<Sample>> plain = new LinkedHashMap<>();
        Map<Case, List<Sample>> primed = new LinkedHashMap<>();
        List<String> failures = new ArrayList<>();
        List<Path> classLogs = new ArrayList<>();
        Path logs = Files.createDirectories(work.resolve("logs"));
        try (EmbeddedDynamo dynamo = EmbeddedDynamo.start();
             MotoProcess moto = MotoProcess.start(work.resolve("moto-server.log"));
             GitLabStub gitlab = GitLabStub.start();
             Aws aws = new Aws(moto.endpoint)) {
            Map<String, String> shared = aws.sharedResources(settings.root(), gitlab.url());
            AtomicInteger counter = new AtomicInteger();
            for (int run = 0; run < settings.runs(); run++) {
                // rotate the order: a drift of the machine's load spreads over every case
                List<Case> order = new ArrayList<>(cases);
                Collections.rotate(order, run);
                for (Case c : order) {
                    for (boolean prime : new boolean[]{false, true}) {
                        if (c.minimal() && prime) {
                            continue;  // nothing to prime
                        }
                        int n = counter.incrementAndGet();
                        String id = "b" + n;
                        Map<String, String> local = new LinkedHashMap<>(shared);
                        String table = "bench-" + id;
                        dynamo.createTable(table);
                        local.put("TABLE_NAME", table);
                        local.put("SCALE_QUEUE_URL", aws.queue("bench-" + id));
                        SamFunctions.Function function = sam.function(c.minimal() ? "WebhookFunction" : c.functionId());
                        Map<String, String> env = lambdaEnvironment(function, function.environment(local,
                                sam.parameterDefaults()), c, moto.endpoint, dynamo.endpoint(), work);
                        LambdaClasspath classpath = c.minimal()
                                ? new LambdaClasspath(runtime, null, c.layer()
                                ? LambdaClasspath.layerJars(settings.buildDir().resolve(LAYER)) : List.of())
                                : LambdaClasspath.of(runtime, settings.buildDir(), c.functionId(), LAYER);
                        String handler = c.minimal() ? io.runnerscale.bench.lambda.MinimalHandler.class.getName()
                                : function.handler();
                        String stem = id + "-" + slug(c.name()) + (prime ? "-primed" : "");
                        Path classLog = settings.classLog() ? logs.resolve(stem + ".classes") : null;
                        if (classLog != null) {
                            classLogs.add(classLog);
                        }
                        try {
                            Launch launch = launch(java, classpath, env, handler, settings.root().resolve(c.event()),
                                    prime, work, logs.resolve(stem + ".log"), classLog,
                                    c.minimal() ? work : classpath.function());
                            check(c, launch.answer(), dynamo, table, aws, local.get("SCALE_QUEUE_URL"));
                            (prime ? primed : plain).computeIfAbsent(c, k -> new ArrayList<>()).add(launch.sample());
                        } catch (RuntimeException e) {
                            failures.add(c.name() + (prime ? " (primed)" : "") + ", run " + (run + 1) + ": "
                                    + e.getMessage() + " (output: " + logs.resolve(stem + ".log") + ")");
                        }
                    }
                }
                out.printf(Locale.ROOT, "  round %d/%d done%n", run + 1, settings.runs());
                out.flush();
            }
        }
        List<CaseResult> results = cases.stream().map(c -> new CaseResult(c, plain.getOrDefault(c, List.of()),
                primed.getOrDefault(c, List.of()))).toList();
        Map<String, Integer> usage = settings.classLog()
                ? layerJarUsage(classLogs, LambdaClasspath.layerJars(settings.buildDir().resolve(LAYER))) : Map.of();
        Report report = new Report(layer, results, usage, failures);
        print(report, out);
        return report;
    }

    // ------------------------------------------------------------------ one JVM

    record Launch(Sample sample, String answer) {
    }

    /** Starts one JVM as Lambda would start the function, and reads what its driver measured. */
    static Launch launch(Path java, LambdaClasspath classpath, Map<String, String> env, String handler, Path event,
                         boolean prime, Path work, Path log, Path classLog, Path directory) {
        try {
            Path result = Files.createTempFile(work, "result", ".properties");
            List<String> command = new ArrayList<>(List.of(java.toString()));
            if (classLog != null) {
                command.add("-Xlog:class+load=info:file=" + classLog);
            }
            command.addAll(List.of("-cp", classpath.toString(), io.runnerscale.bench.lambda.LambdaStartupDriver.class.getName(),
                    handler, event.toString(), result.toString(), prime ? "primed" : "plain"));
            ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile())
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            builder.environment().clear();
            builder.environment().putAll(env);
            long spawned = micros();
            Process process = builder.start();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("no answer within 120 s");
            }
            Properties p = new Properties();
            try (var reader = Files.newBufferedReader(result, StandardCharsets.UTF_8)) {
                p.load(reader);
            }
            if (p.getProperty("error") != null || p.getProperty("answered") == null) {
                throw new IllegalStateException("the handler failed: " + p.getProperty("error", "no result (exit code "
                        + process.exitValue() + ")"));
            }
            Function<String, Double> ms = key -> p.getProperty(key) == null ? Double.NaN
                    : (Long.parseLong(p.getProperty(key)) - spawned) / 1000.0;
            double constructed = ms.apply("constructed");
            double primed = ms.apply("primed");
            double answered = ms.apply("answered");
            double requestStart = Double.isNaN(primed) ? constructed : primed;
            return new Launch(new Sample(ms.apply("main"), constructed, primed - constructed, answered - requestStart,
                    answered), p.getProperty("answer"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** What Lambda sets besides the function's own variables; AWS endpoints point at the local stand-ins. */
    static Map<String, String> lambdaEnvironment(SamFunctions.Function function, Map<String, String> variables, Case c,
                                                 URI moto, URI dynamo, Path work) {
        Map<String, String> env = new TreeMap<>(variables);
        String name = "bench-" + (c.minimal() ? "minimal" : function.logicalId());
        env.put("AWS_REGION", REGION.id());
        env.put("AWS_DEFAULT_REGION", REGION.id());
        env.put("AWS_ACCESS_KEY_ID", "local");  // DynamoDB Local keeps a database per access key (EmbeddedDynamo signs with "local")
        env.put("AWS_SECRET_ACCESS_KEY", "local");
        env.put("AWS_SESSION_TOKEN", "testing");
        env.put("AWS_LAMBDA_FUNCTION_NAME", name);
        env.put("AWS_LAMBDA_FUNCTION_VERSION", "1");
        env.put("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Integer.toString(function.memoryMb()));
        env.put("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/" + name);
        env.put("AWS_LAMBDA_LOG_STREAM_NAME", "2025/01/01/[1]bench");
        env.put("AWS_EXECUTION_ENV", "AWS_Lambda_java21");
        env.put("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
        env.put("_HANDLER", function.handler());
        env.put("TZ", ":UTC");
        env.put("LANG", "en_US.UTF-8");
        env.put("BENCH_FUNCTION_TIMEOUT", Integer.toString(function.timeoutSeconds()));
        // the SDK's standard endpoint settings: the code under test builds its clients unchanged
        env.put("AWS_ENDPOINT_URL", moto.toString());
        env.put("AWS_ENDPOINT_URL_DYNAMODB", dynamo.toString());
        // no ~/.aws on Lambda: no profile file to find here either
        env.put("AWS_CONFIG_FILE", work.resolve("no-aws-config").toString());
        env.put("AWS_SHARED_CREDENTIALS_FILE", work.resolve("no-aws-credentials").toString());
        return env;
    }

    /** The function really did its work: a benchmark of a handler that failed measures nothing. */
    private void check(Case c, String answer, EmbeddedDynamo dynamo, String table, Aws aws, String queueUrl) {
        JsonNode node;
        try {
            node = json.readTree(answer);
        } catch (IOException e) {
            throw new IllegalStateException("answer is not JSON: " + answer);
        }
        if (c.minimal()) {
            require(node.path("ok").asBoolean(false), "minimal handler answered " + answer);
            return;
        }
        switch (c.functionId()) {
            case "WebhookFunction" -> {
                require(node.path("statusCode").asInt() == 200, "webhook answered " + answer);
                JobRecord job = new DynamoJobStore(dynamo.client(), table, Duration.ofDays(7)).find(WEBHOOK_JOB)
                        .orElseThrow(() -> new IllegalStateException("webhook answered but job " + WEBHOOK_JOB + " was not stored"));
                require(job.status() == JobStatus.PENDING && POOL.equals(job.pool()),
                        "job stored as " + job.status() + " in pool " + job.pool());
                require(aws.queueDepth(queueUrl) == 1, "no scale request in the queue");
            }
            case "ScalerFunction" -> {
                require(node.path("ticked").toString().equals("[\"" + POOL + "\"]"), "scaler answered " + answer);
                require(aws.queueDepth(queueUrl) == 1, "no tick in the queue");
            }
            case "LifecycleFunction" -> require("SWEPT".equals(node.path("result").asText())
                    && !node.path("reconcile").asText("failed").startsWith("failed"), "lifecycle answered " + answer);
            default -> throw new IllegalStateException("no check for " + c.functionId());
        }
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalStateException(message);
        }
    }

    // ------------------------------------------------------------------ the layer

    static LayerSize layerSize(Path layerDir, Path work) throws IOException {
        List<Path> jars = LambdaClasspath.layerJars(layerDir);
        long unpacked = 0;
        Path zip = work.resolve("layer.zip");
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            for (Path jar : jars) {
                unpacked += Files.size(jar);
                out.putNextEntry(new ZipEntry(LambdaClasspath.LAYER_LIB + "/" + jar.getFileName()));
                Files.copy(jar, out);
                out.closeEntry();
            }
        }
        long zipped = Files.size(zip);
        Files.delete(zip);
        return new LayerSize(jars.size(), unpacked, zipped);
    }

    /** Classes loaded from each layer jar over every logged JVM (0: no function loaded anything from it). */
    static Map<String, Integer> layerJarUsage(List<Path> classLogs, List<Path> layerJars) throws IOException {
        Map<String, Integer> counts = new TreeMap<>();
        Map<String, String> byPath = new java.util.HashMap<>();
        for (Path jar : layerJars) {
            counts.put(jar.getFileName().toString(), 0);
            byPath.put(jar.toAbsolutePath().normalize().toString(), jar.getFileName().toString());
        }
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Path log : classLogs) {
            if (!Files.exists(log)) {
                continue;
            }
            for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                int source = line.indexOf(" source: file:");
                if (source < 0) {
                    continue;
                }
                String path = line.substring(source + " source: file:".length()).trim();
                String jar = byPath.get(Path.of(path).toAbsolutePath().normalize().toString());
                String className = line.substring(line.indexOf(']', line.indexOf("[class,load")) + 1, source).trim();
                if (jar != null && seen.add(jar + " " + className)) {
                    counts.merge(jar, 1, Integer::sum);
                }
            }
        }
        return counts;
    }

    // ------------------------------------------------------------------ the report

    static double median(List<Sample> samples, java.util.function.ToDoubleFunction<Sample> field) {
        double[] values = samples.stream().mapToDouble(field).filter(v -> !Double.isNaN(v)).sorted().toArray();
        if (values.length == 0) {
            return Double.NaN;
        }
        int mid = values.length / 2;
        return values.length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }

    static void print(Report report, PrintStream out) {
        CaseResult baseline = report.cases().getFirst();
        double baseConstructed = median(baseline.plain(), Sample::constructedMs);
        double baseAnswered = median(baseline.plain(), Sample::answeredMs);
        out.println();
        out.println("Medians in ms from the JVM's spawn (first request: its own duration); ×: ratio to the minimal handler's");
        out.println("same measure in this run. \"primed\": the handler's beforeCheckpoint/afterRestore ran before the first");
        out.println("request (what SnapStart's snapshot holds; the restore itself is not measured here).");
        out.println();
        out.println("| start-up | runs | JVM → main | handler constructed | × | first request | answered | × | priming | first request, primed | answered, primed | × |");
        out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (CaseResult r : report.cases()) {
            double constructed = median(r.plain(), Sample::constructedMs);
            double answered = median(r.plain(), Sample::answeredMs);
            double primedAnswered = median(r.primed(), Sample::answeredMs);
            out.printf(Locale.ROOT, "| %s | %d%s | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f | %s | %s | %s | %s |%n",
                    r.testCase().name(), r.plain().size(), r.primed().isEmpty() ? "" : "+" + r.primed().size(),
                    median(r.plain(), Sample::mainMs), constructed, constructed / baseConstructed,
                    median(r.plain(), Sample::firstRequestMs), answered, answered / baseAnswered,
                    dash(median(r.primed(), Sample::primeMs)), dash(median(r.primed(), Sample::firstRequestMs)),
                    dash(primedAnswered), r.primed().isEmpty() ? "–" : String.format(Locale.ROOT, "%.2f", primedAnswered / baseAnswered));
        }
        LayerSize layer = report.layer();
        out.printf(Locale.ROOT, "%nlayer: %d jars, %,d bytes unpacked, %,d bytes zipped%n", layer.jars(),
                layer.unpackedBytes(), layer.zipBytes());
        if (!report.layerJarClassCounts().isEmpty()) {
            out.println();
            out.println("classes loaded per layer jar, over every JVM above (-Xlog:class+load; times above include the logging):");
            report.layerJarClassCounts().entrySet().stream()
                    .sorted(Map.Entry.<String, Integer>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
                    .forEach(e -> out.printf(Locale.ROOT, "  %6d  %s%n", e.getValue(), e.getKey()));
        }
        if (!report.failures().isEmpty()) {
            out.println();
            out.println("FAILED runs (left out of the figures):");
            report.failures().forEach(f -> out.println("  " + f));
        }
        out.flush();
    }

    private static String dash(double value) {
        return Double.isNaN(value) ? "–" : String.format(Locale.ROOT, "%.0f", value);
    }

    private static String slug(String name) {
        return name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-|-$)", "");
    }

    private static long micros() {
        return ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
    }

    // ------------------------------------------------------------------ the stand-ins

    /** The "stack" in moto: pools parameter, secrets, the pool's Auto Scaling group, the drain state machine; queues per run. */
    static final class Aws implements AutoCloseable {
        private final SdkHttpClient http = UrlConnectionHttpClient.create();
        private final URI endpoint;
        private final SqsClient sqs;

        Aws(URI endpoint) {
            this.endpoint = endpoint;
            this.sqs = client(SqsClient.builder());
        }

        <B extends AwsClientBuilder<B, C> & AwsSyncClientBuilder<B, C>, C> C client(B builder) {
            return builder.endpointOverride(endpoint).region(REGION).httpClient(http)
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("testing", "testing")))
                    .build();
        }

        /** Values for the template's intrinsic environment variables that every run shares. */
        Map<String, String> sharedResources(Path root, URI gitlab) throws IOException {
            SsmClient ssm = client(SsmClient.builder());
            ssm.putParameter(r -> r.name("/bench/pools").type(ParameterType.STRING).value(POOLS));
            SecretsManagerClient secrets = client(SecretsManagerClient.builder());
            secrets.createSecret(r -> r.name("bench/webhook-token").secretString(WEBHOOK_TOKEN));
            secrets.createSecret(r -> r.name("bench/gitlab").secretString(
                    "{\"url\":\"" + gitlab + "\",\"token\":\"glpat-bench\"}"));
            AutoScalingClient asg = client(AutoScalingClient.builder());
            asg.createLaunchConfiguration(r -> r.launchConfigurationName("bench-default-lc")
                    .imageId("ami-12c6146b").instanceType("t3.medium"));
            asg.createAutoScalingGroup(r -> r.autoScalingGroupName("bench-default").launchConfigurationName("bench-default-lc")
                    .minSize(0).maxSize(10).desiredCapacity(0).availabilityZones("us-east-1a"));
            String definition = Files.readString(root.resolve("statemachine/drain.asl.json"))
                    .replace("${LifecycleFunctionArn}", "arn:aws:lambda:us-east-1:123456789012:function:bench-lifecycle");
            String drain = client(SfnClient.builder()).createStateMachine(r -> r.name("bench-drain").definition(definition)
                    .roleArn("arn:aws:iam::123456789012:role/bench-drain")).stateMachineArn();
            Map<String, String> values = new LinkedHashMap<>();
            values.put("POOLS_PARAMETER", "/bench/pools");
            values.put("WEBHOOK_SECRET_ID", "bench/webhook-token");
            values.put("GITLAB_SECRET_ID", "bench/gitlab");
            values.put("WEBHOOK_SIGNING_SECRET_ID", "");
            values.put("DRAIN_STATE_MACHINE_ARN", drain);
            values.put("RUNNER_TOKEN_PREFIX", "/runnerscale/bench/runners/");
            // the reconciler's hook URL: no project is remembered in the bench's table, so no hook is read
            values.put("WEBHOOK_URL", "https://bench.invalid/webhook");
            // no warm pool of the stack's own: the scheduled run would apply every pool's warm_pool
            values.put("STACK_WARM_POOL_GROUPS", "");
            return values;
        }

        String queue(String name) {
            return sqs.createQueue(r -> r.queueName(name + ".fifo").attributes(Map.of(
                    QueueAttributeName.FIFO_QUEUE, "true", QueueAttributeName.CONTENT_BASED_DEDUPLICATION, "false"))).queueUrl();
        }

        int queueDepth(String url) {
            return Integer.parseInt(sqs.getQueueAttributes(r -> r.queueUrl(url)
                    .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES)).attributes()
                    .get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES));
        }

        @Override
        public void close() {
            http.close();
        }
    }

    /**
     * GitLab's REST API as far as the measured requests need it: a job's tags (every job runs on
     * {@code docker}), and empty lists for everything else the sweep asks (runners, their jobs).
     */
    static final class GitLabStub implements AutoCloseable {
        private final HttpServer server;

        private GitLabStub(HttpServer server) {
            this.server = server;
        }

        static GitLabStub start() throws IOException {
            HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/", exchange -> {
                String path = exchange.getRequestURI().getPath();
                String body;
                int status = 200;
                if (!exchange.getRequestMethod().equals("GET")) {
                    status = 404;
                    body = "{\"message\":\"404 Not Found\"}";
                } else if (path.matches("/api/v4/projects/\\d+/jobs/\\d+")) {
                    String id = path.substring(path.lastIndexOf('/') + 1);
                    body = "{\"id\":" + id + ",\"status\":\"pending\",\"tag_list\":[\"docker\"]}";
                } else {
                    body = "[]";
                }
                byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("content-type", "application/json");
                exchange.sendResponseHeaders(status, bytes.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            });
            server.start();
            return new GitLabStub(server);
        }

        URI url() {
            return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    public static List<String> splitOnly(String value) {
        return value == null || value.isBlank() ? List.of()
                : Arrays.stream(value.split(",")).map(s -> s.trim().toLowerCase(Locale.ROOT)).filter(s -> !s.isEmpty()).toList();
    }
}
