package io.runnerscale.it;

import io.runnerscale.it.CfnTemplate.Statement;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import static io.runnerscale.it.CfnTemplate.ACCOUNT;
import static io.runnerscale.it.CfnTemplate.REGION;
import static io.runnerscale.it.CfnTemplate.asMap;
import static io.runnerscale.it.CfnTemplate.statements;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * template.yaml's Fargate pool parts, evaluated for given parameter values (see {@link CfnTemplate}):
 * with the Fargate parameters empty nothing Fargate-related is granted or created; with them set, the
 * scaler may run tasks only of the listed families in the listed clusters, tag only those tasks at
 * launch and pass only the listed roles to ECS tasks; the lifecycle function may stop and describe
 * only those clusters' tasks; the ECS task events reach the lifecycle alias with the same retries and
 * dead-letter queue as the EC2 events; the example pool's task definition takes the token from its
 * secret only. Throughout: no IAM write action of any role on "*".
 */
class TemplateFargateTest {
    private static final Map<String, Object> POOLS = Map.of(
            "FargateClusterNames", List.of("ci", "ci-big"),
            "FargateTaskDefinitionFamilies", List.of("runner-small", "runner-large"),
            "FargateTaskRoleArns", List.of("arn:aws:iam::123456789012:role/runner-task", "arn:aws:iam::123456789012:role/runner-exec"));
    private static final Map<String, Object> EXAMPLE = Map.of(
            "CreateExampleFargatePool", "true",
            "FargateRunnerImage", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/gitlab-runner-fargate:17.11.0-1",
            "RunnerGitLabUrl", "https://gitlab.example.com",
            "FargateCpuArchitecture", "X86_64");

    /** Read-only actions, or ones AWS offers no resource-level permission for; nothing else may have Resource "*". */
    private static final Set<String> ALLOWED_ON_STAR = Set.of(
            "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeLifecycleHooks",
            "ec2:DescribeInstances", "ec2:DescribeLaunchTemplates",
            "autoscaling:DescribeWarmPool", "autoscaling:DescribeLaunchConfigurations", "ec2:DescribeLaunchTemplateVersions",
            "ecs:ListTasks", "ecr:GetAuthorizationToken",
            "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
            "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
            "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups");

    @Test
    void withTheFargateParametersEmptyNothingFargateRelatedIsGrantedOrCreated() throws IOException {
        CfnTemplate template = CfnTemplate.load(Map.of());

        Map<String, Map<String, Object>> resources = template.resources();
        List<String> fargate = new ArrayList<>();
        resources.forEach((id, resource) -> {
            String type = (String) resource.get("Type");
            if (type.startsWith("AWS::ECS::") || id.contains("Fargate")) fargate.add(id);
            if (type.equals("AWS::IAM::Role")) {
                for (Statement s : statements(resource)) {
                    if (s.actions().stream().anyMatch(a -> a.startsWith("ecs:") || a.startsWith("ecr:") || a.equals("iam:PassRole"))) {
                        fargate.add(id + ": " + s);
                    }
                }
            }
            if (resource.toString().contains("aws.ecs")) fargate.add(id + " has an ECS event pattern");
        });
        assertEquals(List.of(), fargate);
        assertFalse(template.outputs().keySet().stream().anyMatch(name -> name.contains("Fargate")), template.outputs().toString());
        assertEquals(List.of(), template.failedRules());
    }

    @Test
    void theScalerRunsOnlyTheListedFamiliesInTheListedClustersAndPassesOnlyTheListedRoles() throws IOException {
        CfnTemplate template = CfnTemplate.load(POOLS);
        List<Statement> scaler = statements(template.resource("ScalerFunctionRole"));

        Statement run = only(scaler, "ecs:RunTask");
        assertEquals(List.of("ecs:RunTask"), run.actions());
        assertEquals(List.of("arn:*:ecs:*:*:task-definition/runner-small:*", "arn:*:ecs:*:*:task-definition/runner-large:*"),
                run.resources());
        assertEquals(List.of("arn:*:ecs:*:*:cluster/ci", "arn:*:ecs:*:*:cluster/ci-big"), run.condition("ArnLike", "ecs:cluster"));
        assertEquals(List.of(REGION), run.condition("StringEquals", "aws:RequestedRegion"));

        Statement tag = only(scaler, "ecs:TagResource");
        assertEquals(List.of("ecs:TagResource"), tag.actions());
        assertEquals(List.of("arn:*:ecs:*:*:task/ci/*", "arn:*:ecs:*:*:task/ci-big/*"), tag.resources());
        assertEquals(List.of("RunTask"), tag.condition("StringEquals", "ecs:CreateAction"), "tags only at launch: " + tag);

        Statement pass = only(scaler, "iam:PassRole");
        assertEquals(List.of("iam:PassRole"), pass.actions());
        assertEquals(POOLS.get("FargateTaskRoleArns"), pass.resources());
        assertEquals(List.of("ecs-tasks.amazonaws.com"), pass.condition("StringEquals", "iam:PassedToService"));

        assertFalse(scaler.stream().anyMatch(s -> s.actions().contains("ecs:StopTask")), "the scaler never stops a task: " + scaler);
    }

