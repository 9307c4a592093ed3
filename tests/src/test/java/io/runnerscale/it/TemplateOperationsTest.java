package io.runnerscale.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.runnerscale.it.CfnTemplate.REGION;
import static io.runnerscale.it.CfnTemplate.STACK;
import static io.runnerscale.it.CfnTemplate.asMap;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * template.yaml's alarms, alarm topic and dashboard (README, "Operations"), evaluated for given parameter
 * values (see {@link CfnTemplate}): every alarm notifies the topic, watches what its name says (the
 * threshold parameters, the right queues, API and functions), uses the metrics contract's names and
 * dimensions; the e-mail subscription exists only with an address; the dashboard body is valid JSON
 * once its Fn::Sub is resolved, shows every metric of the contract with its exact dimension set and
 * only those; cfn-lint passes.
 */
class TemplateOperationsTest {
    /**
     * The metrics contract (README, Architecture: the metrics table): CloudWatch name to its dimension
     * sets. JobWait has two: per pool, and none (the alarm's series over every pool).
     */
    private static final Map<String, Set<Set<String>>> CONTRACT = Map.ofEntries(
            Map.entry("JobWait", Set.of(Set.of("Pool"), Set.of())),
            Map.entry("WebhookDeliveries", Set.of(Set.of("Status"))),
            Map.entry("ScaleDecisions", Set.of(Set.of("Pool"))),
            Map.entry("ScaleLatency", Set.of(Set.of("Pool"))),
            Map.entry("DesiredInstances", Set.of(Set.of("Pool"))),
            Map.entry("NeededSlots", Set.of(Set.of("Pool"))),
            Map.entry("PendingJobs", Set.of(Set.of("Pool"))),
            Map.entry("Instances", Set.of(Set.of("Pool", "State"))),
            Map.entry("DecisionFailures", Set.of(Set.of("Pool"))),
            Map.entry("DeferredUpdates", Set.of(Set.of("Result"))),
            Map.entry("SpotInterruptions", Set.of(Set.of("Result"))),
            Map.entry("RebalanceRecommendations", Set.of(Set.of("Result"))),
            Map.entry("FargateTaskEvents", Set.of(Set.of("Result"))),
            Map.entry("ReconcilerRepairs", Set.of(Set.of("Kind"))),
            Map.entry("HooksDisabled", Set.of(Set.of())),
            Map.entry("WarmPoolsNotApplied", Set.of(Set.of())),
            Map.entry("GitLabApiErrors", Set.of(Set.of("Kind"))));
    private static final Set<String> REPAIR_KINDS = Set.of("TO_RUNNING", "TO_CANCELING", "TO_FINISHED", "GONE", "DISCOVERED");
    private static final List<String> FUNCTIONS = List.of("WebhookFunction", "ScalerFunction", "LifecycleFunction");
    private static final Set<String> ALARMS = Set.of("JobWaitAlarm", "DecisionFailuresAlarm", "ScaleDeadLetterAlarm",
            "LifecycleDeadLetterAlarm", "Webhook5xxAlarm", "WebhookErrorsAlarm", "ScalerErrorsAlarm", "LifecycleErrorsAlarm",
            "LambdaThrottlesAlarm", "ReconcilerRepairsAlarm", "HooksDisabledAlarm", "WarmPoolsNotAppliedAlarm");
    private static final String TOPIC = "{ref:AlarmTopic}";
    /** SEARCH('{namespace,Dim,...} MetricName="Name"', ...) */
    private static final Pattern SEARCH = Pattern.compile("SEARCH\\('\\{([^}]*)} MetricName=\"([^\"]+)\"', '([^']+)'");
    /** SELECT FUNC(Name) FROM SCHEMA(namespace, Dim, ...) */
    private static final Pattern INSIGHTS = Pattern.compile("SELECT \\w+\\((\\w+)\\) FROM SCHEMA\\(([^)]*)\\)");

