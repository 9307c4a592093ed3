package io.runnerscale.cli;

import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigParser;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** The pools file a command runs with: the user's, or the built-in default. */
final class PoolsFiles {
    static final String DEFAULT_NAME = "built-in default pools";

    private PoolsFiles() {
    }

    static String text(String path) {
        return text(path, "config");
    }

    /** @param option the option that named the file, for the messages */
    static String text(String path, String option) {
        if (path == null) {
            try (InputStream in = PoolsFiles.class.getResourceAsStream("default-pools.yaml")) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        try {
            return Files.readString(Path.of(path));
        } catch (NoSuchFileException e) {
            throw new Args.UsageException("--" + option + ": " + path + " does not exist");
        } catch (IOException e) {
            throw new Args.UsageException("--" + option + ": cannot read " + path + ": " + e.getMessage());
        }
    }

    static PoolsConfig load(String path) {
        return load(path, "config");
    }

    static PoolsConfig load(String path, String option) {
        return PoolsConfigParser.parse(text(path, option), path == null ? DEFAULT_NAME : path);
    }
}
