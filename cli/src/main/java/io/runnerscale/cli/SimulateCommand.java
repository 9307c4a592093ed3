package io.runnerscale.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.pool.ForecastConfig;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.simulate.Baselines;
import io.runnerscale.simulate.HtmlReport;
import io.runnerscale.simulate.Simulation;
import io.runnerscale.simulate.SimulationOptions;
import io.runnerscale.simulate.SimulationResult;
import io.runnerscale.simulate.TraceJob;
import io.runnerscale.simulate.TraceReader;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.IntConsumer;

/** {@code runnerscale simulate}: wait time and cost of a workload under runnerscale and the baselines. */
final class SimulateCommand {
    static final String USAGE = """
            usage: runnerscale simulate --trace FILE [--config pools.yaml] [--boot 50s] [--json] [--report report.html]
                                        [--price USD_PER_INSTANCE_HOUR] [--spot-rate PER_INSTANCE_HOUR] [--boot-jitter 0.1]
                                        [--seed N] [--no-progress]
              --trace      job history as GitLab API job objects (GET /projects/:id/jobs): a JSON array or JSON Lines
              --config     pools file (default: the built-in pool, one job per instance, idle_time 2m)
              --boot       mean time from launch until an instance's runner takes jobs (default 50s)
              --json       print one JSON object instead of the table
              --report     also write a self-contained HTML report with charts
              --price      instance price in USD per hour, to report cost
              --spot-rate  spot interruptions per instance-hour (jobs on an interrupted instance are retried)
            """;
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);

    private SimulateCommand() {
    }

    static int run(List<String> raw, PrintStream out, PrintStream err) throws IOException {
        Args args = Args.parse(raw, Set.of("trace", "config", "boot", "report", "price", "spot-rate", "boot-jitter", "seed"),
                Set.of("json", "no-progress"));
        String tracePath = args.get("trace", null);
        if (tracePath == null) {
            throw new Args.UsageException("--trace FILE is required");
        }
        Path traceFile = Path.of(tracePath);
        if (!Files.isRegularFile(traceFile)) {
            throw new Args.UsageException("--trace: " + tracePath + " does not exist");
        }
        PoolsConfig config = PoolsFiles.load(args.get("config", null));
        Duration boot = args.duration("boot", Duration.ofSeconds(50));
        SimulationOptions options = SimulationOptions.runnerscale(boot)
                .withBootJitter(args.number("boot-jitter", 0.1))
                .withPrice(args.number("price", 0))
                .withSpotRate(args.number("spot-rate", 0))
                .withSeed(args.integer("seed", 1));

        TraceReader.Trace trace = new TraceReader().read(traceFile);
        trace.problems().forEach(p -> err.println("warning: " + p));
        List<TraceJob> jobs = trace.jobs();
        if (jobs.isEmpty()) {
            err.println("error: " + tracePath + " holds no job that started (" + trace.skipped() + " skipped)");
            return 1;
        }
        boolean progress = !args.flag("no-progress") && System.console() != null;
        Progress bar = new Progress(err, jobs.size(), progress);

        boolean forecastConfigured = config.pools().stream().anyMatch(p -> p.forecast().enabled());
        List<SimulationResult> results = new ArrayList<>();
        Simulation ours = new Simulation("runnerscale", jobs, config, options, bar.stage("runnerscale"));
        results.add(ours.run());
        PoolsConfig variant = withForecast(config, !forecastConfigured);
        results.add(new Simulation(forecastConfigured ? "runnerscale-no-forecast" : "runnerscale+forecast", jobs,
                variant, options, bar.stage("forecast")).run());
        results.add(new Simulation("gitlab_taskscaler", jobs, withForecast(config, false),
                SimulationOptions.gitlabTaskscaler(options), bar.stage("gitlab_taskscaler")).run());
        results.add(Baselines.oracle(jobs, options));
        results.add(alwaysOn(jobs, config, options));
        bar.done();
        if (ours.unmatched() > 0) {
            err.println("warning: " + ours.unmatched() + " job(s) match no pool's tags and were not simulated");
        }

        String source = traceFile.getFileName() + ": " + jobs.size() + " jobs, "
                + DAY.format(jobs.getFirst().requestedAt()) + " to " + DAY.format(jobs.getLast().requestedAt())
                + ", boot " + boot.toSeconds() + "s" + (trace.skipped() > 0 ? ", " + trace.skipped() + " skipped" : "");
        if (args.flag("json")) {
            out.println(json(results, source));
        } else {
            out.println("runnerscale simulate  " + source);
            out.print(table(results));
        }
        String report = args.get("report", null);
        if (report != null) {
            HtmlReport.write(Path.of(report), "runnerscale simulation", source, results);
            err.println("report written to " + Path.of(report).toAbsolutePath());
        }
        return 0;
    }

    /** A fixed fleet per pool, each sized for its own peak. */
    private static SimulationResult alwaysOn(List<TraceJob> jobs, PoolsConfig config, SimulationOptions options) {
        Map<PoolConfig, List<TraceJob>> byPool = new LinkedHashMap<>();
        for (TraceJob job : jobs) {
            config.poolFor(job.tags()).ifPresent(pool -> byPool.computeIfAbsent(pool, p -> new ArrayList<>()).add(job));
        }
        int count = 0;
        double hours = 0;
        double idle = 0;
        int peak = 0;
        Double cost = null;
        for (Map.Entry<PoolConfig, List<TraceJob>> entry : byPool.entrySet()) {
            SimulationResult result = Baselines.alwaysOn(entry.getValue(), entry.getKey().capacityPerInstance(), options);
            count += result.jobs();
            hours += result.instanceHours();
            idle += result.idleInstanceHours();
            peak += result.peakInstances();
            if (result.costUsd() != null) {
                cost = (cost == null ? 0 : cost) + result.costUsd();
            }
        }
        return new SimulationResult("always_on", count, new double[count], hours, idle, peak, cost, 0, List.of());
    }

    static PoolsConfig withForecast(PoolsConfig config, boolean enabled) {
        return new PoolsConfig(config.pools().stream().map(p -> {
            ForecastConfig changed = p.forecast().withEnabled(enabled);
            return new PoolConfig(p.name(), p.match(), p.backend(), p.capacityPerInstance(), p.maxInstances(),
                    p.maxUseCount(), p.bootTimeout(), p.policy(), changed);
        }).toList());
    }

    static String table(List<SimulationResult> results) {
        double oracleHours = results.stream().filter(r -> r.policy().equals("oracle"))
                .mapToDouble(SimulationResult::instanceHours).findFirst().orElse(0);
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT,
                "%-24s %6s %8s %8s %8s %8s %9s %9s %5s %9s %9s%n", "policy", "jobs", "wait p50", "p95", "p99", "max",
                "inst-h", "idle-h", "peak", "vs oracle", "cost $"));
        for (SimulationResult r : results) {
            out.append(String.format(Locale.ROOT, "%-24s %6d %7.1fs %7.1fs %7.1fs %7.1fs %9.1f %9.1f %5d %8.2fx %9s%n",
                    r.policy(), r.jobs(), r.waitPercentile(50), r.waitPercentile(95), r.waitPercentile(99), r.maxWait(),
                    r.instanceHours(), r.idleInstanceHours(), r.peakInstances(),
                    oracleHours > 0 ? r.instanceHours() / oracleHours : 0,
                    r.costUsd() == null ? "-" : String.format(Locale.ROOT, "%.2f", r.costUsd())));
        }
        return out.toString();
    }

    static String json(List<SimulationResult> results, String source) {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = summary(mapper, results.getFirst());
        root.put("trace", source);
        ObjectNode baselines = root.putObject("baselines");
        for (SimulationResult r : results.subList(1, results.size())) {
            if (r.policy().startsWith("runnerscale")) {
                root.set(r.policy().equals("runnerscale+forecast") ? "forecast" : "no_forecast", summary(mapper, r));
            } else {
                baselines.set(r.policy(), summary(mapper, r));
            }
        }
        return root.toPrettyString();
    }

    private static ObjectNode summary(ObjectMapper mapper, SimulationResult r) {
        ObjectNode node = mapper.createObjectNode().put("policy", r.policy()).put("jobs", r.jobs());
        node.putObject("wait_seconds").put("p50", round(r.waitPercentile(50))).put("p95", round(r.waitPercentile(95)))
                .put("p99", round(r.waitPercentile(99))).put("max", round(r.maxWait()));
        node.put("instance_hours", round(r.instanceHours())).put("idle_instance_hours", round(r.idleInstanceHours()))
                .put("peak_instances", r.peakInstances());
        if (r.costUsd() == null) {
            node.putNull("cost_usd");
        } else {
            node.put("cost_usd", round(r.costUsd()));
        }
        if (r.interruptions() > 0) {
            node.put("interruptions", r.interruptions());
        }
        return node;
    }

    private static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }

    /** A one-line progress bar on the terminal; silent when output is not a terminal. */
    private static final class Progress {
        private final PrintStream err;
        private final int total;
        private final boolean enabled;

        Progress(PrintStream err, int total, boolean enabled) {
            this.err = err;
            this.total = total;
            this.enabled = enabled;
        }

        IntConsumer stage(String name) {
            return done -> {
                if (enabled) {
                    int width = 30;
                    int filled = (int) ((long) done * width / Math.max(1, total));
                    err.printf(Locale.ROOT, "\r%-20s [%s%s] %d/%d jobs", name, "#".repeat(filled),
                            " ".repeat(width - filled), done, total);
                }
            };
        }

        void done() {
            if (enabled) {
                err.print("\r" + " ".repeat(80) + "\r");
            }
        }
    }
}
