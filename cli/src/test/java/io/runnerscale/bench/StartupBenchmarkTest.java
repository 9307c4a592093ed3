package io.runnerscale.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The whole benchmark once, on the real artifacts. Opt-in (RUNNERSCALE_MEASURE=1; a minute or two of
 * fresh JVMs, and it needs {@code make sam-build} first). Each run's answer is checked inside the
 * benchmark (the webhook answered 200, stored the job in its pool and queued a scale request; the
 * scaler queued the tick of the one pool; the lifecycle sweep answered SWEPT with a reconciler run):
 * a failed check is a failure here.
 */
class StartupBenchmarkTest {
    @Test
    @EnabledIfEnvironmentVariable(named = "RUNNERSCALE_MEASURE", matches = "1")
    void everyFunctionStartsAndAnswersCorrectlyOnItsLambdaClasspath() throws Exception {
        Path root = Path.of("..").toAbsolutePath().normalize();
        Path build = root.resolve(".aws-sam/build");
        assumeTrue(Files.isDirectory(build.resolve("CoreLayer")), "run make sam-build first");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();

        StartupBenchmark.Report report = new StartupBenchmark(new StartupBenchmark.Settings(1, root, build, false, List.of()))
                .run(new PrintStream(printed, true, StandardCharsets.UTF_8));

        String output = printed.toString(StandardCharsets.UTF_8);
        assertEquals(List.of(), report.failures(), output);
        assertEquals(StartupBenchmark.CASES.size(), report.cases().size());
        for (StartupBenchmark.CaseResult r : report.cases()) {
            assertEquals(1, r.plain().size(), r.testCase().name());
            assertEquals(r.testCase().minimal() ? 0 : 1, r.primed().size(), r.testCase().name());
            StartupBenchmark.Sample s = r.plain().getFirst();
            assertTrue(s.constructedMs() > 0 && s.answeredMs() > s.constructedMs(), r.testCase().name() + " " + s);
        }
        assertTrue(report.layer().jars() > 0 && report.layer().zipBytes() > 0, report.layer().toString());
        assertTrue(output.contains("| webhook (Job Hook, pending) | 1+1 |"), output);
    }
}