    @Test
    void withoutRoleArnsThereIsNoPassRoleAndWithoutFamiliesNoRunTask() throws IOException {
        CfnTemplate noRoles = CfnTemplate.load(Map.of(
                "FargateClusterNames", List.of("ci"), "FargateTaskDefinitionFamilies", List.of("runner")));
        List<Statement> scaler = statements(noRoles.resource("ScalerFunctionRole"));
        assertTrue(scaler.stream().anyMatch(s -> s.actions().contains("ecs:RunTask")), scaler.toString());
        assertFalse(scaler.stream().anyMatch(s -> s.actions().contains("iam:PassRole")), scaler.toString());

        CfnTemplate clustersOnly = CfnTemplate.load(Map.of("FargateClusterNames", List.of("ci")));
        assertFalse(statements(clustersOnly.resource("ScalerFunctionRole")).stream()
                .anyMatch(s -> s.actions().stream().anyMatch(a -> a.startsWith("ecs:") || a.equals("iam:PassRole"))));
        // the tasks a cluster still runs can be seen and stopped, and their events arrive
        assertTrue(statements(clustersOnly.resource("LifecycleFunctionRole")).stream().anyMatch(s -> s.actions().contains("ecs:StopTask")));
        clustersOnly.resource("LifecycleFargateTaskStateChange");
    }

    @Test
    void theLifecycleFunctionStopsAndDescribesOnlyThePoolClustersTasks() throws IOException {
        CfnTemplate template = CfnTemplate.load(POOLS);
        List<Statement> lifecycle = statements(template.resource("LifecycleFunctionRole"));

        Statement tasks = only(lifecycle, "ecs:StopTask");
        assertEquals(Set.of("ecs:StopTask", "ecs:DescribeTasks"), Set.copyOf(tasks.actions()));
        assertEquals(List.of("arn:*:ecs:*:*:task/ci/*", "arn:*:ecs:*:*:task/ci-big/*"), tasks.resources());
        assertEquals(List.of(REGION), tasks.condition("StringEquals", "aws:RequestedRegion"));

        Statement list = only(lifecycle, "ecs:ListTasks");
        assertEquals(List.of("ecs:ListTasks"), list.actions());
        assertEquals(List.of("arn:*:ecs:*:*:cluster/ci", "arn:*:ecs:*:*:cluster/ci-big"), list.condition("ArnLike", "ecs:cluster"));

        assertFalse(lifecycle.stream().anyMatch(s -> s.actions().contains("ecs:RunTask") || s.actions().contains("iam:PassRole")),
                lifecycle.toString());
    }

    @Test
    void taskStateChangesStartedByRunnerscaleReachTheLifecycleAliasLikeTheEc2Events() throws IOException {
        CfnTemplate template = CfnTemplate.load(POOLS);
        Map<String, Object> rule = asMap(template.resource("LifecycleFargateTaskStateChange").get("Properties"));

        assertEquals(Map.of("source", List.of("aws.ecs"), "detail-type", List.of("ECS Task State Change"),
                "detail", Map.of("startedBy", List.of(Map.of("prefix", "runnerscale/")))), rule.get("EventPattern"));
        assertEquals("ENABLED", rule.get("State"));
        List<?> targets = (List<?>) rule.get("Targets");
        assertEquals(1, targets.size(), targets.toString());
        Map<String, Object> target = asMap(targets.getFirst());
        assertEquals("{ref:LifecycleFunction.Alias}", target.get("Arn"), "the live alias, as SAM targets the EC2 rules");
        assertEquals(Map.of("Arn", "{LifecycleEventDeadLetterQueue.Arn}"), target.get("DeadLetterConfig"));
        Map<String, Object> ec2Launch = asMap(asMap(asMap(asMap(asMap(template.resource("LifecycleFunction").get("Properties"))
                .get("Events")).get("LaunchLifecycleAction")).get("Properties")));
        assertEquals(ec2Launch.get("RetryPolicy"), target.get("RetryPolicy"));

        // the dead-letter queue admits the rule by name
        String ruleArn = "arn:aws:events:" + REGION + ":" + ACCOUNT + ":rule/" + rule.get("Name");
        Statement admit = statementsOf(asMap(asMap(template.resource("LifecycleEventDeadLetterQueuePolicy").get("Properties"))
                .get("PolicyDocument"))).getFirst();
        String pattern = admit.condition("ArnLike", "aws:SourceArn").getFirst();
        assertTrue(Pattern.matches(Pattern.quote(pattern).replace("*", "\\E.*\\Q"), ruleArn), ruleArn + " vs " + pattern);

        Map<String, Object> permission = asMap(template.resource("LifecycleFargateTaskStateChangePermission").get("Properties"));
        assertEquals(Map.of("Action", "lambda:InvokeFunction", "FunctionName", "{ref:LifecycleFunction.Alias}",
                "Principal", "events.amazonaws.com", "SourceArn", "{LifecycleFargateTaskStateChange.Arn}"), permission);
    }

