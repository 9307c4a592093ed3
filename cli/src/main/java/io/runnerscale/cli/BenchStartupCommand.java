package io.runnerscale.cli;

import io.runnerscale.bench.StartupBenchmark;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** {@code runnerscale bench-startup}: each function's Lambda start-up in fresh JVMs. */
final class BenchStartupCommand {
    static final String USAGE = """
            usage: runnerscale bench-startup [--runs 5] [--build-dir .aws-sam/build] [--only webhook,scaler,lifecycle]
                                           [--class-log]
              starts fresh JVMs with exactly each function's Lambda classpath (its `sam build` artifact plus the
              layer's jars; build them with: make sam-build MVN_FLAGS="-B -q -o") and template.yaml's
              JAVA_TOOL_OPTIONS and environment, AWS pointed at DynamoDB Local and a moto_server, and reports
              per function (medians of --runs JVMs): time from spawn to the handler constructed, the first
              request's time and spawn to its answer, without and with the handler's SnapStart priming
              (beforeCheckpoint run first; SnapStart's restore itself cannot be measured here), beside a minimal
              handler in the same rounds (ratios), and the layer's size.
              --class-log  also log loaded classes and list how many each layer jar supplied (slows every JVM)
              Run from the repository root (template.yaml, events/).
            """;

    private BenchStartupCommand() {
    }

    static int run(List<String> raw, PrintStream out, PrintStream err) throws Exception {
        Args args = Args.parse(raw, Set.of("runs", "build-dir", "only"), Set.of("class-log"));
        int runs = args.integer("runs", 5);
        if (runs < 1) {
            throw new Args.UsageException("--runs must be at least 1");
        }
        Path root = Path.of("").toAbsolutePath();
        if (!Files.isRegularFile(root.resolve("template.yaml"))) {
            throw new Main.Failure("bench-startup runs from the repository root (no template.yaml in " + root + ")");
        }
        Path buildDir = root.resolve(args.get("build-dir", ".aws-sam/build"));
        if (!Files.isDirectory(buildDir.resolve("CoreLayer"))) {
            throw new Main.Failure(buildDir + "/CoreLayer is missing: build the artifacts first with "
                    + "make sam-build MVN_FLAGS=\"-B -q -o\"");
        }
        StartupBenchmark.Report report = new StartupBenchmark(new StartupBenchmark.Settings(runs, root, buildDir,
                args.flag("class-log"), StartupBenchmark.splitOnly(args.get("only", "")))).run(out);
        if (!report.failures().isEmpty()) {
            err.println("error: " + report.failures().size() + " runs failed (listed above)");
            return 1;
        }
        return 0;
    }
}
