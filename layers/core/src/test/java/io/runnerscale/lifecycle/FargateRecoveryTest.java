package io.runnerscale.lifecycle;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.compute.FargateTasks;
import io.runnerscale.compute.TaskKey;
import io.runnerscale.gitlab.CreatedRunner;
import io.runnerscale.gitlab.GitLabRunners;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.gitlab.RunnerInfo;
import io.runnerscale.gitlab.RunnerOwner;
import io.runnerscale.gitlab.RunnerSpec;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.TestPools;
import io.runnerscale.scaling.ScaleRequests;
import io.runnerscale.scaling.TaskPolicy;
import io.runnerscale.store.InMemoryJobStore;
import io.runnerscale.testing.MutableClock;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static io.runnerscale.lifecycle.TaskLifecycleTest.ARN;
import static io.runnerscale.lifecycle.TaskLifecycleTest.KEY;
import static io.runnerscale.lifecycle.TaskLifecycleTest.NOW;
import static io.runnerscale.lifecycle.TaskLifecycleTest.SYSTEM_ID;
import static io.runnerscale.lifecycle.TaskLifecycleTest.event;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fargate pools when something goes wrong around a task: GitLab down through a taken-back task's
 * events, a retry call that fails after its cancel, AWS stopping a task for a termination notice, a
 * record whose stop events were lost, a runner id guessed from another runner's jobs. Written by a
 * hostile review; each failed before its fix.
 */
class FargateRecoveryTest {

    /**
     * GitLab as it behaves: a cancelled job is no longer listed as running on its runner manager;
     * retry may fail with a 5xx a number of times.
     */
    static final class StatefulGitLab implements GitLabRunners {
        final List<String> calls = new ArrayList<>();
        final Set<JobKey> running = new HashSet<>();
        int retryFailures;
        boolean down;

        @Override
        public List<JobKey> runningJobs(long runnerId, String systemId) {
            if (down) {
                throw new GitLabUnavailableException("503", null);
            }
            calls.add("jobs " + runnerId + " " + systemId);
            return List.copyOf(running);
        }

        @Override
        public void cancelJob(JobKey job) {
            calls.add("cancel " + job.jobId());
            running.remove(job);
        }

        @Override
        public Optional<JobKey> retryJob(JobKey job) {
            if (retryFailures > 0) {
                retryFailures--;
                calls.add("retry " + job.jobId() + " failed");
                throw new GitLabUnavailableException("502 on retry", null);
            }
            calls.add("retry " + job.jobId());
            return Optional.of(new JobKey(job.projectId(), job.jobId() + 1000));
        }

        @Override public CreatedRunner createRunner(RunnerSpec spec) { throw new AssertionError(); }
        @Override public void setPaused(long runnerId, boolean paused) { throw new AssertionError(); }
        @Override public List<JobKey> runningJobs(long runnerId) { throw new AssertionError(); }
        @Override public void deleteRunner(long runnerId) { throw new AssertionError(); }
        @Override public List<RunnerInfo> runnersOf(RunnerOwner owner) { throw new AssertionError(); }
    }

    @Nested
    class Lifecycle {
        final InMemoryJobStore store = new InMemoryJobStore();
        final StatefulGitLab gitlab = new StatefulGitLab();
        final List<String> scaleRequests = new ArrayList<>();
        final PoolConfig pool = TestPools.fargate("f", 10, 3, true);
        final LifecycleEvents events;

