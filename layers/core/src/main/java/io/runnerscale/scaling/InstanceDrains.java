package io.runnerscale.scaling;

import io.runnerscale.pool.PoolConfig;

/**
 * How the scaler lets an instance go: it asks for a drain, never terminates. The drain (in AWS the
 * drain state machine) pauses the instance's runner, waits while GitLab lists a running job on it,
 * deletes the runner and only then terminates the instance. One port, one adapter per place the
 * scaler runs: Step Functions in AWS, a local drain runner in {@code serve}, the simulated fleet in
 * {@code simulate}.
 */
public interface InstanceDrains {

    /**
     * Starts a drain of {@code instanceId} for {@code reason}, or does nothing when one runs already
     * (decisions repeat every tick until the instance is gone). Throws when the drain could not be
     * started; the next decision asks again.
     */
    void drain(PoolConfig pool, String instanceId, ScalingAction.Reason reason);
}
