package io.runnerscale.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Finds the project's shared files (real payloads under {@code shared/fixtures}, the design notes)
 * by walking up from the working directory (the module directory under Maven); the system property
 * {@code runnerscale.shared} overrides it.
 */
public final class SharedFiles {
    private SharedFiles() {
    }

    public static Path root() {
        String override = System.getProperty("runnerscale.shared");
        if (override != null) {
            return Path.of(override);
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared");
            if (Files.isRegularFile(candidate.resolve("fixtures/SOURCES.md"))) {
                return candidate;
            }
        }
        return fail("shared/fixtures/SOURCES.md not found above " + Path.of("").toAbsolutePath()
                + " (set -Drunnerscale.shared=DIR)");
    }

    public static Path fixture(String relative) {
        return root().resolve("fixtures").resolve(relative);
    }

    public static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The {@code *.json} files of one fixtures directory, sorted by name. */
    public static List<Path> jsonFixtures(String directory) {
        try (Stream<Path> files = Files.list(fixture(directory))) {
            return files.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
