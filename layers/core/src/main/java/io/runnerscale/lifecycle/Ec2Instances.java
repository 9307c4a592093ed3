package io.runnerscale.lifecycle;

import java.time.Instant;
import java.util.Collection;
import java.util.Map;

/**
 * What EC2 says of instances, for the orphan sweep: whether each still exists, when it launched and
 * which Auto Scaling group it belonged to.
 *
 * <p>Implementations throw {@link RetryableError} when asking again later may help.
 */
public interface Ec2Instances {

    /**
     * The instances EC2 knows among {@code instanceIds}; an id missing from the answer is one EC2 no
     * longer knows (terminated about an hour ago or more, or never existed): gone.
     */
    Map<String, Ec2Instance> describe(Collection<String> instanceIds);

    /**
     * @param state      EC2's state name: {@code pending}, {@code running}, {@code stopping},
     *                   {@code stopped}, {@code shutting-down}, {@code terminated}
     * @param launchedAt null when EC2 did not say
     * @param group      the {@code aws:autoscaling:groupName} tag (EC2 keeps a terminated instance's
     *                   tags while it lists it), or null
     */
    record Ec2Instance(String instanceId, String state, Instant launchedAt, String group) {
        /** Terminated or on its way there: it will never run a job again. */
        public boolean gone() {
            return "terminated".equals(state) || "shutting-down".equals(state);
        }
    }
}
