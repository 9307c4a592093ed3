package io.runnerscale.lifecycle;

import io.runnerscale.job.JobKey;
import io.runnerscale.lifecycle.DrainStep.Abandon;
import io.runnerscale.lifecycle.DrainStep.CancelAndRetry;
import io.runnerscale.lifecycle.DrainStep.DeleteRunner;
import io.runnerscale.lifecycle.DrainStep.Pause;
import io.runnerscale.lifecycle.DrainStep.Terminate;
import io.runnerscale.lifecycle.DrainStep.WaitForJobs;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Random interleavings of a fake GitLab runner (jobs start while it is not paused, jobs finish,
 * cancelled jobs linger a while) with time passing and the drain's own steps applied as the state
 * machine applies them.
 */
class DrainPolicyPropertyTest {
    static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");

    sealed interface Op {
    }

    record JobStarts() implements Op {
    }

    record JobFinishes(int index) implements Op {
    }

    record TimePasses(int seconds) implements Op {
    }

    record Step() implements Op {
    }

    /** A fake runner as GitLab sees it. */
    static final class Runner {
        final Set<JobKey> running = new LinkedHashSet<>();
        final Set<JobKey> cancelledLingering = new LinkedHashSet<>();
        boolean paused;
        boolean deleted;
        long nextJob = 1;

        List<JobKey> listed() {
            return deleted ? List.of() : List.copyOf(running);
        }
    }

    static final class World {
        final Runner runner = new Runner();
        Drain drain;
        Instant now = T0;
        DrainStep ended;
        DrainStep previous;
        int deleteSteps;
        boolean cancelLingers = true;

        World(DrainReason reason, boolean hook, int jobsAtStart, int heartbeat, int jobTimeoutSeconds) {
            for (int i = 0; i < jobsAtStart; i++) {
                runner.running.add(new JobKey(1, runner.nextJob++));
            }
            drain = Drain.start("i-1", "p", "a", 9L, reason, hook ? new LifecycleHook("h", "t") : null, T0,
                    Duration.ofSeconds(jobTimeoutSeconds), heartbeat, runner.listed());
        }

        /** One step as the state machine runs it: check, decide, act. Returns the decision. */
        DrainStep step() {
            List<JobKey> listed = runner.listed();
            DrainStep step = DrainPolicy.next(drain, now, listed, runner.paused);
            drain = drain.observed(listed).withNext(step);
            if (previous instanceof DeleteRunner) {
                assertEquals(new Terminate(), step, "after DeleteRunner the next step is Terminate");
            }
            switch (step) {
                case Pause p -> runner.paused = true;
                case WaitForJobs w -> {
                    assertFalse(listed.isEmpty(), "waits only for listed jobs");
                    assertEquals(drain.lifecycleHook() != null, w.heartbeat());
                    advance(w.interval());
                }
                case Abandon a -> {
                    assertFalse(listed.isEmpty(), "abandons only for a running job");
                    assertTrue(drain.reason().abandonable(), "abandons only an abandonable reason");
                    runner.paused = false;
                    drain = drain.withOutcome(DrainOutcome.ABANDONED);
                    ended = step;
                }
                case CancelAndRetry c -> {
                    assertFalse(now.isBefore(drain.deadline()), "cancels only at or past the deadline");
                    assertTrue(listed.containsAll(c.jobs()));
                    for (JobKey job : c.jobs()) {
                        assertFalse(drain.cancelledJobs().contains(job), "never cancels (and retries) a job twice");
                    }
                    drain = drain.withCancelled(c.jobs());
                    if (cancelLingers) {
                        runner.cancelledLingering.addAll(c.jobs());
                    } else {
                        c.jobs().forEach(runner.running::remove);
                    }
                }
                case DeleteRunner d -> {
                    assertTrue(listed.isEmpty(), "deletes the runner only without running jobs");
                    assertTrue(runner.paused, "deletes only a paused runner");
                    runner.deleted = true;
                    drain = drain.withRunnerDeleted();
                    deleteSteps++;
                }
                case Terminate t -> {
                    assertTrue(listed.isEmpty(), "Terminate only when GitLab lists no running job");
                    assertTrue(runner.deleted || drain.runnerId() == null);
                    drain = drain.withOutcome(DrainOutcome.TERMINATED);
                    ended = step;
                }
            }
            previous = step;
            return step;
        }

        void advance(Duration d) {
            now = now.plus(d);
            // GitLab lets go of cancelled jobs a while after the cancel
            runner.running.removeAll(runner.cancelledLingering);
            runner.cancelledLingering.clear();
        }

