package io.runnerscale.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.cli.Main;
import io.runnerscale.gitlab.GitLab;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.job.JobKey;
import io.runnerscale.local.EmbeddedDynamo;
import io.runnerscale.local.LocalJobUpdateQueue;
import io.runnerscale.local.LocalScaleRequests;
import io.runnerscale.webhook.DeferredJobUpdatesCodec;
import io.runnerscale.webhook.JobUpdateService;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigParser;
import io.runnerscale.pool.PoolsConfigSource;
import io.runnerscale.scaling.DemandHistoryForecast;
import io.runnerscale.scaling.InMemoryDemandHistory;
import io.runnerscale.scaling.ScaleRequests;
import io.runnerscale.scaling.ScalerService;
import io.runnerscale.simulate.SimulatedFleet;
import io.runnerscale.store.DynamoJobStore;
import io.runnerscale.store.InMemoryJobStore;
import io.runnerscale.webhook.PoolResolver;
import io.runnerscale.webhook.WebhookAuthenticator;
import io.runnerscale.webhook.WebhookRequest;
import io.runnerscale.webhook.WebhookResponse;
import io.runnerscale.webhook.WebhookService;

import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Webhook latency of runnerscale's own code: the real {@link WebhookService} on a
 * {@link DynamoJobStore} against DynamoDB Local in this JVM, with GitLab's jobs API answered from
 * memory (so GitLab's latency is not measured) and no scale queue. Then the local fast path: from
 * a pending webhook to the {@link SimulatedFleet}'s desired-capacity change through
 * {@link LocalScaleRequests} and the real {@link ScalerService}. Last, Pipeline Hooks listing
 * hundreds and thousands of builds: answered once handed to the deferred-update queue, and how
 * long until every listed job is stored.
 *
 * <p>DynamoDB Local is not DynamoDB: absolute numbers say what our code plus an in-process store
 * costs, not what API Gateway + Lambda + DynamoDB will answer in. Run it with
 * {@code ./runnerscale bench-webhook [--deliveries N]}.
 */
public final class WebhookBenchmark {
    static final String TOKEN = "bench-token";
    private static final String TABLE = "runnerscale-bench";
    private static final String POOLS = """
            pools:
              - name: docker
                match: {tags: [docker, linux], run_untagged: true}
                backend: {type: ec2-asg, asg: bench-docker}
                max_instances: 100000
                policy: [{idle_count: 0, idle_time: 10m}]
              - name: gpu
                match: {tags: [gpu]}
                backend: {type: ec2-asg, asg: bench-gpu}
                max_instances: 100000
            """;

    /**
     * @param deliveries  measured deliveries
     * @param warmup      deliveries before measuring (JIT, DynamoDB Local's caches)
     * @param concurrency clients of the throughput run (1: only the sequential run)
     * @param scaleJobs   pending jobs whose fast-path scale-out is timed
     */
    public record Settings(int deliveries, int warmup, int concurrency, int scaleJobs, long seed,
                           List<Integer> pipelineSizes, int pipelineDeliveries) {
        public Settings {
            pipelineSizes = List.copyOf(pipelineSizes);
        }

        public static Settings defaults() {
            return new Settings(5_000, 2_000, 8, 200, 42, List.of(500, 5_000), 5);
        }
    }

    /**
     * Answer times of Pipeline Hooks listing many builds (sorted, ms), and how long after the
     * answer every listed job was stored.
     */
    public record PipelineHookTimes(int builds, int bodyBytes, double[] answerMs, double[] allStoredMs,
                                    Map<Integer, Integer> statusCounts, int missingJobs) {
    }

    /** What one run measured; latencies in milliseconds. */
    public record Report(int deliveries, int duplicates, int duplicatesDetected, Map<Integer, Integer> statusCounts,
                         double[] latencyMs, double sequentialPerSecond, double concurrentPerSecond, int concurrency,
                         double[] scaleOutMs, double[] scaleOutWebhookMs, int scaleOutTimeouts,
                         double[] inMemoryLatencyMs, List<PipelineHookTimes> pipelineHooks) {
    }

    private final Settings settings;
    private final ObjectMapper json = new ObjectMapper();
    private final Map<JobKey, List<String>> tagsByJob = new ConcurrentHashMap<>();
    private final Random random;
    private long nextJobId = 1_000_000;

    public WebhookBenchmark(Settings settings) {
        this.settings = settings;
        this.random = new Random(settings.seed());
    }

    /** {@code java -cp ... io.runnerscale.bench.WebhookBenchmark [--deliveries N]}: same as {@code runnerscale bench-webhook}. */
    public static void main(String[] args) {
        String[] argv = new String[args.length + 1];
        argv[0] = "bench-webhook";
        System.arraycopy(args, 0, argv, 1, args.length);
        Main.main(argv);
    }

    public Report run(PrintStream out) throws Exception {
        out.println("runnerscale bench-webhook: WebhookService + DynamoJobStore on DynamoDB Local (in-process);");
        out.println("  GitLab's jobs API answered from memory, no scale queue; one JVM, "
                + Runtime.getRuntime().availableProcessors() + " CPUs, Java " + Runtime.version().feature());
        out.flush();
        long t = System.nanoTime();
        try (EmbeddedDynamo dynamo = EmbeddedDynamo.start()) {
            dynamo.createTable(TABLE);
            out.printf(Locale.ROOT, "  DynamoDB Local started in %.1f s%n", (System.nanoTime() - t) / 1e9);
            DynamoJobStore store = new DynamoJobStore(dynamo.client(), TABLE, Duration.ofDays(7));
            PoolsConfigSource pools = PoolsConfigSource.fixed(PoolsConfigParser.parse(POOLS, "bench pools"));
            GitLab gitlab = this::jobTags;
            ScaleRequests none = (pool, reason, dedupeId) -> { };
            WebhookService webhook = new WebhookService(new WebhookAuthenticator(() -> TOKEN), pools, store,
                    new PoolResolver(gitlab, store, 10_000), none, json, Clock.systemUTC());

            // warm-up: same mix, other jobs
            for (WebhookRequest request : deliveries(settings.warmup(), null)) {
                webhook.handle(request);
            }

            // measured: one client, one delivery after the other
            int[] duplicates = {0};
            List<WebhookRequest> measured = deliveries(settings.deliveries(), duplicates);
            Map<Integer, Integer> statuses = new TreeMap<>();
            int[] detected = {0};
            long start = System.nanoTime();
            double[] latency = measure(webhook, measured, statuses, detected);
            double sequential = measured.size() / ((System.nanoTime() - start) / 1e9);

            double concurrent = 0;
            if (settings.concurrency() > 1) {
                concurrent = concurrentThroughput(webhook, deliveries(settings.deliveries(), null), statuses);
            }

            ScaleOut scale = scaleOut(dynamo, pools);

            // the same deliveries on the in-memory store: what our own code costs without DynamoDB Local
            InMemoryJobStore memory = new InMemoryJobStore();
            WebhookService inMemory = new WebhookService(new WebhookAuthenticator(() -> TOKEN), pools, memory,
                    new PoolResolver(gitlab, memory, 10_000), none, json, Clock.systemUTC());
            measure(inMemory, deliveries(settings.warmup(), null), new TreeMap<>(), new int[1]);
            double[] ownCode = measure(inMemory, deliveries(settings.deliveries(), null), new TreeMap<>(), new int[1]);

            // big Pipeline Hooks: handed to the deferred-update queue (spooled to disk, as serve does) and answered
            List<PipelineHookTimes> pipelineHooks = new ArrayList<>();
            java.nio.file.Path spool = java.nio.file.Files.createTempDirectory("runnerscale-bench-spool");
            JobUpdateService updates = new JobUpdateService(pools, store, new PoolResolver(gitlab, store, 10_000), none, null);
            try (LocalJobUpdateQueue deferred = new LocalJobUpdateQueue(updates, new DeferredJobUpdatesCodec(json), spool)) {
                WebhookService bigDeliveries = new WebhookService(new WebhookAuthenticator(() -> TOKEN), store, updates,
                        deferred, json, Clock.systemUTC());
                for (int size : settings.pipelineDeliveries() > 0 ? settings.pipelineSizes() : List.<Integer>of()) {
                    pipelineHooks.add(pipelineHooks(bigDeliveries, store, size));
                }
            } finally {
                try (var left = java.nio.file.Files.list(spool)) {
                    for (java.nio.file.Path file : left.toList()) {
                        java.nio.file.Files.deleteIfExists(file);
                    }
                }
                java.nio.file.Files.deleteIfExists(spool);
            }

            Report report = new Report(measured.size(), duplicates[0], detected[0], statuses, latency, sequential, concurrent,
                    settings.concurrency(), scale.millis, scale.answered, scale.timeouts, ownCode, pipelineHooks);
            print(report, out);
            return report;
        }
    }

    private List<String> jobTags(JobKey job) {
        List<String> tags = tagsByJob.get(job);
        if (tags == null) {
            throw new GitLabUnavailableException("job " + job + " unknown to the in-memory GitLab", null);
        }
        return tags;
    }

    // -- workload --------------------------------------------------------------------------------

    /**
     * About {@code count} Job Hook deliveries: pending, running, success for distinct jobs, jobs
     * overlapping as in a busy pipeline (a job's later events come a few deliveries after its
     * pending), and about 10% duplicates (a resend with the same Idempotency-Key).
     *
     * @param duplicates counts the duplicates, when not null
     */
    private List<WebhookRequest> deliveries(int count, int[] duplicates) {
        record Step(long order, int phase, WebhookRequest request) {
        }
        int jobs = Math.max(1, (int) Math.round(count / 3 / 1.1));
        List<Step> steps = new ArrayList<>();
        for (int j = 0; j < jobs; j++) {
            long jobId = nextJobId++;
            long projectId = 1000 + random.nextInt(20);
            boolean gpu = random.nextInt(10) == 0;
            tagsByJob.put(new JobKey(projectId, jobId), gpu ? List.of("gpu") : random.nextBoolean() ? List.of("docker") : List.of());
            Instant created = Instant.parse("2024-05-06T08:00:00Z").plusSeconds(j);
            String instance = String.format("i-%017x", 0xabc000L + random.nextInt(500));
            String[] statuses = {"pending", "running", "success"};
            for (int phase = 0; phase < 3; phase++) {
                steps.add(new Step(j + phase * 7L, phase,
                        request(jobHook(projectId, jobId, statuses[phase], created, instance))));
            }
        }
        steps.sort(Comparator.comparingLong(Step::order).thenComparingInt(Step::phase));
        List<WebhookRequest> out = new ArrayList<>(count);
        for (Step step : steps) {
            if (out.size() >= count) {
                break;
            }
            out.add(step.request);
            if (out.size() < count && random.nextInt(10) == 0) {
                // GitLab resends (or a proxy retries) a delivery a little later
                out.add(out.get(out.size() - 1 - random.nextInt(Math.min(out.size(), 5))));
                if (duplicates != null) {
                    duplicates[0]++;
                }
            }
        }
        return out;
    }

    private WebhookRequest request(String body) {
        Map<String, String> headers = Map.of(
                "Content-Type", "application/json",
                "User-Agent", "GitLab/17.6.0",
                "X-Gitlab-Event", "Job Hook",
                "X-Gitlab-Token", TOKEN,
                "X-Gitlab-Instance", "https://gitlab.example.com",
                "X-Gitlab-Webhook-UUID", "5f9e4c1e-4d5d-4bb2-9c07-1a0ef4d5c0f1",
                "X-Gitlab-Event-UUID", UUID.randomUUID().toString(),
                "Idempotency-Key", UUID.randomUUID().toString());
        return new WebhookRequest(headers, body, body.length());
    }

    /** A Job Hook shaped like GitLab's documented one (gitlab-doc_job_hook.json). */
    private String jobHook(long projectId, long jobId, String status, Instant created, String instanceId) {
        boolean started = !status.equals("pending");
        boolean finished = status.equals("success");
        Instant startedAt = created.plusSeconds(40);
        Instant finishedAt = startedAt.plusSeconds(300);
        ObjectNode hook = json.createObjectNode()
                .put("object_kind", "build").put("ref", "main").put("tag", false)
                .put("before_sha", "2293ada6b400935a1378653304eaf6221e0fdb8f")
                .put("sha", "2293ada6b400935a1378653304eaf6221e0fdb8f")
                .put("build_id", jobId).put("build_name", "test " + (jobId % 13)).put("build_stage", "test")
                .put("build_status", status)
                .put("build_created_at", spaced(created))
                .put("build_created_at_iso", created.toString());
        if (started) {
            hook.put("build_started_at", spaced(startedAt)).put("build_started_at_iso", startedAt.toString());
        } else {
            hook.putNull("build_started_at").putNull("build_started_at_iso");
        }
        if (finished) {
            hook.put("build_finished_at", spaced(finishedAt)).put("build_finished_at_iso", finishedAt.toString())
                    .put("build_duration", 300.0);
        } else {
            hook.putNull("build_finished_at").putNull("build_finished_at_iso").putNull("build_duration");
        }
        hook.put("build_queued_duration", 40.123).put("build_allow_failure", false).putNull("build_failure_reason")
                .put("retries_count", 0).put("pipeline_id", jobId / 10).put("project_id", projectId)
                .put("project_name", "acme/service-" + projectId);
        hook.putObject("user").put("id", 3).put("name", "User").put("email", "user@example.com")
                .put("avatar_url", "https://www.gravatar.com/avatar/e32bd13e2add097461cb96824b7a829c?s=80&d=identicon");
        hook.putObject("commit").put("id", jobId / 10).put("name", "Build pipeline")
                .put("sha", "2293ada6b400935a1378653304eaf6221e0fdb8f").put("message", "Fix the flaky test\n")
                .put("author_name", "User").put("author_email", "user@example.com").put("status", "running")
                .putNull("duration").putNull("started_at").putNull("finished_at");
        hook.putObject("repository").put("name", "service-" + projectId).put("description", "A service")
                .put("homepage", "https://gitlab.example.com/acme/service-" + projectId)
                .put("git_ssh_url", "git@gitlab.example.com:acme/service-" + projectId + ".git")
                .put("git_http_url", "https://gitlab.example.com/acme/service-" + projectId + ".git")
                .put("visibility_level", 0);
        hook.putObject("project").put("id", projectId).put("name", "service-" + projectId)
                .put("web_url", "https://gitlab.example.com/acme/service-" + projectId).putNull("avatar_url")
                .put("namespace", "acme").put("visibility_level", 0)
                .put("path_with_namespace", "acme/service-" + projectId).put("default_branch", "main");
        if (started) {
            ObjectNode runner = hook.putObject("runner").put("active", true).put("runner_type", "instance_type")
                    .put("is_shared", false).put("id", 9000 + (jobId % 500)).put("description", instanceId);
            runner.putArray("tags").add("docker").add("linux");
        } else {
            hook.putNull("runner");
        }
        hook.putNull("environment");
        return hook.toString();
    }

    private static String spaced(Instant instant) {
        return instant.toString().replace('T', ' ').replace("Z", " UTC");
    }

    // -- measurements ----------------------------------------------------------------------------

    /** One delivery after the other; sorted latencies in ms. */
    private static double[] measure(WebhookService webhook, List<WebhookRequest> requests, Map<Integer, Integer> statuses,
                                    int[] duplicatesDetected) {
        double[] latency = new double[requests.size()];
        for (int i = 0; i < requests.size(); i++) {
            long before = System.nanoTime();
            WebhookResponse response = webhook.handle(requests.get(i));
            latency[i] = (System.nanoTime() - before) / 1e6;
            statuses.merge(response.status(), 1, Integer::sum);
            if (response.body().contains("\"duplicate\":true")) {
                duplicatesDetected[0]++;
            }
        }
        Arrays.sort(latency);
        return latency;
    }

    private double concurrentThroughput(WebhookService webhook, List<WebhookRequest> requests,
                                        Map<Integer, Integer> statuses) throws Exception {
        AtomicInteger next = new AtomicInteger();
        Map<Integer, Integer> seen = new ConcurrentHashMap<>();
        long start = System.nanoTime();
        try (ExecutorService clients = Executors.newFixedThreadPool(settings.concurrency())) {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < settings.concurrency(); c++) {
                done.add(clients.submit(() -> {
                    for (int i = next.getAndIncrement(); i < requests.size(); i = next.getAndIncrement()) {
                        seen.merge(webhook.handle(requests.get(i)).status(), 1, Integer::sum);
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        }
        double perSecond = requests.size() / ((System.nanoTime() - start) / 1e9);
        seen.forEach((status, n) -> statuses.merge(status, n, Integer::sum));
        return perSecond;
    }

    /**
     * {@code pipelineDeliveries} Pipeline Hooks of a new pipeline listing {@code builds} builds each
     * (a big pipeline that just started: a fifth pending, a tenth running, a fifth finished, the rest
     * created), one after the other; then waits until every listed job is stored.
     */
    private PipelineHookTimes pipelineHooks(WebhookService webhook, io.runnerscale.store.JobStore store, int builds)
            throws InterruptedException {
        double[] answers = new double[settings.pipelineDeliveries()];
        double[] stored = new double[settings.pipelineDeliveries()];
        Map<Integer, Integer> statuses = new TreeMap<>();
        int bodyBytes = 0;
        int missing = 0;
        for (int d = 0; d < settings.pipelineDeliveries(); d++) {
            long projectId = 5000 + d;
            long firstJob = nextJobId;
            nextJobId += builds;
            String body = pipelineHook(projectId, firstJob, builds);
            bodyBytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            WebhookRequest request = pipelineRequest(body);
            long before = System.nanoTime();
            WebhookResponse response = webhook.handle(request);
            long answered = System.nanoTime();
            answers[d] = (answered - before) / 1e6;
            statuses.merge(response.status(), 1, Integer::sum);
            if (response.status() / 100 != 2) {
                stored[d] = Double.NaN;
                continue;
            }
            // stored: a sample of the listed jobs polled (every 100th and the last), then all checked untimed
            long deadline = answered + TimeUnit.SECONDS.toNanos(120);
            for (long job = firstJob + builds - 1; job >= firstJob; job -= 100) {
                while (store.find(new JobKey(projectId, job)).isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(2);
                }
            }
            long sampled = System.nanoTime();
            Thread.sleep(200);
            for (long job = firstJob; job < firstJob + builds; job++) {
                if (store.find(new JobKey(projectId, job)).isEmpty()) {
                    missing++;
                }
            }
            stored[d] = sampled < deadline ? (sampled - before) / 1e6 : Double.NaN;
        }
        Arrays.sort(answers);
        Arrays.sort(stored);
        return new PipelineHookTimes(builds, bodyBytes, answers, stored, statuses, missing);
    }

    /** A Pipeline Hook in GitLab's documented shape, each build trimmed to the fields GitLab always sends. */
    private String pipelineHook(long projectId, long firstJob, int builds) {
        ObjectNode hook = json.createObjectNode().put("object_kind", "pipeline");
        hook.putObject("object_attributes").put("id", firstJob / 10).put("iid", 3).put("ref", "main")
                .put("tag", false).put("sha", "bcbb5ec396a2c0f828686f14fac9b80b780504f2")
                .put("source", "push").put("status", "running").put("created_at", "2024-05-06 08:00:00 UTC");
        hook.putObject("project").put("id", projectId).put("name", "monorepo")
                .put("path_with_namespace", "acme/monorepo").put("default_branch", "main");
        var list = hook.putArray("builds");
        String[] stages = {"build", "test", "deploy"};
        for (int i = 0; i < builds; i++) {
            long jobId = firstJob + i;
            tagsByJob.put(new JobKey(projectId, jobId), i % 10 == 0 ? List.of("gpu") : List.of("docker"));
            int kind = i % 20;
            String status = kind < 4 ? "pending" : kind < 6 ? "running" : kind < 10 ? "success" : "created";
            ObjectNode build = list.addObject().put("id", jobId).put("stage", stages[i % 3])
                    .put("name", "test " + i).put("status", status).put("created_at", "2024-05-06 08:00:00 UTC");
            if (status.equals("running") || status.equals("success")) {
                build.put("started_at", "2024-05-06 08:00:40 UTC");
            } else {
                build.putNull("started_at");
            }
            if (status.equals("success")) {
                build.put("finished_at", "2024-05-06 08:05:40 UTC");
            } else {
                build.putNull("finished_at");
            }
            build.put("allow_failure", false).putNull("runner");
        }
        return hook.toString();
    }

    private WebhookRequest pipelineRequest(String body) {
        Map<String, String> headers = Map.of(
                "Content-Type", "application/json",
                "X-Gitlab-Event", "Pipeline Hook",
                "X-Gitlab-Token", TOKEN,
                "X-Gitlab-Event-UUID", UUID.randomUUID().toString(),
                "Idempotency-Key", UUID.randomUUID().toString());
        return new WebhookRequest(headers, body, body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
    }

    /** @param millis pending webhook called -> launch; answered: the webhook's own part of it */
    private record ScaleOut(double[] millis, double[] answered, int timeouts) {
    }

    /**
     * Each pending job raises the needed capacity by one instance (instances never boot here), so
     * each webhook must lead to one launch; timed from the call to the fleet's launch.
     */
    private ScaleOut scaleOut(EmbeddedDynamo dynamo, PoolsConfigSource pools) throws InterruptedException {
        String table = TABLE + "-fast";
        dynamo.createTable(table);
        DynamoJobStore store = new DynamoJobStore(dynamo.client(), table, Duration.ofDays(7));
        BlockingQueue<Long> launches = new LinkedBlockingQueue<>();
        Clock clock = Clock.systemUTC();
        SimulatedFleet fleet = new SimulatedFleet(clock, () -> Duration.ofHours(1), new SimulatedFleet.Listener() {
            @Override
            public void launched(SimulatedFleet.Instance instance) {
                launches.add(System.nanoTime());
            }

            @Override
            public void terminated(SimulatedFleet.Instance instance) {
            }
        });
        ScalerService scaler = new ScalerService(pools, store, fleet, fleet,
                new DemandHistoryForecast(new InMemoryDemandHistory()), clock);
        int warm = Math.min(50, settings.scaleJobs());
        List<Double> samples = new ArrayList<>();
        List<Double> answered = new ArrayList<>();
        int timeouts = 0;
        try (LocalScaleRequests scaleRequests = new LocalScaleRequests(scaler)) {
            WebhookService webhook = new WebhookService(new WebhookAuthenticator(() -> TOKEN), pools, store,
                    new PoolResolver(this::jobTags, store, 10_000), scaleRequests, json, clock);
            for (int i = 0; i < warm + settings.scaleJobs(); i++) {
                long jobId = nextJobId++;
                tagsByJob.put(new JobKey(77, jobId), List.of("docker"));
                WebhookRequest pending = request(jobHook(77, jobId, "pending", Instant.now(), null));
                launches.clear();
                long before = System.nanoTime();
                webhook.handle(pending);
                long answeredAt = System.nanoTime();
                Long launchedAt = launches.poll(5, TimeUnit.SECONDS);
                if (i < warm) {
                    continue;
                }
                if (launchedAt == null) {
                    timeouts++;
                } else {
                    samples.add((launchedAt - before) / 1e6);
                    answered.add((answeredAt - before) / 1e6);
                }
            }
            scaleRequests.drain(Duration.ofSeconds(5));
        }
        double[] millis = samples.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return new ScaleOut(millis, answered.stream().mapToDouble(Double::doubleValue).sorted().toArray(), timeouts);
    }

    // -- report ----------------------------------------------------------------------------------

    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private void print(Report r, PrintStream out) {
        out.printf(Locale.ROOT, "  warm-up: %,d deliveries; measured: %,d Job Hook deliveries (pending/running/success, "
                + "%,d duplicates; %,d answered as duplicates)%n", settings.warmup(), r.deliveries(), r.duplicates(),
                r.duplicatesDetected());
        out.println("  answers (sequential and concurrent runs): " + r.statusCounts());
        double[] l = r.latencyMs();
        out.printf(Locale.ROOT, "  latency ms (1 client):   p50 %.2f   p90 %.2f   p99 %.2f   max %.2f%n",
                percentile(l, 50), percentile(l, 90), percentile(l, 99), l.length == 0 ? Double.NaN : l[l.length - 1]);
        double[] own = r.inMemoryLatencyMs();
        out.printf(Locale.ROOT, "    same on InMemoryJobStore: p50 %.3f   p90 %.3f   p99 %.3f   max %.2f  (our code without DynamoDB Local)%n",
                percentile(own, 50), percentile(own, 90), percentile(own, 99), own.length == 0 ? Double.NaN : own[own.length - 1]);
        out.printf(Locale.ROOT, "  throughput: %,.0f deliveries/s (1 client)", r.sequentialPerSecond());
        if (r.concurrency() > 1) {
            out.printf(Locale.ROOT, ", %,.0f deliveries/s (%d concurrent clients)", r.concurrentPerSecond(), r.concurrency());
        }
        out.println();
        double[] s = r.scaleOutMs();
        out.printf(Locale.ROOT, "  pending webhook -> desired capacity raised (LocalScaleRequests, ScalerService, SimulatedFleet), "
                + "%d jobs:%n    p50 %.2f ms   p99 %.2f ms   max %.2f ms%s%n", s.length, percentile(s, 50), percentile(s, 99),
                s.length == 0 ? Double.NaN : s[s.length - 1],
                r.scaleOutTimeouts() > 0 ? "   (" + r.scaleOutTimeouts() + " without a launch within 5 s)" : "");
        double[] w = r.scaleOutWebhookMs();
        out.printf(Locale.ROOT, "    of which the webhook's answer: p50 %.2f ms   p99 %.2f ms; the rest is the decision (it reads "
                + "every live job and instance of the pool: here a backlog growing to %d pending jobs)%n",
                percentile(w, 50), percentile(w, 99), settings.scaleJobs() + Math.min(50, settings.scaleJobs()));
        for (PipelineHookTimes p : r.pipelineHooks()) {
            double[] a = p.answerMs();
            double[] all = p.allStoredMs();
            out.printf(Locale.ROOT, "  Pipeline Hook with %,d builds (%,d bytes), %d deliveries: answered p50 %.0f ms   p99 %.0f ms"
                    + "   max %.0f ms;%n    stored (sampled jobs) after p50 %.0f ms   max %.0f ms; answers %s; jobs missing: %d%n",
                    p.builds(), p.bodyBytes(), a.length, percentile(a, 50), percentile(a, 99), a[a.length - 1],
                    percentile(all, 50), all[all.length - 1], p.statusCounts(), p.missingJobs());
        }
        out.flush();
    }
}