        Lifecycle() {
            ScaleRequests requests = new ScaleRequests() {
                @Override
                public void request(String p, String reason, String dedupeId) {
                    scaleRequests.add(p + " " + dedupeId);
                }
            };
            TaskLifecycle tasks = new TaskLifecycle(() -> new PoolsConfig(List.of(pool)), store, store, gitlab,
                    requests, new MutableClock(NOW));
            events = new LifecycleEvents(null, tasks, null, TaskLifecycleTest.JSON);
            store.claimTask("f", KEY, NOW);
            store.taskStarted(KEY, ARN, "FARGATE_SPOT");
            // job 200 runs on the task, on the pool's runner 55
            store.apply(new JobEvent(new JobKey(7, 200), JobStatus.RUNNING, null, null, null, null, NOW, null, null,
                    55L, "runnerscale", null, List.of("fargate")), "f", NOW);
            gitlab.running.add(new JobKey(7, 200));
        }

        String handle(ObjectNode event) {
            return events.handle(event).get("result").asText();
        }

        /**
         * Q2: TaskLifecycle.retryJobsOf cancels, then retries. When the retry call fails (GitLab 5xx)
         * the event fails and Lambda delivers it again, as the code intends; but by then GitLab no
         * longer lists the cancelled job as running on the task's manager, so the second delivery
         * finds nothing to retry: the job stays cancelled and is never retried.
         */
        @Test
        void aJobCancelledAtAnInterruptionIsStillRetriedWhenTheFirstRetryCallFailed() throws Exception {
            gitlab.retryFailures = 1;
            ObjectNode interruption = event(5, "RUNNING", "STOPPED", "SpotInterruption", null, null, null);
            assertThrows(RetryableError.class, () -> handle(interruption));
            // Lambda's retry of the same event
            handle(interruption);
            assertTrue(gitlab.calls.contains("retry 200"), "the cancelled job was never retried: " + gitlab.calls);
            assertTrue(scaleRequests.contains("f retry-7-1200"), scaleRequests.toString());
        }

        /**
         * Q2: a task AWS stops for a reason other than Spot (stop code TerminationNotice: Fargate
         * retires the task; InfrastructureHealth likewise) while its runner runs a job. The job dies
         * with the task and stays "running" in GitLab until GitLab finds it stale; runnerscale could
         * cancel and retry it as for SpotInterruption, but only SpotInterruption is acted on.
         */
        @Test
        void aJobOnATaskAwsStopsForATerminationNoticeIsCancelledAndRetried() throws Exception {
            handle(event(4, "RUNNING", "RUNNING", null, null, null, null));
            handle(event(5, "RUNNING", "STOPPED", "TerminationNotice", "Task stopped due to a termination notice",
                    null, null));
            handle(event(7, "STOPPED", "STOPPED", "TerminationNotice", "Task stopped due to a termination notice",
                    143, null));
            assertEquals(List.of("jobs 55 " + SYSTEM_ID, "cancel 200", "retry 200"), gitlab.calls);
        }

        /**
         * Q1: every event of an interrupted task (stopping, deprovisioning, stopped: all carry stop code
         * SpotInterruption) asks GitLab before it is stored, and fails while GitLab is down. The
         * lifecycle function is retried twice (EventInvokeConfig MaximumRetryAttempts 2, 600 s) and the
         * event then goes to the dead-letter queue. The record stays RUNNING for good: it counts as a
         * serving task in every decision (a waiting slot that never takes a job, and a max_instances
         * slot), and it is never forgotten, since only STOPPED records are.
         */
        @Test
        void anInterruptedTaskDoesNotServeForeverWhenGitLabWasDownThroughItsEvents() throws Exception {
            handle(event(4, "RUNNING", "RUNNING", null, null, null, null));
            gitlab.down = true;
            for (ObjectNode e : List.of(event(5, "RUNNING", "STOPPED", "SpotInterruption", null, null, null),
                    event(7, "STOPPED", "STOPPED", "SpotInterruption", "Your Spot Task was interrupted.", null, null))) {
                for (int delivery = 0; delivery < 3; delivery++) {   // the first delivery and Lambda's 2 retries
                    try {
                        handle(e);
                    } catch (RetryableError expected) {
                        // Lambda retries, then gives up (dead-letter queue)
                    }
                }
            }
            gitlab.down = false;
            assertFalse(store.task(KEY).orElseThrow().serving(),
                    "the task stopped, but its record still serves: " + store.task(KEY).orElseThrow());
        }
    }

