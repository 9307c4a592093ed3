package io.runnerscale.simulate;

import io.runnerscale.compute.FargateTasks.Capacity;
import io.runnerscale.pool.PoolConfig;

import java.time.Duration;

/**
 * What a Fargate task costs, for the simulator: a price per vCPU-hour and per GB-hour for each CPU
 * architecture, and the Fargate Spot discount.
 *
 * <p>Defaults: us-east-1, Linux, on-demand, from AWS's pricing page
 * (https://aws.amazon.com/fargate/pricing/, as quoted by Vantage's and Wring's 2025–2026 guides):
 * Linux/x86 $0.04048 per vCPU-hour and $0.004445 per GB-hour, Linux/ARM $0.03238 and $0.00356.
 * Fargate Spot is priced by AWS "at up to a 70% discount off the regular Fargate price" (same page);
 * its live price moves (third-party guides see 50–70 % off), so 70 % is the optimistic end: give
 * {@code --fargate-spot-discount} your region's figure.
 *
 * <p>Billing: AWS bills "from the time you start to download your container image until the Amazon
 * ECS Task ... terminates, rounded up to the nearest second", with a one-minute minimum for Linux
 * tasks (AWS's per-second billing announcement of 2018; the same guides). The simulator cannot see
 * the image pull start, which comes a few seconds after RunTask (ENI attachment, provisioning): it
 * bills from the RunTask request to the task's stop, so its figures are a slight overestimate.
 */
public record FargatePrices(double x86VcpuHour, double x86GbHour, double armVcpuHour, double armGbHour,
                            double spotDiscount) {
    public static final FargatePrices US_EAST_1 = new FargatePrices(0.04048, 0.004445, 0.03238, 0.00356, 0.70);
    /** Linux tasks bill at least a minute. */
    public static final Duration MINIMUM = Duration.ofMinutes(1);
    /** Ten dollars per vCPU-hour or GB-hour is hundreds of times any region's price: a typo. */
    public static final double MAX_UNIT_PRICE = 10;
    /** A discount of 100 % would make Spot tasks free, which no price list does. */
    public static final double MAX_SPOT_DISCOUNT = 0.95;

    public FargatePrices {
        for (double price : new double[]{x86VcpuHour, x86GbHour, armVcpuHour, armGbHour}) {
            if (!(price >= 0 && price <= MAX_UNIT_PRICE)) { // also false for NaN
                throw new IllegalArgumentException("a Fargate price must be from 0 to " + MAX_UNIT_PRICE
                        + " USD per vCPU-hour or GB-hour, got " + price);
            }
        }
        if (!(spotDiscount >= 0 && spotDiscount <= MAX_SPOT_DISCOUNT)) {
            throw new IllegalArgumentException("the Fargate Spot discount must be from 0 to " + MAX_SPOT_DISCOUNT
                    + ", got " + spotDiscount);
        }
    }

    public FargatePrices withX86(double vcpuHour, double gbHour) {
        return new FargatePrices(vcpuHour, gbHour, armVcpuHour, armGbHour, spotDiscount);
    }

    public FargatePrices withArm(double vcpuHour, double gbHour) {
        return new FargatePrices(x86VcpuHour, x86GbHour, vcpuHour, gbHour, spotDiscount);
    }

    public FargatePrices withSpotDiscount(double discount) {
        return new FargatePrices(x86VcpuHour, x86GbHour, armVcpuHour, armGbHour, discount);
    }

    /** USD per hour of one task of the backend's size and platform, on {@code capacity}. */
    public double hourly(PoolConfig.Fargate backend, Capacity capacity) {
        boolean arm = backend.platform() == PoolConfig.Fargate.Platform.ARM64;
        double onDemand = backend.vcpu() * (arm ? armVcpuHour : x86VcpuHour)
                + backend.memoryGib() * (arm ? armGbHour : x86GbHour);
        return capacity == Capacity.FARGATE_SPOT ? onDemand * (1 - spotDiscount) : onDemand;
    }

    /** Seconds billed for a task that ran {@code ran}: rounded up to the second, at least a minute. */
    public static long billedSeconds(Duration ran) {
        long millis = Math.max(0, ran.toMillis());
        long seconds = (millis + 999) / 1000;
        return Math.max(MINIMUM.toSeconds(), seconds);
    }

    /** USD for one task that ran {@code ran}. */
    public double cost(PoolConfig.Fargate backend, Capacity capacity, Duration ran) {
        return billedSeconds(ran) / 3600.0 * hourly(backend, capacity);
    }
}
