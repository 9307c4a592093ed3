package io.runnerscale.gitlab;

import io.runnerscale.job.JobKey;

/**
 * Where a runner belongs: the whole instance, one group or one project. It decides the
 * {@code runner_type} GitLab creates, the endpoint that lists such runners, and the role the
 * token's user needs (administrator, group Owner, project Maintainer).
 *
 * @param id the group's or project's id; 0 for the instance
 */
public record RunnerOwner(RunnerType type, long id) {

    public RunnerOwner {
        if (type == null) {
            throw new IllegalArgumentException("runner type is required");
        }
        if (type == RunnerType.INSTANCE && id != 0) {
            throw new IllegalArgumentException("an instance runner belongs to no group or project, got id " + id);
        }
        if (type != RunnerType.INSTANCE && !JobKey.isValidId(id)) {
            throw new IllegalArgumentException(type.apiName() + " needs a " + type.ownerName()
                    + " id that is a whole number from 1, got " + id);
        }
    }

    public static RunnerOwner instance() {
        return new RunnerOwner(RunnerType.INSTANCE, 0);
    }

    public static RunnerOwner group(long groupId) {
        return new RunnerOwner(RunnerType.GROUP, groupId);
    }

    public static RunnerOwner project(long projectId) {
        return new RunnerOwner(RunnerType.PROJECT, projectId);
    }

    @Override
    public String toString() {
        return type == RunnerType.INSTANCE ? "instance" : type.ownerName() + " " + id;
    }
}
