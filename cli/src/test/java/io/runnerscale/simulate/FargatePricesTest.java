package io.runnerscale.simulate;

import io.runnerscale.compute.FargateTasks.Capacity;
import io.runnerscale.pool.PoolConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Fargate's bill: per second, a minute at least, per vCPU-hour and GB-hour, ARM cheaper, Spot discounted. */
class FargatePricesTest {
    private static final double EPS = 1e-12;
    private static final FargatePrices PRICES = FargatePrices.US_EAST_1;

    private static PoolConfig.Fargate task(double vcpu, double memoryGib, PoolConfig.Fargate.Platform platform,
                                           boolean spot) {
        return new PoolConfig.Fargate("ci", "runner", "runner", List.of("subnet-a"), List.of(), false, spot, platform,
                vcpu, memoryGib, PoolConfig.Fargate.DEFAULT_WAIT_TIMEOUT, 3, PoolConfig.StartTime.DEFAULT);
    }

    private static final PoolConfig.Fargate X86_1_2 = task(1, 2, PoolConfig.Fargate.Platform.X86_64, false);

    @Test
    void aTaskShorterThanAMinuteBillsAMinute() {
        assertEquals(60, FargatePrices.billedSeconds(Duration.ZERO));
        assertEquals(60, FargatePrices.billedSeconds(Duration.ofSeconds(10)));
        assertEquals(60, FargatePrices.billedSeconds(Duration.ofMillis(59_999)));
        assertEquals(60, FargatePrices.billedSeconds(Duration.ofSeconds(60)));
        assertEquals(PRICES.cost(X86_1_2, Capacity.FARGATE, Duration.ofSeconds(60)),
                PRICES.cost(X86_1_2, Capacity.FARGATE, Duration.ofSeconds(5)), EPS);
    }

    @Test
    void afterTheMinuteEveryStartedSecondBills() {
        assertEquals(61, FargatePrices.billedSeconds(Duration.ofMillis(60_001)), "rounded up to the second");
        assertEquals(126, FargatePrices.billedSeconds(Duration.ofMillis(125_400)));
        assertEquals(3600, FargatePrices.billedSeconds(Duration.ofHours(1)));
        double perSecond = PRICES.hourly(X86_1_2, Capacity.FARGATE) / 3600;
        assertEquals(61 * perSecond, PRICES.cost(X86_1_2, Capacity.FARGATE, Duration.ofMillis(60_500)), EPS);
    }

    @Test
    void anHourOfAnX86TaskIsItsVcpusAndGigabytesAtTheirPrices() {
        // us-east-1 Linux/x86: $0.04048 per vCPU-hour, $0.004445 per GB-hour
        assertEquals(0.04048 + 2 * 0.004445, PRICES.hourly(X86_1_2, Capacity.FARGATE), EPS);
        assertEquals(2 * 0.04048 + 4 * 0.004445,
                PRICES.cost(task(2, 4, PoolConfig.Fargate.Platform.X86_64, false), Capacity.FARGATE, Duration.ofHours(1)),
                EPS);
        assertEquals(0.25 * 0.04048 + 0.5 * 0.004445,
                PRICES.hourly(task(0.25, 0.5, PoolConfig.Fargate.Platform.X86_64, false), Capacity.FARGATE), EPS);
    }

    @Test
    void armTasksBillArmPrices() {
        PoolConfig.Fargate arm = task(1, 2, PoolConfig.Fargate.Platform.ARM64, false);
        assertEquals(0.03238 + 2 * 0.00356, PRICES.hourly(arm, Capacity.FARGATE), EPS);
        assertEquals(0.8, PRICES.hourly(arm, Capacity.FARGATE) / PRICES.hourly(X86_1_2, Capacity.FARGATE), 0.005,
                "Graviton is about 20 % cheaper");
    }

    @Test
    void fargateSpotTakesTheDiscountOffWhereverTheTaskRuns() {
        assertEquals(0.3 * (0.04048 + 2 * 0.004445), PRICES.hourly(X86_1_2, Capacity.FARGATE_SPOT), EPS);
        PoolConfig.Fargate arm = task(1, 2, PoolConfig.Fargate.Platform.ARM64, true);
        assertEquals(0.3 * (0.03238 + 2 * 0.00356), PRICES.hourly(arm, Capacity.FARGATE_SPOT), EPS);
        // a Spot pool's task that fell back to on-demand pays on-demand
        assertEquals(0.03238 + 2 * 0.00356, PRICES.hourly(arm, Capacity.FARGATE), EPS);
        FargatePrices half = PRICES.withSpotDiscount(0.5);
        assertEquals(0.5 * PRICES.hourly(X86_1_2, Capacity.FARGATE), half.hourly(X86_1_2, Capacity.FARGATE_SPOT), EPS);
    }

    @Test
    void pricesCanBeGivenForOtherRegions() {
        FargatePrices frankfurt = PRICES.withX86(0.04656, 0.00511).withArm(0.03725, 0.00409);
        assertEquals(0.04656 + 2 * 0.00511, frankfurt.hourly(X86_1_2, Capacity.FARGATE), EPS);
        assertEquals(0.03725 + 2 * 0.00409,
                frankfurt.hourly(task(1, 2, PoolConfig.Fargate.Platform.ARM64, false), Capacity.FARGATE), EPS);
    }

    @Test
    void pricesOutsideTheirRangesAreRefused() {
        List<Runnable> bad = List.of(() -> PRICES.withX86(-0.1, 0.004), () -> PRICES.withX86(Double.NaN, 0.004),
                () -> PRICES.withArm(0.03, 11), () -> PRICES.withSpotDiscount(1), () -> PRICES.withSpotDiscount(-0.1),
                () -> PRICES.withSpotDiscount(Double.NaN));
        for (Runnable r : bad) {
            assertThrows(IllegalArgumentException.class, r::run);
        }
    }
}
