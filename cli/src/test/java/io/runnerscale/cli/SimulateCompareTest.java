package io.runnerscale.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.simulate.TraceJob;
import io.runnerscale.simulate.TraceReader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.runnerscale.cli.MainRun.main;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code simulate --compare}: the sample week of jobs under the built-in EC2 pool and, on the same
 * trace, under {@code samples/pools-fargate.yaml} (one on-demand 2 vCPU / 4 GiB task per job), each
 * pool with its own row of wait and dollars.
 */
@Timeout(120)
class SimulateCompareTest {
    static final Path WEEK = Path.of("..", "samples", "ci-jobs-1week.jsonl");
    static final Path FARGATE = Path.of("..", "samples", "pools-fargate.yaml");
    /** us-east-1 Linux/x86 on-demand, 2 vCPU and 4 GB, per hour. */
    static final double FARGATE_HOURLY = 2 * 0.04048 + 4 * 0.004445;
    static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode ec2Alone;
    static JsonNode compared;

    @BeforeAll
    static void simulate() throws IOException {
        MainRun alone = main("simulate", "--trace", WEEK.toString(), "--price", "0.0416", "--json", "--no-progress");
        assertEquals(0, alone.code(), alone.err());
        ec2Alone = JSON.readTree(alone.out());
        MainRun both = main("simulate", "--trace", WEEK.toString(), "--price", "0.0416", "--json", "--no-progress",
                "--compare", FARGATE.toString());
        assertEquals(0, both.code(), both.err());
        compared = JSON.readTree(both.out());
    }

    @Test
    void theEc2RunIsTheSameWithOrWithoutAComparison() {
        for (String field : List.of("jobs", "wait_seconds", "instance_hours", "idle_instance_hours", "peak_instances",
                "cost_usd", "drains")) {
            assertEquals(ec2Alone.get(field), compared.get(field), field);
        }
        assertEquals(ec2Alone.get("baselines"), compared.get("baselines"), "the bounds are the --config pools'");
        JsonNode ec2Pool = compared.get("pools").get(0);
        assertEquals("default", ec2Pool.get("pool").asText());
        assertEquals("ec2-asg", ec2Pool.get("backend").asText());
        assertEquals(compared.get("instance_hours"), ec2Pool.get("instance_hours"));
        assertEquals(compared.get("cost_usd"), ec2Pool.get("cost_usd"));
        assertEquals(compared.get("wait_seconds"), ec2Pool.get("wait_seconds"));
    }

    @Test
    void theFargateRunBillsJobHoursPlusStartsPlusTheMinimumAndNothingIdles() throws IOException {
        List<TraceJob> jobs = new TraceReader().read(WEEK).jobs();
        double lowest = 0;
        double highest = 0;
        for (TraceJob job : jobs) {
            double seconds = job.duration().toMillis() / 1000.0;
            // start time 40s-60s, whole seconds billed, a minute at least
            lowest += Math.max(60, 40 + seconds);
            highest += Math.max(60, Math.ceil(60 + seconds));
        }
        JsonNode run = compared.get("compare").get(0);
        assertEquals("runnerscale:pools-fargate", run.get("policy").asText());
        assertEquals(jobs.size(), run.get("jobs").asInt());
        JsonNode pool = run.get("pools").get(0);
        assertEquals("fargate", pool.get("pool").asText());
        assertEquals("fargate 2 vCPU 4 GiB", pool.get("backend").asText());
        double hours = pool.get("instance_hours").asDouble();
        assertTrue(hours >= lowest / 3600 - 0.01 && hours <= highest / 3600 + 0.01,
                hours + " task-hours, expected " + lowest / 3600 + " to " + highest / 3600);
        assertEquals(0, pool.get("idle_instance_hours").asDouble(), 0.01, "one task per job, none left waiting");
        assertEquals(hours * FARGATE_HOURLY, pool.get("cost_usd").asDouble(), 0.01 + hours * 0.005 * FARGATE_HOURLY);
        assertTrue(pool.get("wait_seconds").get("p50").asDouble() >= 40, "every job waits for its task's start");
        assertTrue(pool.get("wait_seconds").get("max").asDouble() <= 62, "and not more: nothing queued");
    }

    @Test
    void theTwoDifferAsTheirBillingDoes() {
        JsonNode ec2 = compared.get("pools").get(0);
        JsonNode fargate = compared.get("compare").get(0).get("pools").get(0);
        assertTrue(ec2.get("idle_instance_hours").asDouble() > 10, "EC2 instances idle out idle_time: " + ec2);
        assertTrue(fargate.get("instance_hours").asDouble() < ec2.get("instance_hours").asDouble(),
                "tasks bill no idle_time");
        // a 2 vCPU / 4 GiB task costs more an hour than a t3.medium ($0.0987 vs $0.0416): more dollars for fewer hours
        assertTrue(fargate.get("cost_usd").asDouble() > ec2.get("cost_usd").asDouble());
    }