    @Test
    void theExamplePoolsTaskDefinitionTakesTheTokenFromItsSecretAndTheStackGrantsItself() throws IOException {
        CfnTemplate template = CfnTemplate.load(EXAMPLE);

        Map<String, Object> cluster = asMap(template.resource("ExampleFargateCluster").get("Properties"));
        assertEquals(List.of("FARGATE", "FARGATE_SPOT"), cluster.get("CapacityProviders"));

        Map<String, Object> definition = asMap(template.resource("ExampleFargateTaskDefinition").get("Properties"));
        assertEquals("awsvpc", definition.get("NetworkMode"));
        assertEquals(List.of("FARGATE"), definition.get("RequiresCompatibilities"));
        assertEquals(Map.of("CpuArchitecture", "X86_64", "OperatingSystemFamily", "LINUX"), definition.get("RuntimePlatform"));
        assertEquals("{ExampleFargateExecutionRole.Arn}", definition.get("ExecutionRoleArn"));
        assertEquals("{ExampleFargateTaskRole.Arn}", definition.get("TaskRoleArn"));
        List<?> containers = (List<?>) definition.get("ContainerDefinitions");
        assertEquals(1, containers.size());
        Map<String, Object> runner = asMap(containers.getFirst());
        assertEquals("runner", runner.get("Name"), "the pool's default backend.container");
        assertEquals(EXAMPLE.get("FargateRunnerImage"), runner.get("Image"));
        assertEquals(List.of(Map.of("Name", "RUNNER_TOKEN", "ValueFrom", "{ref:ExampleFargateRunnerTokenSecret}")), runner.get("Secrets"));
        assertEquals(List.of(Map.of("Name", "CI_SERVER_URL", "Value", "https://gitlab.example.com")), runner.get("Environment"),
                "the token is never plain environment");
        assertEquals(120, runner.get("StopTimeout"));
        Map<String, Object> logs = asMap(runner.get("LogConfiguration"));
        assertEquals("awslogs", logs.get("LogDriver"));
        assertEquals("{ref:ExampleFargateLogGroup}", asMap(logs.get("Options")).get("awslogs-group"));

        // ECS reads the one secret and writes the one log group; the jobs' role has no policy
        List<Statement> execution = statements(template.resource("ExampleFargateExecutionRole"));
        assertEquals(List.of("{ref:ExampleFargateRunnerTokenSecret}"), only(execution, "secretsmanager:GetSecretValue").resources());
        assertEquals(List.of("{ExampleFargateLogGroup.Arn}"), only(execution, "logs:PutLogEvents").resources());
        assertEquals(List.of("arn:aws:ecr:" + REGION + ":" + ACCOUNT + ":repository/*"), only(execution, "ecr:BatchGetImage").resources());
        assertEquals(List.of(), statements(template.resource("ExampleFargateTaskRole")));
        for (String role : List.of("ExampleFargateExecutionRole", "ExampleFargateTaskRole")) {
            Map<String, Object> trust = asMap(asMap(template.resource(role).get("Properties")).get("AssumeRolePolicyDocument"));
            Statement assume = statementsOf(trust).getFirst();
            assertEquals(Map.of("Service", "ecs-tasks.amazonaws.com"), assume.body().get("Principal"), role);
            assertEquals(List.of(ACCOUNT), assume.condition("StringEquals", "aws:SourceAccount"), role);
        }

        // the stack's own grants for its example: the family it declares, its cluster, its two roles
        List<Statement> scaler = statements(template.resource("ScalerFunctionRole"));
        Statement run = only(scaler, "ecs:RunTask");
        assertEquals(List.of("arn:aws:ecs:" + REGION + ":" + ACCOUNT + ":task-definition/" + definition.get("Family") + ":*"), run.resources());
        assertEquals(List.of("{ExampleFargateCluster.Arn}"), run.condition("ArnEquals", "ecs:cluster"));
        assertEquals(List.of("arn:aws:ecs:" + REGION + ":" + ACCOUNT + ":task/{ref:ExampleFargateCluster}/*"),
                only(scaler, "ecs:TagResource").resources());
        Statement pass = only(scaler, "iam:PassRole");
        assertEquals(List.of("{ExampleFargateTaskRole.Arn}", "{ExampleFargateExecutionRole.Arn}"), pass.resources());
        assertEquals(List.of("ecs-tasks.amazonaws.com"), pass.condition("StringEquals", "iam:PassedToService"));
        assertEquals(List.of("arn:aws:ecs:" + REGION + ":" + ACCOUNT + ":task/{ref:ExampleFargateCluster}/*"),
                only(statements(template.resource("LifecycleFunctionRole")), "ecs:StopTask").resources());

        // events arrive without FargateClusterNames
        template.resource("LifecycleFargateTaskStateChange");
        assertEquals(Set.of("ExampleFargateClusterName", "ExampleFargateTaskDefinitionFamily", "ExampleFargateRunnerTokenSecretArn"),
                Set.copyOf(template.outputs().keySet().stream().filter(name -> name.contains("Fargate")).toList()));
        assertEquals(definition.get("Family"), template.outputs().get("ExampleFargateTaskDefinitionFamily"));
        assertEquals(List.of(), template.failedRules());
    }

