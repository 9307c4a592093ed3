package io.runnerscale.importer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.runnerscale.importer.RunnerConfigImporter.InvalidConfigException;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** import-config on input that must not turn into a pools file (issue 6), and the output always loading. */
class RunnerConfigImporterLimitsTest {
    private static final YAMLMapper YAML = new YAMLMapper();

    @TempDir
    Path dir;

    private static String autoscalerRunner(String name, String asg) {
        return """
                [[runners]]
                  name = "%s"
                  executor = "docker-autoscaler"
                  [runners.autoscaler]
                    max_instances = 2
                    [runners.autoscaler.plugin_config]
                      name = "%s"
                """.formatted(name, asg);
    }

    private static InvalidConfigException invalid(String toml) {
        return assertThrows(InvalidConfigException.class, () -> RunnerConfigImporter.convert(toml, "config.toml"));
    }

    // ---- two runners on one Auto Scaling group ----------------------------------------------------

    @Test
    void twoRunnersOnOneGroupAreAnErrorNamingBothAndTheGroup() {
        InvalidConfigException e = invalid(autoscalerRunner("first", "shared-asg") + autoscalerRunner("other", "own")
                + autoscalerRunner("second", "shared-asg"));
        assertEquals("config.toml: runners \"first\" and \"second\" both use Auto Scaling group \"shared-asg\""
                + " (runners.autoscaler.plugin_config.name): runnerscale gives a group to one pool, whose scale-in"
                + " would terminate the other's instances; merge the runners or give each its own group", e.getMessage());
    }

    @Test
    void fiftyIdenticalRunnersAreOneErrorPerExtraRunnerNotFiftyPools() {
        String runner = autoscalerRunner("ci", "gitlab-runners");
        InvalidConfigException e = invalid(runner.repeat(50));
        assertTrue(e.getMessage().startsWith("config.toml: runners \"ci\" and \"ci\" both use Auto Scaling group"
                + " \"gitlab-runners\""), e.getMessage());
        assertTrue(e.getMessage().contains("(and 48 more runners on that group)"), e.getMessage());
    }

    @Test
    void identicalDockerMachineRunnersGetTheirOwnGroupsAndANoteThatTheSecondIsShadowed() throws Exception {
        String runner = """
                [[runners]]
                  name = "dm"
                  executor = "docker+machine"
                  limit = 4
                  tag_list = ["docker"]
                  [runners.machine]
                    MachineDriver = "amazonec2"
                    IdleCount = 1
                """;
        ImportResult result = RunnerConfigImporter.convert(runner + runner, "config.toml");
        PoolsConfig config = PoolsConfigParser.parse(result.yaml(), "out");
        assertEquals(List.of("dm", "dm-2"), config.pools().stream().map(PoolConfig::name).toList());
        assertEquals(List.of(new PoolConfig.Ec2Asg("dm-asg"), new PoolConfig.Ec2Asg("dm-2-asg")),
                config.pools().stream().map(PoolConfig::backend).toList());
        assertTrue(result.notes().stream().anyMatch(n -> n.startsWith("dm: match: pool dm-2 takes no jobs: pool dm,"
                + " earlier in the file, accepts every job it accepts")), String.join("\n", result.notes()));
    }

    @Test
    void aGroupNameToCreateNeverCollidesWithAnExistingGroup() throws Exception {
        String machine = """
                [[runners]]
                  name = "dm"
                  executor = "docker+machine"
                  limit = 2
                  [runners.machine]
                    MachineDriver = "amazonec2"
                """;
        ImportResult result = RunnerConfigImporter.convert(machine + autoscalerRunner("auto", "dm-asg"), "config.toml");
        PoolsConfig config = PoolsConfigParser.parse(result.yaml(), "out");
        assertEquals(new PoolConfig.Ec2Asg("dm-asg"), config.pool("auto").orElseThrow().backend());
        assertEquals(new PoolConfig.Ec2Asg("dm-asg-2"), config.pool("dm").orElseThrow().backend());
    }

    // ---- nothing to convert -----------------------------------------------------------------------

    @Test
    void noConvertibleRunnerIsAnErrorListingWhyEachWasSkipped() {
        InvalidConfigException e = invalid("""
                [[runners]]
                  name = "plain shell"
                  executor = "shell"
                [[runners]]
                  name = "k8s"
                  executor = "kubernetes"
                """);
        assertEquals("config.toml has no [[runners]] that runnerscale can convert: runner \"plain shell\": executor"
                + " \"shell\" has neither [runners.autoscaler] nor [runners.machine]; runner \"k8s\": executor"
                + " \"kubernetes\" has neither [runners.autoscaler] nor [runners.machine]", e.getMessage());
    }

    @Test
    void whatIsProducedIsCheckedWithTheServicesOwnParser() {
        // concurrent = 1000000 makes max_instances 1000000, over the parser's bound: an error, not a file the service rejects
        InvalidConfigException e = invalid("concurrent = 1000000\n" + """
                [[runners]]
                  name = "big"
                  executor = "docker+machine"
                  [runners.machine]
                    MachineDriver = "amazonec2"
                """);
        assertTrue(e.getMessage().startsWith("config.toml: the converted pools file would be rejected by runnerscale:"),
                e.getMessage());
        assertTrue(e.getMessage().contains("pool 'big': max_instances: must be at most 100000, got 1000000"), e.getMessage());
    }

    // ---- files that are not a config.toml ---------------------------------------------------------

    @Test
    void aDirectoryIsAPlainError() {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> RunnerConfigImporter.convert(dir));
        assertEquals(dir + ": is a directory, not a config.toml", e.getMessage());
    }

    @Test
    void aHugeFileIsRejectedBeforeReading() throws IOException {
        Path huge = dir.resolve("config.toml");
        Files.writeString(huge, "# " + "x".repeat(4 << 20) + "\n");
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> RunnerConfigImporter.convert(huge));
        assertTrue(e.getMessage().startsWith(huge + ": " + Files.size(huge) + " bytes is too large for a config.toml"),
                e.getMessage());
    }

    @Test
    void aBinaryFileIsAPlainError() throws IOException {
        Path binary = dir.resolve("config.toml");
        Files.write(binary, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2});
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> RunnerConfigImporter.convert(binary));
        assertTrue(e.getMessage().contains("not a UTF-8 text file"), e.getMessage());
    }

    // ---- every fixture converts into a file the service loads --------------------------------------

    @Test
    void everyConfigTomlFixtureConvertsIntoAFileThePoolsParserLoads() throws Exception {
        Path fixtures = RunnerConfigImporterTest.fixture("docker-autoscaler.config.toml").getParent().getParent();
        List<Path> tomls;
        try (Stream<Path> files = Files.walk(fixtures)) {
            tomls = files.filter(p -> p.getFileName().toString().endsWith(".toml")).sorted().toList();
        }
        assertTrue(tomls.size() >= 2, "config.toml fixtures under " + fixtures + ": " + tomls);
        for (Path toml : tomls) {
            ImportResult result = RunnerConfigImporter.convert(toml);
            PoolsConfig config = PoolsConfigParser.parse(result.yaml(), toml.toString());
            JsonNode pools = YAML.readTree(result.yaml()).get("pools");
            assertEquals(pools.size(), config.pools().size(), toml.toString());
            assertFalse(config.pools().isEmpty(), toml.toString());
        }
    }
}
