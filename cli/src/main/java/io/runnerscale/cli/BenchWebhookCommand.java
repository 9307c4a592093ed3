package io.runnerscale.cli;

import io.runnerscale.bench.WebhookBenchmark;

import java.io.PrintStream;
import java.util.List;
import java.util.Set;

/** {@code runnerscale bench-webhook}: webhook latency in-process against DynamoDB Local. */
final class BenchWebhookCommand {
    static final String USAGE = """
            usage: runnerscale bench-webhook [--deliveries 5000] [--warmup 2000] [--concurrency 8] [--scale-jobs 200]
                                           [--pipeline-deliveries 5]
              measures the webhook (WebhookService + DynamoJobStore) against DynamoDB Local in this JVM, GitLab's
              API answered from memory: latency percentiles and throughput of realistic Job Hook deliveries
              (pending, running, success, ~10% duplicates), then pending webhook -> desired capacity through
              the local fast path, then Pipeline Hooks listing 500 and 5,000 builds (answer time, and time
              until every listed job is stored). Numbers describe runnerscale's code plus DynamoDB Local, not AWS.
            """;

    private BenchWebhookCommand() {
    }

    static int run(List<String> raw, PrintStream out, PrintStream err) throws Exception {
        Args args = Args.parse(raw, Set.of("deliveries", "warmup", "concurrency", "scale-jobs", "seed", "pipeline-deliveries"), Set.of());
        WebhookBenchmark.Settings d = WebhookBenchmark.Settings.defaults();
        WebhookBenchmark.Settings settings = new WebhookBenchmark.Settings(
                positive(args, "deliveries", d.deliveries()), atLeast(args, "warmup", d.warmup(), 0),
                positive(args, "concurrency", d.concurrency()), positive(args, "scale-jobs", d.scaleJobs()),
                args.integer("seed", (int) d.seed()), d.pipelineSizes(),
                atLeast(args, "pipeline-deliveries", d.pipelineDeliveries(), 0));
        WebhookBenchmark.Report report = new WebhookBenchmark(settings).run(out);
        int failed = report.statusCounts().entrySet().stream().filter(e -> e.getKey() != 200)
                .mapToInt(java.util.Map.Entry::getValue).sum();
        for (WebhookBenchmark.PipelineHookTimes p : report.pipelineHooks()) {
            failed += p.statusCounts().entrySet().stream().filter(e -> e.getKey() / 100 != 2)
                    .mapToInt(java.util.Map.Entry::getValue).sum() + p.missingJobs();
        }
        if (failed > 0 || report.scaleOutTimeouts() > 0) {
            err.println("error: " + failed + " deliveries not answered 200, " + report.scaleOutTimeouts()
                    + " pending jobs without a scale-out");
            return 1;
        }
        return 0;
    }

    private static int positive(Args args, String name, int fallback) {
        return atLeast(args, name, fallback, 1);
    }

    private static int atLeast(Args args, String name, int fallback, int min) {
        int value = args.integer(name, fallback);
        if (value < min) {
            throw new Args.UsageException("--" + name + " must be at least " + min);
        }
        return value;
    }
}
