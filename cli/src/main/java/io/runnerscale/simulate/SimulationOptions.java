package io.runnerscale.simulate;

import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;

/**
 * How the simulated world behaves.
 *
 * @param bootMean            mean time from launch until an instance's runner takes jobs
 * @param bootJitter          spread of boot times (sigma of a log-normal around the mean; 0 = fixed, at most 1)
 * @param decisionDelayMin    fastest reaction from a job asking for a runner to a scaling decision
 * @param decisionDelayMax    slowest such reaction (uniform in between)
 * @param tickInterval        the scheduled decision (safety net, and when idle instances are removed)
 * @param spotInterruptionsPerInstanceHour rate of spot interruption warnings per instance-hour on spot
 *                            pools (0 = none)
 * @param pricePerInstanceHour USD per instance-hour, or 0 when unknown (no cost is reported)
 * @param sampleInterval      spacing of the timeline the report charts
 * @param drainTime           how long a drain takes once no job runs on the instance: pause the runner,
 *                            GitLab's running-jobs check, delete the runner, terminate. The instance
 *                            takes no job and still bills meanwhile
 * @param spotPools           the pools whose instances are spot (interrupted at the rate above); empty
 *                            means every pool. A Fargate pool's tasks are interrupted only on Fargate
 *                            Spot ({@code backend.spot: true}), at the same rate per task-hour
 * @param fargatePrices       what Fargate tasks cost (Fargate pools always report a cost)
 * @param ebsPricePerGbMonth  USD per GB-month of EBS volume: what a stopped warm-pool instance costs
 *                            (its {@code volume_gib}); gp3 in us-east-1 by default
 */
