package io.runnerscale.simulate;

import io.runnerscale.reconcile.ReconcileReport;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one policy did with one workload.
 *
 * @param jobs        jobs of the workload that ran to completion (a job retried after a spot interruption counts once)
 * @param waitSeconds every start's wait from asking for a runner to starting, sorted (a retried job waits again)
 * @param idleInstanceHours instance-hours with no job running, draining included
 * @param costUsd     null when no price was given
 * @param drains      what the drains did ({@link Drains#NONE} for the analytic bounds)
 * @param pools       the same figures per pool, in the pools file's order (empty for the bounds); a
 *                    Fargate pool's instances are its tasks
 * @param webhooks    what lost webhooks did and what the reconciler repaired ({@link Webhooks#NONE} when
 *                    none were dropped and nothing reconciled)
 * @param warm        the warm pools' hours and EBS dollars ({@link WarmFigures#NONE} without a warm pool);
 *                    {@code instanceHours} and {@code costUsd} include the warm pools' running-billed hours
 */
public record SimulationResult(String policy, int jobs, double[] waitSeconds, double instanceHours,
                               double idleInstanceHours, int peakInstances, Double costUsd, Drains drains,
                               List<Sample> timeline, List<PoolResult> pools, Webhooks webhooks,
                               WarmFigures warm) {

    public SimulationResult(String policy, int jobs, double[] waitSeconds, double instanceHours,
                            double idleInstanceHours, int peakInstances, Double costUsd, Drains drains,
                            List<Sample> timeline, List<PoolResult> pools, Webhooks webhooks) {
        this(policy, jobs, waitSeconds, instanceHours, idleInstanceHours, peakInstances, costUsd, drains, timeline,
                pools, webhooks, WarmFigures.NONE);
    }

    public SimulationResult(String policy, int jobs, double[] waitSeconds, double instanceHours,
                            double idleInstanceHours, int peakInstances, Double costUsd, Drains drains,
                            List<Sample> timeline, List<PoolResult> pools) {
        this(policy, jobs, waitSeconds, instanceHours, idleInstanceHours, peakInstances, costUsd, drains, timeline,
                pools, Webhooks.NONE);
    }

    public SimulationResult(String policy, int jobs, double[] waitSeconds, double instanceHours,
                            double idleInstanceHours, int peakInstances, Double costUsd, Drains drains,
                            List<Sample> timeline) {
        this(policy, jobs, waitSeconds, instanceHours, idleInstanceHours, peakInstances, costUsd, drains, timeline,
                List.of());
    }

    /**
     * One pool of a simulated run.
     *
     * @param backend           what its runners run on, e.g. {@code ec2-asg} or {@code fargate-spot 2 vCPU 4 GiB}
     * @param instanceHours     billed instance-hours (EC2: per second, 60 s minimum; Fargate: task-hours
     *                          from RunTask to the stop, rounded up to the second, 60 s minimum)
     * @param idleInstanceHours of those, hours ready without a job (a boot or task start is not idle)
     * @param costUsd           null for an EC2 pool without {@code --price}
     * @param interruptions     spot interruptions of its instances or tasks
     * @param retried           jobs cancelled by an interruption and retried
     */
    public record PoolResult(String pool, String backend, int jobs, double[] waitSeconds, double instanceHours,
                             double idleInstanceHours, int peakInstances, Double costUsd, int interruptions,
                             int retried, WarmFigures warm) {
        public PoolResult {
            waitSeconds = waitSeconds.clone();
            Arrays.sort(waitSeconds);
            warm = warm == null ? WarmFigures.NONE : warm;
        }

        public PoolResult(String pool, String backend, int jobs, double[] waitSeconds, double instanceHours,
                          double idleInstanceHours, int peakInstances, Double costUsd, int interruptions, int retried) {
            this(pool, backend, jobs, waitSeconds, instanceHours, idleInstanceHours, peakInstances, costUsd,
                    interruptions, retried, WarmFigures.NONE);
        }

        /** Instance dollars plus the warm pool's EBS dollars; null without an instance price. */
        public Double totalUsd() {
            return costUsd == null ? null : costUsd + warm.ebsUsd();
        }

        @Override
        public double[] waitSeconds() {
            return waitSeconds.clone();
        }

        public double waitPercentile(double p) {
            return percentile(waitSeconds, p);
        }

        public double maxWait() {
            return waitSeconds.length == 0 ? 0 : waitSeconds[waitSeconds.length - 1];
        }
    }

    /**
     * What warm pools did in a run (or a pool).
     *
     * @param stoppedHours     instance-hours prepared in state stopped or hibernated: billed only for their EBS
     *                         volumes
     * @param warmRunningHours instance-hours in the warm pool billed as running: booting into it (at least a
     *                         minute a launch), or prepared in state running. Part of the run's instance-hours
     * @param ebsUsd           the stopped hours' EBS volumes: {@code volume_gib} x {@code --ebs-price} per
     *                         GB-month of {@link #HOURS_PER_MONTH} hours
     * @param launched         instances launched into the warm pool
     * @param drawn            scale-outs served from it (the others launched cold)
     * @param returned         instances that went back into it at a scale-in
     */
    public record WarmFigures(double stoppedHours, double warmRunningHours, double ebsUsd, int launched, int drawn,
                              int returned) {
        public static final WarmFigures NONE = new WarmFigures(0, 0, 0, 0, 0, 0);
        /** AWS's month for GB-month prices (365 x 24 / 12). */
        public static final double HOURS_PER_MONTH = 730;

        public WarmFigures plus(WarmFigures other) {
            return new WarmFigures(stoppedHours + other.stoppedHours, warmRunningHours + other.warmRunningHours,
                    ebsUsd + other.ebsUsd, launched + other.launched, drawn + other.drawn, returned + other.returned);
        }

        /** Whether a warm pool took part (anything launched into one). */
        public boolean any() {
            return launched > 0 || returned > 0;
        }
    }

    /** The fleet at one moment, for charts. */
    public record Sample(long epochSecond, int waiting, int running, int instances) {
    }

    /**
     * The drains of one run, and the spot interruptions among them.
     *
     * @param drains                 drains started (scale-in, retirement, boot timeout, spot)
     * @param drainingInstanceHours  instance-hours between a drain's start and the termination: billed, no new job
     * @param interruptions          spot interruption warnings (each starts a drain with the 100 s deadline)
     * @param jobsAtWarning          jobs running on an instance when its warning came
     * @param finishedBeforeDeadline of those, jobs that finished within the deadline on the warned instance
     * @param retried                jobs still running at the deadline: cancelled and retried as a new job
     *                               elsewhere. Without the drain each would have been lost: its instance
     *                               goes 2 minutes after the warning, and GitLab would see the job fail
     *                               only at its timeout
     * @param retryWaitSeconds       the retried jobs' waits again, from the cancellation to their new start
     * @param lostWorkSeconds        the work the retried jobs had done before the cancellation, run again
     */
    public record Drains(int drains, double drainingInstanceHours, int interruptions, int jobsAtWarning,
                         int finishedBeforeDeadline, int retried, double retryWaitSeconds, double lostWorkSeconds) {
        public static final Drains NONE = new Drains(0, 0, 0, 0, 0, 0, 0, 0);
    }

    /**
     * Lost job webhooks and the reconciler, in one run.
     *
     * @param dropRate          the share of deliveries dropped
     * @param reconcileEvery    the reconciler's schedule, null when it was off
     * @param reconcileRuns     reconciler runs
     * @param droppedPending    pending deliveries lost: runnerscale did not know the job was waiting
     * @param droppedRunning    running deliveries lost: runnerscale kept asking capacity for a job already running
     * @param droppedFinished   finished deliveries lost: runnerscale took the job's slot for busy
     * @param reconciled        jobs the reconciler read back, by what came of it (the reconciler's own
     *                          {@link ReconcileReport.Kind}), in its order
     * @param lostPendingWaits  the waits of the jobs whose pending delivery was lost, sorted (each also in the
     *                          run's waits)
     * @param neverStarted      jobs still waiting for a runner when the replay stopped (none normally)
     * @param staleAtEnd        jobs runnerscale still held as pending or running when the replay stopped
     *                          though they had finished (or never existed for it to see end)
     */
    public record Webhooks(double dropRate, java.time.Duration reconcileEvery, int reconcileRuns, int droppedPending, int droppedRunning,
                           int droppedFinished, Map<ReconcileReport.Kind, Integer> reconciled, double[] lostPendingWaits,
                           int neverStarted, int staleAtEnd) {
        public static final Webhooks NONE = new Webhooks(0, null, 0, 0, 0, 0, Map.of(), new double[0], 0, 0);

        public Webhooks {
            reconciled = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(reconciled));
            lostPendingWaits = lostPendingWaits.clone();
            Arrays.sort(lostPendingWaits);
        }

        @Override
        public double[] lostPendingWaits() {
            return lostPendingWaits.clone();
        }

        public int dropped() {
            return droppedPending + droppedRunning + droppedFinished;
        }

        /** Jobs the reconciler corrected: the kinds it calls a repair ({@link ReconcileReport.Kind#isRepair()}). */
        public int repaired() {
            return reconciled.entrySet().stream().filter(e -> e.getKey().isRepair()).mapToInt(Map.Entry::getValue).sum();
        }

        public int reconciled(ReconcileReport.Kind kind) {
            return reconciled.getOrDefault(kind, 0);
        }

        public double lostPendingWaitPercentile(double p) {
            return percentile(lostPendingWaits, p);
        }

        /** Whether there is anything to show: something was dropped, or a reconciler ran. */
        public boolean any() {
            return dropRate > 0 || reconcileEvery != null || neverStarted > 0;
        }
    }

    public SimulationResult {
        webhooks = webhooks == null ? Webhooks.NONE : webhooks;
        drains = drains == null ? Drains.NONE : drains;
        waitSeconds = waitSeconds.clone();
        Arrays.sort(waitSeconds);
        timeline = List.copyOf(timeline);
        pools = pools == null ? List.of() : List.copyOf(pools);
        warm = warm == null ? WarmFigures.NONE : warm;
    }

    /** Instance dollars plus the warm pools' EBS dollars; null without an instance price. */
    public Double totalUsd() {
        return costUsd == null ? null : costUsd + warm.ebsUsd();
    }

    /** Spot interruption warnings. */
    public int interruptions() {
        return drains.interruptions();
    }

    @Override
    public double[] waitSeconds() {
        return waitSeconds.clone();
    }

    /** Nearest-rank percentile of the waits, {@code p} in (0, 100]. */
    public double waitPercentile(double p) {
        return percentile(waitSeconds, p);
    }

    private static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    public double maxWait() {
        return waitSeconds.length == 0 ? 0 : waitSeconds[waitSeconds.length - 1];
    }
}
