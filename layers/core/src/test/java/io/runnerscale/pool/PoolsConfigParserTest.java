package io.runnerscale.pool;

import io.runnerscale.testing.SharedFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PoolsConfigParserTest {

    static final String EC2 = """
            pools:
              - name: p
                backend: {type: ec2-asg, asg: runners}
            """;

    /** One ec2-asg pool named {@code p} with extra YAML lines at pool level (4-space indent). */
    static String pool(String... lines) {
        return EC2 + String.join("\n", List.of(lines).stream().map(l -> "    " + l).toList()) + "\n";
    }

    static List<String> problems(String yaml) {
        return assertThrows(ConfigException.class, () -> PoolsConfigParser.parse(yaml, "test.yaml")).problems();
    }

    static void assertProblem(String yaml, String expected) {
        List<String> problems = problems(yaml);
        assertTrue(problems.stream().anyMatch(p -> p.startsWith(expected)),
                "expected a problem starting with <" + expected + "> in " + problems);
    }

    // ---- the example from the design notes ----------------------------------------------------

    static String designExample() {
        String design = SharedFiles.read(SharedFiles.root().resolve("DESIGN.md"));
        Matcher m = Pattern.compile("## Pools.*?```yaml\\n(.*?)```", Pattern.DOTALL).matcher(design);
        assertTrue(m.find(), "DESIGN.md has a yaml block under ## Pools");
        return m.group(1);
    }

    @Test
    void theDesignExampleParses() {
        PoolsConfig config = PoolsConfigParser.parse(designExample(), "DESIGN.md");
        assertEquals(List.of("docker-spot", "fargate-small"), config.pools().stream().map(PoolConfig::name).toList());

        PoolConfig docker = config.pool("docker-spot").orElseThrow();
        assertEquals(new PoolConfig.Match(List.of("docker"), true), docker.match());
        assertEquals(new PoolConfig.Ec2Asg("gitlab-runners-docker"), docker.backend());
        assertEquals(2, docker.capacityPerInstance());
        assertEquals(25, docker.maxInstances());
        assertEquals(30, docker.maxUseCount());
        assertEquals(Duration.ofMinutes(5), docker.bootTimeout());
        assertEquals(2, docker.policy().size());
        PolicyEntry base = docker.policy().get(0);
        assertEquals(List.of(), base.periods());
        assertEquals(ZoneOffset.UTC, base.timezone());
        assertEquals(0, base.idleCount());
        assertEquals(Duration.ofMinutes(10), base.idleTime());
        assertEquals(0.0, base.scaleFactor());
        PolicyEntry office = docker.policy().get(1);
        assertEquals(List.of("* 8-18 * * mon-fri"), office.periods().stream().map(CronPeriod::expression).toList());
        assertEquals(ZoneId.of("Europe/Berlin"), office.timezone());
        assertEquals(2, office.idleCount());
        assertEquals(Duration.ofMinutes(20), office.idleTime());
        assertEquals(0.5, office.scaleFactor());
        assertEquals(10, office.scaleFactorLimit());
        assertEquals(ForecastConfig.OFF, docker.forecast());
        // Wednesday 13:00 in Berlin: the office entry; Saturday: the base entry
        assertEquals(office, docker.activePolicy(Instant.parse("2026-01-07T12:00:00Z")));
        assertEquals(base, docker.activePolicy(Instant.parse("2026-01-10T12:00:00Z")));

        PoolConfig fargate = config.pool("fargate-small").orElseThrow();
        assertEquals(new PoolConfig.Match(List.of("fargate"), false), fargate.match());
        PoolConfig.Fargate backend = (PoolConfig.Fargate) fargate.backend();
        assertEquals("ci", backend.cluster());
        assertEquals("gitlab-runner-small", backend.taskDefinition());
        assertTrue(backend.spot());
        assertFalse(backend.subnets().isEmpty());
        assertEquals(100, fargate.maxInstances());
        assertEquals(1, fargate.capacityPerInstance(), "default");
        assertEquals(0, fargate.maxUseCount(), "default");
        assertEquals(List.of(PolicyEntry.DEFAULT), fargate.policy());

        // job routing as the comment in the example says
        assertEquals("docker-spot", config.poolFor(List.of("docker")).orElseThrow().name());
        assertEquals("docker-spot", config.poolFor(List.of()).orElseThrow().name());
        assertEquals("fargate-small", config.poolFor(List.of("fargate")).orElseThrow().name());
        assertTrue(config.poolFor(List.of("docker", "fargate")).isEmpty());
    }

    @Test
    void jsonIsAcceptedToo() {
        PoolsConfig config = PoolsConfigParser.parse("""
                {"pools": [{"name": "f", "backend": {"type": "fargate", "cluster": "ci", "task_definition": "td",
                  "subnets": ["subnet-1", "subnet-2"], "security_groups": ["sg-1"]}, "max_instances": 7}]}
                """, "json");
        PoolConfig pool = config.pools().getFirst();
        assertEquals(new PoolConfig.Fargate("ci", "td", List.of("subnet-1", "subnet-2"), List.of("sg-1"), false),
                pool.backend());
        assertEquals(7, pool.maxInstances());
    }

    @Test
    void defaults() {
        PoolConfig pool = PoolsConfigParser.parse(EC2, "t").pools().getFirst();
        assertEquals(1, pool.capacityPerInstance());
        assertEquals(10, pool.maxInstances());
        assertEquals(0, pool.maxUseCount());
        assertEquals(PoolConfig.DEFAULT_BOOT_TIMEOUT, pool.bootTimeout());
        assertEquals(new PoolConfig.Match(List.of(), false), pool.match());
        assertEquals(List.of(PolicyEntry.DEFAULT), pool.policy());
        assertEquals(ForecastConfig.OFF, pool.forecast());
    }

    // ---- errors name the pool and the field ---------------------------------------------------

    @Test
    void errorNamesPoolAndField() {
        String yaml = """
                pools:
                  - name: docker-spot
                    backend: {type: ec2-asg, asg: gitlab-runners-docker}
                    capacity_per_instance: 0
                """;
        ConfigException e = assertThrows(ConfigException.class, () -> PoolsConfigParser.parse(yaml, "ssm:/runnerscale/pools"));
        assertEquals(List.of("pool 'docker-spot': capacity_per_instance: must be at least 1, got 0"), e.problems());
        assertTrue(e.getMessage().contains("ssm:/runnerscale/pools"), e.getMessage());
        assertTrue(e.getMessage().contains("pool 'docker-spot': capacity_per_instance"), e.getMessage());
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        String yaml = """
                pools:
                  - name: a
                    backend: {type: ec2-asg, asg: ra}
                    capacity_per_instance: 0
                    max_instances: -1
                    boot_timeout: soon
                    policy:
                      - {idle_count: -2, idle_time: 10m}
                      - {periods: ["61 * * * *"], timezone: Mars/Olympus, scale_factor: -1}
                  - name: b
                    backend: {type: lambda}
                    max_use_count: many
                """;
        List<String> problems = problems(yaml);
        assertEquals(9, problems.size(), problems.toString());
        List<String> expectedPrefixes = List.of(
                "pool 'a': capacity_per_instance: must be at least 1, got 0",
                "pool 'a': max_instances: must be at least 0, got -1",
                "pool 'a': boot_timeout: 'soon' is not a duration",
                "pool 'a': policy[0].idle_count: must be at least 0, got -2",
                "pool 'a': policy[1].periods: minute '61'",
                "pool 'a': policy[1].timezone: 'Mars/Olympus' is not a time zone",
                "pool 'a': policy[1].scale_factor: must be a number >= 0",
                "pool 'b': backend.type: 'lambda' is not a backend (ec2-asg or fargate)",
                "pool 'b': max_use_count: must be a whole number, got 'many'");
        for (String prefix : expectedPrefixes) {
            assertTrue(problems.stream().anyMatch(p -> p.startsWith(prefix)), prefix + " in " + problems);
        }
        assertFalse(problems.stream().anyMatch(p -> p.startsWith("pool 'a': policy[0].idle_time")), problems.toString());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "max_instance: 3                 | pool 'p': max_instance: unknown field",
            "match: {tag: [docker]}          | pool 'p': match.tag: unknown field",
            "policy: [{idle: 2}]             | pool 'p': policy[0].idle: unknown field",
            "policy: [{}, {idle_tme: 5m}]    | pool 'p': policy[1].idle_tme: unknown field",
            "forecast: {windw: 5m}           | pool 'p': forecast.windw: unknown field",
    })
    void unknownFieldsAreRejected(String line, String expected) {
        assertProblem(pool(line), expected);
    }

    @Test
    void drainOnRebalanceIsOffUnlessThePoolAsks() {
        PoolsConfig config = PoolsConfigParser.parse("""
                pools:
                  - name: a
                    backend: {type: ec2-asg, asg: ra}
                  - name: b
                    backend: {type: ec2-asg, asg: rb, drain_on_rebalance: true}
                """, "test.yaml");
        assertEquals(new PoolConfig.Ec2Asg("ra", false), config.pools().get(0).backend());
        assertEquals(new PoolConfig.Ec2Asg("rb", true), config.pools().get(1).backend());
        assertProblem("""
                pools:
                  - name: p
                    backend: {type: ec2-asg, asg: r, drain_on_rebalance: sometimes}
                """, "pool 'p': backend.drain_on_rebalance:");
    }

    @Test
    void unknownBackendFieldsAreRejected() {
        assertProblem("""
                pools:
                  - name: p
                    backend: {type: ec2-asg, asg: r, asg_name: r}
                """, "pool 'p': backend.asg_name: unknown field");
        assertProblem("""
                pools:
                  - name: p
                    backend: {type: fargate, cluster: c, task_definition: t, subnets: [s], launch_type: FARGATE}
                """, "pool 'p': backend.launch_type: unknown field");
    }

    @Test
    void unknownFieldMessageListsTheKnownOnes() {
        String problem = problems(pool("idle_count: 2")).getFirst();
        assertTrue(problem.contains("max_instances") && problem.contains("capacity_per_instance"), problem);
    }

    @Test
    void duplicateNamesAreRejected() {
        assertEquals(List.of("pool 'a': name: used by more than one pool"), problems("""
                pools:
                  - {name: a, backend: {type: ec2-asg, asg: one}}
                  - {name: b, backend: {type: ec2-asg, asg: two}}
                  - {name: a, backend: {type: ec2-asg, asg: three}}
                """));
    }

    @ParameterizedTest(name = "[{index}] {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "pools:\\n  - {backend: {type: ec2-asg, asg: r}}                  | pools[0]: name: is required",
            "pools:\\n  - {name: Docker_Spot, backend: {type: ec2-asg, asg: r}} | pools[0]: name: 'Docker_Spot' must be lower-case",
            "pools:\\n  - just-a-string                                        | pools[0]: must be a mapping",
            "pools:\\n  - {name: p}                                            | pool 'p': backend: is required",
            "pools:\\n  - {name: p, backend: {asg: r}}                         | pool 'p': backend.type: is required",
            "pools:\\n  - {name: p, backend: {type: ec2-asg}}                  | pool 'p': backend.asg: is required",
            "pools:\\n  - {name: p, backend: {type: k8s}}                      | pool 'p': backend.type: 'k8s' is not a backend",
            "pools: []                                                        | pools: at least one pool is required",
            "pool: []                                                         | pools: a list of pools is required",
            "pools: {name: p}                                                 | pools: a list of pools is required",
            "\"\"                                                           | pools: a list of pools is required",
            "pools: [ {name:                                                  | not valid YAML",
    })
    void structuralProblems(String yaml, String expected) {
        assertProblem(yaml.replace("\\n", "\n"), expected);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "capacity_per_instance: two   | pool 'p': capacity_per_instance: must be a whole number, got 'two'",
            "capacity_per_instance: 1.5   | pool 'p': capacity_per_instance: must be a whole number, got '1.5'",
            "max_use_count: -1            | pool 'p': max_use_count: must be at least 0, got -1",
            "match: [docker]              | pool 'p': match: must be a mapping",
            "match: {tags: docker}        | pool 'p': match.tags: must be a list",
            "match: {tags: [docker, '']}  | pool 'p': match.tags: entries must be non-empty strings",
            "match: {run_untagged: maybe} | pool 'p': match.run_untagged: must be true or false, got 'maybe'",
            "policy: {idle_count: 1}      | pool 'p': policy: must be a list of entries",
            "policy: [idle]               | pool 'p': policy[0]: must be a mapping",
            "policy: [{idle_time: soon}]  | pool 'p': policy[0].idle_time: 'soon' is not a duration",
            "policy: [{periods: ['* * *']}] | pool 'p': policy[0].periods: '* * *' must have 5 fields",
            "policy: [{periods: ['* 8-18 * * mon-fry']}] | pool 'p': policy[0].periods: day of week",
            "policy: [{timezone: Europe/Berln}] | pool 'p': policy[0].timezone: 'Europe/Berln' is not a time zone",
            "policy: [{timezone: ''}]     | pool 'p': policy[0].timezone: '' is not a time zone",
            "policy: [{scale_factor_limit: -3}] | pool 'p': policy[0].scale_factor_limit: must be at least 0, got -3",
            "policy: [{scale_factor: lots}] | pool 'p': policy[0].scale_factor: must be a number >= 0, got 'lots'",
    })
    void fieldProblems(String line, String expected) {
        assertProblem(pool(line), expected);
    }

    @ParameterizedTest(name = "boot_timeout: {0} -> {1}s")
    @CsvSource(quoteCharacter = '"', value = {"20m0s, 1200", "1h30m, 5400", "90s, 90", "300, 300", "'300', 300",
            "2m30s, 150", "1.5h, 5400"})
    void durationsInGoForm(String text, long seconds) {
        PoolConfig pool = PoolsConfigParser.parse(pool("boot_timeout: " + text,
                "policy: [{idle_time: " + text + "}]"), "t").pools().getFirst();
        assertEquals(Duration.ofSeconds(seconds), pool.bootTimeout());
        assertEquals(Duration.ofSeconds(seconds), pool.policy().getFirst().idleTime());
    }

    @ParameterizedTest(name = "boot_timeout: {0} is rejected")
    @CsvSource({"soon", "10 minutes", "1d", "-5m", "m10", "1h 30m"})
    void badDurationsAreRejected(String text) {
        assertProblem(pool("boot_timeout: " + text), "pool 'p': boot_timeout: '" + text + "' is not a duration");
    }

    @Test
    void timezonesAreParsed() {
        PoolConfig pool = PoolsConfigParser.parse(pool("policy: [{timezone: America/New_York}, {timezone: UTC}]"), "t")
                .pools().getFirst();
        assertEquals(ZoneId.of("America/New_York"), pool.policy().get(0).timezone());
        assertEquals(ZoneId.of("UTC"), pool.policy().get(1).timezone());
    }

    // ---- fargate -------------------------------------------------------------------------------

    @Test
    void fargateNeedsClusterTaskDefinitionAndSubnets() {
        List<String> problems = problems("""
                pools:
                  - name: f
                    backend: {type: fargate, security_groups: [sg-1]}
                """);
        assertEquals(3, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("pool 'f': backend.cluster: is required for type fargate"), problems.toString());
        assertTrue(problems.get(1).startsWith("pool 'f': backend.task_definition: is required"), problems.toString());
        assertTrue(problems.get(2).startsWith("pool 'f': backend.subnets: needs at least one subnet"), problems.toString());
    }

    @Test
    void fargateSpotMustBeABoolean() {
        assertProblem("""
                pools:
                  - name: f
                    backend: {type: fargate, cluster: c, task_definition: t, subnets: [s], spot: sometimes}
                """, "pool 'f': backend.spot: must be true or false");
    }

    @Test
    void fargateSecurityGroupsAreOptional() {
        PoolConfig pool = PoolsConfigParser.parse("""
                pools:
                  - name: f
                    backend: {type: fargate, cluster: c, task_definition: t, subnets: [s]}
                """, "t").pools().getFirst();
        assertEquals(new PoolConfig.Fargate("c", "t", List.of("s"), List.of(), false), pool.backend());
    }

    // ---- forecast ------------------------------------------------------------------------------

    @Test
    void forecastAsBoolean() {
        assertEquals(ForecastConfig.OFF.withEnabled(true), parseForecast("forecast: true"));
        assertEquals(ForecastConfig.OFF, parseForecast("forecast: false"));
        assertTrue(parseForecast("forecast: true").enabled());
    }

    @Test
    void forecastAsMapping() {
        ForecastConfig f = parseForecast("forecast: {window: 15m, weeks: 4, lead: 2m, quantile: 0.75, max_idle: 5}");
        assertEquals(new ForecastConfig(true, Duration.ofMinutes(15), 4, Duration.ofMinutes(2), 0.75, 5), f);

        ForecastConfig partial = parseForecast("forecast: {weeks: 2}");
        assertEquals(new ForecastConfig(true, ForecastConfig.OFF.window(), 2, ForecastConfig.OFF.lead(),
                ForecastConfig.OFF.quantile(), ForecastConfig.OFF.maxIdle()), partial);

        assertFalse(parseForecast("forecast: {enabled: false, weeks: 2}").enabled());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "forecast: sometimes                | pool 'p': forecast: must be true/false or a mapping",
            "forecast: {quantile: 1.5}          | pool 'p': forecast.quantile: must be between 0 and 1, got 1.5",
            "forecast: {weeks: -1}              | pool 'p': forecast.weeks: must be at least 0, got -1",
            "forecast: {window: later}          | pool 'p': forecast.window: 'later' is not a duration",
            "forecast: {max_idle: -1}           | pool 'p': forecast.max_idle: must be at least 0",
            "forecast: {enabled: yes please}    | pool 'p': forecast.enabled: must be true or false",
    })
    void forecastProblems(String line, String expected) {
        assertProblem(pool(line), expected);
    }

    static ForecastConfig parseForecast(String line) {
        return PoolsConfigParser.parse(pool(line), "t").pools().getFirst().forecast();
    }

    @Test
    void unknownTopLevelFieldsAreNamed() {
        assertProblem("""
                pool:
                  - {name: a, backend: {type: ec2-asg, asg: g}}
                pools:
                  - {name: a, backend: {type: ec2-asg, asg: g}}
                """, "pool: unknown top-level field (the file holds 'pools' and 'reconcile')");
    }
}
