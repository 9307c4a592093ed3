package io.runnerscale.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Path;

import static io.runnerscale.cli.MainRun.main;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code simulate} with a warm pool: the sample week under the built-in pool and under
 * {@code samples/pools-warm-pool.yaml}, with the stopped hours and their EBS dollars beside the
 * instance-hours; and {@code --ebs-price}'s range.
 */
@Timeout(120)
class SimulateWarmPoolTest {
    static final Path WEEK = Path.of("..", "samples", "ci-jobs-1week.jsonl");
    static final Path WARM = Path.of("..", "samples", "pools-warm-pool.yaml");
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aWarmPoolRowHasStoppedHoursEbsDollarsAndATotalAndTheTableShowsThem() throws IOException {
        MainRun json = main("simulate", "--trace", WEEK.toString(), "--price", "0.0416", "--json", "--no-progress",
                "--compare", WARM.toString(), "--ebs-price", "0.1");
        assertEquals(0, json.code(), json.err());
        JsonNode root = JSON.readTree(json.out());
        assertEquals(0, root.get("stopped_instance_hours").asDouble(), "the built-in pool has no warm pool");
        assertEquals(root.get("cost_usd").asDouble(), root.get("total_usd").asDouble(), 1e-9);
        JsonNode warm = root.get("compare").get(0);
        double stopped = warm.get("stopped_instance_hours").asDouble();
        assertTrue(stopped > 0, warm.toString());
        // 30 GiB (the default volume) at $0.10 per GB-month of 730 h
        assertEquals(stopped * 30 * 0.1 / 730, warm.get("ebs_usd").asDouble(), 0.01);
        assertEquals(warm.get("cost_usd").asDouble() + warm.get("ebs_usd").asDouble(),
                warm.get("total_usd").asDouble(), 0.011);
        assertTrue(warm.get("warm_pool").get("drawn").asInt() > 0, warm.toString());
        assertTrue(warm.get("wait_seconds").get("p95").asDouble() < root.get("wait_seconds").get("p95").asDouble(),
                "resuming beats booting");
        assertEquals(warm.get("ebs_usd"), warm.get("pools").get(0).get("ebs_usd"));

        MainRun table = main("simulate", "--trace", WEEK.toString(), "--price", "0.0416", "--no-progress",
                "--compare", WARM.toString());
        assertEquals(0, table.code(), table.err());
        assertTrue(table.out().contains("stopped-h    ebs $   total $"), table.out());
    }

    @Test
    void theEbsPriceMustBeANumberFromZeroToTen() {
        for (String bad : new String[] {"11", "-0.01", "cheap", "NaN"}) {
            MainRun r = main("simulate", "--trace", WEEK.toString(), "--ebs-price", bad);
            assertEquals(2, r.code(), bad + ": " + r.err());
            assertTrue(r.err().contains("--ebs-price: '" + bad + "' is not a number from 0 to 10 (USD per GB-month of "
                    + "EBS volume)"), r.err());
        }
    }
}
