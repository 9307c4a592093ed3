package io.runnerscale.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.lifecycle.DrainPolicy;
import io.runnerscale.pool.Durations;
import io.runnerscale.pool.ForecastConfig;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.simulate.Baselines;
import io.runnerscale.simulate.FargatePrices;
import io.runnerscale.simulate.HtmlReport;
import io.runnerscale.simulate.Simulation;
import io.runnerscale.simulate.SimulationOptions;
import io.runnerscale.simulate.SimulationResult;
import io.runnerscale.simulate.TraceJob;
import io.runnerscale.simulate.TracePools;
import io.runnerscale.simulate.TraceReader;
import io.runnerscale.simulate.WebhookFigures;
import io.runnerscale.simulate.WebhookLoss;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
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
import java.util.stream.Collectors;

/** {@code runnerscale simulate}: wait time and cost of a workload under runnerscale and the baselines. */
final class SimulateCommand {
    static final String USAGE = """
            usage: runnerscale simulate --trace FILE [--config pools.yaml|auto [--save-config FILE]]
                                        [--compare other.yaml,...] [--boot 50s]
                                        [--json] [--report report.html] [--price USD_PER_INSTANCE_HOUR] [--drain-time 5s]
                                        [--spot-interruptions PER_INSTANCE_HOUR [--spot-pools NAME,...]]
                                        [--fargate-price USD_PER_VCPU_HOUR,USD_PER_GB_HOUR]
                                        [--fargate-arm-price USD_PER_VCPU_HOUR,USD_PER_GB_HOUR]
                                        [--fargate-spot-discount 0.7] [--boot-jitter 0.1] [--seed N] [--no-progress]
                                        [--drop-webhooks SHARE [--reconcile-every 10m|off]] [--ebs-price 0.08]
              --trace       job history as GitLab API job objects (GET /projects/:id/jobs): a JSON array or JSON Lines;
                            bad records are skipped with a warning naming their line
              --config      pools file, or auto (the default): one pool per tag set among the trace's jobs, each
                            like the built-in pool (EC2, one job per instance, idle_time 2m), untagged jobs to a pool
                            named default; the derived pools file is printed on stderr
              --save-config write the derived pools file here instead of printing it (only without --config FILE)
              --compare     other pools files, comma-separated (at most 4): each replays the same trace under
                            runnerscale beside --config (e.g. the same jobs on a Fargate pool); every run's
                            pools get a row of their own
              --boot        mean time from launch until an instance's runner takes jobs, 1ms to 1h (default 50s)
              --boot-jitter spread of boot times, sigma of a log-normal around the mean, 0 to 1 (default 0.1)
              --json        print one JSON object instead of the table
              --report      also write a self-contained HTML report with charts
              --price       instance price in USD per hour, 0 to 1000, to report cost
              --ebs-price   EBS price in USD per GB-month, 0 to 10 (default 0.08: gp3 in us-east-1): what a stopped
                            (or hibernated) warm-pool instance costs, for its backend.volume_gib
              --drain-time  how long a drain takes once no job runs on the instance (pause the runner, check GitLab,
                            delete the runner, terminate), 0s to 10m (default 5s); the instance bills and takes no job
              --spot-interruptions
                            spot interruption warnings per instance-hour, 0 to 10 (default 0); each drains its instance
                            with a 100 s deadline: jobs still running then are cancelled and retried elsewhere
                            (--spot-rate is the old name)
              --spot-pools  the pools that are spot, comma-separated (default: every pool); a Fargate pool's
                            tasks are interrupted only with backend.spot: true (Fargate Spot), at the same rate per
                            task-hour: the job is cancelled and retried, the task stops 30 s later
              --fargate-price
                            Linux/x86 Fargate prices, USD per vCPU-hour and per GB-hour, 0 to 10 each
                            (default 0.04048,0.004445: us-east-1 on-demand); tasks bill from RunTask to their stop,
                            per second, at least a minute
              --fargate-arm-price
                            the same for ARM64 tasks (default 0.03238,0.00356)
              --fargate-spot-discount
                            Fargate Spot's discount off those prices, 0 to 0.95 (default 0.7: AWS's "up to 70%";
                            the live Spot price varies)
              --seed        seed of the random draws (boot times, decision delays, interruptions, lost webhooks);
                            any whole number
              --drop-webhooks
                            share of job webhook deliveries (pending, running, finished) lost on the way, 0 to 1
                            (default 0), each by its own draw: shows what lost hooks cost and what the reconciler
                            recovers. Applies to the runnerscale rows (gitlab_taskscaler polls GitLab instead)
              --reconcile-every
                            how often the real reconciler runs against the simulated GitLab, 1m to 1d, or off
                            (default: 10m, the lifecycle function's schedule, whenever webhooks are dropped; off
                            otherwise)
            """;
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);

    private SimulateCommand() {
    }

    static int run(List<String> raw, PrintStream out, PrintStream err) throws IOException {
        Args args = Args.parse(raw, Set.of("trace", "config", "compare", "boot", "report", "price",
                        "spot-interruptions", "spot-rate", "spot-pools", "drain-time", "boot-jitter", "seed",
                        "fargate-price", "fargate-arm-price", "fargate-spot-discount", "drop-webhooks",
                        "reconcile-every", "save-config", "ebs-price"),
                Set.of("json", "no-progress"));
        String tracePath = args.get("trace", null);
        if (tracePath == null) {
            throw new Args.UsageException("--trace FILE is required");
        }
        Path traceFile = readableTrace(tracePath);
        Path reportFile = args.get("report", null) == null ? null : writableReport(args.get("report", null));
        String configPath = args.get("config", null);
        boolean derive = configPath == null || configPath.equals(AUTO);
        Path saveFile = args.get("save-config", null) == null ? null : writable(args.get("save-config", null), "save-config");
        if (saveFile != null && !derive) {
            throw new Args.UsageException("--save-config writes the pools derived from the trace: give it without "
                    + "--config FILE (or with --config auto)");
        }
        // derived pools are known once the trace is read; a file's are checked before anything is simulated
        PoolsConfig config = derive ? null : PoolsFiles.load(configPath);
        List<Compared> compared = compared(args);
        Duration boot = args.durationIn("boot", Duration.ofSeconds(50), Duration.ofMillis(1), SimulationOptions.MAX_BOOT);
        SimulationOptions options = SimulationOptions.runnerscale(boot)
                .withBootJitter(args.numberIn("boot-jitter", 0.1, 0, SimulationOptions.MAX_BOOT_JITTER,
                        "sigma of the log-normal boot time"))
                .withPrice(args.numberIn("price", 0, 0, SimulationOptions.MAX_PRICE_PER_HOUR, "USD per instance-hour"))
                .withSpotRate(spotRate(args))
                .withSpotPools(derive ? Set.of() : spotPools(args, config, compared))
                .withDrainTime(args.durationIn("drain-time", SimulationOptions.DEFAULT_DRAIN_TIME, Duration.ZERO,
                        SimulationOptions.MAX_DRAIN_TIME))
                .withSeed(args.longNumber("seed", 1))
                .withFargatePrices(fargatePrices(args))
                .withEbsPrice(args.numberIn("ebs-price", SimulationOptions.DEFAULT_EBS_PRICE, 0,
                        SimulationOptions.MAX_EBS_PRICE, "USD per GB-month of EBS volume"));
        WebhookLoss loss = webhookLoss(args);

        TraceReader.Trace trace;
        try {
            trace = new TraceReader().read(traceFile);
        } catch (FileSystemException e) {
            err.println("error: cannot read " + tracePath + ": " + (e.getReason() != null ? e.getReason() : e.getClass().getSimpleName()));
            return 1;
        } catch (IOException e) {
            err.println("error: " + e.getMessage());
            return 1;
        }
        trace.problems().forEach(p -> err.println("warning: " + p));
        if (trace.moreProblems() > 0) {
            err.println("warning: ... and " + trace.moreProblems() + " more problem(s) like these");
        }
        if (trace.jobs().isEmpty()) {
            err.println("error: " + nothingToReplay(tracePath, trace));
            return 1;
        }
        String configLabel = derive ? "the pools derived from the trace" : configPath;
        if (derive) {
            String yaml = TracePools.yaml(trace.jobs());
            config = TracePools.parse(yaml);
            options = options.withSpotPools(spotPools(args, config, compared));
            if (saveFile != null) {
                try {
                    Files.writeString(saveFile, yaml);
                } catch (IOException e) {
                    err.println("error: cannot write the pools to " + saveFile + ": " + why(e));
                    return 1;
                }
                err.println("pools derived from the trace (" + config.pools().size() + ", one per tag set) written to "
                        + saveFile + "; edit them and pass the file with --config");
            } else {
                err.println("pools derived from the trace (one per tag set; --save-config FILE writes them to a file "
                        + "to edit and pass with --config):");
                err.print(yaml);
            }
        }
        // every row replays the same jobs: those every pools file takes (a row on other jobs is no comparison)
        List<PoolsConfig> files = new ArrayList<>(List.of(config));
        List<String> fileLabels = new ArrayList<>(List.of(configLabel));
        compared.forEach(c -> {
            files.add(c.config());
            fileLabels.add(c.path());
        });
        List<TraceJob> jobs = new ArrayList<>();
        Map<List<String>, Unmatched> left = new LinkedHashMap<>();
        for (TraceJob job : trace.jobs()) {
            List<String> notTakenBy = new ArrayList<>();
            for (int i = 0; i < files.size(); i++) {
                if (files.get(i).poolFor(job.tags()).isEmpty()) {
                    notTakenBy.add(fileLabels.get(i));
                }
            }
            if (notTakenBy.isEmpty()) {
                jobs.add(job);
            } else {
                List<String> tagSet = TracePools.tagSet(job.tags());
                left.merge(tagSet, new Unmatched(tagSet, 1, notTakenBy),
                        (a, b) -> new Unmatched(a.tags(), a.jobs() + 1, a.notTakenBy()));
            }
        }
        List<Unmatched> unmatchedSets = left.values().stream().sorted(java.util.Comparator
                .comparingInt(Unmatched::jobs).reversed().thenComparing(u -> String.join(",", u.tags()))).toList();
        int unmatched = trace.jobs().size() - jobs.size();
        if (jobs.isEmpty()) {
            err.println("error: no job of " + tracePath + " matches a pool of " + String.join(" and ", fileLabels)
                    + " (pools: " + files.stream().flatMap(c -> c.pools().stream()).map(PoolConfig::name).distinct()
                    .collect(Collectors.joining(", ")) + "); check each pool's match tags and run_untagged");
            printUnmatched(err, unmatched, unmatchedSets);
            return 1;
        }
        printUnmatched(err, unmatched, unmatchedSets);
        boolean progress = !args.flag("no-progress") && System.console() != null;
        Progress bar = new Progress(err, jobs.size(), progress);

        boolean forecastConfigured = config.pools().stream().anyMatch(p -> p.forecast().enabled());
        List<Simulation> simulations = List.of(
                new Simulation("runnerscale", jobs, config, options, bar.stage("runnerscale")).withWebhookLoss(loss),
                new Simulation(forecastConfigured ? "runnerscale-no-forecast" : "runnerscale+forecast", jobs,
                        withForecast(config, !forecastConfigured), options, bar.stage("forecast")).withWebhookLoss(loss),
                new Simulation("gitlab_taskscaler", jobs, withForecast(config, false),
                        SimulationOptions.gitlabTaskscaler(options), bar.stage("gitlab_taskscaler")));
        List<SimulationResult> results = new ArrayList<>();
        for (Simulation simulation : simulations) {
            results.add(simulation.run());
        }
        results.add(Baselines.oracle(jobs, config, options));
        results.add(alwaysOn(jobs, config, options));
        // the other pools files, on the same jobs, right under the headline
        List<Simulation> others = new ArrayList<>();
        for (Compared other : compared) {
            Simulation simulation = new Simulation(other.label(), jobs, other.config(), options, bar.stage(other.label()))
                    .withWebhookLoss(loss);
            others.add(simulation);
            results.add(others.size(), simulation.run()); // after the headline and the files before it
        }
        bar.done();
        List<Simulation> simulated = new ArrayList<>(simulations.subList(0, 1));
        simulated.addAll(others);
        simulated.addAll(simulations.subList(1, simulations.size()));
        for (int i = 0; i < simulated.size(); i++) {
            if (simulated.get(i).unfinished() > 0) {
                err.println("warning: " + results.get(i).policy() + ": " + simulated.get(i).unfinished()
                        + " job(s) never ran: still waiting " + Simulation.DRAIN_LIMIT.toDays()
                        + " days after the trace's last job (a pool with max_instances 0, far too few, or their pending webhook lost?); the figures leave them out");
            }
        }
        if (results.getFirst().jobs() == 0) {
            err.println("error: no job ran under " + configLabel + "; nothing to report");
            return 1;
        }

        String source = traceFile.getFileName() + ": " + jobs.size() + " jobs, "
                + DAY.format(jobs.getFirst().requestedAt()) + " to " + DAY.format(jobs.getLast().requestedAt())
                + ", boot " + Durations.format(boot) + (trace.skipped() > 0 ? ", " + trace.skipped() + " skipped" : "")
                + (unmatched > 0 ? ", " + unmatched + (compared.isEmpty() ? " match no pool"
                : " left out (not taken by every pools file)") : "");
        boolean fargateSpot = java.util.stream.Stream.concat(java.util.stream.Stream.of(config),
                        compared.stream().map(Compared::config)).flatMap(c -> c.pools().stream())
                .anyMatch(p -> p.backend() instanceof PoolConfig.Fargate f && f.spot());
        // per-pool rows: the headline and the compared files, when there is more than one pool to tell apart
        List<SimulationResult> perPool = results.subList(0, 1 + compared.size());
        boolean poolRows = !compared.isEmpty() || config.pools().size() > 1
                || config.pools().stream().anyMatch(p -> p.backend() instanceof PoolConfig.Fargate);
        if (args.flag("json")) {
            out.println(json(results, source, options, compared.size(), poolRows, unmatchedSets));
        } else {
            out.println("runnerscale simulate  " + source);
            out.print(table(results));
            if (poolRows) {
                out.print(poolTable(perPool, options));
            }
            out.print(drainTable(results, options, fargateSpot));
            out.print(webhookTable(results));
        }
        if (reportFile != null) {
            try {
                HtmlReport.write(reportFile, "runnerscale simulation", source, results, drainNote(options, fargateSpot),
                        poolRows ? perPool : List.of(), poolNote(options));
            } catch (IOException e) {
                err.println("error: cannot write the report to " + reportFile + ": " + why(e));
                return 1;
            }
            err.println("report written to " + reportFile.toAbsolutePath());
        }
        return 0;
    }

    /** {@code --drop-webhooks} and {@code --reconcile-every}: the reconciler runs by default whenever hooks are lost. */
    static WebhookLoss webhookLoss(Args args) {
        double rate = args.numberIn("drop-webhooks", 0, 0, 1, "the share of webhook deliveries lost");
        String every = args.get("reconcile-every", null);
        if (every == null) {
            return new WebhookLoss(rate, rate > 0 ? WebhookLoss.DEFAULT_RECONCILE_EVERY : null);
        }
        if (every.trim().equalsIgnoreCase("off")) {
            return new WebhookLoss(rate, null);
        }
        return new WebhookLoss(rate, args.durationIn("reconcile-every", WebhookLoss.DEFAULT_RECONCILE_EVERY,
                Duration.ofMinutes(1), Duration.ofDays(1)));
    }

    /** The lost webhooks of each run that had any (or a reconciler, or a job that never started); empty otherwise. */
    static String webhookTable(List<SimulationResult> results) {
        List<SimulationResult> shown = WebhookFigures.shown(results);
        if (shown.isEmpty()) {
            return "";
        }
        int width = Math.max(24, shown.stream().mapToInt(r -> r.policy().length()).max().orElse(0));
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%n%s", wrap(WebhookFigures.note(shown), 110)));
        // short headings: the note and the report spell them out
        List<String> headings = List.of("drop pend", "drop run", "drop fin", "rec runs", "to-run", "to-fin", "found", "other",
                "unchanged", "lost p50", "lost p95", "lost max", "never", "stale");
        out.append(String.format(Locale.ROOT, "%-" + width + "s", "policy"));
        headings.forEach(h -> out.append(String.format(Locale.ROOT, " %9s", h)));
        out.append(String.format(Locale.ROOT, "%n"));
        for (SimulationResult r : shown) {
            out.append(String.format(Locale.ROOT, "%-" + width + "s", r.policy()));
            WebhookFigures.cells(r).forEach(c -> out.append(String.format(Locale.ROOT, " %9s", c)));
            out.append(String.format(Locale.ROOT, "%n"));
        }
        return out.toString();
    }

    /** {@code --config auto}: the pools derived from the trace (also what no {@code --config} means). */
    static final String AUTO = "auto";
    /** Tag sets listed one by one among the jobs left out; the rest are summed up. */
    static final int MAX_LISTED_TAG_SETS = 20;

    /**
     * Jobs of one tag set that some pools file does not take: left out of every row.
     *
     * @param tags       the set, sorted (empty: untagged)
     * @param notTakenBy the pools files none of whose pools takes them
     */
    record Unmatched(List<String> tags, int jobs, List<String> notTakenBy) {
        String shownTags() {
            return tags.isEmpty() ? "untagged" : "[" + tags.stream().map(Args::shownValue)
                    .collect(Collectors.joining(", ")) + "]";
        }
    }

    private static void printUnmatched(PrintStream err, int unmatched, List<Unmatched> sets) {
        if (unmatched == 0) {
            return;
        }
        err.println("warning: " + unmatched + " job(s) left out of every row (each row replays the jobs every pools "
                + "file takes), by tag set:");
        for (Unmatched set : sets.subList(0, Math.min(sets.size(), MAX_LISTED_TAG_SETS))) {
            err.println("warning:   " + set.shownTags() + ": " + set.jobs() + " job(s), taken by no pool of "
                    + String.join(", ", set.notTakenBy()));
        }
        if (sets.size() > MAX_LISTED_TAG_SETS) {
            List<Unmatched> rest = sets.subList(MAX_LISTED_TAG_SETS, sets.size());
            err.println("warning:   ... and " + rest.size() + " more tag set(s), "
                    + rest.stream().mapToInt(Unmatched::jobs).sum() + " job(s)");
        }
    }

    /** Most {@code --compare} files: each is a whole replay of the trace. */
    static final int MAX_COMPARED = 4;

    /** A pools file of {@code --compare}, and its rows' name ({@code runnerscale:<file name without extension>}). */
    record Compared(String path, PoolsConfig config, String label) {
    }

    private static List<Compared> compared(Args args) {
        String value = args.get("compare", null);
        if (value == null) {
            return List.of();
        }
        String[] paths = value.split(",", -1);
        if (paths.length > MAX_COMPARED) {
            throw new Args.UsageException("--compare: at most " + MAX_COMPARED + " pools files, got " + paths.length);
        }
        List<Compared> files = new ArrayList<>();
        java.util.Set<String> labels = new java.util.HashSet<>();
        for (String raw : paths) {
            String path = raw.trim();
            if (path.isEmpty()) {
                throw new Args.UsageException("--compare: '" + Args.shownValue(value)
                        + "' has an empty file name; give pools files separated by commas");
            }
            String file = path(path, "compare").getFileName().toString();
            String label = "runnerscale:" + (file.contains(".") ? file.substring(0, file.lastIndexOf('.')) : file);
            if (!labels.add(label)) {
                throw new Args.UsageException("--compare: two files are named " + Args.shownValue(file)
                        + "; their rows could not be told apart");
            }
            files.add(new Compared(path, PoolsFiles.load(path, "compare"), label));
        }
        return files;
    }

    /** {@code --fargate-price}, {@code --fargate-arm-price}, {@code --fargate-spot-discount} over us-east-1's. */
    private static FargatePrices fargatePrices(Args args) {
        FargatePrices prices = FargatePrices.US_EAST_1;
        double[] x86 = pricePair(args, "fargate-price");
        if (x86 != null) {
            prices = prices.withX86(x86[0], x86[1]);
        }
        double[] arm = pricePair(args, "fargate-arm-price");
        if (arm != null) {
            prices = prices.withArm(arm[0], arm[1]);
        }
        return prices.withSpotDiscount(args.numberIn("fargate-spot-discount", prices.spotDiscount(), 0,
                FargatePrices.MAX_SPOT_DISCOUNT, "the share taken off the on-demand prices"));
    }

    /** {@code VCPU_HOUR,GB_HOUR}, each from 0 to {@link FargatePrices#MAX_UNIT_PRICE}; null when not given. */
    private static double[] pricePair(Args args, String option) {
        String value = args.get(option, null);
        if (value == null) {
            return null;
        }
        String[] parts = value.split(",", -1);
        double[] pair = new double[2];
        boolean ok = parts.length == 2;
        for (int i = 0; ok && i < 2; i++) {
            try {
                pair[i] = Double.parseDouble(parts[i].trim());
            } catch (NumberFormatException e) {
                pair[i] = Double.NaN;
            }
            ok = pair[i] >= 0 && pair[i] <= FargatePrices.MAX_UNIT_PRICE;
        }
        if (!ok) {
            throw new Args.UsageException("--" + option + ": '" + Args.shownValue(value) + "' is not two prices "
                    + "from 0 to " + plain(FargatePrices.MAX_UNIT_PRICE) + " separated by a comma (USD per vCPU-hour,"
                    + "USD per GB-hour), e.g. 0.04048,0.004445");
        }
        return pair;
    }

    /** {@code --spot-interruptions}, or its old name {@code --spot-rate}; not both. */
    private static double spotRate(Args args) {
        boolean oldName = args.get("spot-rate", null) != null;
        if (oldName && args.get("spot-interruptions", null) != null) {
            throw new Args.UsageException("--spot-rate is the old name of --spot-interruptions; give one of them");
        }
        String option = oldName ? "spot-rate" : "spot-interruptions";
        return args.numberIn(option, 0, 0, SimulationOptions.MAX_SPOT_RATE, "interruptions per instance-hour");
    }

    /** {@code --spot-pools}: names of pools of {@code --config} or a {@code --compare} file; none given means every pool. */
    private static Set<String> spotPools(Args args, PoolsConfig config, List<Compared> compared) {
        String value = args.get("spot-pools", null);
        if (value == null) {
            return Set.of();
        }
        if (args.get("spot-interruptions", null) == null && args.get("spot-rate", null) == null) {
            throw new Args.UsageException("--spot-pools needs --spot-interruptions (the rate of interruptions)");
        }
        Set<String> names = new java.util.TreeSet<>();
        for (String name : value.split(",", -1)) {
            String trimmed = name.trim();
            if (trimmed.isEmpty()) {
                throw new Args.UsageException("--spot-pools: '" + Args.shownValue(value)
                        + "' has an empty pool name; give names separated by commas, e.g. docker-spot,gpu");
            }
            if (config.pool(trimmed).isEmpty() && compared.stream().allMatch(c -> c.config().pool(trimmed).isEmpty())) {
                throw new Args.UsageException("--spot-pools: no pool '" + Args.shownValue(trimmed) + "' (pools: "
                        + java.util.stream.Stream.concat(java.util.stream.Stream.of(config),
                                compared.stream().map(Compared::config)).flatMap(c -> c.pools().stream())
                        .map(PoolConfig::name).distinct().collect(Collectors.joining(", ")) + ")");
            }
            names.add(trimmed);
        }
        return names;
    }

    /** The trace file, or a usage error saying why it cannot be one (a pipe such as {@code <(zcat ...)} is fine). */
    private static Path readableTrace(String path) {
        Path file = path(path, "trace");
        if (Files.isDirectory(file)) {
            throw new Args.UsageException("--trace: " + path + " is a directory, not a file of jobs");
        }
        if (!Files.exists(file)) {
            throw new Args.UsageException("--trace: " + path + " does not exist");
        }
        if (!Files.isReadable(file)) {
            throw new Args.UsageException("--trace: " + path + " cannot be read (permissions?)");
        }
        return file;
    }

    /** Checked before simulating, so a long run is not lost to a typo in the report's path. */
    private static Path writableReport(String path) {
        return writable(path, "report");
    }

    private static Path writable(String path, String option) {
        Path file = path(path, option);
        if (Files.isDirectory(file)) {
            throw new Args.UsageException("--" + option + ": " + path + " is a directory; name the file to write");
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new Args.UsageException("--" + option + ": directory " + parent + " does not exist");
        }
        if (Files.exists(file) ? !Files.isWritable(file) : !Files.isWritable(parent)) {
            throw new Args.UsageException("--" + option + ": cannot write " + path + " (permissions?)");
        }
        return file;
    }

    private static Path path(String path, String option) {
        try {
            return Path.of(path);
        } catch (InvalidPathException e) {
            throw new Args.UsageException("--" + option + ": '" + Args.shownValue(path) + "' is not a path");
        }
    }

    /** Why a trace gave nothing to replay: empty, or what its records were. */
    private static String nothingToReplay(String path, TraceReader.Trace trace) {
        if (trace.records() == 0) {
            return path + " is empty: no job records";
        }
        int problems = trace.records() - trace.notStarted() - trace.duplicates();
        return path + ": no job to replay among " + trace.records() + " record(s): " + trace.notStarted()
                + " never started" + (problems > 0 ? ", " + problems + " with a problem (warnings above)" : "")
                + "; a trace is a JSON array of GitLab jobs (GET /projects/:id/jobs) or JSON Lines, one job per line";
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
        boolean unpriced = false;
        for (Map.Entry<PoolConfig, List<TraceJob>> entry : byPool.entrySet()) {
            SimulationResult result = Baselines.alwaysOn(entry.getValue(), entry.getKey().capacityPerInstance(), options);
            count += result.jobs();
            hours += result.instanceHours();
            idle += result.idleInstanceHours();
            peak += result.peakInstances();
            // a Fargate pool's fixed fleet is that many tasks always running (an ECS service of runners)
            Double poolCost = entry.getKey().backend() instanceof PoolConfig.Fargate f
                    ? result.instanceHours() * options.fargatePrices().hourly(f, f.spot()
                    ? io.runnerscale.compute.FargateTasks.Capacity.FARGATE_SPOT
                    : io.runnerscale.compute.FargateTasks.Capacity.FARGATE)
                    : result.costUsd();
            if (poolCost != null) {
                cost = (cost == null ? 0 : cost) + poolCost;
            } else {
                unpriced = true;
            }
        }
        cost = unpriced ? null : cost;
        return new SimulationResult("always_on", count, new double[count], hours, idle, peak, cost,
                SimulationResult.Drains.NONE, List.of());
    }

    static PoolsConfig withForecast(PoolsConfig config, boolean enabled) {
        return new PoolsConfig(config.pools().stream().map(p -> {
            ForecastConfig changed = p.forecast().withEnabled(enabled);
            return new PoolConfig(p.name(), p.match(), p.backend(), p.capacityPerInstance(), p.maxInstances(),
                    p.maxUseCount(), p.bootTimeout(), p.policy(), changed);
        }).toList());
    }

    /**
     * One row per run. When a run had a warm pool, three more columns: its stopped instance-hours, the
     * EBS dollars they cost and the total with the instance dollars ({@code vs oracle} stays running
     * instance-hours over the oracle's).
     */
    static String table(List<SimulationResult> results) {
        double oracleHours = results.stream().filter(r -> r.policy().equals("oracle"))
                .mapToDouble(SimulationResult::instanceHours).findFirst().orElse(0);
        int width = Math.max(24, results.stream().mapToInt(r -> r.policy().length()).max().orElse(0));
        boolean warm = results.stream().anyMatch(r -> r.warm().any());
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT,
                "%-" + width + "s %6s %8s %8s %8s %8s %9s %9s %5s %9s %9s", "policy", "jobs", "wait p50", "p95", "p99",
                "max", "inst-h", "idle-h", "peak", "vs oracle", "cost $"));
        if (warm) {
            out.append(String.format(Locale.ROOT, " %9s %8s %9s", "stopped-h", "ebs $", "total $"));
        }
        out.append(String.format(Locale.ROOT, "%n"));
        for (SimulationResult r : results) {
            out.append(String.format(Locale.ROOT, "%-" + width + "s %6d %7.1fs %7.1fs %7.1fs %7.1fs %9.1f %9.1f %5d %8.2fx %9s",
                    r.policy(), r.jobs(), r.waitPercentile(50), r.waitPercentile(95), r.waitPercentile(99), r.maxWait(),
                    r.instanceHours(), r.idleInstanceHours(), r.peakInstances(),
                    oracleHours > 0 ? r.instanceHours() / oracleHours : 0, usd(r.costUsd())));
            if (warm) {
                out.append(String.format(Locale.ROOT, " %9.1f %8.2f %9s", r.warm().stoppedHours(), r.warm().ebsUsd(),
                        usd(r.totalUsd())));
            }
            out.append(String.format(Locale.ROOT, "%n"));
        }
        return out.toString();
    }

    /** A file write's failure in a few words: the file system's reason, else the exception's kind. */
    private static String why(IOException e) {
        return e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : e.getClass().getSimpleName();
    }

    private static String usd(Double value) {
        return value == null ? "-" : String.format(Locale.ROOT, "%.2f", value);
    }

    /**
     * Each pool of the given runs: its jobs' waits, its instance- (or task-) hours and its cost, so an
     * EC2 pool and a Fargate pool can be compared on one trace.
     */
    static String poolTable(List<SimulationResult> results, SimulationOptions options) {
        int width = Math.max(24, results.stream().mapToInt(r -> r.policy().length()).max().orElse(0));
        int poolWidth = Math.max(12, results.stream().flatMap(r -> r.pools().stream())
                .mapToInt(p -> p.pool().length()).max().orElse(0));
        int backendWidth = Math.max(7, results.stream().flatMap(r -> r.pools().stream())
                .mapToInt(p -> p.backend().length()).max().orElse(0));
        boolean spot = options.spotInterruptionsPerInstanceHour() > 0;
        boolean warm = results.stream().flatMap(r -> r.pools().stream()).anyMatch(p -> p.warm().any());
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%n%s", wrap(poolNote(options), 110)));
        out.append(String.format(Locale.ROOT, "%-" + width + "s %-" + poolWidth + "s %-" + backendWidth
                        + "s %6s %8s %8s %8s %8s %9s %9s %5s %9s", "policy", "pool", "backend", "jobs", "wait p50",
                "p95", "p99", "max", "inst-h", "idle-h", "peak", "cost $"));
        if (warm) {
            out.append(String.format(Locale.ROOT, " %9s %8s %9s %6s", "stopped-h", "ebs $", "total $", "warm"));
        }
        if (spot) {
            out.append(String.format(Locale.ROOT, " %8s %8s", "warnings", "retried"));
        }
        out.append(String.format(Locale.ROOT, "%n"));
        for (SimulationResult r : results) {
            for (SimulationResult.PoolResult p : r.pools()) {
                out.append(String.format(Locale.ROOT, "%-" + width + "s %-" + poolWidth + "s %-" + backendWidth
                                + "s %6d %7.1fs %7.1fs %7.1fs %7.1fs %9.1f %9.1f %5d %9s", r.policy(), p.pool(),
                        p.backend(), p.jobs(), p.waitPercentile(50), p.waitPercentile(95), p.waitPercentile(99),
                        p.maxWait(), p.instanceHours(), p.idleInstanceHours(), p.peakInstances(), usd(p.costUsd())));
                if (warm) {
                    SimulationResult.WarmFigures w = p.warm();
                    out.append(String.format(Locale.ROOT, " %9.1f %8.2f %9s %6d", w.stoppedHours(), w.ebsUsd(),
                            usd(p.totalUsd()), w.drawn()));
                }
                if (spot) {
                    out.append(String.format(Locale.ROOT, " %8d %8d", p.interruptions(), p.retried()));
                }
                out.append(String.format(Locale.ROOT, "%n"));
            }
        }
        return out.toString();
    }

    /** How the per-pool figures are made, in a sentence or two. */
    static String poolNote(SimulationOptions options) {
        FargatePrices prices = options.fargatePrices();
        return String.format(Locale.ROOT, "Per pool: a Fargate pool's instances are its tasks (one per job; a task takes "
                        + "the start time, runs one job and stops, or stops after its wait_timeout without one), billed "
                        + "from RunTask to the stop, per second, at least a minute, at $%s per vCPU-hour and $%s per "
                        + "GB-hour (x86; ARM64 $%s and $%s), Fargate Spot %s%% off. EC2 pools bill --price per "
                        + "instance-hour (- when none was given); a warm pool's stopped instances bill only their EBS "
                        + "volumes, volume_gib at $%s per GB-month (ebs $; total $ = cost $ + ebs $); warm: scale-outs "
                        + "drawn from the warm pool.", plain(prices.x86VcpuHour()), plain(prices.x86GbHour()),
                plain(prices.armVcpuHour()), plain(prices.armGbHour()), plain(prices.spotDiscount() * 100),
                plain(options.ebsPricePerGbMonth()));
    }

    /**
     * The drains of the simulated policies (the bounds have none), and their spot interruptions when
     * any were simulated.
     */
    static String drainTable(List<SimulationResult> results, SimulationOptions options) {
        return drainTable(results, options, false);
    }

    /** @param fargateSpot a simulated pools file has a Fargate Spot pool */
    static String drainTable(List<SimulationResult> results, SimulationOptions options, boolean fargateSpot) {
        List<SimulationResult> simulated = results.stream().filter(r -> !r.timeline().isEmpty()).toList();
        if (simulated.isEmpty()) {
            return "";
        }
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%n%s", wrap(drainNote(options, fargateSpot), 110)));
        int width = Math.max(24, simulated.stream().mapToInt(r -> r.policy().length()).max().orElse(0));
        out.append(String.format(Locale.ROOT, "%-" + width + "s %7s %10s", "policy", "drains", "draining-h"));
        boolean spot = options.spotInterruptionsPerInstanceHour() > 0;
        if (spot) {
            out.append(String.format(Locale.ROOT, " %8s %8s %8s %8s %10s %10s", "warnings", "jobs hit", "finished",
                    "retried", "retry wait", "lost work"));
        }
        out.append(String.format(Locale.ROOT, "%n"));
        for (SimulationResult r : simulated) {
            SimulationResult.Drains d = r.drains();
            out.append(String.format(Locale.ROOT, "%-" + width + "s %7d %10.1f", r.policy(), d.drains(),
                    d.drainingInstanceHours()));
            if (spot) {
                out.append(String.format(Locale.ROOT, " %8d %8d %8d %8d %8.1fmin %8.1fmin", d.interruptions(),
                        d.jobsAtWarning(), d.finishedBeforeDeadline(), d.retried(), d.retryWaitSeconds() / 60,
                        d.lostWorkSeconds() / 60));
            }
            out.append(String.format(Locale.ROOT, "%n"));
        }
        return out.toString();
    }

    /** What the drain and spot figures mean, in a sentence or two. */
    static String drainNote(SimulationOptions options) {
        return drainNote(options, false);
    }

    /** @param fargateSpot a simulated pools file has a Fargate Spot pool */
    static String drainNote(SimulationOptions options, boolean fargateSpot) {
        String note = "Drains: an instance leaves only through a drain (runner paused, no new job, waits for its jobs, "
                + "then " + Durations.format(options.drainTime()) + " to delete the runner and terminate); "
                + "no instance was terminated with a job on it.";
        if (options.spotInterruptionsPerInstanceHour() > 0) {
            note += String.format(Locale.ROOT, " Spot: %s interruption warnings per instance-hour on %s; a job still "
                    + "running %d s after its warning is cancelled and retried elsewhere (retried: without the drain "
                    + "it would have been lost; finished: ran out within the deadline).",
                    plain(options.spotInterruptionsPerInstanceHour()),
                    options.spotPools().isEmpty() ? "every pool" : "pool(s) " + String.join(", ", options.spotPools()),
                    DrainPolicy.SPOT_DEADLINE.toSeconds());
            if (fargateSpot) {
                note += " A Fargate Spot task's job is cancelled and retried at the interruption (a task cannot be"
                        + " drained), and the task stops " + Simulation.SPOT_TASK_STOP.toSeconds() + " s later.";
            }
        }
        return note;
    }

    /** {@code text} in lines of at most {@code width} characters (longer words stay whole), each ending in a newline. */
    static String wrap(String text, int width) {
        StringBuilder out = new StringBuilder();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            if (!line.isEmpty() && line.length() + 1 + word.length() > width) {
                out.append(line).append(System.lineSeparator());
                line.setLength(0);
            }
            line.append(line.isEmpty() ? "" : " ").append(word);
        }
        return out.append(line).append(System.lineSeparator()).toString();
    }

    private static String plain(double number) {
        return java.math.BigDecimal.valueOf(number).stripTrailingZeros().toPlainString();
    }

    static String json(List<SimulationResult> results, String source, SimulationOptions options) {
        return json(results, source, options, 0, false);
    }

    /**
     * @param compared how many results after the first are the {@code --compare} files' runs
     * @param pools    give the headline's and the compared runs' pools ({@code pools})
     */
    static String json(List<SimulationResult> results, String source, SimulationOptions options, int compared,
                       boolean pools) {
        return json(results, source, options, compared, pools, List.of());
    }

    /** @param unmatched the jobs left out of every row, by tag set ({@code unmatched}) */
    static String json(List<SimulationResult> results, String source, SimulationOptions options, int compared,
                       boolean pools, List<Unmatched> unmatched) {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = summary(mapper, results.getFirst(), options);
        root.put("trace", source);
        var left = root.putArray("unmatched");
        for (Unmatched set : unmatched) {
            ObjectNode node = left.addObject();
            set.tags().forEach(node.putArray("tags")::add);
            node.put("jobs", set.jobs());
            set.notTakenBy().forEach(node.putArray("not_taken_by")::add);
        }
        if (pools) {
            poolsOf(root, results.getFirst());
        }
        if (compared > 0) {
            var list = root.putArray("compare");
            for (SimulationResult r : results.subList(1, 1 + compared)) {
                ObjectNode node = summary(mapper, r, options);
                poolsOf(node, r);
                list.add(node);
            }
        }
        ObjectNode baselines = root.putObject("baselines");
        for (SimulationResult r : results.subList(1 + compared, results.size())) {
            if (r.policy().startsWith("runnerscale")) {
                root.set(r.policy().equals("runnerscale+forecast") ? "forecast" : "no_forecast",
                        summary(mapper, r, options));
            } else if (r.timeline().isEmpty()) {
                baselines.set(r.policy(), summary(mapper, r, null));
            } else {
                baselines.set(r.policy(), summary(mapper, r, options));
            }
        }
        return root.toPrettyString();
    }

    /** @param options null for a bound, which has no drains */
    private static ObjectNode summary(ObjectMapper mapper, SimulationResult r, SimulationOptions options) {
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
        warm(node, r.warm(), r.totalUsd());
        if (r.interruptions() > 0) {
            node.put("interruptions", r.interruptions());
        }
        SimulationResult.Webhooks w = r.webhooks();
        if (w.any()) {
            ObjectNode hooks = node.putObject("webhooks").put("drop_rate", w.dropRate())
                    .put("dropped_pending", w.droppedPending()).put("dropped_running", w.droppedRunning())
                    .put("dropped_finished", w.droppedFinished());
            if (w.reconcileEvery() == null) {
                hooks.putNull("reconcile_every_seconds");
            } else {
                hooks.put("reconcile_every_seconds", w.reconcileEvery().toSeconds());
            }
            hooks.put("reconciler_runs", w.reconcileRuns());
            ObjectNode kinds = hooks.putObject("reconciled");
            w.reconciled().forEach((kind, count) -> kinds.put(kind.name().toLowerCase(Locale.ROOT), count));
            hooks.put("repaired", w.repaired());
            hooks.putObject("lost_pending_wait_seconds").put("jobs", w.lostPendingWaits().length)
                    .put("p50", round(w.lostPendingWaitPercentile(50))).put("p95", round(w.lostPendingWaitPercentile(95)))
                    .put("max", round(w.lostPendingWaitPercentile(100)));
            hooks.put("never_started", w.neverStarted()).put("stale_at_end", w.staleAtEnd());
        }
        if (options != null) {
            SimulationResult.Drains d = r.drains();
            node.putObject("drains").put("count", d.drains())
                    .put("draining_instance_hours", round(d.drainingInstanceHours()))
                    .put("drain_time_seconds", options.drainTime().toMillis() / 1000.0);
            if (options.spotInterruptionsPerInstanceHour() > 0) {
                node.putObject("spot").put("interruptions", d.interruptions())
                        .put("jobs_running_at_warning", d.jobsAtWarning())
                        .put("finished_before_deadline", d.finishedBeforeDeadline())
                        .put("retried", d.retried())
                        .put("retry_wait_minutes", round(d.retryWaitSeconds() / 60))
                        .put("lost_work_minutes", round(d.lostWorkSeconds() / 60));
            }
        }
        return node;
    }

    /** The run's pools as {@code pools}: what each pool's jobs waited, its instance- or task-hours, its cost. */
    private static void poolsOf(ObjectNode node, SimulationResult r) {
        var pools = node.putArray("pools");
        for (SimulationResult.PoolResult p : r.pools()) {
            ObjectNode pool = pools.addObject().put("pool", p.pool()).put("backend", p.backend()).put("jobs", p.jobs());
            pool.putObject("wait_seconds").put("p50", round(p.waitPercentile(50))).put("p95", round(p.waitPercentile(95)))
                    .put("p99", round(p.waitPercentile(99))).put("max", round(p.maxWait()));
            pool.put("instance_hours", round(p.instanceHours())).put("idle_instance_hours", round(p.idleInstanceHours()))
                    .put("peak_instances", p.peakInstances());
            if (p.costUsd() == null) {
                pool.putNull("cost_usd");
            } else {
                pool.put("cost_usd", round(p.costUsd()));
            }
            warm(pool, p.warm(), p.totalUsd());
            if (p.interruptions() > 0) {
                pool.put("interruptions", p.interruptions()).put("retried", p.retried());
            }
        }
    }

    /** Warm-pool figures beside the instance-hours (zero without a warm pool), and the total dollars. */
    private static void warm(ObjectNode node, SimulationResult.WarmFigures w, Double total) {
        node.put("stopped_instance_hours", round(w.stoppedHours()))
                .put("warm_pool_running_hours", round(w.warmRunningHours()))
                .put("ebs_usd", round(w.ebsUsd()));
        if (total == null) {
            node.putNull("total_usd");
        } else {
            node.put("total_usd", round(total));
        }
        if (w.any()) {
            node.putObject("warm_pool").put("launched", w.launched()).put("drawn", w.drawn()).put("returned", w.returned());
        }
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