public record SimulationOptions(Duration bootMean, double bootJitter, Duration decisionDelayMin,
                                Duration decisionDelayMax, Duration tickInterval,
                                double spotInterruptionsPerInstanceHour, double pricePerInstanceHour, long seed,
                                Duration sampleInterval, Duration drainTime, Set<String> spotPools,
                                FargatePrices fargatePrices, double ebsPricePerGbMonth) {

    /** gp3 in us-east-1, USD per GB-month. */
    public static final double DEFAULT_EBS_PRICE = 0.08;
    /** io2 is about 0.125 and st1/sc1 less; 10 USD per GB-month is a typo. */
    public static final double MAX_EBS_PRICE = 10;

    /** EBS at {@link #DEFAULT_EBS_PRICE}. */
    public SimulationOptions(Duration bootMean, double bootJitter, Duration decisionDelayMin, Duration decisionDelayMax,
                             Duration tickInterval, double spotInterruptionsPerInstanceHour, double pricePerInstanceHour,
                             long seed, Duration sampleInterval, Duration drainTime, Set<String> spotPools,
                             FargatePrices fargatePrices) {
        this(bootMean, bootJitter, decisionDelayMin, decisionDelayMax, tickInterval, spotInterruptionsPerInstanceHour,
                pricePerInstanceHour, seed, sampleInterval, drainTime, spotPools, fargatePrices, DEFAULT_EBS_PRICE);
    }

    /** The most expensive EC2 instance costs about 220 USD an hour on demand; anything above this is a typo. */
    public static final double MAX_PRICE_PER_HOUR = 1000;
    /**
     * Ten interruptions per instance-hour is a mean instance life of six minutes, thousands of times
     * AWS's worst spot bracket (over 20 % a month, about 0.0003 an hour): enough to stress the retry
     * path. Beyond it, jobs of an hour almost never finish and the run only burns time.
     */
    public static final double MAX_SPOT_RATE = 10;
    /**
     * Sigma of the log-normal boot factor. At 1 the factor's variance is e - 1 (about 1.7), so the
     * mean of a few hundred boots is still close to the configured mean; at larger sigma the mean is
     * carried by ever rarer huge draws, and a real run of boots comes out far below it (sigma 50 made
     * every boot instant while the header said 50 s).
     */
    public static final double MAX_BOOT_JITTER = 1;
    /** An instance that needs more than an hour to take jobs is not something an autoscaler can hide. */
    public static final Duration MAX_BOOT = Duration.ofHours(1);
    /**
     * A drain with no job to wait for: pause the runner, one GitLab check of its running jobs, delete
     * the runner, terminate (each a Lambda task of the drain state machine, a second or so apiece).
     */
    public static final Duration DEFAULT_DRAIN_TIME = Duration.ofSeconds(5);
    /** Ten minutes of API calls is a broken drain, not a slow one. */
    public static final Duration MAX_DRAIN_TIME = Duration.ofMinutes(10);

    /** Drains take {@link #DEFAULT_DRAIN_TIME}; every pool is spot (it matters only with a spot rate). */
    public SimulationOptions(Duration bootMean, double bootJitter, Duration decisionDelayMin, Duration decisionDelayMax,
                             Duration tickInterval, double spotInterruptionsPerInstanceHour, double pricePerInstanceHour,
                             long seed, Duration sampleInterval) {
        this(bootMean, bootJitter, decisionDelayMin, decisionDelayMax, tickInterval, spotInterruptionsPerInstanceHour,
                pricePerInstanceHour, seed, sampleInterval, DEFAULT_DRAIN_TIME, Set.of());
    }

    /** Fargate at {@link FargatePrices#US_EAST_1}. */
    public SimulationOptions(Duration bootMean, double bootJitter, Duration decisionDelayMin, Duration decisionDelayMax,
                             Duration tickInterval, double spotInterruptionsPerInstanceHour, double pricePerInstanceHour,
                             long seed, Duration sampleInterval, Duration drainTime, Set<String> spotPools) {
        this(bootMean, bootJitter, decisionDelayMin, decisionDelayMax, tickInterval, spotInterruptionsPerInstanceHour,
                pricePerInstanceHour, seed, sampleInterval, drainTime, spotPools, FargatePrices.US_EAST_1);
    }

    public SimulationOptions {
        if (bootMean == null || bootMean.isNegative() || bootMean.isZero() || bootMean.compareTo(MAX_BOOT) > 0) {
            throw new IllegalArgumentException("boot time must be more than 0 and at most 1h, got " + bootMean);
        }
        requireRange("boot jitter", bootJitter, MAX_BOOT_JITTER);
        requireRange("spot interruptions per instance-hour", spotInterruptionsPerInstanceHour, MAX_SPOT_RATE);
        requireRange("price per instance-hour", pricePerInstanceHour, MAX_PRICE_PER_HOUR);
        if (decisionDelayMin == null || decisionDelayMax == null || decisionDelayMin.isNegative()
                || decisionDelayMax.compareTo(decisionDelayMin) < 0) {
            throw new IllegalArgumentException("decision delays must satisfy 0 <= min <= max, got "
                    + decisionDelayMin + " and " + decisionDelayMax);
        }
        // both reschedule themselves: at 0 the event loop would never leave the current instant
        if (tickInterval == null || tickInterval.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("tick interval must be at least 1s, got " + tickInterval);
        }
        if (sampleInterval == null || sampleInterval.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("sample interval must be at least 1s, got " + sampleInterval);
        }
        if (drainTime == null || drainTime.isNegative() || drainTime.compareTo(MAX_DRAIN_TIME) > 0) {
            throw new IllegalArgumentException("drain time must be from 0 to 10m, got " + drainTime);
        }
        spotPools = spotPools == null ? Set.of() : Set.copyOf(new TreeSet<>(spotPools));
        fargatePrices = fargatePrices == null ? FargatePrices.US_EAST_1 : fargatePrices;
        requireRange("EBS price per GB-month", ebsPricePerGbMonth, MAX_EBS_PRICE);
    }

    /** Whether instances of {@code pool} get spot interruptions. */
    public boolean spot(String pool) {
        return spotInterruptionsPerInstanceHour > 0 && (spotPools.isEmpty() || spotPools.contains(pool));
    }

    private static void requireRange(String what, double value, double max) {
        if (!(value >= 0 && value <= max)) { // also false for NaN
            throw new IllegalArgumentException(what + " must be a finite number from 0 to " + max + ", got " + value);
        }
    }

    /** runnerscale in AWS: webhook to SQS FIFO to the scaler is about a second; the schedule ticks every minute. */
    public static SimulationOptions runnerscale(Duration boot) {
        return new SimulationOptions(boot, 0.1, Duration.ofMillis(500), Duration.ofMillis(1500), Duration.ofMinutes(1),
                0, 0, 1, Duration.ofMinutes(15));
    }

    /**
     * GitLab's taskscaler as its defaults run it: the runner manager polls for jobs every
     * {@code check_interval} (3 s) and re-evaluates capacity every
     * {@code update_interval_when_expecting} (2 s) while expecting, every {@code update_interval}
     * (1 min) otherwise. The world around it (boots, drains, spot) is the same.
     */
    public static SimulationOptions gitlabTaskscaler(SimulationOptions base) {
        return new SimulationOptions(base.bootMean, base.bootJitter, Duration.ofSeconds(2), Duration.ofSeconds(5),
                Duration.ofMinutes(1), base.spotInterruptionsPerInstanceHour, base.pricePerInstanceHour, base.seed,
                base.sampleInterval, base.drainTime, base.spotPools, base.fargatePrices, base.ebsPricePerGbMonth);
    }

    public SimulationOptions withSpotRate(double rate) {
        return new SimulationOptions(bootMean, bootJitter, decisionDelayMin, decisionDelayMax, tickInterval, rate,
                pricePerInstanceHour, seed, sampleInterval, drainTime, spotPools, fargatePrices, ebsPricePerGbMonth);
    }

    /** @param pools the spot pools; empty for every pool */
    public SimulationOptions withSpotPools(Set<String> pools) {
        return new SimulationOptions(bootMean, bootJitter, decisionDelayMin, decisionDelayMax, tickInterval,
                spotInterruptionsPerInstanceHour, pricePerInstanceHour, seed, sampleInterval, drainTime, pools,
                fargatePrices, ebsPricePerGbMonth);
    }

    public SimulationOptions withDrainTime(Duration time) {
        return new SimulationOptions(bootMean, bootJitter, decisionDelayMin, decisionDelayMax, tickInterval,
                spotInterruptionsPerInstanceHour, pricePerInstanceHour, seed, sampleInterval, time, spotPools,
                fargatePrices, ebsPricePerGbMonth);
    }

    public SimulationOptions withPrice(double price) {
        return new SimulationOptions(bootMean, bootJitter, decisionDelayMin, decisionDelayMax, tickInterval,
                spotInterruptionsPerInstanceHour, price, seed, sampleInterval, drainTime, spotPools, fargatePrices, ebsPricePerGbMonth);
    }

    public SimulationOptions withSeed(long newSeed) {
        return new SimulationOptions(bootMean, bootJitter, decisionDelayMin, decisionDelayMax, tickInterval,
                spotInterruptionsPerInstanceHour, pricePerInstanceHour, newSeed, sampleInterval, drainTime, spotPools,
                fargatePrices, ebsPricePerGbMonth);
    }

    public SimulationOptions withBootJitter(double jitter) {
        return new SimulationOptions(bootMean, jitter, decisionDelayMin, decisionDelayMax, tickInterval,
                spotInterruptionsPerInstanceHour, pricePerInstanceHour, seed, sampleInterval, drainTime, spotPools,
                fargatePrices, ebsPricePerGbMonth);
    }

    public SimulationOptions withEbsPrice(double usdPerGbMonth) {
        return new SimulationOptions(bootMean, bootJitter, decisionDelayMin, decisionDelayMax, tickInterval,
                spotInterruptionsPerInstanceHour, pricePerInstanceHour, seed, sampleInterval, drainTime, spotPools,
                fargatePrices, usdPerGbMonth);
    }

    public SimulationOptions withFargatePrices(FargatePrices prices) {
        return new SimulationOptions(bootMean, bootJitter, decisionDelayMin, decisionDelayMax, tickInterval,
                spotInterruptionsPerInstanceHour, pricePerInstanceHour, seed, sampleInterval, drainTime, spotPools,
                prices, ebsPricePerGbMonth);
    }
}
