package io.runnerscale.lifecycle;

/**
 * The Auto Scaling calls of an instance's life: lifecycle actions held by a hook, and termination.
 *
 * <p>Implementations throw {@link RetryableError} when asking again later may help (throttling, the
 * service unreachable or failing). An action that is no longer held (completed, timed out) and an
 * instance already gone count as done: the drain repeats these calls.
 */
public interface LifecycleActions {

    enum Result { CONTINUE, ABANDON }

    /** {@code RecordLifecycleActionHeartbeat}: the hook keeps holding the instance for another heartbeat timeout. */
    void heartbeat(String hookName, String asg, String instanceId, String token);

    /** {@code CompleteLifecycleAction}: the instance goes on (launch: in service; terminate: terminated) or is abandoned. */
    void complete(String hookName, String asg, String instanceId, String token, Result result);

    /** {@code TerminateInstanceInAutoScalingGroup}; {@code decrement} lowers the desired capacity by one. */
    void terminate(String instanceId, boolean decrement);
}