        void apply(Op op) {
            switch (op) {
                case JobStarts s -> {
                    if (!runner.paused && !runner.deleted) {
                        runner.running.add(new JobKey(1, runner.nextJob++));
                    }
                }
                case JobFinishes f -> {
                    List<JobKey> jobs = List.copyOf(runner.running);
                    if (!jobs.isEmpty()) {
                        runner.running.remove(jobs.get(f.index() % jobs.size()));
                    }
                }
                case TimePasses t -> advance(Duration.ofSeconds(t.seconds()));
                case Step s -> step();
            }
        }
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> op = Arbitraries.oneOf(
                Arbitraries.just(new JobStarts()),
                Arbitraries.integers().between(0, 5).map(JobFinishes::new),
                Arbitraries.integers().between(1, 400).map(TimePasses::new),
                Arbitraries.just(new Step()),
                Arbitraries.just(new Step()));
        return op.list().ofMaxSize(40);
    }

    @Property(tries = 400)
    void terminatesOnlyWithoutRunningJobsAndEveryDrainEndsSoonAfterJobsStop(
            @ForAll DrainReason reason, @ForAll boolean hook,
            @ForAll("jobsAtStart") int jobsAtStart, @ForAll("heartbeat") int heartbeat,
            @ForAll("jobTimeout") int jobTimeout, @ForAll boolean cancelLingers, @ForAll("ops") List<Op> ops) {
        World world = new World(reason, hook, jobsAtStart, heartbeat, jobTimeout);
        world.cancelLingers = cancelLingers;
        for (Op op : ops) {
            if (world.ended != null) {
                break;
            }
            world.apply(op);
        }
        if (world.ended != null) {
            return;
        }
        // Jobs stop starting; the ones running never finish on their own (the worst case). The drain
        // ends one wait interval after the deadline, plus one more when GitLab keeps listing a
        // cancelled job until the next check.
        Instant stop = world.now;
        Instant bound = (stop.isAfter(world.drain.deadline()) ? stop : world.drain.deadline())
                .plusSeconds((long) heartbeat * (cancelLingers ? 2 : 1));
        // one check per wait up to the deadline (a spot drain's is 100 s, whatever the job timeout), then a few steps
        long untilDeadline = Math.max(0, java.time.Duration.between(world.now, world.drain.deadline()).getSeconds());
        long maxSteps = untilDeadline / heartbeat + 20;
        for (int i = 0; i < maxSteps && world.ended == null; i++) {
            world.step();
        }
        assertNotNull(world.ended, "the drain ends");
        assertFalse(world.now.isAfter(bound), "ends by max(deadline, stop) + one wait interval: " + world.now + " > " + bound);
        assertTrue(world.deleteSteps <= 1);
        if (world.ended instanceof Terminate) {
            assertTrue(world.runner.deleted);
        } else {
            assertFalse(world.runner.paused, "an abandoned drain leaves the runner unpaused");
            assertFalse(world.runner.deleted);
        }
    }

    @Provide
    Arbitrary<Integer> jobsAtStart() {
        return Arbitraries.integers().between(0, 3);
    }

    @Provide
    Arbitrary<Integer> heartbeat() {
        return Arbitraries.integers().between(1, 120);
    }

    @Provide
    Arbitrary<Integer> jobTimeout() {
        return Arbitraries.integers().between(60, 7200);
    }

    @Property(tries = 200)
    void abandonHappensExactlyWhenAJobStartedDuringAnAbandonableDrain(
            @ForAll DrainReason reason, @ForAll("ops") List<Op> ops) {
        World world = new World(reason, false, 1, 30, 3600);
        boolean newJobSeen = false;
        List<JobKey> atStart = List.copyOf(world.runner.running);
        for (Op op : ops) {
            if (world.ended != null) {
                break;
            }
            if (op instanceof Step) {
                List<JobKey> listed = world.runner.listed();
                boolean newJobListed = listed.stream().anyMatch(j -> !atStart.contains(j));
                newJobSeen |= newJobListed;
                DrainStep step = world.step();
                if (step instanceof Abandon) {
                    assertTrue(newJobSeen, "abandoned without a job started during the drain");
                } else if (world.runner.paused && newJobListed && reason.abandonable() && !(step instanceof Pause)) {
                    fail("a job started during an abandonable drain must abandon it, got " + step);
                }
            } else {
                world.apply(op);
            }
        }
    }
}
