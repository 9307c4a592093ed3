package io.runnerscale.lifecycle.aws;

import io.runnerscale.lifecycle.Ec2Instances;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesResponse;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.Reservation;
import software.amazon.awssdk.services.ec2.model.Tag;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code DescribeInstances} with an {@code instance-id} filter rather than {@code InstanceIds}: a
 * list of ids fails as a whole ({@code InvalidInstanceID.NotFound}) when one of them is no longer
 * known, a filter just leaves it out. At most {@link #BATCH} values per filter (EC2's limit), every
 * page read.
 */
public final class Ec2DescribeInstances implements Ec2Instances {
    static final int BATCH = 200;
    static final String GROUP_TAG = "aws:autoscaling:groupName";

    private final Ec2Client ec2;

    public Ec2DescribeInstances(Ec2Client ec2) {
        this.ec2 = ec2;
    }

    @Override
    public Map<String, Ec2Instance> describe(Collection<String> instanceIds) {
        List<String> ids = new ArrayList<>(instanceIds);
        Map<String, Ec2Instance> known = new HashMap<>();
        for (int from = 0; from < ids.size(); from += BATCH) {
            List<String> batch = ids.subList(from, Math.min(ids.size(), from + BATCH));
            String next = null;
            do {
                String token = next;
                DescribeInstancesResponse page;
                try {
                    page = ec2.describeInstances(r -> r.filters(Filter.builder().name("instance-id").values(batch).build())
                            .maxResults(1000).nextToken(token));
                } catch (SdkException e) {
                    throw AwsFailures.classify("EC2 DescribeInstances", e);
                }
                for (Reservation reservation : page.reservations()) {
                    for (Instance instance : reservation.instances()) {
                        known.put(instance.instanceId(), new Ec2Instance(instance.instanceId(),
                                instance.state() == null ? null : instance.state().nameAsString(),
                                instance.launchTime(), groupTag(instance)));
                    }
                }
                next = page.nextToken();
            } while (next != null && !next.isEmpty());
        }
        return known;
    }

    private static String groupTag(Instance instance) {
        return instance.tags().stream().filter(t -> GROUP_TAG.equals(t.key())).map(Tag::value).findFirst().orElse(null);
    }
}
