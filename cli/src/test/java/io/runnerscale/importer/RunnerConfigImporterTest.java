package io.runnerscale.importer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.runnerscale.importer.RunnerConfigImporter.InvalidConfigException;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class RunnerConfigImporterTest {

    private static final YAMLMapper YAML = new YAMLMapper();
    private static final String AUTOSCALER = "docker-autoscaler.config.toml";
    private static final String MACHINE = "docker-machine.config.toml";

    // -- fixture: docker-autoscaler (instance + docker-autoscaler runners) ---------------------

    @Test
    void autoscalerFixtureMapsBothRunnersToAsgPools() throws Exception {
        JsonNode pools = pools(RunnerConfigImporter.convert(fixture(AUTOSCALER)));
        assertEquals(2, pools.size());

        JsonNode instance = pools.get(0);
        assertEquals("ci-instance", instance.get("name").asText());
        assertEquals("ec2-asg", instance.at("/backend/type").asText());
        assertEquals("gitlab-runner-ao-group2", instance.at("/backend/asg").asText());
        assertEquals(1, instance.get("capacity_per_instance").asInt());
        assertEquals(50, instance.get("max_instances").asInt());
        assertEquals(1, instance.get("max_use_count").asInt());
        assertTrue(instance.at("/match/run_untagged").asBoolean());
        assertTrue(instance.at("/match/tags").isMissingNode());
        assertPolicy(instance.get("policy").get(0), List.of(), 0, "20m", 1.5, 10);
        assertPolicy(instance.get("policy").get(1), List.of("* 6-11 * * mon-fri"), 20, "20m", 1.5, 10);
        assertEquals(2, instance.get("policy").size());

        JsonNode docker = pools.get(1);
        assertEquals("ci-docker", docker.get("name").asText());
        assertEquals("gitlab-runner-ao-group-docker2", docker.at("/backend/asg").asText());
        assertEquals(5, docker.get("capacity_per_instance").asInt());
        assertEquals(25, docker.get("max_instances").asInt());
        assertEquals(30, docker.get("max_use_count").asInt());
        assertFalse(docker.at("/match/run_untagged").asBoolean(), "only the first pool takes untagged jobs");
        assertEquals(0, docker.at("/match/tags").size());
        assertPolicy(docker.get("policy").get(0), List.of("* * * * *"), 1, "20m", 1.5, 10);
        assertPolicy(docker.get("policy").get(1), List.of("* 6-11 * * mon-fri"), 20, "20m", 1.5, 10);
    }

    @Test
    void autoscalerFixtureNotesEveryUnmappedField() throws Exception {
        ImportResult result = RunnerConfigImporter.convert(fixture(AUTOSCALER));
        List<String> notes = result.notes();

        assertNote(notes, "global: concurrent = 200");
        assertNote(notes, "global: check_interval");
        assertNote(notes, "global: listen_address");
        assertNote(notes, "global: [session_server]");
        assertNote(notes, "ci-instance: token: not copied; runnerscale creates one runner per instance");
        assertNote(notes, "ci-instance: match.tags:");
        assertNote(notes, "ci-instance: [runners.cache]");
        assertNote(notes, "ci-instance: [runners.autoscaler.connector_config]");
        assertNote(notes, "ci-instance: runners.autoscaler.instance_acquire_timeout");
        assertNote(notes, "ci-instance: runners.autoscaler.update_interval ");
        assertNote(notes, "ci-instance: runners.autoscaler.plugin_config.profile");
        assertNote(notes, "ci-instance: runners.executor = \"instance\"");
        assertNote(notes, "ci-docker: [runners.docker]");
        assertNote(notes, "ci-docker: match.tags:");
        assertNote(notes, "ci-docker: token: not copied");
        // grouped: all global notes first, then each runner's notes together
        assertEquals(List.of("global", "ci-instance", "ci-docker"), owners(notes));
        // the notes also close the YAML file, as comments
        assertTrue(result.yaml().contains("# ci-docker: [runners.docker]: not mapped"), result.yaml());
    }

    // -- fixture: docker+machine ------------------------------------------------------------

    @Test
    void machineFixtureMapsIdleSettingsAndOffPeakPeriods() throws Exception {
        JsonNode pools = pools(RunnerConfigImporter.convert(fixture(MACHINE)));
        assertEquals(1, pools.size());
        JsonNode pool = pools.get(0);
        assertEquals("gitlab-aws-autoscaler", pool.get("name").asText());
        assertEquals("ec2-asg", pool.at("/backend/type").asText());
        assertEquals("gitlab-aws-autoscaler-asg", pool.at("/backend/asg").asText());
        assertEquals(1, pool.get("capacity_per_instance").asInt());
        assertEquals(20, pool.get("max_instances").asInt(), "runner limit");
        assertEquals(100, pool.get("max_use_count").asInt(), "MaxBuilds");
        assertTrue(pool.at("/match/run_untagged").asBoolean());

        JsonNode policy = pool.get("policy");
        assertEquals(2, policy.size());
        JsonNode base = policy.get(0);
        assertTrue(base.path("periods").isMissingNode(), "base entry applies always");
        assertEquals(0, base.get("idle_count").asInt());
        assertEquals("2m", base.get("idle_time").asText());
        JsonNode offPeak = policy.get(1);
        assertEquals(List.of("* 0-8,22-23 * * mon-fri", "* * * * sat,sun"), texts(offPeak.get("periods")));
        assertEquals("Europe/Kiev", offPeak.get("timezone").asText());
        assertEquals(0, offPeak.get("idle_count").asInt());
        assertEquals("2m", offPeak.get("idle_time").asText());
    }

    @Test
    void machineFixtureNotesDescribeTheAsgToCreate() throws Exception {
        ImportResult result = RunnerConfigImporter.convert(fixture(MACHINE));
        String asgNote = result.notes().stream()
                .filter(n -> n.startsWith("gitlab-aws-autoscaler: runners.machine.MachineOptions:"))
                .findFirst().orElseThrow(() -> new AssertionError("no MachineOptions note: " + result.notes()));
        for (String fact : List.of("gitlab-aws-autoscaler-asg", "t3.medium", "spot", "0.03",
                "subnet-0123456789abcdef0", "us-east-1", "sg-0123456789abcdef0", "nameOfRole")) {
            assertTrue(asgNote.contains(fact), fact + " missing in " + asgNote);
        }
        assertNote(result.notes(), "gitlab-aws-autoscaler: runners.machine.MachineDriver");
        assertNote(result.notes(), "gitlab-aws-autoscaler: runners.machine.MachineName");
        assertNote(result.notes(), "gitlab-aws-autoscaler: [runners.docker]");
        assertNote(result.notes(), "gitlab-aws-autoscaler: [runners.cache]");
        assertNote(result.notes(), "gitlab-aws-autoscaler: token: not copied");
        assertNote(result.notes(), "global: concurrent = 10");
        assertTrue(result.yaml().contains("# TODO: create this ASG"), result.yaml());
    }

    // -- both fixtures ------------------------------------------------------------------------

    @Test
    void secretsNeverReachTheOutput() throws Exception {
        for (String name : List.of(AUTOSCALER, MACHINE)) {
            Path file = fixture(name);
            ImportResult result = RunnerConfigImporter.convert(file);
            String everything = result.yaml() + String.join("\n", result.notes());
            for (JsonNode runner : new TomlMapper().readTree(Files.readString(file)).get("runners")) {
                String token = runner.get("token").asText();
                assertFalse(everything.contains(token), name + " leaks " + token);
            }
            assertFalse(everything.contains("glrt-"), name);
        }
    }

    @Test
    void yamlStartsWithAHeaderNamingTheInput() throws Exception {
        Path file = fixture(MACHINE);
        String yaml = RunnerConfigImporter.convert(file).yaml();
        assertTrue(yaml.startsWith("# generated by runnerscale import-config from " + file + "\n"), yaml);
    }

    // -- conversion rules on small inputs -------------------------------------------------------

    @Test
    void goDurationsBecomeShortDurations() throws Exception {
        JsonNode policy = pools(convert("""
                [[runners]]
                  name = "d"
                  executor = "docker-autoscaler"
                  [runners.autoscaler]
                    max_instances = 3
                    [runners.autoscaler.plugin_config]
                      name = "asg-d"
                    [[runners.autoscaler.policy]]
                      idle_time = "1h30m0s"
                    [[runners.autoscaler.policy]]
                      idle_time = "90s"
                    [[runners.autoscaler.policy]]
                      idle_time = "0s"
                    [[runners.autoscaler.policy]]
                      idle_time = "1.5h"
                      timezone = "Europe/Berlin"
                      periods = ["* 8-18 * * mon-fri"]
                """)).get(0).get("policy");
        assertEquals(List.of("1h30m", "1m30s", "0s", "1h30m"),
                List.of(policy.get(0).get("idle_time").asText(), policy.get(1).get("idle_time").asText(),
                        policy.get(2).get("idle_time").asText(), policy.get(3).get("idle_time").asText()));
        assertEquals("Europe/Berlin", policy.get(3).get("timezone").asText());
    }

    @Test
    void machineAutoscalingEntriesConvertGoCronAndOverrideOffPeak() throws Exception {
        ImportResult result = convert("""
                concurrent = 7
                [[runners]]
                  name = "dm"
                  executor = "docker+machine"
                  [runners.machine]
                    IdleCount = 2
                    IdleTime = 600
                    OffPeakPeriods = ["* * 0-8 * * * *"]
                    OffPeakIdleCount = 0
                    [[runners.machine.autoscaling]]
                      Periods = ["* * 9-17 * * mon-fri *"]
                      IdleCount = 5
                      IdleTime = 3600
                      Timezone = "UTC"
                    [[runners.machine.autoscaling]]
                      Periods = ["* 9-12 * * sat 2025"]
                      IdleCount = 1
                      IdleTime = 90
                      IdleScaleFactor = 0.5
                      IdleCountMin = 2
                    [[runners.machine.autoscaling]]
                      IdleCount = 9
                """);
        JsonNode pool = pools(result).get(0);
        assertEquals(7, pool.get("max_instances").asInt(), "no limit: falls back to concurrent");
        JsonNode policy = pool.get("policy");
        assertEquals(3, policy.size(), "OffPeak is ignored next to autoscaling entries; the entry without Periods is skipped");
        assertEquals(2, policy.get(0).get("idle_count").asInt());
        assertEquals("10m", policy.get(0).get("idle_time").asText());
        assertEquals(List.of("* 9-17 * * mon-fri"), texts(policy.get(1).get("periods")));
        assertEquals(5, policy.get(1).get("idle_count").asInt());
        assertEquals("1h", policy.get(1).get("idle_time").asText());
        // cronexpr reads 6 fields as minute..year: the year goes, the minute stays
        assertEquals(List.of("* 9-12 * * sat"), texts(policy.get(2).get("periods")));
        assertEquals(2, policy.get(2).get("idle_count").asInt(), "IdleCountMin");
        assertEquals(0.5, policy.get(2).get("scale_factor").asDouble());
        assertEquals(1, policy.get(2).get("scale_factor_limit").asInt(), "IdleCount caps the scaled idle count");
        assertEquals("1m30s", policy.get(2).get("idle_time").asText());

        assertNote(result.notes(), "dm: runners.machine.OffPeakPeriods: not mapped");
        assertNote(result.notes(), "dm: runners.machine.autoscaling[2].Periods: \"* 9-12 * * sat 2025\": year field");
        assertNote(result.notes(), "dm: runners.machine.autoscaling[2].Timezone: not set");
        assertNote(result.notes(), "dm: runners.machine.autoscaling[3]: skipped");
        assertNote(result.notes(), "dm: runners.limit: not set");
    }

    @Test
    void tagsInTheConfigAreUsed() throws Exception {
        ImportResult result = convert("""
                [[runners]]
                  name = "tagged"
                  executor = "docker-autoscaler"
                  tag_list = ["docker", "aws"]
                  [runners.autoscaler]
                    max_instances = 3
                    [runners.autoscaler.plugin_config]
                      name = "asg-t"
                """);
        JsonNode match = pools(result).get(0).get("match");
        assertEquals(List.of("docker", "aws"), texts(match.get("tags")));
        assertFalse(match.get("run_untagged").asBoolean());
        assertTrue(result.notes().stream().noneMatch(n -> n.contains("match.tags")), result.notes().toString());
    }

    @Test
    void runnerWithoutAutoscalingIsNotConverted() throws Exception {
        ImportResult result = convert("""
                [[runners]]
                  name = "plain shell"
                  executor = "shell"
                  token = "glrt-SECRET"
                """ + """
                [[runners]]
                  name = "auto"
                  executor = "docker-autoscaler"
                  [runners.autoscaler]
                    max_instances = 1
                    [runners.autoscaler.plugin_config]
                      name = "asg-auto"
                """);
        assertEquals(1, pools(result).size());
        assertNote(result.notes(), "plain shell: runners: not converted: executor \"shell\"");
        assertFalse((result.yaml() + result.notes()).contains("glrt-SECRET"));
    }

    @Test
    void onlyUnconvertibleRunnersIsAnErrorThatKeepsSecretsOut() {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> convert("""
                [[runners]]
                  name = "plain shell"
                  executor = "shell"
                  token = "glrt-SECRET"
                """));
        assertTrue(e.getMessage().startsWith("test.toml has no [[runners]] that runnerscale can convert"), e.getMessage());
        assertFalse(e.getMessage().contains("glrt-SECRET"), e.getMessage());
    }

    @Test
    void poolNamesAreSanitizedAndUnique() throws Exception {
        String runner = """
                [[runners]]
                  name = "My Docker_Runner!"
                  executor = "docker-autoscaler"
                  [runners.autoscaler]
                    max_instances = 1
                    [runners.autoscaler.plugin_config]
                      name = "123"
                """;
        JsonNode pools = pools(convert(runner + runner.replace("\"123\"", "\"456\"")));
        assertEquals("my-docker-runner", pools.get(0).get("name").asText());
        assertEquals("my-docker-runner-2", pools.get(1).get("name").asText());
        assertTrue(pools.get(0).at("/backend/asg").isTextual(), "a numeric-looking ASG name stays a string");
        assertEquals("123", pools.get(0).at("/backend/asg").asText());
    }

    @Test
    void machineOptionSecretsAreNotCopied() {
        ImportResult result = convert("""
                [[runners]]
                  name = "dm"
                  executor = "docker+machine"
                  limit = 4
                  [runners.machine]
                    MachineDriver = "amazonec2"
                    MachineOptions = ["amazonec2-access-key=AKIAEXAMPLE", "amazonec2-secret-key=s3cr3tv4lue",
                                      "amazonec2-instance-type=m5.large"]
                """);
        String everything = result.yaml() + String.join("\n", result.notes());
        assertFalse(everything.contains("AKIAEXAMPLE"));
        assertFalse(everything.contains("s3cr3tv4lue"));
        assertTrue(everything.contains("m5.large"));
        assertNote(result.notes(), "dm: runners.machine.MachineOptions: amazonec2-access-key, amazonec2-secret-key: not copied");
    }

    // -- invalid input ---------------------------------------------------------------------------

    @Test
    void invalidInputFailsWithTheFileNameAndTheProblem() {
        assertInvalid("this is = = not toml", "not valid TOML");
        assertInvalid("concurrent = 4\n", "no [[runners]] entries");
        assertInvalid("", "empty file");
        assertInvalid("runners = \"x\"\n", "array of tables");
        assertInvalid("""
                [[runners]]
                  name = "r"
                  [runners.autoscaler]
                    max_instances = "many"
                """, "runner \"r\": runners.autoscaler.max_instances: expected an integer >= 0, got \"many\"");
        assertInvalid("""
                [[runners]]
                  name = "r"
                  [runners.autoscaler]
                    [[runners.autoscaler.policy]]
                      idle_time = "twenty minutes"
                """, "runners.autoscaler.policy[1].idle_time");
        assertInvalid("""
                [[runners]]
                  name = "r"
                  [runners.machine]
                    OffPeakPeriods = ["* * *"]
                """, "runners.machine.OffPeakPeriods: period \"* * *\" has 3 fields");
    }

    @Test
    void missingFileFailsWithItsName() {
        Path missing = Path.of("no-such-dir", "config.toml");
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> RunnerConfigImporter.convert(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    // -- helpers --------------------------------------------------------------------------------

    /**
     * Finds shared/fixtures/gitlab-runner by walking up from the working directory (module dir
     * /work/main/cli, or a scratch project holding a "shared" link); -Drunnerscale.fixtures
     * overrides it.
     */
    static Path fixture(String name) {
        String override = System.getProperty("runnerscale.fixtures");
        if (override != null) {
            return Path.of(override, "gitlab-runner", name);
        }
        Path usual = Path.of("../../shared/fixtures/gitlab-runner", name);
        if (Files.isRegularFile(usual)) {
            return usual;
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared/fixtures/gitlab-runner").resolve(name);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        return fail("fixture " + name + " not found above " + Path.of("").toAbsolutePath());
    }

    private static ImportResult convert(String toml) {
        return RunnerConfigImporter.convert(toml, "test.toml");
    }

    private static JsonNode pools(ImportResult result) throws Exception {
        JsonNode pools = YAML.readTree(result.yaml()).get("pools");
        assertTrue(pools != null && pools.isArray(), result.yaml());
        return pools;
    }

    private static void assertPolicy(JsonNode entry, List<String> periods, int idleCount, String idleTime,
                                     double scaleFactor, int scaleFactorLimit) {
        assertEquals(periods, texts(entry.path("periods")), entry.toString());
        assertEquals(idleCount, entry.get("idle_count").asInt(), entry.toString());
        assertEquals(idleTime, entry.get("idle_time").asText(), entry.toString());
        assertEquals(scaleFactor, entry.get("scale_factor").asDouble(), entry.toString());
        assertEquals(scaleFactorLimit, entry.get("scale_factor_limit").asInt(), entry.toString());
    }

    private static List<String> texts(JsonNode array) {
        List<String> texts = new ArrayList<>();
        array.forEach(item -> texts.add(item.asText()));
        return texts;
    }

    private static void assertNote(List<String> notes, String prefix) {
        assertTrue(notes.stream().anyMatch(n -> n.startsWith(prefix)), "no note starting with <" + prefix + "> in:\n"
                + String.join("\n", notes));
    }

    private static List<String> owners(List<String> notes) {
        List<String> owners = new ArrayList<>();
        for (String note : notes) {
            String owner = note.substring(0, note.indexOf(": "));
            if (owners.isEmpty() || !owners.getLast().equals(owner)) {
                owners.add(owner);
            }
        }
        return owners;
    }

    private static void assertInvalid(String toml, String expected) {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> convert(toml));
        assertTrue(e.getMessage().startsWith("test.toml: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
