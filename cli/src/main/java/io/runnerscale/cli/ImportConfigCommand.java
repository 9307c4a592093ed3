package io.runnerscale.cli;

import io.runnerscale.importer.ImportResult;
import io.runnerscale.importer.RunnerConfigImporter;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** {@code runnerscale import-config config.toml}: a GitLab Runner config.toml as a pools file. */
final class ImportConfigCommand {
    static final String USAGE = """
            usage: runnerscale import-config config.toml [--out pools.yaml]
              converts [[runners]] with [runners.autoscaler] (docker-autoscaler, instance) or [runners.machine]
              (docker+machine) into a runnerscale pools file; prints it (or writes --out) and explains on
              stderr every setting it could not map.
            """;

    private ImportConfigCommand() {
    }

    static int run(List<String> raw, PrintStream out, PrintStream err) throws IOException {
        Args args = Args.parse(raw, Set.of("out"), Set.of());
        if (args.positional().size() != 1) {
            throw new Args.UsageException("give exactly one config.toml");
        }
        Path input;
        try {
            input = Path.of(args.positional().getFirst());
        } catch (InvalidPathException e) {
            err.println("error: " + e.getMessage());
            return 1;
        }
        ImportResult result;
        try {
            // throws rather than returning a pools file the service's own parser would reject
            result = RunnerConfigImporter.convert(input);
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 1;
        }
        String target = args.get("out", null);
        if (target == null) {
            out.print(result.yaml());
        } else {
            try {
                Files.writeString(Path.of(target), result.yaml());
            } catch (IOException | InvalidPathException e) {
                err.println("error: cannot write " + target + ": " + e.getMessage());
                return 1;
            }
            err.println("pools file written to " + target);
        }
        if (!result.notes().isEmpty()) {
            err.println(result.notes().size() + " setting(s) not mapped:");
            result.notes().forEach(note -> err.println("  - " + note));
        }
        return 0;
    }
}
