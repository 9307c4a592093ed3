package io.runnerscale.simulate;

import java.util.Arrays;
import java.util.List;

/**
 * What one policy did with one workload.
 *
 * @param jobs        jobs of the workload that ran to completion (a job retried after a spot interruption counts once)
 * @param waitSeconds every start's wait from asking for a runner to starting, sorted (a retried job waits again)
 * @param costUsd     null when no price was given
 */
public record SimulationResult(String policy, int jobs, double[] waitSeconds, double instanceHours,
                               double idleInstanceHours, int peakInstances, Double costUsd, int interruptions,
                               List<Sample> timeline) {

    /** The fleet at one moment, for charts. */
    public record Sample(long epochSecond, int waiting, int running, int instances) {
    }

    public SimulationResult {
        waitSeconds = waitSeconds.clone();
        Arrays.sort(waitSeconds);
        timeline = List.copyOf(timeline);
    }

    @Override
    public double[] waitSeconds() {
        return waitSeconds.clone();
    }

    /** Nearest-rank percentile of the waits, {@code p} in (0, 100]. */
    public double waitPercentile(double p) {
        if (waitSeconds.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * waitSeconds.length);
        return waitSeconds[Math.max(0, Math.min(waitSeconds.length - 1, rank - 1))];
    }

    public double maxWait() {
        return waitSeconds.length == 0 ? 0 : waitSeconds[waitSeconds.length - 1];
    }
}
