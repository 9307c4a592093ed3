package io.runnerscale.it;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import io.runnerscale.config.Settings;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.gitlab.RunnerOwner;
import io.runnerscale.lifecycle.DrainInterpreter;
import io.runnerscale.lifecycle.LifecycleHandler;
import io.runnerscale.lifecycle.LifecycleSettings;
import io.runnerscale.scaling.ScalerHandler;
import io.runnerscale.store.DynamoJobStore;
import io.runnerscale.webhook.WebhookHandler;
import software.amazon.awssdk.services.autoscaling.AutoScalingClient;
import software.amazon.awssdk.services.autoscaling.model.AutoScalingGroup;
import software.amazon.awssdk.services.autoscaling.model.LifecycleState;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.InstanceType;
import software.amazon.awssdk.services.sfn.model.ExecutionListItem;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.sfn.SfnClient;
import software.amazon.awssdk.services.sfn.model.ExecutionListItem;
import software.amazon.awssdk.services.sfn.model.ExecutionStatus;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.ParameterType;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

/**
 * One test's runnerscale "deployment" on real parts: its own DynamoDB Local table, and in the shared
 * moto a FIFO scale queue, the two secrets and the pools parameter, plus a WireMock GitLab. Every name
 * carries a random id, so stacks of parallel tests never meet. Pools YAML may say {@code @ID@}
 * where the id belongs ({@code asg: rs-@ID@-docker}); {@link #asgName} follows the same pattern.
 */
public final class TestStack implements AutoCloseable {
    public static final String WEBHOOK_TOKEN = "hook-s3cret-token";
    public static final String GITLAB_TOKEN = "glpat-test";
    public static final Duration JOB_TTL = Duration.ofDays(7);

