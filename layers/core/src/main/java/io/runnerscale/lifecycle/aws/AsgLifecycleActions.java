package io.runnerscale.lifecycle.aws;

import io.runnerscale.text.Quoted;

import io.runnerscale.lifecycle.LifecycleActions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;

import java.util.Locale;

/**
 * Lifecycle actions and termination through Auto Scaling. Auto Scaling answers a ValidationError
 * when the action is no longer held ("No active Lifecycle Action found", completed or timed out) or
 * the instance is not in a group any more ("not found"): both count as done, since the drain repeats
 * these calls and the instance goes either way.
 */
public final class AsgLifecycleActions implements LifecycleActions {
    private static final Logger LOG = LoggerFactory.getLogger(AsgLifecycleActions.class);

    private final AutoScalingClient autoScaling;

    public AsgLifecycleActions(AutoScalingClient autoScaling) {
        this.autoScaling = autoScaling;
    }

    @Override
    public void heartbeat(String hookName, String asg, String instanceId, String token) {
        try {
            autoScaling.recordLifecycleActionHeartbeat(r -> r.lifecycleHookName(hookName).autoScalingGroupName(asg)
                    .instanceId(instanceId).lifecycleActionToken(token));
        } catch (SdkException e) {
            if (!isDone(e, "RecordLifecycleActionHeartbeat", instanceId)) {
                throw AwsFailures.classify("Auto Scaling RecordLifecycleActionHeartbeat " + instanceId, e);
            }
        }
    }

    @Override
    public void complete(String hookName, String asg, String instanceId, String token, Result result) {
        try {
            autoScaling.completeLifecycleAction(r -> r.lifecycleHookName(hookName).autoScalingGroupName(asg)
                    .instanceId(instanceId).lifecycleActionToken(token).lifecycleActionResult(result.name()));
        } catch (SdkException e) {
            if (!isDone(e, "CompleteLifecycleAction", instanceId)) {
                throw AwsFailures.classify("Auto Scaling CompleteLifecycleAction " + instanceId, e);
            }
        }
    }

    @Override
    public void terminate(String instanceId, boolean decrement) {
        try {
            autoScaling.terminateInstanceInAutoScalingGroup(r -> r.instanceId(instanceId)
                    .shouldDecrementDesiredCapacity(decrement));
        } catch (SdkException e) {
            if (!isDone(e, "TerminateInstanceInAutoScalingGroup", instanceId)) {
                throw AwsFailures.classify("Auto Scaling TerminateInstanceInAutoScalingGroup " + instanceId, e);
            }
        }
    }

    private static boolean isDone(SdkException e, String call, String instanceId) {
        if (e instanceof AwsServiceException service && "ValidationError".equals(AwsFailures.errorCode(service))) {
            String message = AwsFailures.message(service).toLowerCase(Locale.ROOT);
            if (message.contains("no active lifecycle action") || message.contains("not found")) {
                LOG.info("{} {}: already done ({})", call, instanceId, Quoted.abbreviate(AwsFailures.message(service)));
                return true;
            }
        }
        return false;
    }
}
