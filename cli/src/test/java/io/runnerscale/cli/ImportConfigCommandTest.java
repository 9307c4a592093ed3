package io.runnerscale.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code runnerscale import-config} on input it cannot convert: exit 1, one plain line, no pools file. */
class ImportConfigCommandTest {
    @TempDir
    Path dir;

    private record Result(int code, String out, String err) {
    }

    private static Result importConfig(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] argv = new String[args.length + 1];
        argv[0] = "import-config";
        System.arraycopy(args, 0, argv, 1, args.length);
        int code = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Path toml(String text) throws IOException {
        Path file = dir.resolve("config.toml");
        Files.writeString(file, text);
        return file;
    }

    /** Exit 1, nothing on stdout, one "error: ..." line that contains {@code expected} and no stack trace. */
    private static void assertPlainError(Result r, String expected) {
        assertEquals(1, r.code, r.err);
        assertEquals("", r.out, "no pools file is printed");
        assertTrue(r.err.startsWith("error: ") && r.err.contains(expected), r.err);
        assertEquals(1, r.err.strip().lines().count(), r.err);
        assertFalse(r.err.contains("Exception") || r.err.contains("\tat "), r.err);
    }

    @Test
    void noConvertibleRunnerExits1WithoutAnEmptyPoolsFile() throws IOException {
        Result r = importConfig(toml("""
                [[runners]]
                  name = "plain shell"
                  executor = "shell"
                """).toString());
        assertPlainError(r, "config.toml has no [[runners]] that runnerscale can convert: runner \"plain shell\":"
                + " executor \"shell\" has neither [runners.autoscaler] nor [runners.machine]");
    }

    @Test
    void runnersSharingAGroupExit1() throws IOException {
        String runner = """
                [[runners]]
                  name = "ci"
                  executor = "docker-autoscaler"
                  [runners.autoscaler]
                    [runners.autoscaler.plugin_config]
                      name = "shared"
                """;
        Result r = importConfig(toml(runner + runner).toString());
        assertPlainError(r, "runners \"ci\" and \"ci\" both use Auto Scaling group \"shared\"");
    }

    @Test
    void sharingAGroupWritesNoOutFile() throws IOException {
        String runner = """
                [[runners]]
                  name = "ci"
                  executor = "docker-autoscaler"
                  [runners.autoscaler]
                    [runners.autoscaler.plugin_config]
                      name = "shared"
                """;
        Path out = dir.resolve("pools.yaml");
        Result r = importConfig(toml(runner + runner).toString(), "--out", out.toString());
        assertPlainError(r, "both use Auto Scaling group");
        assertFalse(Files.exists(out));
    }

    @Test
    void aFileThatIsNotTomlExits1() throws IOException {
        assertPlainError(importConfig(toml("pools:\n  - name: p\n").toString()), "not valid TOML");
    }

    @Test
    void aMissingFileExits1() {
        assertPlainError(importConfig(dir.resolve("nope.toml").toString()), "nope.toml: file not found");
    }

    @Test
    void aDirectoryExits1() {
        assertPlainError(importConfig(dir.toString()), dir + ": is a directory, not a config.toml");
    }

    @Test
    void anUnwritableOutExits1WithAPlainMessage() throws IOException {
        Path in = toml("""
                [[runners]]
                  name = "ci"
                  executor = "docker-autoscaler"
                  [runners.autoscaler]
                    [runners.autoscaler.plugin_config]
                      name = "asg"
                """);
        assertPlainError(importConfig(in.toString(), "--out", dir.toString()), "cannot write " + dir);
    }
}