    @Test
    void theTableAndTheReportGiveEachPoolItsRow(@TempDir Path dir) throws IOException {
        Path report = dir.resolve("report.html");
        MainRun text = main("simulate", "--trace", WEEK.toString(), "--price", "0.0416", "--no-progress",
                "--compare", FARGATE.toString(), "--report", report.toString());
        assertEquals(0, text.code(), text.err());
        List<String> lines = text.out().lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("runnerscale:pools-fargate ")), text.out());
        String ec2Row = lines.stream().filter(l -> l.matches("runnerscale +default +ec2-asg .*")).findFirst()
                .orElseThrow(() -> new AssertionError("no EC2 pool row in\n" + text.out()));
        String fargateRow = lines.stream().filter(l -> l.matches("runnerscale:pools-fargate +fargate +fargate 2 vCPU 4 GiB .*"))
                .findFirst().orElseThrow(() -> new AssertionError("no Fargate pool row in\n" + text.out()));
        assertTrue(ec2Row.endsWith(String.format(java.util.Locale.ROOT, "%.2f", ec2Alone.get("cost_usd").asDouble())),
                ec2Row);
        assertTrue(fargateRow.contains(String.format(java.util.Locale.ROOT, "%.2f",
                compared.get("compare").get(0).get("pools").get(0).get("cost_usd").asDouble())), fargateRow);
        String html = Files.readString(report);
        assertTrue(html.contains("<h2>Per pool</h2>"), "the report has the per-pool table");
        assertTrue(html.contains("<td>runnerscale:pools-fargate</td><td>fargate</td><td>fargate 2 vCPU 4 GiB</td>"));
        assertTrue(html.contains("<td>runnerscale</td><td>default</td><td>ec2-asg</td>"));
    }

    @Test
    void withoutAComparisonOrAFargatePoolTheOutputHasNoPoolRows() {
        MainRun text = main("simulate", "--trace", WEEK.toString(), "--no-progress");
        assertEquals(0, text.code(), text.err());
        assertTrue(!text.out().contains("Per pool"), "one EC2 pool: the summary row is the pool's");
    }

    @Test
    void badComparisonsExit2NamingTheOption() {
        MainRun missing = main("simulate", "--trace", WEEK.toString(), "--compare", "no-such.yaml");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("--compare: no-such.yaml does not exist"), missing.err());
        MainRun twice = main("simulate", "--trace", WEEK.toString(), "--compare", FARGATE + "," + FARGATE);
        assertEquals(2, twice.code());
        assertTrue(twice.err().contains("--compare: two files are named"), twice.err());
        MainRun price = main("simulate", "--trace", WEEK.toString(), "--fargate-price", "0.04");
        assertEquals(2, price.code());
        assertTrue(price.err().contains("--fargate-price: '0.04' is not two prices"), price.err());
        MainRun discount = main("simulate", "--trace", WEEK.toString(), "--fargate-spot-discount", "1");
        assertEquals(2, discount.code());
        assertTrue(discount.err().contains("--fargate-spot-discount"), discount.err());
    }

    @Test
    void spotPoolsMayNameAComparedFilesPoolAndOnlyItIsInterrupted() throws IOException {
        MainRun r = main("simulate", "--trace", WEEK.toString(), "--json", "--no-progress", "--compare",
                Path.of("..", "samples", "pools-fargate-spot.yaml").toString(), "--spot-interruptions", "2",
                "--spot-pools", "fargate-spot");
        assertEquals(0, r.code(), r.err());
        JsonNode root = JSON.readTree(r.out());
        assertEquals(0, root.get("spot").get("interruptions").asInt(), "the EC2 pool is not a spot pool here");
        JsonNode spot = root.get("compare").get(0);
        assertTrue(spot.get("spot").get("interruptions").asInt() > 0, spot.toString());
        assertEquals(spot.get("spot").get("interruptions"), spot.get("pools").get(0).get("interruptions"));
        assertEquals(root.get("jobs"), spot.get("jobs"), "every interrupted job was retried and completed");
    }

    @Test
    void fargatePricesCanBeOverridden() throws IOException {
        MainRun cheap = main("simulate", "--trace", WEEK.toString(), "--json", "--no-progress", "--config",
                FARGATE.toString(), "--fargate-price", "0.02024,0.0022225");
        assertEquals(0, cheap.code(), cheap.err());
        JsonNode half = JSON.readTree(cheap.out());
        JsonNode full = compared.get("compare").get(0);
        assertEquals(full.get("instance_hours"), half.get("instance_hours"), "the same run");
        assertEquals(full.get("cost_usd").asDouble() / 2, half.get("cost_usd").asDouble(), 0.02, "at half the prices");
    }
}
