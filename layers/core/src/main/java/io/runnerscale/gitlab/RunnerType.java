package io.runnerscale.gitlab;

import java.util.Optional;

/** GitLab's {@code runner_type}. */
public enum RunnerType {
    INSTANCE("instance_type", "instance", "administrator access"),
    GROUP("group_type", "group", "the Owner role in the group"),
    PROJECT("project_type", "project", "the Maintainer or Owner role in the project");

    private final String apiName;
    private final String ownerName;
    private final String roleNeeded;

    RunnerType(String apiName, String ownerName, String roleNeeded) {
        this.apiName = apiName;
        this.ownerName = ownerName;
        this.roleNeeded = roleNeeded;
    }

    /** {@code instance_type}, {@code group_type} or {@code project_type}, as GitLab's API writes it. */
    public String apiName() {
        return apiName;
    }

    String ownerName() {
        return ownerName;
    }

    /** What the token's user must have to create and manage such runners, for messages. */
    public String roleNeeded() {
        return roleNeeded;
    }

    public static Optional<RunnerType> fromApiName(String name) {
        for (RunnerType type : values()) {
            if (type.apiName.equals(name)) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }
}
