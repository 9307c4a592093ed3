package io.runnerscale.compute;

/**
 * Where a Fargate task runnerscale started stands, from its launch claim to its end. ECS's many
 * {@code lastStatus} values fold into what decisions need: does the task (still) give a job slot?
 */
public enum TaskState {
    /** Claimed for its job; RunTask has not answered yet (or its answer was lost: the same key runs it again). */
    CLAIMED,
    /** PROVISIONING, PENDING or ACTIVATING: starting; its runner will poll GitLab once it runs. */
    STARTING,
    /** RUNNING: its runner waits for a job or runs one. */
    RUNNING,
    /** Asked to stop (its job ended, it waited too long, a Spot interruption) and on its way out: no slot. */
    STOPPING,
    /** STOPPED (or DELETED). */
    STOPPED;

    /** Whether the task gives (or will give) a job slot: it is starting or running and not asked to stop. */
    public boolean serving() {
        return this == CLAIMED || this == STARTING || this == RUNNING;
    }

    /** The state for an ECS {@code lastStatus}/{@code desiredStatus} pair. */
    public static TaskState of(String lastStatus, String desiredStatus) {
        String last = lastStatus == null ? "" : lastStatus;
        if (last.equals("STOPPED") || last.equals("DELETED")) {
            return STOPPED;
        }
        if ("STOPPED".equals(desiredStatus) || last.equals("DEACTIVATING") || last.equals("STOPPING")
                || last.equals("DEPROVISIONING")) {
            return STOPPING;
        }
        if (last.equals("RUNNING")) {
            return RUNNING;
        }
        return STARTING;
    }
}