    public final String id = UUID.randomUUID().toString().substring(0, 8);
    public final MotoServer moto = MotoServer.shared();
    public final DynamoDbClient dynamo = SharedDynamo.client();
    public final String table = SharedDynamo.newTable("rs-" + id);
    public final DynamoJobStore store = new DynamoJobStore(dynamo, table, JOB_TTL);
    public final SqsClient sqs = moto.sqs();
    public final SsmClient ssm = moto.ssm();
    public final SecretsManagerClient secretsManager = moto.secretsManager();
    public final AutoScalingClient autoScaling = moto.autoScaling();
    public final SfnClient sfn = moto.client(SfnClient.builder());
    public final Ec2Client ec2 = moto.client(Ec2Client.builder());
    public final WireMockServer gitlab = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1")
            .containerThreads(32));
    public final String queueUrl;
    public final Settings settings;
    /** The drain state machine (the deployed definition) in moto: the scaler starts its executions. */
    public final String drainStateMachineArn;

    private TestStack(String poolsYaml) {
        gitlab.start();
        queueUrl = sqs.createQueue(r -> r.queueName("rs-" + id + "-scale.fifo").attributes(Map.of(
                QueueAttributeName.FIFO_QUEUE, "true",
                QueueAttributeName.CONTENT_BASED_DEDUPLICATION, "false",
                QueueAttributeName.VISIBILITY_TIMEOUT, "360"))).queueUrl();
        String poolsParameter = "/rs-" + id + "/pools";
        ssm.putParameter(r -> r.name(poolsParameter).type(ParameterType.STRING).value(pools(poolsYaml)));
        String webhookSecret = "rs-" + id + "/webhook-token";
        secretsManager.createSecret(r -> r.name(webhookSecret).secretString(WEBHOOK_TOKEN));
        String gitlabSecret = "rs-" + id + "/gitlab";
        secretsManager.createSecret(r -> r.name(gitlabSecret).secretString(Fixtures.JSON.createObjectNode()
                .put("url", gitlab.baseUrl()).put("token", GITLAB_TOKEN).toString()));
        settings = new Settings(table, poolsParameter, webhookSecret, gitlabSecret, queueUrl, JOB_TTL);
        try {
            String definition = Files.readString(LifecycleHandlerIntegrationTest.repoFile("statemachine/drain.asl.json"))
                    .replace("${LifecycleFunctionArn}", "arn:aws:lambda:us-east-1:123456789012:function:rs-" + id + "-lifecycle");
            drainStateMachineArn = sfn.createStateMachine(r -> r.name("rs-" + id + "-drain").definition(definition)
                    .roleArn("arn:aws:iam::123456789012:role/rs-drain")).stateMachineArn();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static TestStack create(String poolsYaml) {
        return new TestStack(poolsYaml);
    }

    private String pools(String yaml) {
        return yaml.replace("@ID@", id);
    }

    public String asgName(String pool) {
        return "rs-" + id + "-" + pool;
    }

    // ------------------------------------------------------------------ handlers

    /** A fresh webhook function instance (its own caches), like a new Lambda execution environment. */
    public WebhookHandler webhookHandler() {
        return new WebhookHandler(settings, dynamo, secretsManager, ssm, sqs);
    }

    public ScalerHandler scalerHandler(Clock clock) {
        return new ScalerHandler(settings, new LifecycleSettings.DrainSettings(drainStateMachineArn, Duration.ofHours(1)),
                dynamo, autoScaling, ec2, ssm, sqs, secretsManager, sfn, clock);
    }

    /** The scaler with Fargate pools: its tasks start through {@code ecs} (moto's ECS in these tests). */
    public ScalerHandler scalerHandler(Clock clock, software.amazon.awssdk.services.ecs.EcsClient ecs) {
        return new ScalerHandler(settings, new LifecycleSettings.DrainSettings(drainStateMachineArn, Duration.ofHours(1)),
                dynamo, autoScaling, ec2, ecs, ssm, sqs, secretsManager, sfn, clock);
    }

    /** The lifecycle function of this stack (answers the drain executions' tasks), on {@code clock}. */
    public LifecycleHandler lifecycleHandler(Clock clock) {
        return new LifecycleHandler(settings, new LifecycleSettings("/runnerscale/rs-" + id + "/runners/", drainStateMachineArn,
                RunnerOwner.instance(), Duration.ofHours(1)), dynamo, ssm, autoScaling, ec2, sfn, secretsManager, sqs, clock);
    }

    /** The lifecycle function with Fargate pools: its sweep lists and stops their tasks through {@code ecs}. */
    public LifecycleHandler lifecycleHandler(Clock clock, software.amazon.awssdk.services.ecs.EcsClient ecs) {
        return new LifecycleHandler(settings, new LifecycleSettings("/runnerscale/rs-" + id + "/runners/", drainStateMachineArn,
                RunnerOwner.instance(), Duration.ofHours(1)), dynamo, ssm, autoScaling, ec2, ecs, sfn, secretsManager, sqs,
                clock);
    }

    /**
     * Runs every drain execution started in moto since the last call (moto stores executions but does
     * not run them) through {@link DrainInterpreter} on the packaged definition, each Task answered by
     * {@code lifecycle} through its Lambda entry point, as Step Functions invokes it; then stops the
     * moto execution, so its name counts as ended. Waits are not waited (no clock moves): a drain here
     * is expected to end without one, and one that keeps waiting fails the test.
     *
     * @return the name and end state of each execution run
     */
    public List<String> runNewDrains(LifecycleHandler lifecycle) {
        DrainInterpreter interpreter = DrainInterpreter.packaged(Fixtures.JSON);
        List<String> ran = new ArrayList<>();
        for (ExecutionListItem item : sfn.listExecutions(r -> r.stateMachineArn(drainStateMachineArn)
                .statusFilter(ExecutionStatus.RUNNING)).executions()) {
            if (!drainsRun.add(item.executionArn())) {
                continue;
            }
            String input = sfn.describeExecution(r -> r.executionArn(item.executionArn())).input();
            DrainInterpreter.Execution execution;
            try {
                execution = interpreter.start(Fixtures.JSON.readTree(input));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            DrainInterpreter.Step step = null;
            for (int i = 0; i < 20 && !(step instanceof DrainInterpreter.Step.Ended); i++) {
                step = execution.advance(payload -> invoke(lifecycle, payload));
            }
            if (!(step instanceof DrainInterpreter.Step.Ended ended)) {
                throw new AssertionError("drain " + item.name() + " still waits after 20 steps, in " + execution.state());
            }
            sfn.stopExecution(r -> r.executionArn(item.executionArn()));
            ran.add(item.name() + " " + ended.state());
        }
        return ran;
    }

    private final java.util.Set<String> drainsRun = new java.util.HashSet<>();

    /** Invokes the lifecycle function through its Lambda stream entry point and returns its JSON answer. */
    public static JsonNode invoke(LifecycleHandler lifecycle, JsonNode input) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            lifecycle.handleRequest(new ByteArrayInputStream(Fixtures.JSON.writeValueAsBytes(input)), out,
                    new LambdaTestContext("lifecycle"));
            return Fixtures.JSON.readTree(out.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Delivers through the handler's Lambda entry point (Powertools logging included). */
    public static APIGatewayV2HTTPResponse deliver(WebhookHandler handler, Map<String, String> headers, String body) {
        return handler.handleRequest(Fixtures.apiGatewayEvent(headers, body, false), new LambdaTestContext("webhook"));
    }

    public static APIGatewayV2HTTPResponse deliver(WebhookHandler handler, APIGatewayV2HTTPEvent event) {
        return handler.handleRequest(event, new LambdaTestContext("webhook"));
    }

    /** A Job Hook with a valid token and a fresh Idempotency-Key. */
    public static APIGatewayV2HTTPResponse deliverJobHook(WebhookHandler handler, String body) {
        return deliver(handler, Fixtures.gitlabHeaders("Job Hook", WEBHOOK_TOKEN, UUID.randomUUID().toString()), body);
    }

    /** Invokes the scaler through its Lambda stream entry point and returns its JSON answer. */
    public static JsonNode invoke(ScalerHandler scaler, JsonNode event) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            scaler.handleRequest(new ByteArrayInputStream(Fixtures.JSON.writeValueAsBytes(event)), out,
                    new LambdaTestContext("scaler"));
            return Fixtures.JSON.readTree(out.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static JsonNode body(APIGatewayV2HTTPResponse response) {
        try {
            return Fixtures.JSON.readTree(response.getBody());
        } catch (IOException e) {
            throw new UncheckedIOException("response body is not JSON: " + response.getBody(), e);
        }
    }

    // ------------------------------------------------------------------ GitLab (WireMock)

    /** {@code GET /api/v4/projects/:project/jobs/:job} for jobs matching {@code jobIdRegex} answers these tags. */
    public void stubJobTags(long projectId, String jobIdRegex, List<String> tags) {
        ObjectNode job = Fixtures.JSON.createObjectNode().put("id", 1).put("status", "pending");
        ArrayNode tagList = job.putArray("tag_list");
        tags.forEach(tagList::add);
        gitlab.stubFor(get(urlPathMatching("/api/v4/projects/" + projectId + "/jobs/" + jobIdRegex))
                .willReturn(aResponse().withStatus(200).withHeader("content-type", "application/json")
                        .withBody(job.toString())));
    }

    // ------------------------------------------------------------------ Auto Scaling (moto)

    /** A real group in moto as fleeting expects it: min 0, desired 0, max {@code maxSize}, one AZ. */
    public String createAsg(String pool, int maxSize) {
        String name = asgName(pool);
        autoScaling.createLaunchConfiguration(r -> r.launchConfigurationName(name + "-lc")
                .imageId("ami-12c6146b").instanceType("t3.medium"));
        autoScaling.createAutoScalingGroup(r -> r.autoScalingGroupName(name).launchConfigurationName(name + "-lc")
                .minSize(0).maxSize(maxSize).desiredCapacity(0).availabilityZones("us-east-1a"));
        return name;
    }

    /**
     * A group launching from a launch template at {@code $Default}, as the stack's example group does
     * (min 0, desired 0, one AZ). Moto tags each instance it launches with the template's default
     * version then ({@code aws:ec2launchtemplate:version}), as EC2 does with the version it used.
     *
     * @return the launch template's id
     */
    public String createAsgFromTemplate(String pool, int maxSize) {
        String name = asgName(pool);
        String templateId = ec2.createLaunchTemplate(r -> r.launchTemplateName(name + "-lt")
                .launchTemplateData(d -> d.imageId("ami-12c6146b").instanceType(InstanceType.T3_MEDIUM)))
                .launchTemplate().launchTemplateId();
        autoScaling.createAutoScalingGroup(r -> r.autoScalingGroupName(name)
                .launchTemplate(t -> t.launchTemplateId(templateId).version("$Default"))
                .minSize(0).maxSize(maxSize).desiredCapacity(0).availabilityZones("us-east-1a"));
        return templateId;
    }

    /**
     * What an upgrade does to a group from {@link #createAsgFromTemplate}: a new launch template version
     * (another instance type here, a new AMI in life) made the default.
     *
     * @return the new version number
     */
    public long upgradeTemplate(String pool) {
        String template = asgName(pool) + "-lt";
        long version = ec2.createLaunchTemplateVersion(r -> r.launchTemplateName(template).sourceVersion("1")
                .launchTemplateData(d -> d.instanceType(InstanceType.T3_LARGE))).launchTemplateVersion().versionNumber();
        ec2.modifyLaunchTemplate(r -> r.launchTemplateName(template).defaultVersion(Long.toString(version)));
        return version;
    }

    /** Names of the drain executions started so far, sorted. */
    public List<String> drainExecutions() {
        return sfn.listExecutions(r -> r.stateMachineArn(drainStateMachineArn)).executions().stream()
                .map(ExecutionListItem::name).sorted().toList();
    }

    public AutoScalingGroup group(String pool) {
        return autoScaling.describeAutoScalingGroups(r -> r.autoScalingGroupNames(asgName(pool)))
                .autoScalingGroups().getFirst();
    }

    public int desired(String pool) {
        return group(pool).desiredCapacity();
    }

    /** Instance ids of the group that are not leaving it. */
    public List<String> instances(String pool) {
        return group(pool).instances().stream()
                .filter(i -> i.lifecycleState() == LifecycleState.IN_SERVICE || i.lifecycleState() == LifecycleState.PENDING)
                .map(i -> i.instanceId()).sorted().toList();
    }

    // ------------------------------------------------------------------ scale queue (moto SQS FIFO)

    public int queueDepth() {
        Map<QueueAttributeName, String> attributes = sqs.getQueueAttributes(r -> r.queueUrl(queueUrl)
                .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES,
                        QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)).attributes();
        return Integer.parseInt(attributes.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))
                + Integer.parseInt(attributes.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE));
    }

    /** Receives what the queue holds now (one receive call: up to 10, at most one in flight per group). */
    public List<Message> receive() {
        return sqs.receiveMessage(r -> r.queueUrl(queueUrl).maxNumberOfMessages(10).waitTimeSeconds(0)
                .messageSystemAttributeNames(MessageSystemAttributeName.ALL)).messages();
    }

    /** Receives and deletes until the queue is empty (FIFO releases a group's next message after a delete). */
    public List<Message> drain() {
        List<Message> all = new ArrayList<>();
        for (List<Message> batch = receive(); !batch.isEmpty(); batch = receive()) {
            all.addAll(batch);
            delete(batch);
        }
        return all;
    }

    public void delete(List<Message> messages) {
        if (messages.isEmpty()) {
            return;
        }
        List<DeleteMessageBatchRequestEntry> entries = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            entries.add(DeleteMessageBatchRequestEntry.builder().id("m" + i)
                    .receiptHandle(messages.get(i).receiptHandle()).build());
        }
        for (int from = 0; from < entries.size(); from += 10) {
            List<DeleteMessageBatchRequestEntry> batch = entries.subList(from, Math.min(from + 10, entries.size()));
            var response = sqs.deleteMessageBatch(r -> r.queueUrl(queueUrl).entries(batch));
            if (!response.failed().isEmpty()) {
                throw new IllegalStateException("SQS delete failed: " + response.failed());
            }
        }
    }

    /** The event the Lambda service hands the scaler for these received messages. */
    public ObjectNode sqsEvent(List<Message> messages) {
        ObjectNode event = Fixtures.JSON.createObjectNode();
        ArrayNode records = event.putArray("Records");
        String arn = "arn:aws:sqs:us-east-1:123456789012:rs-" + id + "-scale.fifo";
        for (Message message : messages) {
            ObjectNode record = records.addObject()
                    .put("messageId", message.messageId())
                    .put("receiptHandle", message.receiptHandle())
                    .put("body", message.body());
            ObjectNode attributes = record.putObject("attributes");
            message.attributes().forEach((name, value) -> attributes.put(name.toString(), value));
            record.putObject("messageAttributes");
            record.put("md5OfBody", message.md5OfBody())
                    .put("eventSource", "aws:sqs")
                    .put("eventSourceARN", arn)
                    .put("awsRegion", "us-east-1");
        }
        return event;
    }

    /** Sends one scale request per pool through the real queue, receives them, and builds the scaler's event. */
    public ObjectNode sqsEventForPools(String... pools) {
        for (String pool : pools) {
            sqs.sendMessage(r -> r.queueUrl(queueUrl).messageGroupId(pool)
                    .messageDeduplicationId("test-" + pool + "-" + UUID.randomUUID())
                    .messageBody(Fixtures.JSON.createObjectNode().put("pool", pool).put("reason", "job-pending").toString()));
        }
        List<Message> received = drain();
        if (received.size() != pools.length) {
            throw new IllegalStateException("sent " + pools.length + " scale requests, received " + received.size());
        }
        return sqsEvent(received);
    }

    // ------------------------------------------------------------------ jobs

    /** A job event as a webhook would record it; {@code instanceId} names the runner (runnerscale's naming). */
    public static JobEvent jobEvent(long projectId, long jobId, JobStatus status, String instanceId, Instant finishedAt) {
        return new JobEvent(new JobKey(projectId, jobId), status, 77L, "build", "test", null,
                status.rank() >= JobStatus.RUNNING.rank() ? Instant.parse("2021-02-23T02:42:00Z") : null,
                finishedAt, null, instanceId == null ? null : 42L, instanceId, null, List.of("docker"));
    }

    @Override
    public void close() {
        gitlab.stop();
        try {
            sqs.deleteQueue(r -> r.queueUrl(queueUrl));
        } catch (RuntimeException ignored) {
            // moto may have been reset already
        }
        sqs.close();
        ssm.close();
        secretsManager.close();
        autoScaling.close();
        sfn.close();
        ec2.close();
        SharedDynamo.dropTable(table);
    }
}