    @Test
    void everyAlarmNotifiesTheTopicOnAlarmAndOnRecoveryAndSaysWhatToDo() throws IOException {
        CfnTemplate template = CfnTemplate.load(Map.of());
        Map<String, Map<String, Object>> alarms = alarms(template);

        assertEquals(ALARMS, alarms.keySet());
        Set<String> names = new HashSet<>();
        alarms.forEach((id, alarm) -> {
            assertEquals(List.of(TOPIC), alarm.get("AlarmActions"), id);
            assertEquals(List.of(TOPIC), alarm.get("OKActions"), id);
            String name = (String) alarm.get("AlarmName");
            assertTrue(name.startsWith(STACK + "-"), id + ": " + name);
            assertTrue(names.add(name), "alarm name used twice: " + name);
            String description = (String) alarm.get("AlarmDescription");
            assertTrue(description.startsWith("runnerscale " + STACK + ": "), id + ": " + description);
            // the notification is all an operator gets: it must point somewhere (a log group, the dashboard, the README)
            assertTrue(description.contains("/aws/lambda/") || description.contains("Dashboard") || description.contains("README"),
                    id + ": " + description);
            assertTrue(description.length() <= 1024, id + ": AlarmDescription is at most 1024 characters");
            assertFalse(description.contains("${"), id + ": a variable Fn::Sub did not substitute: " + description);
            assertTrue(Set.of("notBreaching", "ignore").contains(alarm.get("TreatMissingData")), id + " decides on missing data");
        });
        Map<String, Object> topic = properties(template, "AlarmTopic");
        assertNull(topic.get("KmsMasterKeyId"), "CloudWatch cannot publish to a topic under the AWS managed key aws/sns");
        assertEquals(TOPIC, template.outputs().get("AlarmTopicArn"));
    }

    @Test
    void theJobWaitAlarmWatchesTheP95OfTheAllPoolsSeriesAgainstItsParameter() throws IOException {
        Map<String, Object> alarm = properties(CfnTemplate.load(Map.of("JobWaitAlarmSeconds", "240")), "JobWaitAlarm");

        assertEquals(namespace(), alarm.get("Namespace"));
        assertEquals("JobWait", alarm.get("MetricName"));
        assertEquals("p95", alarm.get("ExtendedStatistic"));
        assertNull(alarm.get("Statistic"));
        assertNull(alarm.get("Dimensions"), "the no-dimension series: every pool's jobs");
        assertEquals("240", String.valueOf(alarm.get("Threshold")));
        assertEquals("GreaterThanThreshold", alarm.get("ComparisonOperator"));
        assertEquals("notBreaching", alarm.get("TreatMissingData"), "no job started is no wait");
        assertTrue(((String) alarm.get("AlarmDescription")).contains("240 s"), (String) alarm.get("AlarmDescription"));
    }

    @Test
    void theDeadLetterAlarmsWatchTheQueuesTheScaleQueueAndTheLifecycleEventsActuallyFailInto() throws IOException {
        CfnTemplate template = CfnTemplate.load(Map.of());

        Map<String, Object> redrive = asMap(properties(template, "ScaleQueue").get("RedrivePolicy"));
        assertEquals("{ScaleDeadLetterQueue.Arn}", redrive.get("deadLetterTargetArn"));
        assertQueueAlarm(properties(template, "ScaleDeadLetterAlarm"), "ScaleDeadLetterQueue");

        Map<String, Object> onFailure = asMap(asMap(asMap(properties(template, "LifecycleFunction").get("EventInvokeConfig"))
                .get("DestinationConfig")).get("OnFailure"));
        assertEquals("{LifecycleEventDeadLetterQueue.Arn}", onFailure.get("Destination"));
        assertQueueAlarm(properties(template, "LifecycleDeadLetterAlarm"), "LifecycleEventDeadLetterQueue");
    }

    @Test
    void theWebhook5xxAlarmWatchesTheApiTheWebhookIsServedBy() throws IOException {
        CfnTemplate template = CfnTemplate.load(Map.of());
        Map<String, Object> event = asMap(asMap(asMap(properties(template, "WebhookFunction").get("Events")).get("GitLabHook"))
                .get("Properties"));
        Map<String, Object> alarm = properties(template, "Webhook5xxAlarm");

        assertEquals("AWS/ApiGateway", alarm.get("Namespace"));
        assertEquals("5xx", alarm.get("MetricName"), "the HTTP API's metric name (REST APIs say 5XXError)");
        assertEquals(List.of(Map.of("Name", "ApiId", "Value", event.get("ApiId"))), alarm.get("Dimensions"));
        assertEquals("Sum", alarm.get("Statistic"));
    }

