package io.runnerscale.importer;

import java.util.List;
import java.util.Objects;

/**
 * Outcome of {@code runnerscale import-config}: the pools YAML (notes included as trailing
 * comments) and the same notes as plain lines, grouped per runner, for printing to the user.
 */
public record ImportResult(String yaml, List<String> notes) {
    public ImportResult {
        Objects.requireNonNull(yaml, "yaml");
        notes = List.copyOf(notes);
    }
}
