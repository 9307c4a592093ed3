package io.runnerscale.lifecycle;

/**
 * Starts drain executions of the drain state machine, named {@code drain-<instance-id>-<reason>-<attempt>}.
 *
 * <p>Implementations throw {@link RetryableError} when asking again later may help.
 */
public interface DrainStarter {

    enum Outcome {
        /** A new execution runs. */
        STARTED,
        /** An execution of that name runs already (a duplicate event or decision): nothing new started. */
        ALREADY_RUNNING,
        /** An execution of that name ended: the name cannot be used again, the next attempt number can. */
        NAME_USED
    }

    Outcome start(Drain drain, int attempt);

    /** {@code drain-<instance-id>-<reason>-<attempt>}: within Step Functions' 80 characters for any instance id. */
    static String executionName(Drain drain, int attempt) {
        if (attempt < 1) {
            throw new IllegalArgumentException("drain attempt must be at least 1, got " + attempt);
        }
        return "drain-" + drain.instanceId() + "-" + drain.reason().wireName() + "-" + attempt;
    }
}
