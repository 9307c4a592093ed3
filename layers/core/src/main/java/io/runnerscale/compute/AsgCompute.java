package io.runnerscale.compute;

import io.runnerscale.pool.PoolConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.autoscaling.model.AutoScalingGroup;
import software.amazon.awssdk.services.autoscaling.model.DescribeAutoScalingGroupsResponse;
import software.amazon.awssdk.services.autoscaling.model.Instance;
import software.amazon.awssdk.services.autoscaling.model.LaunchTemplateOverrides;
import software.amazon.awssdk.services.autoscaling.model.LaunchTemplateSpecification;
import software.amazon.awssdk.services.autoscaling.model.LifecycleState;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesRequest;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.LaunchTemplate;
import software.amazon.awssdk.services.ec2.model.Tag;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Pools backed by an EC2 Auto Scaling group.
 *
 * <p>Besides the group (DescribeAutoScalingGroups) it reads from EC2, when given a client:
 * <ul>
 *   <li>each instance's launch time and launch template version (DescribeInstances: EC2's
 *       {@code LaunchTime} and the {@code aws:ec2launchtemplate:id}/{@code version} tags EC2 puts on
 *       every instance launched from a template). Both never change, so they are remembered per
 *       instance and only instances not seen before are described: one call per decision at most
 *       (with paging), none once the group's instances are known;</li>
 *   <li>what {@code $Latest} / {@code $Default} in the group's launch template means now
 *       (DescribeLaunchTemplates), only when the group names a version that way and has instances.</li>
 * </ul>
 * An instance is <em>outdated</em> when it runs a launch template (or version) the group no longer
 * launches. When anything needed for that is unknown (EC2 not answering, an instance without template
 * information), the instance is not outdated: a wrong "outdated" would drain and replace healthy
 * instances over and over, a missed one only delays an upgrade. Neither EC2 read is needed to scale:
 * a failure is logged and the decision goes on without it.
 *
 * <p>It also suspends the group's AZRebalance process when it finds it running (see
 * {@link #suspendAzRebalance}).
 */
public final class AsgCompute implements Compute {
    static final String TEMPLATE_ID_TAG = "aws:ec2launchtemplate:id";
    static final String TEMPLATE_VERSION_TAG = "aws:ec2launchtemplate:version";
    static final String GROUP_TAG = "aws:autoscaling:groupName";
    static final String AZ_REBALANCE = "AZRebalance";
    /** EC2 takes at most 200 values in one filter; a group with more new instances is described by its tag. */
    static final int MAX_FILTER_VALUES = 200;
    private static final Logger LOG = LoggerFactory.getLogger(AsgCompute.class);

    private final AutoScalingClient autoScaling;
    private final Ec2Client ec2;
    /** What EC2 says of each instance seen (it never changes); only the groups' current instances are kept. */
    private final Map<String, Launch> launches = new ConcurrentHashMap<>();
    /** Groups whose AZRebalance this container has tried to suspend (once each: a denied call is not repeated). */
    private final Set<String> rebalanceAsked = ConcurrentHashMap.newKeySet();

    /** Without EC2: no launch times, versions only as far as Auto Scaling reports them as numbers. */
    public AsgCompute(AutoScalingClient autoScaling) {
        this(autoScaling, null);
    }

    /** @param ec2 null to read nothing from EC2 */
    public AsgCompute(AutoScalingClient autoScaling, Ec2Client ec2) {
        this.autoScaling = autoScaling;
        this.ec2 = ec2;
    }

    /** EC2's account of one instance; {@code templateId}/{@code templateVersion} null if not launched from a template. */
    record Launch(String group, Instant launchedAt, String templateId, String templateVersion) {
    }

    /** A launch template at one version number. */
    record TemplateVersion(String templateId, String version) {
    }

    @Override
    public GroupState describe(PoolConfig pool) {
        String name = asg(pool);
        DescribeAutoScalingGroupsResponse response =
                autoScaling.describeAutoScalingGroups(r -> r.autoScalingGroupNames(name));
        if (response.autoScalingGroups().isEmpty()) {
            throw new IllegalStateException("pool '" + pool.name() + "': Auto Scaling group '" + name + "' does not exist");
        }
        AutoScalingGroup group = response.autoScalingGroups().getFirst();
        suspendAzRebalance(group);
        List<Instance> present = group.instances().stream().filter(i -> !isLeaving(i.lifecycleState())).toList();
        Map<String, Launch> known = launches(name, present);
        Optional<Set<TemplateVersion>> current = present.isEmpty() ? Optional.of(Set.of()) : currentTemplates(group);
        List<GroupState.Instance> instances = present.stream()
                .map(i -> {
                    Launch launch = known.get(i.instanceId());
                    return new GroupState.Instance(i.instanceId(), i.lifecycleState() == LifecycleState.IN_SERVICE,
                            launch == null ? null : launch.launchedAt(), outdated(group, current, i, launch));
                })
                .toList();
        return new GroupState(group.desiredCapacity(), instances);
    }

    @Override
    public void setDesiredCapacity(PoolConfig pool, int desired) {
        autoScaling.setDesiredCapacity(r -> r.autoScalingGroupName(asg(pool)).desiredCapacity(desired).honorCooldown(false));
    }

    /**
     * AZRebalance terminates instances to even out Availability Zones: a runner with a job would go
     * (the terminate hook's drain holds it only as long as its heartbeats last), and the group would be
     * a second writer of its own size. CloudFormation cannot suspend a process, so the scaler does, the
     * first time it sees a group where it runs (the groups in AsgNames are runnerscale's to size).
     */
    private void suspendAzRebalance(AutoScalingGroup group) {
        String name = group.autoScalingGroupName();
        boolean suspended = group.suspendedProcesses().stream().anyMatch(p -> AZ_REBALANCE.equals(p.processName()));
        if (suspended || !rebalanceAsked.add(name)) {
            return;
        }
        try {
            autoScaling.suspendProcesses(r -> r.autoScalingGroupName(name).scalingProcesses(AZ_REBALANCE));
            LOG.info("group {}: suspended AZRebalance (it would terminate runners to even out zones)", name);
        } catch (SdkException e) {
            LOG.warn("group {}: AZRebalance runs and could not be suspended ({}); suspend it with `aws autoscaling "
                    + "suspend-processes --auto-scaling-group-name {} --scaling-processes AZRebalance`", name,
                    e.toString(), name);
        }
    }

    // ------------------------------------------------------------------ launch facts (DescribeInstances)

    private Map<String, Launch> launches(String group, List<Instance> present) {
        Set<String> ids = new HashSet<>();
        present.forEach(i -> ids.add(i.instanceId()));
        // instances that left the group are forgotten (ids are never reused)
        launches.entrySet().removeIf(e -> e.getValue().group().equals(group) && !ids.contains(e.getKey()));
        List<String> unseen = ids.stream().filter(id -> !launches.containsKey(id)).sorted().toList();
        if (ec2 != null && !unseen.isEmpty()) {
            try {
                Filter filter = unseen.size() <= MAX_FILTER_VALUES
                        ? Filter.builder().name("instance-id").values(unseen).build()
                        : Filter.builder().name("tag:" + GROUP_TAG).values(group).build();
                // a filter, not InstanceIds: an instance EC2 does not list yet (eventual consistency) is
                // simply missing from the answer instead of failing the call; it is asked for again next time
                DescribeInstancesRequest request = DescribeInstancesRequest.builder().filters(filter).maxResults(1000).build();
                ec2.describeInstancesPaginator(request).reservations().forEach(reservation ->
                        reservation.instances().forEach(instance -> {
                            if (ids.contains(instance.instanceId())) {
                                launches.put(instance.instanceId(), new Launch(group, instance.launchTime(),
                                        tag(instance.tags(), TEMPLATE_ID_TAG), tag(instance.tags(), TEMPLATE_VERSION_TAG)));
                            }
                        }));
            } catch (SdkException e) {
                LOG.warn("group {}: DescribeInstances failed ({}): launch times and template versions of {} new "
                        + "instance(s) unknown for now", group, e.toString(), unseen.size());
            }
        }
        Map<String, Launch> out = new HashMap<>();
        ids.forEach(id -> {
            Launch launch = launches.get(id);
            if (launch != null) {
                out.put(id, launch);
            }
        });
        return out;
    }

    private static String tag(List<Tag> tags, String key) {
        return tags.stream().filter(t -> key.equals(t.key())).map(Tag::value).findFirst().orElse(null);
    }

    // ------------------------------------------------------------------ outdated instances

    /**
     * The launch template versions the group launches now: its template (or its mixed instances
     * policy's template and the per-type override templates), {@code $Latest}/{@code $Default}
     * resolved. Empty when the group uses a launch configuration or a version could not be resolved.
     */
    private Optional<Set<TemplateVersion>> currentTemplates(AutoScalingGroup group) {
        List<LaunchTemplateSpecification> specs = new ArrayList<>();
        if (group.launchTemplate() != null) {
            specs.add(group.launchTemplate());
        } else if (group.mixedInstancesPolicy() != null && group.mixedInstancesPolicy().launchTemplate() != null) {
            var template = group.mixedInstancesPolicy().launchTemplate();
            if (template.launchTemplateSpecification() != null) {
                specs.add(template.launchTemplateSpecification());
            }
            for (LaunchTemplateOverrides override : template.overrides()) {
                if (override.launchTemplateSpecification() != null) {
                    specs.add(override.launchTemplateSpecification());
                }
            }
        }
        if (specs.isEmpty()) {
            return Optional.empty();
        }
        Map<String, LaunchTemplate> byKey = new HashMap<>();
        boolean lookUp = specs.stream().anyMatch(s -> s.launchTemplateId() == null || !isNumber(s.version()));
        if (lookUp) {
            if (ec2 == null) {
                return Optional.empty();
            }
            List<String> ids = specs.stream().map(LaunchTemplateSpecification::launchTemplateId)
                    .filter(id -> id != null).distinct().toList();
            List<String> names = specs.stream().filter(s -> s.launchTemplateId() == null)
                    .map(LaunchTemplateSpecification::launchTemplateName).filter(n -> n != null).distinct().toList();
            try {
                if (!ids.isEmpty()) {
                    ec2.describeLaunchTemplates(r -> r.launchTemplateIds(ids)).launchTemplates()
                            .forEach(t -> byKey.put(t.launchTemplateId(), t));
                }
                if (!names.isEmpty()) {
                    ec2.describeLaunchTemplates(r -> r.launchTemplateNames(names)).launchTemplates()
                            .forEach(t -> byKey.put("name:" + t.launchTemplateName(), t));
                }
            } catch (SdkException e) {
                LOG.warn("group {}: DescribeLaunchTemplates failed ({}): no instance counts as outdated for now",
                        group.autoScalingGroupName(), e.toString());
                return Optional.empty();
            }
        }
        Set<TemplateVersion> current = new HashSet<>();
        for (LaunchTemplateSpecification spec : specs) {
            LaunchTemplate described = spec.launchTemplateId() != null ? byKey.get(spec.launchTemplateId())
                    : byKey.get("name:" + spec.launchTemplateName());
            String id = spec.launchTemplateId() != null ? spec.launchTemplateId()
                    : described == null ? null : described.launchTemplateId();
            String version = spec.version();
            if (!isNumber(version)) {
                Long number = described == null ? null
                        : "$Latest".equals(version) ? described.latestVersionNumber() : described.defaultVersionNumber();
                version = number == null ? null : number.toString();
            }
            if (id == null || version == null) {
                LOG.warn("group {}: launch template {} version {} not found: no instance counts as outdated for now",
                        group.autoScalingGroupName(), spec.launchTemplateId() != null ? spec.launchTemplateId()
                                : spec.launchTemplateName(), spec.version());
                return Optional.empty();
            }
            current.add(new TemplateVersion(id, version));
        }
        return Optional.of(current);
    }

    static boolean outdated(AutoScalingGroup group, Optional<Set<TemplateVersion>> current, Instance instance,
                            Launch launch) {
        if (group.launchConfigurationName() != null) {
            // launch configurations (no longer offered to new accounts): a name, no versions
            if (instance.launchTemplate() != null) {
                return true;   // launched from a template before the group moved to a configuration
            }
            return instance.launchConfigurationName() != null
                    && !instance.launchConfigurationName().equals(group.launchConfigurationName());
        }
        if (current.isEmpty()) {
            return false;
        }
        Optional<TemplateVersion> launchedFrom = launchedFrom(instance, launch);
        if (launchedFrom.isPresent()) {
            return !current.get().contains(launchedFrom.get());
        }
        // no template at all, but a launch configuration: from before the group moved to templates
        return instance.launchTemplate() == null && instance.launchConfigurationName() != null;
    }

    /**
     * The template version the instance was launched from: EC2's tags (what EC2 actually launched), else
     * Auto Scaling's record of the instance when it names a version number.
     */
    static Optional<TemplateVersion> launchedFrom(Instance instance, Launch launch) {
        if (launch != null && launch.templateId() != null && isNumber(launch.templateVersion())) {
            return Optional.of(new TemplateVersion(launch.templateId(), launch.templateVersion()));
        }
        var template = instance.launchTemplate();
        if (template != null && template.launchTemplateId() != null && isNumber(template.version())) {
            return Optional.of(new TemplateVersion(template.launchTemplateId(), template.version()));
        }
        return Optional.empty();
    }

    private static boolean isNumber(String version) {
        return version != null && !version.isEmpty() && version.chars().allMatch(Character::isDigit);
    }

    /**
     * Leaving, or not in the group at all: a warm pool's instances are listed by DescribeWarmPool, not
     * here, but one listed in a {@code Warmed:*} state would be neither capacity nor booting (it has no
     * runner while warm), and a boot timeout must not drain it.
     */
    private static boolean isLeaving(LifecycleState state) {
        return switch (state) {
            case TERMINATING, TERMINATING_WAIT, TERMINATING_PROCEED, TERMINATED, DETACHING, DETACHED,
                 ENTERING_STANDBY, STANDBY -> true;
            case WARMED_PENDING, WARMED_PENDING_WAIT, WARMED_PENDING_PROCEED, WARMED_TERMINATING,
                 WARMED_TERMINATING_WAIT, WARMED_TERMINATING_PROCEED, WARMED_TERMINATED, WARMED_STOPPED,
                 WARMED_RUNNING, WARMED_HIBERNATED -> true;
            default -> false;
        };
    }

    private static String asg(PoolConfig pool) {
        if (pool.backend() instanceof PoolConfig.Ec2Asg asg) {
            return asg.asg();
        }
        throw new IllegalArgumentException("pool '" + pool.name() + "' has backend " + pool.backend().type()
                + ", not ec2-asg (Fargate pools arrive with the Fargate issue)");
    }
}
