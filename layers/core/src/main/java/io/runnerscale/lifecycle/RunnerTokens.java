package io.runnerscale.lifecycle;

/**
 * Where an instance's runner token ({@code glrt-...}) waits for the instance: one secret per instance,
 * readable by that instance only (its role compares the {@code runnerscale:instance-arn} tag with
 * {@code ec2:SourceInstanceARN}).
 *
 * <p>Implementations throw {@link RetryableError} when asking again later may help (throttling, the
 * service unreachable or failing).
 */
public interface RunnerTokens {

    /** Stores (or replaces) the instance's token, tagged with the instance's ARN. */
    void put(String instanceId, String token, String instanceArn);

    /** Whether a token is stored for the instance (its value is not read). */
    boolean exists(String instanceId);

    /** Deletes the instance's token; one already gone counts as deleted. */
    void delete(String instanceId);

    /** The instance ids that have a token stored (values are not read), for the orphan sweep. */
    java.util.List<String> list();
}