    @Test
    void eachFunctionHasAnErrorsAlarmAndOneAlarmSumsTheThrottlesOfAllThree() throws IOException {
        CfnTemplate template = CfnTemplate.load(Map.of());

        for (String function : FUNCTIONS) {
            Map<String, Object> alarm = properties(template, function.replace("Function", "ErrorsAlarm"));
            assertEquals("AWS/Lambda", alarm.get("Namespace"), function);
            assertEquals("Errors", alarm.get("MetricName"), function);
            assertEquals(List.of(Map.of("Name", "FunctionName", "Value", "{ref:" + function + "}")), alarm.get("Dimensions"), function);
            assertEquals("Sum", alarm.get("Statistic"), function);
        }

        Map<String, Object> throttles = properties(template, "LambdaThrottlesAlarm");
        Map<String, Map<String, Object>> inputs = metricInputs(throttles);
        Set<String> functions = new TreeSet<>();
        for (Map<String, Object> stat : inputs.values()) {
            Map<String, Object> metric = asMap(stat.get("Metric"));
            assertEquals("AWS/Lambda", metric.get("Namespace"));
            assertEquals("Throttles", metric.get("MetricName"));
            functions.add((String) asMap(((List<?>) metric.get("Dimensions")).getFirst()).get("Value"));
        }
        assertEquals(new TreeSet<>(FUNCTIONS.stream().map(f -> "{ref:" + f + "}").toList()), functions);
        assertEquals(inputs.keySet(), referencedIds(returnedExpression(throttles)), "the expression adds up every input");
    }

    @Test
    void theLostWebhooksAlarmAddsUpEveryRepairKindOfTheContractAgainstItsParameter() throws IOException {
        Map<String, Object> alarm = properties(CfnTemplate.load(Map.of("ReconcilerRepairsAlarmThreshold", "25")), "ReconcilerRepairsAlarm");
        Map<String, Map<String, Object>> inputs = metricInputs(alarm);

        Set<String> kinds = new HashSet<>();
        for (Map<String, Object> stat : inputs.values()) {
            Map<String, Object> metric = asMap(stat.get("Metric"));
            assertEquals(namespace(), metric.get("Namespace"));
            assertEquals("ReconcilerRepairs", metric.get("MetricName"));
            List<?> dimensions = (List<?>) metric.get("Dimensions");
            assertEquals(1, dimensions.size());
            assertEquals("Kind", asMap(dimensions.getFirst()).get("Name"));
            kinds.add((String) asMap(dimensions.getFirst()).get("Value"));
            assertEquals("Sum", stat.get("Stat"));
            assertEquals(3600, stat.get("Period"));
        }
        assertEquals(REPAIR_KINDS, kinds);
        assertEquals(inputs.keySet(), referencedIds(returnedExpression(alarm)));
        assertEquals("25", String.valueOf(alarm.get("Threshold")));
        assertEquals("GreaterThanOrEqualToThreshold", alarm.get("ComparisonOperator"));
    }

    @Test
    void theHooksDisabledAlarmFiresOnAnyDisabledHookAndKeepsItsStateBetweenChecks() throws IOException {
        Map<String, Object> alarm = properties(CfnTemplate.load(Map.of()), "HooksDisabledAlarm");

        assertEquals(namespace(), alarm.get("Namespace"));
        assertEquals("HooksDisabled", alarm.get("MetricName"));
        assertNull(alarm.get("Dimensions"));
        assertEquals("Maximum", alarm.get("Statistic"));
        assertEquals(0, alarm.get("Threshold"));
        assertEquals("GreaterThanThreshold", alarm.get("ComparisonOperator"));
        assertEquals("ignore", alarm.get("TreatMissingData"));
        assertTrue(((String) alarm.get("AlarmDescription")).contains("/hooks/<hook_id>/test/job_events"));
    }

    @Test
    void theWarmPoolsAlarmFiresOnAnyPoolWhoseWarmPoolIsNotAppliedAndKeepsItsStateBetweenRuns() throws IOException {
        Map<String, Object> alarm = properties(CfnTemplate.load(Map.of()), "WarmPoolsNotAppliedAlarm");

        assertEquals(namespace(), alarm.get("Namespace"));
        assertEquals("WarmPoolsNotApplied", alarm.get("MetricName"));
        assertNull(alarm.get("Dimensions"));
        assertEquals("Maximum", alarm.get("Statistic"));
        assertEquals(0, alarm.get("Threshold"));
        assertEquals("GreaterThanThreshold", alarm.get("ComparisonOperator"));
        assertEquals("ignore", alarm.get("TreatMissingData"));
        assertTrue(((String) alarm.get("AlarmDescription")).contains("mixed instances policy"));
    }