    @Test
    void theExamplePoolNeedsAnImageAndTheGitLabUrl() throws IOException {
        CfnTemplate template = CfnTemplate.load(Map.of("CreateExampleFargatePool", "true"));

        assertEquals(List.of("FargateRunnerImage is required when CreateExampleFargatePool is true.",
                "RunnerGitLabUrl is required when CreateExampleFargatePool is true."), template.failedRules());
    }

    @Test
    void noRoleHasAWriteActionOnStarWithEverythingSwitchedOn() throws IOException {
        Map<String, Object> everything = new java.util.HashMap<>(POOLS);
        everything.putAll(EXAMPLE);
        everything.put("EnableTracing", "true");
        everything.put("VpcSubnetIds", List.of("subnet-a"));
        everything.put("RunnerAmiId", "ami-0123456789abcdef0");
        everything.put("RunnerTokenKmsKeyArn", "arn:aws:kms:eu-west-1:123456789012:key/0000-1111");
        CfnTemplate template = CfnTemplate.load(everything);

        List<String> offending = new ArrayList<>();
        int checked = 0;
        for (Map.Entry<String, Map<String, Object>> resource : template.resources().entrySet()) {
            if (!"AWS::IAM::Role".equals(resource.getValue().get("Type"))) continue;
            for (Statement s : statements(resource.getValue())) {
                checked++;
                if (s.resources().stream().anyMatch(r -> r.equals("*") || r.equals("arn:*:ecs:*:*:*"))) {
                    s.actions().stream().filter(a -> !ALLOWED_ON_STAR.contains(a))
                            .forEach(a -> offending.add(resource.getKey() + " " + s.sid() + ": " + a));
                }
                // a family or cluster list that resolved to nothing would leave a bare wildcard
                for (String r : s.resources()) {
                    if (r.contains(":task-definition/:") || r.contains(":task//") || r.endsWith(":task/*")) {
                        offending.add(resource.getKey() + " " + s.sid() + ": " + r);
                    }
                }
            }
        }
        assertTrue(checked > 30, "statements checked: " + checked);
        assertEquals(List.of(), offending);
    }

    private static List<Statement> statementsOf(Map<String, Object> policyDocument) {
        return ((List<?>) policyDocument.get("Statement")).stream()
                .map(s -> new Statement("resource-policy", asMap(s))).toList();
    }

    private static Statement only(List<Statement> statements, String action) {
        List<Statement> matching = statements.stream().filter(s -> s.actions().contains(action)).toList();
        assertEquals(1, matching.size(), "exactly one statement with " + action + ": " + statements);
        return matching.getFirst();
    }
}
