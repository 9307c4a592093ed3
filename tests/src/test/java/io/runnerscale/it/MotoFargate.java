package io.runnerscale.it;

import io.runnerscale.pool.PoolConfig;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.Compatibility;
import software.amazon.awssdk.services.ecs.model.DesiredStatus;
import software.amazon.awssdk.services.ecs.model.NetworkMode;
import software.amazon.awssdk.services.ecs.model.Task;
import software.amazon.awssdk.services.ecs.model.TaskField;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

/**
 * One test's Fargate place in the shared moto: a VPC, a subnet and a security group, an ECS cluster
 * and a Fargate task definition whose runner container is {@code runner}, as the contract describes
 * it (token from Secrets Manager as {@code RUNNER_TOKEN}, {@code CI_SERVER_URL} in the environment).
 * Names carry a random id, so parallel tests never meet.
 *
 * <p>moto 5.2.1, as found (each point checked against its source and a running server):
 * <ul>
 *   <li>an awsvpc task gets an ENI, which moto builds only in a VPC with {@code enableDnsHostnames}
 *       (otherwise RunTask answers 500: "'NetworkInterface' object has no attribute 'private_dns_name'");</li>
 *   <li>RunTask needs {@code securityGroups} in the awsvpc configuration (otherwise 500, a KeyError);</li>
 *   <li>every container definition needs {@code memory} (or {@code memoryReservation});</li>
 *   <li>a task's status moves one step on every DescribeTasks (RUNNING, DEACTIVATING, STOPPING, ...)
 *       while its desired status stays RUNNING; {@link #create} sets the {@code ecs::task} transition to
 *       manual, so a task stays RUNNING until it is stopped (StopTask sets STOPPED at once);</li>
 *   <li>ListTasks finds a cluster's tasks by a substring of their ARN: cluster names here contain the
 *       test's random id, so none contains another;</li>
 *   <li>RunTask ignores {@code clientToken} (the same token twice starts two tasks) and
 *       {@code capacityProviderStrategy}: a request without a launch type is placed on the cluster's
 *       EC2 container instances, answering 500 ("No instances found in cluster") when there are none
 *       and 200 without a task when none has room;</li>
 *   <li>an unknown task definition is a ClientException "Unable to describe task definition.";</li>
 *   <li>tasks have neither {@code createdAt} nor {@code startedAt}, and their ids are UUIDs with
 *       hyphens (ECS's are 32 hex digits), so no runner system id derives from a moto task.</li>
 * </ul>
 */
public final class MotoFargate implements AutoCloseable {
    public static final String CONTAINER = "runner";

    public final String id = UUID.randomUUID().toString().substring(0, 8);
    public final EcsClient ecs;
    public final Ec2Client ec2;
    public final String cluster = "rs-" + id + "-ci";
    public final String family = "rs-" + id + "-runner";
    public final String subnet;
    public final String securityGroup;

    private MotoFargate(MotoServer moto) {
        ecs = moto.client(EcsClient.builder());
        ec2 = moto.client(Ec2Client.builder());
        // tasks stay RUNNING until stopped, as on ECS (see above)
        moto.setTransition("ecs::task", "{\"progression\": \"manual\", \"times\": 1000000}");
        String vpc = ec2.createVpc(r -> r.cidrBlock("10.0.0.0/16")).vpc().vpcId();
        ec2.modifyVpcAttribute(r -> r.vpcId(vpc).enableDnsHostnames(b -> b.value(true)));
        subnet = ec2.createSubnet(r -> r.vpcId(vpc).cidrBlock("10.0.1.0/24")).subnet().subnetId();
        securityGroup = ec2.createSecurityGroup(r -> r.vpcId(vpc).groupName("rs-" + id + "-tasks")
                .description("runnerscale tasks")).groupId();
        ecs.createCluster(r -> r.clusterName(cluster));
        registerTaskDefinition(family, 2048);
    }

    public static MotoFargate create(MotoServer moto) {
        return new MotoFargate(moto);
    }

    /** A Fargate task definition as the contract's: one essential runner container, token from Secrets Manager. */
    public String registerTaskDefinition(String family, int memoryMib) {
        return ecs.registerTaskDefinition(r -> r.family(family).networkMode(NetworkMode.AWSVPC)
                .requiresCompatibilities(Compatibility.FARGATE).cpu(memoryMib > 4096 ? "4096" : "1024")
                .memory(Integer.toString(memoryMib))
                .executionRoleArn("arn:aws:iam::123456789012:role/rs-" + id + "-task-execution")
                .containerDefinitions(c -> c.name(CONTAINER).image("registry.gitlab.com/gitlab-org/gitlab-runner:alpine")
                        .essential(true).memory(memoryMib)
                        .environment(e -> e.name("CI_SERVER_URL").value("https://gitlab.example.com"))
                        .secrets(s -> s.name("RUNNER_TOKEN")
                                .valueFrom("arn:aws:secretsmanager:us-east-1:123456789012:secret:rs-" + id + "-runner"))))
                .taskDefinition().taskDefinitionArn();
    }

    /** The pool backend for this place: its cluster, task definition, subnet and security group. */
    public PoolConfig.Fargate backend(boolean spot) {
        return backend(family, spot, PoolConfig.Fargate.DEFAULT_MAX_TASK_ATTEMPTS);
    }

    public PoolConfig.Fargate backend(String taskDefinition, boolean spot, int maxTaskAttempts) {
        return new PoolConfig.Fargate(cluster, taskDefinition, CONTAINER, List.of(subnet), List.of(securityGroup),
                false, spot, PoolConfig.Fargate.Platform.X86_64, 1, 2, Duration.ofMinutes(2), maxTaskAttempts,
                PoolConfig.StartTime.DEFAULT);
    }

    /** The pools.yaml backend block for this place (indented for a pool entry). */
    public String backendYaml(boolean spot, int maxTaskAttempts) {
        return "    backend: {type: fargate, cluster: " + cluster + ", task_definition: " + family
                + ", subnets: [" + subnet + "], security_groups: [" + securityGroup + "], spot: " + spot
                + ", wait_timeout: 2m, max_task_attempts: " + maxTaskAttempts + "}\n";
    }

    /** The cluster's tasks with this desired status, described with their tags. */
    public List<Task> tasks(DesiredStatus desired) {
        List<String> arns = ecs.listTasks(r -> r.cluster(cluster).desiredStatus(desired)).taskArns();
        if (arns.isEmpty()) {
            return List.of();
        }
        return ecs.describeTasks(r -> r.cluster(cluster).tasks(arns).include(TaskField.TAGS)).tasks();
    }

    public List<Task> running() {
        return tasks(DesiredStatus.RUNNING);
    }

    /** Starts a task runnerscale did not start (another team's job in the same cluster). */
    public String runForeignTask(String startedBy) {
        return ecs.runTask(r -> r.cluster(cluster).taskDefinition(family).count(1)
                .launchType(software.amazon.awssdk.services.ecs.model.LaunchType.FARGATE)
                .startedBy(startedBy)
                .networkConfiguration(n -> n.awsvpcConfiguration(a -> a.subnets(subnet).securityGroups(securityGroup))))
                .tasks().getFirst().taskArn();
    }

    @Override
    public void close() {
        ecs.close();
        ec2.close();
    }
}
