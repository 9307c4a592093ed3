package io.runnerscale.simulate;

import io.runnerscale.compute.FargateTasks;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.function.Function;

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

    /**
     * The oracle with each job on its own pool's backend: an EC2 pool's job holds an instance for one
     * boot time ahead ({@code --boot}) and its run, billed per second with a 60 s minimum at
     * {@code --price}; a Fargate pool's job holds a task for the mean of the pool's start time and
     * its run, billed as Fargate bills ({@link FargatePrices}). Cost is null when an EC2 pool has jobs
     * and no price was given. With EC2 pools only, it is {@link #oracle(List, SimulationOptions)}.
     */
    public static SimulationResult oracle(List<TraceJob> jobs, PoolsConfig config, SimulationOptions options) {
        double boot = options.bootMean().toMillis() / 1000.0;
        double ec2Billed = 0;
        double fargateBilled = 0;
        double fargateCost = 0;
        boolean ec2 = false;
        for (TraceJob job : jobs) {
            if (config.poolFor(job.tags()).map(PoolConfig::backend).orElse(null) instanceof PoolConfig.Fargate f) {
                Duration ran = meanStart(f).plus(job.duration());
                fargateBilled += FargatePrices.billedSeconds(ran);
                fargateCost += options.fargatePrices().cost(f, capacity(f), ran);
            } else {
                ec2 = true;
                ec2Billed += Math.max(60, boot + job.duration().toMillis() / 1000.0);
            }
        }
        int peak = peakConcurrency(jobs, job -> config.poolFor(job.tags()).map(PoolConfig::backend)
                .orElse(null) instanceof PoolConfig.Fargate f ? meanStart(f) : options.bootMean());
        double hours = (ec2Billed + fargateBilled) / 3600;
        Double cost = ec2 && options.pricePerInstanceHour() <= 0 ? null
                : ec2Billed / 3600 * options.pricePerInstanceHour() + fargateCost;
        return new SimulationResult("oracle", jobs.size(), new double[jobs.size()], hours, 0, peak, cost,
                SimulationResult.Drains.NONE, List.of());
    }

    /** Where a Fargate pool's tasks run first. */
    static FargateTasks.Capacity capacity(PoolConfig.Fargate backend) {
        return backend.spot() ? FargateTasks.Capacity.FARGATE_SPOT : FargateTasks.Capacity.FARGATE;
    }

    static Duration meanStart(PoolConfig.Fargate backend) {
        return backend.startTime().min().plus(backend.startTime().max()).dividedBy(2);
    }

    /** Most jobs running at once, each job also holding its instance for {@code lead} before it starts. */
    static int peakConcurrency(List<TraceJob> jobs, Duration lead) {
        return peakConcurrency(jobs, job -> lead);
    }

    /** Most jobs running at once, each job also holding its instance or task for its {@code lead} before it starts. */
    static int peakConcurrency(List<TraceJob> jobs, Function<TraceJob, Duration> lead) {
        record Held(Instant start, Instant end) {
        }
        List<Held> sorted = new ArrayList<>(jobs.size());
        for (TraceJob job : jobs) {
            sorted.add(new Held(job.requestedAt().minus(lead.apply(job)), job.requestedAt().plus(job.duration())));
        }
        sorted.sort(Comparator.comparing(Held::start));
        PriorityQueue<Instant> ends = new PriorityQueue<>();
        int peak = 0;
        for (Held job : sorted) {
            Instant start = job.start();
            while (!ends.isEmpty() && !ends.peek().isAfter(start)) {
                ends.poll();
            }
            ends.add(job.end());
            peak = Math.max(peak, ends.size());
        }
        return peak;
    }

    private static Double cost(double hours, SimulationOptions options) {
        return options.pricePerInstanceHour() > 0 ? hours * options.pricePerInstanceHour() : null;
    }
}
