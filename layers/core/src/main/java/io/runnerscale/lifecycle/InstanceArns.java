package io.runnerscale.lifecycle;

import java.util.regex.Pattern;

/** {@code arn:<partition>:ec2:<region>:<account>:instance/<id>}, the value of the token's instance tag. */
public final class InstanceArns {
    private static final Pattern REGION = Pattern.compile("[a-z]{2}(-[a-z]+)+-[0-9]{1,2}");
    private static final Pattern ACCOUNT = Pattern.compile("[0-9]{12}");
    private static final Pattern INSTANCE = Pattern.compile("i-[0-9a-f]{8,17}");

    private InstanceArns() {
    }

    /** The ARN of {@code instanceId}; the partition follows from the region (aws-cn, aws-us-gov, aws). */
    public static String of(String region, String account, String instanceId) {
        check("region", region, REGION);
        check("account", account, ACCOUNT);
        check("instance id", instanceId, INSTANCE);
        String partition = region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
        return "arn:" + partition + ":ec2:" + region + ":" + account + ":instance/" + instanceId;
    }

    private static void check(String what, String value, Pattern pattern) {
        if (value == null || !pattern.matcher(value).matches()) {
            String shown = value == null ? "missing" : value.length() > 100 ? value.substring(0, 100) + "..." : value;
            throw new IllegalArgumentException(what + " '" + shown + "' is not valid");
        }
    }
}
