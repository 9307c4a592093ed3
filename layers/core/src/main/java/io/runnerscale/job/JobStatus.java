package io.runnerscale.job;

import java.util.Locale;
import java.util.Optional;

/**
 * GitLab job statuses in the order a job moves through them. GitLab delivers hooks in no particular
 * order, so a record only ever moves to a higher rank; events of equal or lower rank are stale.
 */
public enum JobStatus {
    CREATED(0), WAITING_FOR_RESOURCE(1), PREPARING(1), SCHEDULED(1), MANUAL(1),
    PENDING(2),
    RUNNING(3),
    CANCELING(4),
    SUCCESS(5), FAILED(5), CANCELED(5), SKIPPED(5);

    private final int rank;

    JobStatus(int rank) {
        this.rank = rank;
    }

    public int rank() {
        return rank;
    }

    /** Whether a record in this status may be overwritten by an event carrying {@code next}. */
    public boolean canAdvanceTo(JobStatus next) {
        return next.rank > rank;
    }

    public boolean isTerminal() {
        return rank == 5;
    }

    /** Pending and running jobs are the ones a pool must have capacity for. */
    public boolean isLive() {
        return this == PENDING || this == RUNNING || this == CANCELING;
    }

    /** GitLab's lower-case wire name, e.g. {@code waiting_for_resource}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<JobStatus> fromWire(String value) {
        if (value == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(valueOf(value.trim().toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException unknown) {
            return Optional.empty();
        }
    }
}
