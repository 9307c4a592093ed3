package io.runnerscale.compute;

import io.runnerscale.text.Quoted;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.autoscaling.model.AutoScalingGroup;
import software.amazon.awssdk.services.autoscaling.model.DescribeWarmPoolResponse;
import software.amazon.awssdk.services.autoscaling.model.LaunchConfiguration;
import software.amazon.awssdk.services.autoscaling.model.LaunchTemplateSpecification;
import software.amazon.awssdk.services.autoscaling.model.WarmPoolConfiguration;
import software.amazon.awssdk.services.autoscaling.model.WarmPoolStatus;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.DescribeLaunchTemplateVersionsRequest;
import software.amazon.awssdk.services.ec2.model.LaunchTemplateVersion;
import software.amazon.awssdk.services.ec2.model.MarketType;

import java.util.List;

/**
 * {@link WarmPools} with Auto Scaling and EC2: DescribeAutoScalingGroups, DescribeWarmPool, and to
 * tell whether the group launches Spot, DescribeLaunchTemplateVersions (the version the group names,
 * {@code $Latest}/{@code $Default} resolved by EC2 itself) or DescribeLaunchConfigurations. All of them
 * read-only; the one write is PutWarmPool.
 */
public final class AsgWarmPools implements WarmPools {
    private final AutoScalingClient autoScaling;
    private final Ec2Client ec2;

    public AsgWarmPools(AutoScalingClient autoScaling, Ec2Client ec2) {
        this.autoScaling = autoScaling;
        this.ec2 = ec2;
    }

    @Override
    public Group describe(String name) {
        List<AutoScalingGroup> groups = autoScaling.describeAutoScalingGroups(r -> r.autoScalingGroupNames(name))
                .autoScalingGroups();
        if (groups.isEmpty()) {
            return null;
        }
        AutoScalingGroup group = groups.getFirst();
        DescribeWarmPoolResponse warm = autoScaling.describeWarmPool(r -> r.autoScalingGroupName(name));
        WarmPoolConfiguration config = warm.warmPoolConfiguration();
        Settings current = null;
        boolean pendingDelete = false;
        // a group without a warm pool answers with no (or an empty) configuration
        if (config != null && (config.poolState() != null || config.minSize() != null
                || config.maxGroupPreparedCapacity() != null || config.instanceReusePolicy() != null
                || config.status() != null)) {
            current = new Settings(config.poolStateAsString(), config.minSize() == null ? 0 : config.minSize(),
                    config.maxGroupPreparedCapacity() == null ? Settings.GROUP_MAX_SIZE : config.maxGroupPreparedCapacity(),
                    config.instanceReusePolicy() != null && Boolean.TRUE.equals(config.instanceReusePolicy().reuseOnScaleIn()));
            pendingDelete = config.status() == WarmPoolStatus.PENDING_DELETE;
        }
        return new Group(name, noWarmPool(group), current, pendingDelete);
    }

    @Override
    public void put(String group, Settings settings) {
        // every field given: one left out would become AWS's default, not stay as it was
        autoScaling.putWarmPool(r -> r.autoScalingGroupName(group)
                .poolState(settings.poolState())
                .minSize(settings.minSize())
                .maxGroupPreparedCapacity(settings.maxGroupPreparedCapacity())
                .instanceReusePolicy(p -> p.reuseOnScaleIn(settings.reuseOnScaleIn())));
    }

    /** Why AWS would reject PutWarmPool on the group (Spot or mixed instances), or null. */
    private String noWarmPool(AutoScalingGroup group) {
        if (group.mixedInstancesPolicy() != null) {
            return "has a mixed instances policy (Spot/multiple types)";
        }
        LaunchTemplateSpecification template = group.launchTemplate();
        if (template != null) {
            // the version as the group uses it; EC2 resolves $Latest and $Default (absent means $Default)
            String version = template.version() == null || template.version().isBlank() ? "$Default" : template.version();
            DescribeLaunchTemplateVersionsRequest.Builder request = DescribeLaunchTemplateVersionsRequest.builder()
                    .versions(version);
            if (template.launchTemplateId() != null) {
                request.launchTemplateId(template.launchTemplateId());
            } else {
                request.launchTemplateName(template.launchTemplateName());
            }
            List<LaunchTemplateVersion> versions = ec2.describeLaunchTemplateVersions(request.build())
                    .launchTemplateVersions();
            if (versions.isEmpty()) {
                throw new IllegalStateException("launch template " + Quoted.abbreviate(templateName(template))
                        + " version " + Quoted.abbreviate(version) + " not found");
            }
            var data = versions.getFirst().launchTemplateData();
            if (data != null && data.instanceMarketOptions() != null
                    && data.instanceMarketOptions().marketType() == MarketType.SPOT) {
                return "launches Spot instances (launch template " + Quoted.abbreviate(templateName(template))
                        + " version " + versions.getFirst().versionNumber() + " has InstanceMarketOptions MarketType spot)";
            }
            return null;
        }
        if (group.launchConfigurationName() != null) {
            List<LaunchConfiguration> configurations = autoScaling.describeLaunchConfigurations(
                    r -> r.launchConfigurationNames(group.launchConfigurationName())).launchConfigurations();
            if (!configurations.isEmpty() && configurations.getFirst().spotPrice() != null) {
                return "launches Spot instances (launch configuration "
                        + Quoted.abbreviate(group.launchConfigurationName()) + " has a SpotPrice)";
            }
        }
        return null;
    }

    private static String templateName(LaunchTemplateSpecification template) {
        return template.launchTemplateId() != null ? template.launchTemplateId() : template.launchTemplateName();
    }
}
