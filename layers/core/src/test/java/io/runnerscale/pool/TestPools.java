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
}
