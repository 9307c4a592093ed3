package io.runnerscale.simulate;

import java.time.Duration;

/**
 * How the simulated world behaves.
 *
 * @param bootMean            mean time from launch until an instance's runner takes jobs
 * @param bootJitter          spread of boot times (sigma of a log-normal around the mean; 0 = fixed)
 * @param decisionDelayMin    fastest reaction from a job asking for a runner to a scaling decision
 * @param decisionDelayMax    slowest such reaction (uniform in between)
 * @param tickInterval        the scheduled decision (safety net, and when idle instances are removed)
 * @param spotInterruptionsPerInstanceHour rate of spot interruptions (0 = none)
 * @param pricePerInstanceHour USD per instance-hour, or 0 when unknown (no cost is reported)
 * @param sampleInterval      spacing of the timeline the report charts
 */
public record SimulationOptions(Duration bootMean, double bootJitter, Duration decisionDelayMin,
                                Duration decisionDelayMax, Duration tickInterval,
                                double spotInterruptionsPerInstanceHour, double pricePerInstanceHour, long seed,
                                Duration sampleInterval) {

    /** runnerscale in AWS: webhook to SQS FIFO to the scaler is about a second; the schedule ticks every minute. */
    public static SimulationOptions runnerscale(Duration boot) {
        return new SimulationOptions(boot, 0.1, Duration.ofMillis(500), Duration.ofMillis(1500), Duration.ofMinutes(1),
                0, 0, 1, Duration.ofMinutes(15));
    }

    /**
     * GitLab's taskscaler as its defaults run it: the runner manager polls for jobs every
     * {@code check_interval} (3 s) and re-evaluates capacity every
     * {@code update_interval_when_expecting} (2 s) while expecting, every {@code update_interval}
     * (1 min) otherwise.
     */
    public static SimulationOptions gitlabTaskscaler(SimulationOptions base) {
        return new SimulationOptions(base.bootMean, base.bootJitter, Duration.ofSeconds(2), Duration.ofSeconds(5),
                Duration.ofMinutes(1), base.spotInterruptionsPerInstanceHour, base.pricePerInstanceHour, base.seed,
                base.sampleInterval);
    }

    public SimulationOptions withSpotRate(double rate) {
        return new SimulationOptions(bootMean, bootJitter, decisionDelayMin, decisionDelayMax, tickInterval, rate,
                pricePerInstanceHour, seed, sampleInterval);
    }

    public SimulationOptions withPrice(double price) {
        return new SimulationOptions(bootMean, bootJitter, decisionDelayMin, decisionDelayMax, tickInterval,
                spotInterruptionsPerInstanceHour, price, seed, sampleInterval);
    }

    public SimulationOptions withSeed(long newSeed) {
        return new SimulationOptions(bootMean, bootJitter, decisionDelayMin, decisionDelayMax, tickInterval,
                spotInterruptionsPerInstanceHour, pricePerInstanceHour, newSeed, sampleInterval);
    }

    public SimulationOptions withBootJitter(double jitter) {
        return new SimulationOptions(bootMean, jitter, decisionDelayMin, decisionDelayMax, tickInterval,
                spotInterruptionsPerInstanceHour, pricePerInstanceHour, seed, sampleInterval);
    }
}
