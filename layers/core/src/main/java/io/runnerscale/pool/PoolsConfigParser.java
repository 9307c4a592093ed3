package io.runnerscale.pool;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads a pools file (YAML, or JSON which is YAML too) and checks it completely, so one error
 * report lists every problem, each naming its pool and field.
 */
public final class PoolsConfigParser {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final Set<String> POOL_FIELDS = Set.of("name", "match", "backend", "capacity_per_instance",
            "max_instances", "max_use_count", "boot_timeout", "policy", "forecast");
    private static final Set<String> POLICY_FIELDS = Set.of("periods", "timezone", "idle_count", "idle_time",
            "scale_factor", "scale_factor_limit");
    private static final Set<String> FORECAST_FIELDS = Set.of("enabled", "window", "weeks", "lead", "quantile", "max_idle");

    private PoolsConfigParser() {
    }

    /** @param source names the file or parameter in error messages */
    public static PoolsConfig parse(String text, String source) {
        JsonNode root;
        try {
            root = YAML.readTree(text == null ? "" : text);
        } catch (JsonProcessingException e) {
            throw new ConfigException(source, List.of("not valid YAML: " + e.getOriginalMessage()));
        }
        if (root == null || !root.isObject() || !root.path("pools").isArray()) {
            throw new ConfigException(source, List.of("pools: a list of pools is required at the top level"));
        }
        List<String> problems = new ArrayList<>();
        root.fieldNames().forEachRemaining(field -> {
            if (!field.equals("pools")) {
                problems.add(field + ": unknown top-level field (the file holds only 'pools')");
            }
        });
        List<PoolConfig> pools = new ArrayList<>();
        Set<String> names = new HashSet<>();
        int index = 0;
        for (JsonNode node : root.get("pools")) {
            Fields fields = new Fields(node, "pools[" + index + "]", problems);
            PoolConfig pool = pool(fields);
            if (pool != null) {
                if (!names.add(pool.name())) {
                    problems.add("pool '" + pool.name() + "': name: used by more than one pool");
                }
                pools.add(pool);
            }
            index++;
        }
        if (index == 0) {
            problems.add("pools: at least one pool is required");
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(source, problems);
        }
        return new PoolsConfig(pools);
    }

    private static PoolConfig pool(Fields f) {
        if (!f.node.isObject()) {
            f.problem(null, "must be a mapping");
            return null;
        }
        String name = f.text("name", null);
        if (name == null) {
            f.problem("name", "is required");
            return null;
        }
        if (!NAME.matcher(name).matches()) {
            f.problem("name", "'" + name + "' must be lower-case letters, digits and dashes");
        }
        f.named("pool '" + name + "'");
        f.unknownFields(f.node, POOL_FIELDS, "");

        PoolConfig.Match match = match(f);
        PoolConfig.Backend backend = backend(f);
        int capacity = f.integer(f.node, "capacity_per_instance", 1, 1);
        int maxInstances = f.integer(f.node, "max_instances", 10, 0);
        int maxUse = f.integer(f.node, "max_use_count", 0, 0);
        Duration bootTimeout = f.duration(f.node, "boot_timeout", PoolConfig.DEFAULT_BOOT_TIMEOUT);
        List<PolicyEntry> policy = new ArrayList<>();
        JsonNode policyNode = f.node.get("policy");
        if (policyNode != null && !policyNode.isNull()) {
            if (!policyNode.isArray()) {
                f.problem("policy", "must be a list of entries");
            } else {
                for (int i = 0; i < policyNode.size(); i++) {
                    policy.add(policyEntry(f, policyNode.get(i), "policy[" + i + "]."));
                }
            }
        }
        ForecastConfig forecast = forecast(f);
        if (backend == null) {
            return null;
        }
        return new PoolConfig(name, match, backend, capacity, maxInstances, maxUse, bootTimeout, policy, forecast);
    }