    @Test
    void everyRunnerscaleMetricAnAlarmWatchesIsInTheContractWithItsDimensions() throws IOException {
        CfnTemplate template = CfnTemplate.load(Map.of());
        List<String> watched = new ArrayList<>();
        List<String> wrong = new ArrayList<>();

        alarms(template).forEach((id, alarm) -> {
            if (alarm.get("MetricName") != null) {
                if (namespace().equals(alarm.get("Namespace"))) {
                    check(id, (String) alarm.get("MetricName"), dimensionNames(alarm.get("Dimensions")), watched, wrong);
                }
                return;
            }
            for (Object query : (List<?>) alarm.get("Metrics")) {
                Map<String, Object> q = asMap(query);
                if (q.get("MetricStat") != null) {
                    Map<String, Object> metric = asMap(asMap(q.get("MetricStat")).get("Metric"));
                    if (namespace().equals(metric.get("Namespace"))) {
                        check(id, (String) metric.get("MetricName"), dimensionNames(metric.get("Dimensions")), watched, wrong);
                    }
                } else {
                    Matcher insights = INSIGHTS.matcher((String) q.get("Expression"));
                    if (insights.find()) {
                        List<String> schema = List.of(insights.group(2).split(",\\s*"));
                        assertEquals(namespace(), schema.getFirst(), id);
                        check(id, insights.group(1), Set.copyOf(schema.subList(1, schema.size())), watched, wrong);
                    }
                }
            }
        });
        assertEquals(List.of(), wrong);
        assertEquals(Set.of("JobWait", "DecisionFailures", "ReconcilerRepairs", "HooksDisabled", "WarmPoolsNotApplied"),
                Set.copyOf(watched));
    }

    @Test
    void theEmailSubscriptionExistsOnlyWithAnAddressAndTheSwitchesRemoveWhatTheyName() throws IOException {
        assertFalse(CfnTemplate.load(Map.of()).resources().containsKey("AlarmEmailSubscription"));

        CfnTemplate withEmail = CfnTemplate.load(Map.of("AlarmEmail", "ops@example.com"));
        Map<String, Object> subscription = properties(withEmail, "AlarmEmailSubscription");
        assertEquals(Map.of("TopicArn", TOPIC, "Protocol", "email", "Endpoint", "ops@example.com"), subscription);

        CfnTemplate noAlarms = CfnTemplate.load(Map.of("AlarmEmail", "ops@example.com", "CreateAlarms", "false"));
        List<String> left = noAlarms.resources().entrySet().stream()
                .filter(e -> e.getValue().get("Type").toString().matches("AWS::(CloudWatch::Alarm|SNS::.*)"))
                .map(Map.Entry::getKey).toList();
        assertEquals(List.of(), left);
        assertFalse(noAlarms.outputs().containsKey("AlarmTopicArn"));
        assertTrue(noAlarms.resources().containsKey("OperationsDashboard"), "the dashboard does not need the alarms");

        CfnTemplate noDashboard = CfnTemplate.load(Map.of("CreateDashboard", "false"));
        assertFalse(noDashboard.resources().containsKey("OperationsDashboard"));
        assertFalse(noDashboard.outputs().containsKey("DashboardUrl"));
        assertEquals(ALARMS, alarms(noDashboard).keySet());
    }

