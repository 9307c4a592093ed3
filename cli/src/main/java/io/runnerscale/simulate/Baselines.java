package io.runnerscale.simulate;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/** The bounds runnerscale is measured against, computed from the workload itself. */
public final class Baselines {
    private Baselines() {
    }

    /**
     * Every job gets its own instance, launched exactly one boot time before the job asks: nothing
     * waits and nothing idles. No real autoscaler can do better.
     */
    public static SimulationResult oracle(List<TraceJob> jobs, SimulationOptions options) {
        double boot = options.bootMean().toMillis() / 1000.0;
        double billed = 0;
        for (TraceJob job : jobs) {
            billed += Math.max(60, boot + job.duration().toMillis() / 1000.0);
        }
        int peak = peakConcurrency(jobs, options.bootMean());
        double hours = billed / 3600;
        return new SimulationResult("oracle", jobs.size(), new double[jobs.size()], hours, 0, peak,
                cost(hours, options), SimulationResult.Drains.NONE, List.of());
    }

    /**
     * A fixed fleet sized for the workload's peak of concurrently running jobs, on for the whole span:
     * nothing waits, everything idles the rest of the time.
     */
    public static SimulationResult alwaysOn(List<TraceJob> jobs, int capacityPerInstance, SimulationOptions options) {
        if (jobs.isEmpty()) {
            return new SimulationResult("always_on", 0, new double[0], 0, 0, 0, cost(0, options),
                    SimulationResult.Drains.NONE, List.of());
        }
        int peakJobs = peakConcurrency(jobs, Duration.ZERO);
        int instances = (peakJobs + capacityPerInstance - 1) / capacityPerInstance;
        // the span from the earliest request, whatever order the caller's list is in
        Instant first = jobs.stream().map(TraceJob::requestedAt).min(Instant::compareTo).orElseThrow();
        Instant last = jobs.stream().map(j -> j.requestedAt().plus(j.duration())).max(Instant::compareTo).orElse(first);
        double spanHours = Duration.between(first, last).toMillis() / 3_600_000.0;
        double busyHours = jobs.stream().mapToDouble(j -> j.duration().toMillis() / 3_600_000.0).sum();
        double hours = instances * spanHours;
        return new SimulationResult("always_on", jobs.size(), new double[jobs.size()], hours,
                Math.max(0, hours - busyHours / capacityPerInstance), instances, cost(hours, options),
                SimulationResult.Drains.NONE, List.of());
    }

    /** Most jobs running at once, each job also holding its instance for {@code lead} before it starts. */
    static int peakConcurrency(List<TraceJob> jobs, Duration lead) {
        List<TraceJob> sorted = new ArrayList<>(jobs);
        sorted.sort((a, b) -> a.requestedAt().compareTo(b.requestedAt()));
        PriorityQueue<Instant> ends = new PriorityQueue<>();
        int peak = 0;
        for (TraceJob job : sorted) {
            Instant start = job.requestedAt().minus(lead);
            while (!ends.isEmpty() && !ends.peek().isAfter(start)) {
                ends.poll();
            }
            ends.add(job.requestedAt().plus(job.duration()));
            peak = Math.max(peak, ends.size());
        }
        return peak;
    }

    private static Double cost(double hours, SimulationOptions options) {
        return options.pricePerInstanceHour() > 0 ? hours * options.pricePerInstanceHour() : null;
    }
}