    private static PoolConfig.Match match(Fields f) {
        JsonNode node = f.node.get("match");
        if (node == null || node.isNull()) {
            return new PoolConfig.Match(List.of(), false);
        }
        if (!node.isObject()) {
            f.problem("match", "must be a mapping like {tags: [docker], run_untagged: true}");
            return new PoolConfig.Match(List.of(), false);
        }
        f.unknownFields(node, Set.of("tags", "run_untagged"), "match.");
        List<String> tags = f.stringList(node, "tags", "match.");
        boolean runUntagged = f.bool(node, "run_untagged", "match.", false);
        return new PoolConfig.Match(tags, runUntagged);
    }

    private static PoolConfig.Backend backend(Fields f) {
        JsonNode node = f.node.get("backend");
        if (node == null || !node.isObject()) {
            f.problem("backend", "is required, e.g. {type: ec2-asg, asg: my-runners}");
            return null;
        }
        String type = node.path("type").asText("");
        switch (type) {
            case "ec2-asg" -> {
                f.unknownFields(node, Set.of("type", "asg"), "backend.");
                String asg = node.path("asg").asText("");
                if (asg.isBlank()) {
                    f.problem("backend.asg", "is required for type ec2-asg (the Auto Scaling group's name)");
                    return null;
                }
                return new PoolConfig.Ec2Asg(asg);
            }
            case "fargate" -> {
                f.unknownFields(node, Set.of("type", "cluster", "task_definition", "subnets", "security_groups",
                        "spot"), "backend.");
                String cluster = node.path("cluster").asText("");
                String taskDefinition = node.path("task_definition").asText("");
                List<String> subnets = f.stringList(node, "subnets", "backend.");
                List<String> groups = f.stringList(node, "security_groups", "backend.");
                if (cluster.isBlank()) {
                    f.problem("backend.cluster", "is required for type fargate");
                }
                if (taskDefinition.isBlank()) {
                    f.problem("backend.task_definition", "is required for type fargate");
                }
                if (subnets.isEmpty()) {
                    f.problem("backend.subnets", "needs at least one subnet for type fargate");
                }
                boolean spot = f.bool(node, "spot", "backend.", false);
                return new PoolConfig.Fargate(cluster, taskDefinition, subnets, groups, spot);
            }
            default -> {
                f.problem("backend.type", type.isEmpty() ? "is required (ec2-asg or fargate)"
                        : "'" + type + "' is not a backend (ec2-asg or fargate)");
                return null;
            }
        }
    }

    private static PolicyEntry policyEntry(Fields f, JsonNode node, String prefix) {
        if (node == null || !node.isObject()) {
            f.problem(prefix.substring(0, prefix.length() - 1), "must be a mapping");
            return PolicyEntry.DEFAULT;
        }
        f.unknownFields(node, POLICY_FIELDS, prefix);
        List<CronPeriod> periods = new ArrayList<>();
        for (String expression : f.stringList(node, "periods", prefix)) {
            try {
                periods.add(CronPeriod.parse(expression));
            } catch (IllegalArgumentException e) {
                f.problem(prefix + "periods", e.getMessage());
            }
        }
        ZoneId zone = java.time.ZoneOffset.UTC;
        if (node.hasNonNull("timezone")) {
            try {
                zone = ZoneId.of(node.get("timezone").asText());
            } catch (DateTimeException e) {
                f.problem(prefix + "timezone", "'" + node.get("timezone").asText() + "' is not a time zone (e.g. Europe/Berlin)");
            }
        }
        int idleCount = f.integer(node, prefix, "idle_count", 0, 0);
        Duration idleTime = f.duration(node, prefix, "idle_time", PolicyEntry.DEFAULT_IDLE_TIME);
        double scaleFactor = f.number(node, prefix + "scale_factor", 0);
        int limit = f.integer(node, prefix, "scale_factor_limit", 0, 0);
        return new PolicyEntry(periods, zone, idleCount, idleTime, scaleFactor, limit);
    }