    @Test
    void theDashboardIsValidJsonShowingEveryContractMetricWithItsDimensionsAndTheStacksOwnResources() throws IOException {
        CfnTemplate template = CfnTemplate.load(Map.of("JobWaitAlarmSeconds", "240"));
        JsonNode body = new ObjectMapper().readTree((String) properties(template, "OperationsDashboard").get("DashboardBody"));
        assertEquals(STACK, properties(template, "OperationsDashboard").get("DashboardName"));

        List<String> wrong = new ArrayList<>();
        List<String> shown = new ArrayList<>();
        Map<String, Set<String>> awsDimensionValues = new HashMap<>();
        boolean[][] grid = new boolean[200][24];
        for (JsonNode widget : body.get("widgets")) {
            int x = widget.get("x").asInt(), y = widget.get("y").asInt(), w = widget.get("width").asInt(), h = widget.get("height").asInt();
            assertTrue(x >= 0 && w > 0 && x + w <= 24, "inside the 24-column grid: " + widget);
            for (int row = y; row < y + h; row++) {
                for (int column = x; column < x + w; column++) {
                    assertFalse(grid[row][column], "widgets overlap at " + column + "," + row + ": " + widget.path("properties").path("title"));
                    grid[row][column] = true;
                }
            }
            if (!"metric".equals(widget.get("type").asText())) continue;
            JsonNode properties = widget.get("properties");
            String title = properties.get("title").asText();
            assertEquals(REGION, properties.get("region").asText(), title);
            Set<String> ids = new HashSet<>();
            List<String> expressions = new ArrayList<>();
            for (JsonNode line : properties.get("metrics")) {
                JsonNode last = line.get(line.size() - 1);
                if (line.size() == 1 && last.has("expression")) {
                    String expression = last.get("expression").asText();
                    assertTrue(ids.add(last.get("id").asText()), title + ": id used twice");
                    expressions.add(expression);
                    Matcher search = SEARCH.matcher(expression);
                    while (search.find()) {
                        List<String> schema = List.of(search.group(1).split(","));
                        if (!schema.getFirst().equals(namespace())) wrong.add(title + ": SEARCH in " + schema.getFirst());
                        check(title, search.group(2), Set.copyOf(schema.subList(1, schema.size())), shown, wrong);
                    }
                    continue;
                }
                // [namespace, name, dimension, value, ..., {options}]
                List<String> parts = new ArrayList<>();
                line.forEach(part -> { if (part.isTextual()) parts.add(part.asText()); });
                Set<String> dimensions = new HashSet<>();
                for (int i = 2; i + 1 < parts.size(); i += 2) {
                    dimensions.add(parts.get(i));
                    awsDimensionValues.computeIfAbsent(parts.getFirst() + " " + parts.get(i), k -> new TreeSet<>()).add(parts.get(i + 1));
                }
                if (parts.getFirst().equals(namespace())) check(title, parts.get(1), dimensions, shown, wrong);
                else if (!parts.getFirst().startsWith("AWS/")) wrong.add(title + ": namespace " + parts.getFirst());
            }
            for (String expression : expressions) {
                if (expression.startsWith("SEARCH(")) continue;
                Set<String> referenced = referencedIds(expression);
                if (!ids.containsAll(referenced)) wrong.add(title + ": " + expression + " refers to an unknown id");
            }
        }
        assertEquals(List.of(), wrong);
        assertEquals(CONTRACT.keySet(), Set.copyOf(shown), "every metric of the contract is on the dashboard");

        // the stack's own functions, API and queues, not names typed in by hand
        assertEquals(Set.of("{ref:WebhookFunction}", "{ref:ScalerFunction}", "{ref:LifecycleFunction}"),
                awsDimensionValues.get("AWS/Lambda FunctionName"));
        assertEquals(Set.of("{ref:HttpApi}"), awsDimensionValues.get("AWS/ApiGateway ApiId"));
        assertEquals(Set.of("{ScaleQueue.QueueName}", "{ScaleDeadLetterQueue.QueueName}", "{LifecycleEventDeadLetterQueue.QueueName}"),
                awsDimensionValues.get("AWS/SQS QueueName"));

        // the job wait graph marks the alarm's threshold, from the same parameter
        JsonNode jobWait = widget(body, "Job wait p95 per pool (s)");
        assertEquals(240, jobWait.at("/properties/annotations/horizontal/0/value").asInt());
        // dynamic labels reach CloudWatch as ${...}, not as Fn::Sub variables
        assertTrue(jobWait.toString().contains("${PROP('Dim.Pool')}"), jobWait.toString());
        assertEquals("https://" + REGION + ".console.aws.amazon.com/cloudwatch/home?region=" + REGION
                + "#dashboards/dashboard/{ref:OperationsDashboard}", template.outputs().get("DashboardUrl"));
    }

    @Test
    void theTemplateIsCfnLintClean() throws Exception {
        assumeTrue(onPath("cfn-lint"), "cfn-lint is not installed (.ci/run requires it)");
        Path template = CfnTemplate.path();
        Process process = new ProcessBuilder("cfn-lint", template.getFileName().toString())
                .directory(template.getParent().toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(180, TimeUnit.SECONDS), "cfn-lint finished");
        assertEquals(0, process.exitValue(), output);
    }

