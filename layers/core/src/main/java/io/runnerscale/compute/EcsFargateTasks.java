package io.runnerscale.compute;

import io.runnerscale.pool.PoolConfig;
import io.runnerscale.text.Quoted;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.ecs.EcsClient;
import software.amazon.awssdk.services.ecs.model.AssignPublicIp;
import software.amazon.awssdk.services.ecs.model.AwsVpcConfiguration;
import software.amazon.awssdk.services.ecs.model.CapacityProviderStrategyItem;
import software.amazon.awssdk.services.ecs.model.ContainerOverride;
import software.amazon.awssdk.services.ecs.model.DesiredStatus;
import software.amazon.awssdk.services.ecs.model.EcsException;
import software.amazon.awssdk.services.ecs.model.KeyValuePair;
import software.amazon.awssdk.services.ecs.model.LaunchType;
import software.amazon.awssdk.services.ecs.model.ListTasksResponse;
import software.amazon.awssdk.services.ecs.model.NetworkConfiguration;
import software.amazon.awssdk.services.ecs.model.RunTaskRequest;
import software.amazon.awssdk.services.ecs.model.RunTaskResponse;
import software.amazon.awssdk.services.ecs.model.Tag;
import software.amazon.awssdk.services.ecs.model.Task;
import software.amazon.awssdk.services.ecs.model.TaskOverride;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@link FargateTasks} on Amazon ECS. RunTask names the task after its {@link TaskKey}
 * ({@code startedBy}, and a {@code clientToken} per capacity provider, so a retried call returns the
 * task the first call started), tags it with its pool and job, and tells the runner container how
 * long to wait for a job. The runner's token is not here: the task definition's {@code secrets}
 * bring it from Secrets Manager.
 */
public final class EcsFargateTasks implements FargateTasks {
    public static final String TAG_POOL = "runnerscale:pool";
    public static final String TAG_JOB = "runnerscale:job";
    public static final String ENV_WAIT_TIMEOUT = "RUNNERSCALE_WAIT_TIMEOUT";
    public static final String ENV_JOB = "RUNNERSCALE_JOB";
    /** DescribeTasks takes at most 100 tasks per call. */
    private static final int DESCRIBE_BATCH = 100;

    private final EcsClient ecs;

    public EcsFargateTasks(EcsClient ecs) {
        this.ecs = ecs;
    }

    @Override
    public RunOutcome run(String pool, PoolConfig.Fargate backend, TaskKey key, Capacity capacity) {
        RunTaskRequest.Builder request = RunTaskRequest.builder()
                .cluster(backend.cluster())
                .taskDefinition(backend.taskDefinition())
                .count(1)
                .startedBy(key.startedBy())
                .clientToken(key.clientToken(capacity.name()))
                .networkConfiguration(NetworkConfiguration.builder().awsvpcConfiguration(AwsVpcConfiguration.builder()
                        .subnets(backend.subnets())
                        .securityGroups(backend.securityGroups().isEmpty() ? null : backend.securityGroups())
                        .assignPublicIp(backend.assignPublicIp() ? AssignPublicIp.ENABLED : AssignPublicIp.DISABLED)
                        .build()).build())
                .overrides(TaskOverride.builder().containerOverrides(ContainerOverride.builder()
                        .name(backend.container())
                        .environment(
                                KeyValuePair.builder().name(ENV_WAIT_TIMEOUT)
                                        .value(Long.toString(backend.waitTimeout().toSeconds())).build(),
                                KeyValuePair.builder().name(ENV_JOB)
                                        .value(key.job().projectId() + "/" + key.job().jobId()).build())
                        .build()).build())
                .tags(Tag.builder().key(TAG_POOL).value(pool).build(),
                        Tag.builder().key(TAG_JOB).value(key.job().projectId() + "/" + key.job().jobId()).build());
        if (capacity == Capacity.FARGATE_SPOT) {
            // a capacity provider strategy and a launch type exclude each other
            request.capacityProviderStrategy(CapacityProviderStrategyItem.builder()
                    .capacityProvider(Capacity.FARGATE_SPOT.name()).weight(1).build());
        } else {
            request.launchType(LaunchType.FARGATE);
        }
        RunTaskResponse response;
        try {
            response = ecs.runTask(request.build());
        } catch (EcsException e) {
            if (e.isThrottlingException() || e.statusCode() >= 500) {
                return new RunOutcome.Retry(errorOf(e, backend));
            }
            return new RunOutcome.Failed(errorOf(e, backend));
        } catch (SdkClientException e) {
            return new RunOutcome.Retry("ECS unreachable: " + e.getMessage());
        }
        if (response.hasTasks() && !response.tasks().isEmpty()) {
            return new RunOutcome.Started(response.tasks().getFirst().taskArn(), capacity);
        }
        // "Capacity is unavailable at this time", a missing subnet, ...: ECS answers 200 with failures
        String reason = response.hasFailures() && !response.failures().isEmpty()
                ? response.failures().getFirst().reason() + (response.failures().getFirst().detail() == null ? ""
                : " (" + response.failures().getFirst().detail() + ")")
                : "RunTask started no task and gave no reason";
        return new RunOutcome.Failed(Quoted.cut(reason, TaskEvent.MAX_REASON));
    }