    private static ForecastConfig forecast(Fields f) {
        JsonNode node = f.node.get("forecast");
        if (node == null || node.isNull()) {
            return ForecastConfig.OFF;
        }
        if (node.isBoolean()) {
            return ForecastConfig.OFF.withEnabled(node.asBoolean());
        }
        if (!node.isObject()) {
            f.problem("forecast", "must be true/false or a mapping {enabled, window, weeks, lead, quantile, max_idle}");
            return ForecastConfig.OFF;
        }
        f.unknownFields(node, FORECAST_FIELDS, "forecast.");
        ForecastConfig d = ForecastConfig.OFF;
        boolean enabled = f.bool(node, "enabled", "forecast.", true);
        Duration window = f.duration(node, "forecast.", "window", d.window());
        int weeks = f.integer(node, "forecast.", "weeks", d.weeks(), 0);
        Duration lead = f.duration(node, "forecast.", "lead", d.lead());
        double quantile = f.number(node, "forecast.quantile", d.quantile());
        if (quantile < 0 || quantile > 1) {
            f.problem("forecast.quantile", "must be between 0 and 1, got " + quantile);
        }
        int maxIdle = f.integer(node, "forecast.", "max_idle", d.maxIdle(), 0);
        return new ForecastConfig(enabled, window, weeks, lead, quantile, maxIdle);
    }

    /** Reads typed fields of one pool, collecting problems instead of failing on the first. */
    private static final class Fields {
        final JsonNode node;
        final List<String> problems;
        String label;

        Fields(JsonNode node, String label, List<String> problems) {
            this.node = node;
            this.label = label;
            this.problems = problems;
        }

        void named(String newLabel) {
            label = newLabel;
        }

        void problem(String field, String message) {
            problems.add(label + (field == null ? "" : ": " + field) + ": " + message);
        }

        void unknownFields(JsonNode object, Set<String> known, String prefix) {
            for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
                String field = it.next();
                if (!known.contains(field)) {
                    problem(prefix + field, "unknown field (known: " + String.join(", ", known.stream().sorted().toList()) + ")");
                }
            }
        }

        String text(String field, String fallback) {
            JsonNode value = node.get(field);
            return value == null || value.isNull() ? fallback : value.asText();
        }

        int integer(JsonNode object, String field, int fallback, int min) {
            return integer(object, "", field, fallback, min);
        }

        int integer(JsonNode object, String prefix, String field, int fallback, int min) {
            JsonNode value = object.get(field);
            if (value == null || value.isNull()) {
                return fallback;
            }
            if (!value.canConvertToInt() || !value.isIntegralNumber()) {
                problem(prefix + field, "must be a whole number, got '" + value.asText() + "'");
                return fallback;
            }
            if (value.asInt() < min) {
                problem(prefix + field, "must be at least " + min + ", got " + value.asInt());
                return fallback;
            }
            return value.asInt();
        }

        double number(JsonNode object, String path, double fallback) {
            String field = path.substring(path.lastIndexOf('.') + 1);
            JsonNode value = object.get(field);
            if (value == null || value.isNull()) {
                return fallback;
            }
            if (!value.isNumber() || value.asDouble() < 0) {
                problem(path, "must be a number >= 0, got '" + value.asText() + "'");
                return fallback;
            }
            return value.asDouble();
        }

        boolean bool(JsonNode object, String field, String prefix, boolean fallback) {
            JsonNode value = object.get(field);
            if (value == null || value.isNull()) {
                return fallback;
            }
            if (!value.isBoolean()) {
                problem(prefix + field, "must be true or false, got '" + value.asText() + "'");
                return fallback;
            }
            return value.asBoolean();
        }

        Duration duration(JsonNode object, String field, Duration fallback) {
            return duration(object, "", field, fallback);
        }

        Duration duration(JsonNode object, String prefix, String field, Duration fallback) {
            JsonNode value = object.get(field);
            if (value == null || value.isNull()) {
                return fallback;
            }
            try {
                return Durations.parse(value.asText());
            } catch (IllegalArgumentException e) {
                problem(prefix + field, e.getMessage());
                return fallback;
            }
        }

        List<String> stringList(JsonNode object, String field, String prefix) {
            JsonNode value = object.get(field);
            if (value == null || value.isNull()) {
                return List.of();
            }
            if (!value.isArray()) {
                problem(prefix + field, "must be a list");
                return List.of();
            }
            List<String> out = new ArrayList<>();
            for (JsonNode item : value) {
                if (!item.isTextual() || item.asText().isBlank()) {
                    problem(prefix + field, "entries must be non-empty strings, got '" + item + "'");
                } else {
                    out.add(item.asText().trim());
                }
            }
            return out;
        }
    }
}