    // ------------------------------------------------------------------ helpers

    private static void assertQueueAlarm(Map<String, Object> alarm, String queue) {
        assertEquals("AWS/SQS", alarm.get("Namespace"), queue);
        assertEquals("ApproximateNumberOfMessagesVisible", alarm.get("MetricName"), queue);
        assertEquals(List.of(Map.of("Name", "QueueName", "Value", "{" + queue + ".QueueName}")), alarm.get("Dimensions"), queue);
        assertEquals("Maximum", alarm.get("Statistic"), queue);
        assertEquals(0, alarm.get("Threshold"), queue);
        assertEquals("GreaterThanThreshold", alarm.get("ComparisonOperator"), queue);
    }

    /** Records {@code name} as shown/watched, and a mistake when it is not in the contract with these dimensions. */
    private static void check(String where, String name, Set<String> dimensions, List<String> seen, List<String> wrong) {
        seen.add(name);
        Set<Set<String>> allowed = CONTRACT.get(name);
        if (allowed == null) wrong.add(where + ": " + name + " is not in the metrics contract");
        else if (!allowed.contains(dimensions)) wrong.add(where + ": " + name + " with dimensions " + dimensions + ", the contract says " + allowed);
    }

    private static Set<String> dimensionNames(Object dimensions) {
        Set<String> names = new HashSet<>();
        if (dimensions != null) for (Object d : (List<?>) dimensions) names.add((String) asMap(d).get("Name"));
        return names;
    }

    /** The MetricStat inputs of a metric math alarm, by id (none of them returned: the expression is what is alarmed on). */
    private static Map<String, Map<String, Object>> metricInputs(Map<String, Object> alarm) {
        Map<String, Map<String, Object>> inputs = new LinkedHashMap<>();
        for (Object query : (List<?>) alarm.get("Metrics")) {
            Map<String, Object> q = asMap(query);
            if (q.get("MetricStat") == null) continue;
            assertEquals(false, q.get("ReturnData"), "input " + q.get("Id") + " is not what the alarm watches");
            inputs.put((String) q.get("Id"), asMap(q.get("MetricStat")));
        }
        return inputs;
    }

    private static String returnedExpression(Map<String, Object> alarm) {
        List<String> returned = ((List<?>) alarm.get("Metrics")).stream().map(CfnTemplate::asMap)
                .filter(q -> Boolean.TRUE.equals(q.get("ReturnData"))).map(q -> (String) q.get("Expression")).toList();
        assertEquals(1, returned.size(), "exactly one returned expression");
        return returned.getFirst();
    }

    /** Lower-case identifiers of a metric math expression, its function names (upper case) left out. */
    private static Set<String> referencedIds(String expression) {
        Set<String> ids = new HashSet<>();
        Matcher m = Pattern.compile("\\b[a-z][A-Za-z0-9_]*\\b").matcher(expression);
        while (m.find()) ids.add(m.group());
        return ids;
    }

    private static Map<String, Map<String, Object>> alarms(CfnTemplate template) {
        Map<String, Map<String, Object>> alarms = new LinkedHashMap<>();
        template.resources().forEach((id, resource) -> {
            if ("AWS::CloudWatch::Alarm".equals(resource.get("Type"))) alarms.put(id, asMap(resource.get("Properties")));
        });
        return alarms;
    }

    private static Map<String, Object> properties(CfnTemplate template, String id) {
        return asMap(template.resource(id).get("Properties"));
    }

    private static String namespace;

    /** The namespace the functions emit into: Globals' POWERTOOLS_METRICS_NAMESPACE. */
    private static synchronized String namespace() {
        if (namespace == null) {
            try {
                Map<String, Object> function = asMap(CfnTemplate.load(Map.of()).globals().get("Function"));
                namespace = (String) asMap(asMap(function.get("Environment")).get("Variables")).get("POWERTOOLS_METRICS_NAMESPACE");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            assertEquals("runnerscale", namespace, "the metrics contract's namespace");
        }
        return namespace;
    }

    private static JsonNode widget(JsonNode body, String title) {
        for (JsonNode widget : body.get("widgets")) {
            if (title.equals(widget.path("properties").path("title").asText())) return widget;
        }
        throw new AssertionError("no widget titled " + title);
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }
}