    @Override
    public Optional<String> find(PoolConfig.Fargate backend, TaskKey key) {
        // ListTasks filters on startedBy exactly; stopped tasks stay listed for a while after they stop
        for (DesiredStatus status : new DesiredStatus[]{DesiredStatus.RUNNING, DesiredStatus.STOPPED}) {
            List<String> arns = ecs.listTasks(r -> r.cluster(backend.cluster()).startedBy(key.startedBy())
                    .desiredStatus(status)).taskArns();
            if (!arns.isEmpty()) {
                return Optional.of(arns.getFirst());
            }
        }
        return Optional.empty();
    }

    @Override
    public void stop(PoolConfig.Fargate backend, String taskArn, String reason) {
        // ECS keeps the reason (at most 255 characters) on the stopped task
        ecs.stopTask(r -> r.cluster(backend.cluster()).task(taskArn)
                .reason(Quoted.cut("runnerscale: " + reason, 255)));
    }

    @Override
    public List<StartedTask> list(PoolConfig.Fargate backend) {
        List<String> arns = new ArrayList<>();
        String next = null;
        do {
            String token = next;
            ListTasksResponse page = ecs.listTasks(r -> r.cluster(backend.cluster())
                    .desiredStatus(DesiredStatus.RUNNING).nextToken(token));
            arns.addAll(page.taskArns());
            next = page.nextToken();
        } while (next != null);
        List<StartedTask> tasks = new ArrayList<>();
        for (int from = 0; from < arns.size(); from += DESCRIBE_BATCH) {
            List<String> batch = arns.subList(from, Math.min(arns.size(), from + DESCRIBE_BATCH));
            for (Task task : ecs.describeTasks(r -> r.cluster(backend.cluster()).tasks(batch)).tasks()) {
                Optional<TaskKey> key = TaskKey.fromStartedBy(task.startedBy());
                key.ifPresent(k -> tasks.add(new StartedTask(task.taskArn(), k, task.lastStatus(),
                        task.startedAt() != null ? task.startedAt() : task.createdAt())));
            }
        }
        return tasks;
    }

    /**
     * ECS's error code and message, after what was asked: ECS's own words rarely name the task
     * definition ("Unable to describe task definition."), and an answer that is no ECS error (a 5xx
     * page) has neither code nor message, only its status.
     */
    private static String errorOf(EcsException e, PoolConfig.Fargate backend) {
        String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
        String message = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorMessage();
        if (message == null || message.isBlank()) {
            message = "HTTP " + e.statusCode();
        }
        return Quoted.cut("RunTask " + backend.taskDefinition() + " in cluster " + backend.cluster()
                + ": " + (code == null ? "" : code + ": ") + message, TaskEvent.MAX_REASON);
    }
}
