package io.runnerscale.job;

import java.util.regex.Pattern;

/** runnerscale names each runner after its EC2 instance, so a runner description is an instance id. */
public final class InstanceIds {
    private static final Pattern EC2_INSTANCE_ID = Pattern.compile("i-[0-9a-f]{8,17}");

    private InstanceIds() {
    }

    public static boolean isInstanceId(String value) {
        return value != null && EC2_INSTANCE_ID.matcher(value.trim()).matches();
    }
}
