package io.runnerscale.lifecycle;

import java.util.Arrays;
import java.util.Optional;

/**
 * Why an instance is drained. The reason decides the drain's deadline and whether a job that starts
 * during the drain may call it off (see {@link DrainPolicy}).
 */
public enum DrainReason {
    /** Idle longer than idle_time and not needed. */
    SCALE_IN("scale-in", true),
    /** Reached max_use_count. */
    RETIRED("retired", true),
    /** Not ready within boot_timeout. */
    BOOT_TIMEOUT("boot-timeout", false),
    /** AWS terminates it (health check, AZ rebalancing): the terminate lifecycle hook holds it. */
    LIFECYCLE_HOOK("lifecycle-hook", false),
    /** EC2 spot interruption warning: about 2 minutes left. */
    SPOT("spot", false),
    /** EC2 rebalance recommendation: the spot instance is at raised risk of interruption. */
    REBALANCE("rebalance", false),
    /** Launched from an older launch template version. */
    OUTDATED("outdated", true);

    private final String wireName;
    private final boolean abandonable;

    DrainReason(String wireName, boolean abandonable) {
        this.wireName = wireName;
        this.abandonable = abandonable;
    }

    public String wireName() {
        return wireName;
    }

    /**
     * True when runnerscale chose to drain the instance and may change its mind: a job that starts
     * during the drain shows the instance is wanted, so the drain is abandoned and the instance kept.
     * AWS-initiated reasons (hook, spot, rebalance) and boot-timeout are never abandoned.
     */
    public boolean abandonable() {
        return abandonable;
    }

    public static Optional<DrainReason> fromWireName(String name) {
        return Arrays.stream(values()).filter(r -> r.wireName.equals(name)).findFirst();
    }
}
