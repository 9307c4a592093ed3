package io.runnerscale.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.List;

import static io.runnerscale.pool.PoolsConfigParserTest.EC2;
import static io.runnerscale.pool.PoolsConfigParserTest.assertProblem;
import static io.runnerscale.pool.PoolsConfigParserTest.pool;
import static io.runnerscale.pool.PoolsConfigParserTest.problems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile pools files (issue 6): values that parse but make no sense, overflow or hang, shared
 * Auto Scaling groups, oversized input and YAML tricks. Each is a {@link ConfigException} that names
 * the pool and the field.
 */
class PoolsConfigLimitsTest {

    // ---- one pool per Auto Scaling group ----------------------------------------------------------

    @Test
    void twoPoolsOnOneAutoScalingGroupAreRejectedNamingBoth() {
        List<String> problems = problems("""
                pools:
                  - name: a
                    backend: {type: ec2-asg, asg: g}
                  - name: other
                    backend: {type: ec2-asg, asg: h}
                  - name: b
                    backend: {type: ec2-asg, asg: g}
                """);
        assertEquals(List.of("pool 'b': backend.asg: pools 'a' and 'b' both use Auto Scaling group 'g':"
                + " a group belongs to one pool"), problems);
    }

    @Test
    void threePoolsOnOneGroupNameTheFirstOwnerEachTime() {
        List<String> problems = problems("""
                pools:
                  - {name: a, backend: {type: ec2-asg, asg: g}}
                  - {name: b, backend: {type: ec2-asg, asg: g}}
                  - {name: c, backend: {type: ec2-asg, asg: g}}
                """);
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("pools 'a' and 'b'"), problems.toString());
        assertTrue(problems.get(1).contains("pools 'a' and 'c'"), problems.toString());
    }

    @Test
    void fargatePoolsMayShareACluster() {
        PoolsConfig config = PoolsConfigParser.parse("""
                pools:
                  - {name: small, match: {tags: [small]}, backend: {type: fargate, cluster: ci, task_definition: s, subnets: [s-1]}}
                  - {name: large, match: {tags: [large]}, backend: {type: fargate, cluster: ci, task_definition: l, subnets: [s-1]}}
                """, "t");
        assertEquals(2, config.pools().size());
    }

    // ---- numbers ----------------------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            capacity_per_instance: 1001         | pool 'p': capacity_per_instance: must be at most 1000, got 1001
            capacity_per_instance: 2147483647   | pool 'p': capacity_per_instance: must be at most 1000
            capacity_per_instance: 99999999999  | pool 'p': capacity_per_instance: must be at most 1000, got 99999999999
            max_instances: 100001               | pool 'p': max_instances: must be at most 100000, got 100001
            max_instances: -1                   | pool 'p': max_instances: must be at least 0, got -1
            max_use_count: 1000001              | pool 'p': max_use_count: must be at most 1000000, got 1000001
            max_use_count: -5                   | pool 'p': max_use_count: must be at least 0, got -5
            boot_timeout: 0s                    | pool 'p': boot_timeout: must be at least 30s, got 0s
            boot_timeout: 3h                    | pool 'p': boot_timeout: must be at most 2h, got 3h
            boot_timeout: 99999999999999h       | pool 'p': boot_timeout: '99999999999999h' is too long
            boot_timeout: 9223372036854775807   | pool 'p': boot_timeout: '9223372036854775807' is too long
            boot_timeout: 99999999999999999999  | pool 'p': boot_timeout: '99999999999999999999' is too long
            """)
    void poolNumbersOutsideTheirRangeAreRejected(String line, String expected) {
        assertProblem(pool(line), expected);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            {idle_count: 10001}                  | pool 'p': policy[0].idle_count: must be at most 10000, got 10001
            {scale_factor_limit: 10001}          | pool 'p': policy[0].scale_factor_limit: must be at most 10000, got 10001
            {scale_factor: 101}                  | pool 'p': policy[0].scale_factor: must be at most 100, got 101
            {scale_factor: -0.5}                 | pool 'p': policy[0].scale_factor: must be a number >= 0, got '-0.5'
            {scale_factor: 1e400}                | pool 'p': policy[0].scale_factor: must be at most 100, got Infinity
            {scale_factor: .inf}                 | line 5: pools[0].policy[0].scale_factor: '.inf' is not a number runnerscale accepts
            {scale_factor: .nan}                 | line 5: pools[0].policy[0].scale_factor: '.nan' is not a number runnerscale accepts
            {idle_time: 99999999999999h}         | pool 'p': policy[0].idle_time: '99999999999999h' is too long
            {idle_time: 9999999999999h9999999999999h} | pool 'p': policy[0].idle_time: '9999999999999h9999999999999h' is too long
            {idle_time: 169h}                    | pool 'p': policy[0].idle_time: must be at most 168h, got 169h
            {timezone: Mars/Olympus_Mons}        | pool 'p': policy[0].timezone: 'Mars/Olympus_Mons' is not a time zone
            """)
    void policyValuesOutsideTheirRangeAreRejected(String entry, String expected) {
        assertProblem(pool("policy:", "  - " + entry), expected);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            {weeks: 9}                  | pool 'p': forecast.weeks: must be at most 8, got 9
            {max_idle: 10001}           | pool 'p': forecast.max_idle: must be at most 10000, got 10001
            {window: 0s}                | pool 'p': forecast.window: must be at least 1m, got 0s
            {window: 999h}              | pool 'p': forecast.window: must be at most 1h, got 999h
            {lead: 2h}                  | pool 'p': forecast.lead: must be at most 1h, got 2h
            {lead: 0s}                  | pool 'p': forecast.lead: must be at least 1m, got 0s
            {quantile: 1e400}           | pool 'p': forecast.quantile: must be between 0 and 1, got Infinity
            {quantile: .nan}            | line 4: pools[0].forecast.quantile: '.nan' is not a number runnerscale accepts
            """)
    void forecastValuesOutsideTheirRangeAreRejected(String forecast, String expected) {
        assertProblem(pool("forecast: " + forecast), expected);
    }

    @Test
    void valuesAtTheBoundsAreAccepted() {
        PoolConfig pool = PoolsConfigParser.parse(pool(
                "capacity_per_instance: 1000", "max_instances: 100000", "max_use_count: 1000000", "boot_timeout: 30s",
                "policy:", "  - {idle_count: 10000, idle_time: 168h, scale_factor: 100, scale_factor_limit: 10000}",
                "forecast: {weeks: 8, max_idle: 10000, window: 1h, lead: 1m, quantile: 1}"), "t").pools().getFirst();
        assertEquals(1000, pool.capacityPerInstance());
        assertEquals(100000, pool.maxInstances());
        assertEquals(1000000, pool.maxUseCount());
        assertEquals(Duration.ofSeconds(30), pool.bootTimeout());
        assertEquals(new PolicyEntry(List.of(), null, 10000, Duration.ofHours(168), 100, 10000), pool.policy().getFirst());
        assertEquals(new ForecastConfig(true, Duration.ofHours(1), 8, Duration.ofMinutes(1), 1, 10000), pool.forecast());
    }

    @Test
    void everyProblemIsListedAtOnce() {
        List<String> problems = problems(pool("capacity_per_instance: 5000", "max_instances: 200000",
                "policy:", "  - {scale_factor: 1000, idle_time: 999h}"));
        assertEquals(4, problems.size(), problems.toString());
    }

    // ---- cron periods -----------------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            */2147483647 * * * *     | pool 'p': policy[0].periods: minute step must be at most 60 in '*/2147483647'
            59/2147483647 * * * *    | pool 'p': policy[0].periods: minute step must be at most 60 in '59/2147483647'
            * * 31/2147483647 * *    | pool 'p': policy[0].periods: day of month step must be at most 31
            * * * * fri-mon/2147483647 | pool 'p': policy[0].periods: day of week step must be at most 8
            */99999999999 * * * *    | pool 'p': policy[0].periods: minute step must be at most 60 in '*/99999999999'
            70-5 * * * *             | pool 'p': policy[0].periods: minute '70-5' is outside 0-59
            70/5 * * * *             | pool 'p': policy[0].periods: minute '70/5' is outside 0-59
            * * 5-0 * *              | pool 'p': policy[0].periods: day of month '5-0' is outside 1-31
            """)
    @Timeout(5)
    void cronPeriodsWithHugeOrMisplacedNumbersAreRejected(String period, String expected) {
        assertProblem(pool("policy:", "  - {periods: [\"" + period + "\"]}"), expected);
    }

    // ---- the file as a whole ----------------------------------------------------------------------

    @Test
    void anEmptyPoolsListIsRejected() {
        assertEquals(List.of("pools: at least one pool is required"), problems("pools: []\n"));
    }

    @Test
    void aFileOverOneMebibyteIsRejectedBeforeParsing() {
        String huge = EC2 + "# " + "x".repeat(1_048_576) + "\n";
        List<String> problems = problems(huge);
        assertEquals(1, problems.size());
        assertTrue(problems.getFirst().startsWith("the file is " + huge.length() + " bytes; a pools file may have at most"
                + " 1048576 (1 MiB)"), problems.toString());
    }

    @Test
    @Timeout(10)
    void aliasesAreRejectedSoNoBillionLaughs() {
        StringBuilder yaml = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 30; i++) {
            yaml.append("a").append(i).append(": &a").append(i).append(" [")
                    .append(String.join(", ", java.util.Collections.nCopies(10, "*a" + (i - 1)))).append("]\n");
        }
        yaml.append(EC2);
        List<String> problems = problems(yaml.toString());
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.getFirst().startsWith("line 2: YAML aliases (*a0) are not supported"), problems.toString());
    }

    @Test
    void anAliasIsNotSilentlyReadAsItsAnchorName() {
        // Jackson reads an alias as the anchor's name: asg would silently have been "shared", not "runners".
        List<String> problems = problems("""
                pools:
                  - {name: a, backend: {type: ec2-asg, asg: &shared runners}}
                  - {name: b, backend: {type: ec2-asg, asg: *shared}}
                """);
        assertTrue(problems.getFirst().startsWith("line 3: YAML aliases (*shared) are not supported"), problems.toString());
    }

    @Test
    void duplicateKeysAreRejectedInsteadOfTheLastWinning() {
        List<String> problems = problems("""
                pools:
                  - name: p
                    backend: {type: ec2-asg, asg: runners}
                    max_instances: 5
                    max_instances: 500
                """);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.getFirst().startsWith("line 5: pools[0].max_instances: duplicate key"), problems.toString());
    }

    @Test
    void deepNestingIsRejected() {
        String deep = "pools: " + "[".repeat(5000) + "]".repeat(5000) + "\n";
        List<String> problems = problems(deep);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.getFirst().contains("nested deeper than"), problems.toString());
    }

    @Test
    void messagesNeverEchoUnboundedInput() {
        String longName = "n".repeat(10_000);
        String longValue = "v".repeat(10_000);
        List<String> problems = problems("""
                pools:
                  - name: %s
                    backend: {type: %s}
                    boot_timeout: %s
                    %s: 1
                    policy:
                      - {periods: ["%s"], timezone: %s}
                """.formatted(longName, longValue, longValue, longValue.substring(0, 1000), longValue, longValue));
        assertTrue(problems.size() >= 5, problems.toString());
        for (String problem : problems) {
            assertTrue(problem.length() < 400, problem.length() + ": " + problem.substring(0, Math.min(400, problem.length())));
        }
    }

    @Test
    void theNumberOfProblemsListedIsBounded() {
        StringBuilder yaml = new StringBuilder("pools:\n");
        for (int i = 0; i < 500; i++) {
            yaml.append("  - {name: p").append(i).append(", backend: {type: ec2-asg, asg: g").append(i)
                    .append("}, max_instances: -1}\n");
        }
        ConfigException e = assertThrows(ConfigException.class, () -> PoolsConfigParser.parse(yaml.toString(), "t"));
        assertEquals(101, e.problems().size());
        assertEquals("... and 400 more problems", e.problems().getLast());
    }
}