    @Nested
    class Sweep {
        final PoolConfig small = TaskSweepTest.fargate("small", "ci");
        final PoolsConfig pools = new PoolsConfig(List.of(small));
        final InMemoryJobStore store = new InMemoryJobStore();
        final TaskSweepTest.Ecs ecs = new TaskSweepTest.Ecs();
        final TaskSweepTest.Gitlab gitlab = new TaskSweepTest.Gitlab();
        final Instant now = TaskSweepTest.NOW;

        TaskSweep sweep() {
            return new TaskSweep(() -> pools, ecs, gitlab, store, TaskSweep.Settings.DEFAULT,
                    Clock.fixed(now, ZoneOffset.UTC));
        }

        /**
         * Q1: nothing reconciles the store with ECS. A record whose STOPPED event was lost (dead-letter
         * queue, see above) serves for good; TaskSweep only looks at what ECS lists as running, never
         * at the store's serving records. Here the ghost absorbs the pool's only pending job: the
         * policy sees one waiting task and starts none, at every decision, forever (the job is neither
         * run nor reported given up).
         */
        @Test
        void aServingRecordWhoseTaskEcsNoLongerRunsStopsServing() {
            TaskKey ghost = new TaskKey(new JobKey(5, 1), 1);
            store.claimTask("small", ghost, now.minus(Duration.ofHours(3)));
            store.taskStarted(ghost, "arn:aws:ecs:us-east-1:123456789012:task/ci/0123456789ab0123456789abcdef0123",
                    "FARGATE");
            // job 5/1 ended long ago (not live); ECS lists no running task in the cluster

            sweep().run();

            JobKey pending = new JobKey(5, 2);
            TaskPolicy.Decision decision = TaskPolicy.decide(new TaskPolicy.Snapshot(small, now,
                    List.of(new TaskPolicy.PendingJob(pending, now.minus(Duration.ofMinutes(30)))), 0,
                    store.tasks("small")));
            assertEquals(List.of(new TaskKey(pending, 1)), decision.launches(),
                    "a job pending for 30 minutes gets no task: " + decision);
        }

        /**
         * Q2: the sweep asks GitLab under the runner ids of the pool's running jobs. When none of them
         * is the pool's runner (the running webhook of the task's own job is late or lost, and another
         * runner with the pool's tags runs the pool's other jobs), GitLab lists nothing under the wrong
         * runner and the sweep stops a task that runs a job. "Never stops blind" does not hold here.
         */
        @Test
        void aTaskRunningAJobIsNotStoppedWhenNoRunningJobNamesThePoolsRunner() {
            // another runner (78) runs a job of the pool; the pool's own runner is 77
            store.apply(new JobEvent(new JobKey(5, 902), JobStatus.RUNNING, 1L, "build", "test", now, now, null, null,
                    78L, "someone else's runner", null, List.of("small")), "small", now);
            TaskKey key = new TaskKey(new JobKey(5, 1), 1);
            String arn = "arn:aws:ecs:us-east-1:123456789012:task/ci/0000000000010123456789abcdef0123";
            store.claimTask("small", key, TaskSweepTest.OLD.minusSeconds(5));
            store.taskStarted(key, arn, "FARGATE");
            ecs.running("ci", new FargateTasks.StartedTask(arn, key, "RUNNING", TaskSweepTest.OLD));
            // GitLab: the task runs job 5/1 under the pool's runner 77 (its running webhook not stored yet)
            gitlab.running.put("77 " + TaskSweepTest.systemId(1), List.of(new JobKey(5, 1)));

            sweep().run();

            assertEquals(List.of(), ecs.stopped, "stopped a task that runs a job; GitLab was asked: " + gitlab.calls);
        }
    }
}
