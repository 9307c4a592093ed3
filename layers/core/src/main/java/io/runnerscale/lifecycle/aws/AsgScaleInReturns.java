package io.runnerscale.lifecycle.aws;

import io.runnerscale.lifecycle.GroupMembers;
import io.runnerscale.lifecycle.ScaleInReturns;
import io.runnerscale.text.Quoted;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;

import java.util.Locale;
import java.util.Optional;

/**
 * {@link ScaleInReturns} through Auto Scaling: {@code DescribeAutoScalingGroups} (through
 * {@link AsgGroupMembers}), {@code SetInstanceProtection} and {@code SetDesiredCapacity}. The
 * lifecycle function's role allows the two writes on the pools' groups only (template.yaml).
 */
public final class AsgScaleInReturns implements ScaleInReturns {
    private static final Logger LOG = LoggerFactory.getLogger(AsgScaleInReturns.class);

    private final AutoScalingClient autoScaling;
    private final AsgGroupMembers groups;

    public AsgScaleInReturns(AutoScalingClient autoScaling) {
        this.autoScaling = autoScaling;
        this.groups = new AsgGroupMembers(autoScaling);
    }

    @Override
    public Optional<GroupMembers.Group> describe(String asg) {
        return groups.describe(asg);
    }

    @Override
    public void releaseProtection(String asg, String instanceId) {
        try {
            autoScaling.setInstanceProtection(r -> r.autoScalingGroupName(asg).instanceIds(instanceId)
                    .protectedFromScaleIn(false));
        } catch (SdkException e) {
            // "The instance ... is not part of Auto Scaling group ...": it left already, nothing to release
            if (e instanceof AwsServiceException service && "ValidationError".equals(AwsFailures.errorCode(service))
                    && AwsFailures.message(service).toLowerCase(Locale.ROOT).contains("not part of")) {
                LOG.info("SetInstanceProtection {}: not in the group any more ({})", instanceId,
                        Quoted.abbreviate(AwsFailures.message(service)));
                return;
            }
            throw AwsFailures.classify("Auto Scaling SetInstanceProtection " + instanceId, e);
        }
    }

    @Override
    public void setDesiredCapacity(String asg, int desired) {
        try {
            autoScaling.setDesiredCapacity(r -> r.autoScalingGroupName(asg).desiredCapacity(desired).honorCooldown(false));
        } catch (SdkException e) {
            throw AwsFailures.classify("Auto Scaling SetDesiredCapacity " + Quoted.abbreviate(asg) + " " + desired, e);
        }
    }
}
