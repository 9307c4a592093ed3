package io.runnerscale.pool;

import java.time.Duration;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;

/** Small builders for pool configurations in tests. */
public final class TestPools {
    private TestPools() {
    }

    public static PolicyEntry always(int idleCount, Duration idleTime, double scaleFactor, int scaleFactorLimit) {
        return new PolicyEntry(List.of(), ZoneOffset.UTC, idleCount, idleTime, scaleFactor, scaleFactorLimit);
    }

    public static PolicyEntry during(String period, ZoneId zone, int idleCount, Duration idleTime) {
        return new PolicyEntry(List.of(CronPeriod.parse(period)), zone, idleCount, idleTime, 0, 0);
    }

    public static PoolConfig asg(String name, int capacityPerInstance, int maxInstances, int maxUseCount,
                                 Duration bootTimeout, PolicyEntry... policy) {
        return new PoolConfig(name, new PoolConfig.Match(List.of(), true), new PoolConfig.Ec2Asg(name + "-asg"),
                capacityPerInstance, maxInstances, maxUseCount, bootTimeout, Arrays.asList(policy), ForecastConfig.OFF);
    }

    public static PoolConfig tagged(String name, List<String> tags, boolean runUntagged) {
        return new PoolConfig(name, new PoolConfig.Match(tags, runUntagged), new PoolConfig.Ec2Asg(name + "-asg"),
                1, 10, 0, null, List.of(), ForecastConfig.OFF);
    }

    public static PoolConfig withForecast(PoolConfig pool, ForecastConfig forecast) {
        return new PoolConfig(pool.name(), pool.match(), pool.backend(), pool.capacityPerInstance(),
                pool.maxInstances(), pool.maxUseCount(), pool.bootTimeout(), pool.policy(), forecast);
    }

    /** A Fargate pool with default backend settings but {@code maxTaskAttempts}. */
    public static PoolConfig fargate(String name, int maxTasks, int maxTaskAttempts, boolean spot) {
        PoolConfig.Fargate backend = new PoolConfig.Fargate("ci", "runner-td", "runner", List.of("subnet-1"), List.of(),
                false, spot, PoolConfig.Fargate.Platform.X86_64, 1, 2, PoolConfig.Fargate.DEFAULT_WAIT_TIMEOUT,
                maxTaskAttempts, null);
        return new PoolConfig(name, new PoolConfig.Match(List.of("fargate"), false), backend, 1, maxTasks, 0, null,
                null, null);
    }
}
