package io.runnerscale.lifecycle;

import io.runnerscale.job.JobKey;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/** What a drain does next, as {@link DrainPolicy} decides it. */
public sealed interface DrainStep {

    /** The name the state machine's Choice matches ({@code $.next}). */
    String wireName();

    /** Pause the runner so GitLab gives it no new job; then check again. */
    record Pause() implements DrainStep {
        public String wireName() {
            return "Pause";
        }
    }

    /** Jobs still run: wait, then check again; {@code heartbeat} keeps a held lifecycle action alive meanwhile. */
    record WaitForJobs(Duration interval, boolean heartbeat) implements DrainStep {
        public WaitForJobs {
            Objects.requireNonNull(interval, "interval");
        }

        public String wireName() {
            return "WaitForJobs";
        }
    }

    /** A job started during the drain and the reason allows it: unpause the runner and keep the instance. */
    record Abandon() implements DrainStep {
        public String wireName() {
            return "Abandon";
        }
    }

    /** The deadline passed with these jobs running: cancel each, then retry it so it runs elsewhere. */
    record CancelAndRetry(List<JobKey> jobs) implements DrainStep {
        public CancelAndRetry {
            jobs = List.copyOf(jobs);
        }

        public String wireName() {
            return "CancelAndRetry";
        }
    }

    /** Paused and no job runs: delete the runner (and its SSM token). */
    record DeleteRunner() implements DrainStep {
        public String wireName() {
            return "DeleteRunner";
        }
    }

    /** No runner left: terminate the instance, or complete the terminate lifecycle action. */
    record Terminate() implements DrainStep {
        public String wireName() {
            return "Terminate";
        }
    }
}
