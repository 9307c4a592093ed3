package io.runnerscale.pool;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One runner pool, with GitLab autoscaler names: capacity is counted in job slots,
 * {@code capacity_per_instance} slots per instance.
 */
public record PoolConfig(
        String name,
        Match match,
        Backend backend,
        int capacityPerInstance,
        int maxInstances,
        int maxUseCount,
        Duration bootTimeout,
        List<PolicyEntry> policy,
        ForecastConfig forecast) {

    public static final Duration DEFAULT_BOOT_TIMEOUT = Duration.ofMinutes(5);

    public PoolConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(match, "match");
        Objects.requireNonNull(backend, "backend");
        policy = policy == null || policy.isEmpty() ? List.of(PolicyEntry.DEFAULT) : List.copyOf(policy);
        bootTimeout = bootTimeout == null ? DEFAULT_BOOT_TIMEOUT : bootTimeout;
        forecast = forecast == null ? ForecastConfig.OFF : forecast;
    }

    /** The policy in force at {@code now}: the last entry whose periods match (an entry without periods always does). */
    public PolicyEntry activePolicy(Instant now) {
        PolicyEntry active = policy.getFirst();
        for (PolicyEntry entry : policy) {
            if (entry.isActiveAt(now)) {
                active = entry;
            }
        }
        return active;
    }

    /** Tags a job may carry to land here ({@code tags ⊆ match.tags}); untagged jobs need {@code run_untagged}. */
    public boolean accepts(List<String> jobTags) {
        if (jobTags == null || jobTags.isEmpty()) {
            return match.runUntagged();
        }
        return match.tags().containsAll(jobTags);
    }

    public record Match(List<String> tags, boolean runUntagged) {
        public Match {
            tags = tags == null ? List.of() : List.copyOf(tags);
        }
    }

    /** Where a pool's runners live. */
    public sealed interface Backend permits Ec2Asg, Fargate {
        String type();
    }

    /** The pool's warm pool, or null when it has none (Fargate pools never have one). */
    public WarmPool warmPool() {
        return backend instanceof Ec2Asg ec2 ? ec2.warmPool() : null;
    }

    /**
     * @param drainOnRebalance drain an instance on EC2's rebalance recommendation (an elevated risk of
     *                         a spot interruption), not only on the two-minute interruption warning
     * @param warmPool         prepared instances kept in the group's warm pool, or null for none
     * @param bootTime         from launch until a new instance's runner takes jobs, for {@code simulate} and
     *                         {@code serve}; null uses their {@code --boot} setting
     * @param runnerStartTime  from a resumed instance being usable until its runner takes jobs (the new
     *                         runner registered and {@code gitlab-runner} started), for {@code simulate} and
     *                         {@code serve}; part of {@code bootTime} on a cold launch
     * @param volumeGib        the instance's EBS volumes in GiB: what a stopped warm instance is billed for
     */
    public record Ec2Asg(String asg, boolean drainOnRebalance, WarmPool warmPool, StartTime bootTime,
                         StartTime runnerStartTime, int volumeGib) implements Backend {
        public static final StartTime DEFAULT_RUNNER_START_TIME =
                new StartTime(Duration.ofSeconds(1), Duration.ofSeconds(3));
        /** Amazon Linux 2023 with Docker and a few pre-pulled images fits; the AMI's own default is 8 GiB. */
        public static final int DEFAULT_VOLUME_GIB = 30;

        public Ec2Asg {
            Objects.requireNonNull(asg, "asg");
            runnerStartTime = runnerStartTime == null ? DEFAULT_RUNNER_START_TIME : runnerStartTime;
            if (volumeGib < 1) {
                throw new IllegalArgumentException("volume size must be at least 1 GiB, got " + volumeGib);
            }
        }

        public Ec2Asg(String asg, boolean drainOnRebalance) {
            this(asg, drainOnRebalance, null, null, null, DEFAULT_VOLUME_GIB);
        }

        public Ec2Asg(String asg) {
            this(asg, false);
        }

        public Ec2Asg withWarmPool(WarmPool pool) {
            return new Ec2Asg(asg, drainOnRebalance, pool, bootTime, runnerStartTime, volumeGib);
        }

        @Override
        public String type() {
            return "ec2-asg";
        }
    }

    /**
     * ECS Fargate: one task per pending job, running {@code gitlab-runner run-single} for one job.
     *
     * @param container      the runner container's name in the task definition (environment overrides go there)
     * @param spot           FARGATE_SPOT first, FARGATE when Spot has no capacity
     * @param platform       the task definition's CPU architecture (prices differ)
     * @param vcpu           the task size in vCPU, for cost figures (the task definition decides the real size)
     * @param memoryGib      the task's memory in GiB, for cost figures
     * @param waitTimeout    how long a task waits for a job before ending itself (its job may go to another task)
     * @param maxTaskAttempts tasks per job that may stop with an error (image pull, ENI, capacity) before
     *                       runnerscale gives the job up
     * @param startTime      from RunTask to the runner polling GitLab: how {@code simulate} and {@code serve}
     *                       start tasks, and how long the orphan sweep leaves a task before it may judge it
     * @param runnerId       the pool's GitLab runner (every task shares it), or null when not configured: the
     *                       orphan sweep then stops no task (it cannot tell GitLab's answer about another runner
     *                       from "no job"), and a Spot interruption looks for the task's job under the runners
     *                       of the pool's running jobs
     */
    public record Fargate(String cluster, String taskDefinition, String container, List<String> subnets,
                          List<String> securityGroups, boolean assignPublicIp, boolean spot, Platform platform,
                          double vcpu, double memoryGib, Duration waitTimeout, int maxTaskAttempts,
                          StartTime startTime, Long runnerId) implements Backend {
        public static final String DEFAULT_CONTAINER = "runner";
        public static final Duration DEFAULT_WAIT_TIMEOUT = Duration.ofMinutes(2);
        public static final int DEFAULT_MAX_TASK_ATTEMPTS = 3;

        public Fargate {
            Objects.requireNonNull(cluster, "cluster");
            Objects.requireNonNull(taskDefinition, "taskDefinition");
            container = container == null ? DEFAULT_CONTAINER : container;
            subnets = List.copyOf(subnets);
            securityGroups = List.copyOf(securityGroups);
            platform = platform == null ? Platform.X86_64 : platform;
            waitTimeout = waitTimeout == null ? DEFAULT_WAIT_TIMEOUT : waitTimeout;
            startTime = startTime == null ? StartTime.DEFAULT : startTime;
        }

        /** Without a configured runner id. */
        public Fargate(String cluster, String taskDefinition, String container, List<String> subnets,
                       List<String> securityGroups, boolean assignPublicIp, boolean spot, Platform platform,
                       double vcpu, double memoryGib, Duration waitTimeout, int maxTaskAttempts, StartTime startTime) {
            this(cluster, taskDefinition, container, subnets, securityGroups, assignPublicIp, spot, platform, vcpu,
                    memoryGib, waitTimeout, maxTaskAttempts, startTime, null);
        }

        /** Defaults for everything but where tasks run. */
        public Fargate(String cluster, String taskDefinition, List<String> subnets, List<String> securityGroups,
                       boolean spot) {
            this(cluster, taskDefinition, DEFAULT_CONTAINER, subnets, securityGroups, false, spot, Platform.X86_64,
                    1, 2, DEFAULT_WAIT_TIMEOUT, DEFAULT_MAX_TASK_ATTEMPTS, StartTime.DEFAULT);
        }

        @Override
        public String type() {
            return "fargate";
        }

        public enum Platform { X86_64, ARM64 }
    }

    /**
     * A start or boot time, uniform between {@code min} and {@code max}. The default is a Fargate
     * task's: a few-hundred-MB image without lazy loading starts in about 40 to 60 s.
     */
    public record StartTime(Duration min, Duration max) {
        public static final StartTime DEFAULT = new StartTime(Duration.ofSeconds(40), Duration.ofSeconds(60));

        public StartTime {
            Objects.requireNonNull(min, "min");
            Objects.requireNonNull(max, "max");
            if (max.compareTo(min) < 0) {
                throw new IllegalArgumentException("start time " + min + " is after " + max);
            }
        }
    }

    /**
     * An Auto Scaling warm pool (ec2-asg pools only): instances launched and prepared ahead, then kept
     * {@code state} until a scale-out draws them, which is much faster than a launch. Its size is
     * {@code maxPrepared} (the group's max size when null) minus the desired capacity, at least
     * {@code minSize}.
     *
     * @param reuseOnScaleIn a drained instance goes back to the warm pool instead of being terminated
     * @param resumeTime     from a scale-out until a warm instance is usable again (its runner then starts),
     *                       for {@code simulate} and {@code serve}; 15 to 20 s from stopped is what AWS and
     *                       peers publish
     */
    public record WarmPool(State state, int minSize, Integer maxPrepared, boolean reuseOnScaleIn,
                           StartTime resumeTime) {
        public static final StartTime DEFAULT_RESUME_TIME = new StartTime(Duration.ofSeconds(15), Duration.ofSeconds(20));

        public WarmPool {
            state = state == null ? State.STOPPED : state;
            resumeTime = resumeTime == null ? DEFAULT_RESUME_TIME : resumeTime;
            if (minSize < 0) {
                throw new IllegalArgumentException("warm pool min size must be at least 0, got " + minSize);
            }
            if (maxPrepared != null && maxPrepared < minSize) {
                throw new IllegalArgumentException("warm pool max prepared " + maxPrepared + " is below its min size "
                        + minSize);
            }
        }

        /** How a warm instance waits, with the names of Auto Scaling's {@code PoolState}. */
        public enum State {
            STOPPED("Stopped"), HIBERNATED("Hibernated"), RUNNING("Running");

            private final String awsName;

            State(String awsName) {
                this.awsName = awsName;
            }

            public String awsName() {
                return awsName;
            }
        }
    }
}
