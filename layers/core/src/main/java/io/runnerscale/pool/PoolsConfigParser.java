package io.runnerscale.pool;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import org.yaml.snakeyaml.LoaderOptions;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads a pools file (YAML, or JSON which is YAML too) and checks it completely, so one error
 * report lists every problem, each naming its pool and field.
 *
 * <p>Every number and duration has a range that makes sense for a pool (constants below), so a
 * typo cannot ask for a million instances or overflow a clock; an Auto Scaling group belongs to one
 * pool (two pools on one group would each see the other's instances as idle and terminate them).
 * The file itself is bounded: at most {@link #MAX_BYTES}, nested at most {@link #MAX_DEPTH} deep,
 * one YAML document, no duplicate keys and no aliases ({@code *name}; Jackson would read an alias as
 * its anchor's name, and expanding them invites "billion laughs").
 */
public final class PoolsConfigParser {
    /** 1 MiB: a pools file of hundreds of pools is a few tens of KiB (an SSM parameter holds at most 8 KiB). */
    public static final int MAX_BYTES = 1 << 20;
    /** Problems listed in one report; the rest are counted. */
    public static final int MAX_PROBLEMS = 100;
    /** A pools file nests 5 levels deep (pools, pool, policy, entry, periods); 32 leaves room for mistakes. */
    static final int MAX_DEPTH = 32;

    static final int MAX_CAPACITY_PER_INSTANCE = 1_000;
    /**
     * Beyond any EC2 quota a CI fleet gets (the webhook benchmark's "unbounded" pools use it);
     * max_instances × capacity_per_instance still fits an int.
     */
    static final int MAX_INSTANCES = 100_000;
    static final int MAX_USE_COUNT = 1_000_000;
    /** Idle slots (idle_count, scale_factor_limit, forecast.max_idle): as many as a full pool has. */
    static final int MAX_IDLE_SLOTS = 10_000;
    static final double MAX_SCALE_FACTOR = 100;
    /** Shorter and every instance still booting is replaced; longer and a dead instance is paid for hours. */
    static final Duration MIN_BOOT_TIMEOUT = Duration.ofSeconds(30);
    static final Duration MIN_WAIT_TIMEOUT = Duration.ofSeconds(10);
    static final Duration MAX_WAIT_TIMEOUT = Duration.ofHours(1);
    static final int MAX_TASK_ATTEMPTS = 10;
    static final double MAX_TASK_VCPU = 16;
    static final double MAX_TASK_MEMORY_GIB = 120;
    private static final Set<String> FARGATE_FIELDS = Set.of("type", "cluster", "task_definition", "container",
            "subnets", "security_groups", "assign_public_ip", "spot", "platform", "vcpu", "memory_gib",
            "wait_timeout", "max_task_attempts", "start_time", "runner_id");
    static final Duration MAX_BOOT_TIMEOUT = Duration.ofHours(2);
    static final Duration MAX_IDLE_TIME = Duration.ofDays(7);
    /** Demand is counted per minute and each decision reads one counter per minute of window and lead. */
    static final Duration MIN_FORECAST_SPAN = Duration.ofMinutes(1);
    static final Duration MAX_FORECAST_SPAN = Duration.ofHours(1);
    /** The webhook keeps demand history 57 days: more weeks would read counters that have expired. */
    static final int MAX_FORECAST_WEEKS = 8;
    /** AWS's limit for an Auto Scaling group's name. */
    static final int MAX_ASG_NAME = 255;

    private static final ObjectMapper YAML = new ObjectMapper(yamlFactory());
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final Set<String> POOL_FIELDS = Set.of("name", "match", "backend", "capacity_per_instance",
            "max_instances", "max_use_count", "boot_timeout", "policy", "forecast", "warm_pool");
    private static final Set<String> EC2_ASG_FIELDS = Set.of("type", "asg", "drain_on_rebalance", "boot_time",
            "runner_start_time", "volume_gib");
    private static final Set<String> WARM_POOL_FIELDS = Set.of("state", "min_size", "max_prepared",
            "reuse_on_scale_in", "resume_time");
    /** EBS allows 16 TiB per gp3 volume; a runner's volumes are far below. */
    static final int MAX_VOLUME_GIB = 16_384;
    private static final Set<String> POLICY_FIELDS = Set.of("periods", "timezone", "idle_count", "idle_time",
            "scale_factor", "scale_factor_limit");
    private static final Set<String> FORECAST_FIELDS = Set.of("enabled", "window", "weeks", "lead", "quantile", "max_idle");

    private PoolsConfigParser() {
    }

    private static YAMLFactory yamlFactory() {
        // SnakeYAML's own limits, as a second line: Jackson reads SnakeYAML's events, so the alias and
        // depth limits of its composer do not apply, and the checks in scan() and the constraints below do.
        LoaderOptions loader = new LoaderOptions();
        loader.setCodePointLimit(MAX_BYTES);
        loader.setMaxAliasesForCollections(10);
        loader.setNestingDepthLimit(MAX_DEPTH);
        loader.setAllowDuplicateKeys(false);
        return YAMLFactory.builder()
                .loaderOptions(loader)
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxNestingDepth(MAX_DEPTH)
                        .maxStringLength(MAX_BYTES)
                        .maxNumberLength(100)
                        .build())
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build();
    }

    /** @param source names the file or parameter in error messages */
    public static PoolsConfig parse(String text, String source) {
        String yaml = text == null ? "" : text;
        long bytes = utf8Length(yaml);
        if (bytes > MAX_BYTES) {
            throw new ConfigException(source, List.of("the file is " + bytes + " bytes; a pools file may have at most "
                    + MAX_BYTES + " (1 MiB)"));
        }
        JsonNode root;
        try {
            scan(yaml);
            root = YAML.readTree(yaml);
        } catch (NotAccepted e) {
            throw new ConfigException(source, List.of(e.getMessage()));
        } catch (JsonProcessingException e) {
            throw new ConfigException(source, List.of("not valid YAML: " + where(e, null) + yamlProblem(e)));
        } catch (IOException e) {
            throw new ConfigException(source, List.of("cannot be read: " + ConfigException.abbreviate(e.getMessage())));
        }
        if (root == null || !root.isObject() || !root.path("pools").isArray()) {
            throw new ConfigException(source, List.of("pools: a list of pools is required at the top level"));
        }
        List<String> problems = new ArrayList<>();
        root.fieldNames().forEachRemaining(field -> {
            if (!field.equals("pools") && !field.equals("reconcile")) {
                problems.add(ConfigException.abbreviate(field)
                        + ": unknown top-level field (the file holds 'pools' and 'reconcile')");
            }
        });
        ReconcileScope reconcile = reconcile(root.get("reconcile"), problems);
        List<PoolConfig> pools = new ArrayList<>();
        Set<String> names = new HashSet<>();
        int index = 0;
        for (JsonNode node : root.get("pools")) {
            Fields fields = new Fields(node, "pools[" + index + "]", problems);
            PoolConfig pool = pool(fields);
            if (pool != null) {
                if (!names.add(pool.name())) {
                    problems.add("pool '" + ConfigException.abbreviate(pool.name()) + "': name: used by more than one pool");
                }
                pools.add(pool);
            }
            index++;
        }
        if (index == 0) {
            problems.add("pools: at least one pool is required");
        }
        problems.addAll(sharedGroups(pools));
        if (!problems.isEmpty()) {
            throw new ConfigException(source, bounded(problems));
        }
        return new PoolsConfig(pools, reconcile);
    }

    /** {@code reconcile.<field>} as a list of at most {@code max} entries; an empty one when absent or refused. */
    private static JsonNode listOf(JsonNode reconcile, String field, String what, int max, List<String> problems) {
        JsonNode list = reconcile.get(field);
        if (list == null || list.isNull()) {
            return JsonNodeFactory.instance.arrayNode();
        }
        if (!list.isArray()) {
            problems.add("reconcile." + field + ": must be a list of " + what);
        } else if (list.size() > max) {
            problems.add("reconcile." + field + ": at most " + max + " " + field + ", got " + list.size());
        } else {
            return list;
        }
        return JsonNodeFactory.instance.arrayNode();
    }

    /** The optional {@code reconcile} section: see {@link ReconcileScope}. */
    private static ReconcileScope reconcile(JsonNode node, List<String> problems) {
        if (node == null || node.isNull() || node.isTextual() && node.asText().isEmpty()) {
            // "reconcile:" with nothing after it
            return ReconcileScope.NONE;
        }
        if (!node.isObject()) {
            problems.add("reconcile: must be a map with projects, groups and hook_url");
            return ReconcileScope.NONE;
        }
        node.fieldNames().forEachRemaining(field -> {
            if (!Set.of("projects", "groups", "hook_url").contains(field)) {
                problems.add("reconcile." + ConfigException.abbreviate(field)
                        + ": unknown field (known: groups, hook_url, projects)");
            }
        });
        List<Long> projects = new ArrayList<>();
        JsonNode projectList = listOf(node, "projects", "project ids", ReconcileScope.MAX_PROJECTS, problems);
        for (int i = 0; i < projectList.size(); i++) {
            JsonNode id = projectList.get(i);
            if (id.isIntegralNumber() && id.canConvertToLong() && io.runnerscale.job.JobKey.isValidId(id.asLong())) {
                if (!projects.contains(id.asLong())) {
                    projects.add(id.asLong());
                }
            } else {
                problems.add("reconcile.projects[" + i + "]: must be a project id (a whole number from 1), got "
                        + ConfigException.abbreviate(id.toString()));
            }
        }
        List<String> groups = new ArrayList<>();
        JsonNode groupList = listOf(node, "groups", "group ids or full paths", ReconcileScope.MAX_GROUPS, problems);
        for (int i = 0; i < groupList.size(); i++) {
            JsonNode group = groupList.get(i);
            String text = group.isIntegralNumber() || group.isTextual() ? group.asText() : null;
            if (text != null && ReconcileScope.GROUP.matcher(text).matches()) {
                if (!groups.contains(text)) {
                    groups.add(text);
                }
            } else {
                problems.add("reconcile.groups[" + i + "]: must be a group id or full path like my-org/ci, got "
                        + ConfigException.abbreviate(group.toString()));
            }
        }
        String hookUrl = null;
        JsonNode url = node.get("hook_url");
        if (url != null && !url.isNull()) {
            String text = url.isTextual() ? url.asText().strip() : "";
            if (text.length() > 2048 || !(text.startsWith("https://") || text.startsWith("http://"))
                    || text.chars().anyMatch(c -> c <= ' ')) {
                problems.add("reconcile.hook_url: must be the http(s) URL GitLab's hooks deliver to, got "
                        + ConfigException.abbreviate(url.toString()));
            } else {
                hookUrl = text;
            }
        }
        return new ReconcileScope(projects, groups, hookUrl);
    }

    /**
     * A group belongs to one pool: each pool terminates the instances of its group that it did not
     * give a job, so two pools on one group would terminate each other's instances. Fargate pools
     * may share a cluster: they start a task per job and stop only their own.
     */
    private static List<String> sharedGroups(List<PoolConfig> pools) {
        List<String> problems = new ArrayList<>();
        Map<String, String> owners = new HashMap<>();
        for (PoolConfig pool : pools) {
            if (pool.backend() instanceof PoolConfig.Ec2Asg ec2) {
                String asg = ec2.asg();
                String owner = owners.putIfAbsent(asg, pool.name());
                if (owner != null) {
                    String name = ConfigException.abbreviate(pool.name());
                    problems.add("pool '" + name + "': backend.asg: pools '" + ConfigException.abbreviate(owner)
                            + "' and '" + name + "' both use Auto Scaling group '" + ConfigException.abbreviate(asg)
                            + "': a group belongs to one pool");
                }
            }
        }
        return problems;
    }

    private static List<String> bounded(List<String> problems) {
        if (problems.size() <= MAX_PROBLEMS) {
            return problems;
        }
        List<String> shown = new ArrayList<>(problems.subList(0, MAX_PROBLEMS));
        shown.add("... and " + (problems.size() - MAX_PROBLEMS) + " more problems");
        return shown;
    }

    private static long utf8Length(String text) {
        // a char is at most 3 UTF-8 bytes: only long texts need counting
        return (long) text.length() * 3 <= MAX_BYTES ? text.length() : text.getBytes(StandardCharsets.UTF_8).length;
    }

    /** What the tree would hide: aliases (read as their anchor's name), YAML numbers Jackson cannot read, more documents. */
    private static void scan(String yaml) throws IOException {
        try (JsonParser parser = YAML.getFactory().createParser(yaml)) {
            int documents = 0;
            for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken()) {
                if (parser instanceof YAMLParser yamlParser && yamlParser.isCurrentAlias()) {
                    throw new NotAccepted(where(parser, null) + "YAML aliases (*" + ConfigException.abbreviate(parser.getText())
                            + ") are not supported: write the value out");
                }
                if (token.isNumeric()) {
                    try {
                        parser.getNumberValue();
                    } catch (JsonProcessingException e) {
                        // .inf and .nan are YAML floats that Jackson cannot read; no setting takes them anyway
                        throw new NotAccepted(where(parser, parser.getParsingContext()) + "'"
                                + ConfigException.abbreviate(parser.getText()) + "' is not a number runnerscale accepts");
                    }
                }
                if (parser.getParsingContext().inRoot() && !token.isStructEnd() && ++documents > 1) {
                    throw new NotAccepted(where(parser, null) + "a second YAML document (---): the pools file holds one");
                }
            }
        } catch (StreamConstraintsException e) {
            if (e.getMessage().contains("nesting depth")) {
                throw new NotAccepted(where(e, null) + "nested deeper than " + MAX_DEPTH + " levels");
            }
            throw e;
        } catch (JsonProcessingException e) {
            if (e.getOriginalMessage().startsWith("Duplicate field") && e.getProcessor() instanceof JsonParser parser) {
                throw new NotAccepted(where(e, parser.getParsingContext()) + "duplicate key");
            }
            throw e;
        }
    }

    /** "line 5: pools[0].max_instances: " for a problem found while reading, or "line 5: " without a path. */
    private static String where(JsonProcessingException e, JsonStreamContext context) {
        return line(e.getLocation() == null ? -1 : e.getLocation().getLineNr()) + path(context);
    }

    private static String where(JsonParser parser, JsonStreamContext context) {
        return line(parser.currentTokenLocation().getLineNr()) + path(context);
    }

    private static String line(int line) {
        return line > 0 ? "line " + line + ": " : "";
    }

    /** "pools[0].policy[1].scale_factor: " (the parser's position), or "" at the top. */
    private static String path(JsonStreamContext context) {
        StringBuilder path = new StringBuilder();
        for (JsonStreamContext c = context; c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inArray()) {
                path.insert(0, "[" + Math.max(0, c.getCurrentIndex()) + "]");
            } else if (c.getCurrentName() != null) {
                path.insert(0, "." + ConfigException.abbreviate(c.getCurrentName()));
            }
        }
        return path.isEmpty() ? "" : path.substring(path.charAt(0) == '.' ? 1 : 0) + ": ";
    }

    /** SnakeYAML's message without the quoted input lines ("in 'reader', line 3..." and the snippet). */
    private static String yamlProblem(JsonProcessingException e) {
        String message = e.getOriginalMessage() == null ? e.getClass().getSimpleName() : e.getOriginalMessage();
        List<String> lines = message.lines().filter(l -> !l.isBlank() && !Character.isWhitespace(l.charAt(0))).toList();
        String joined = String.join("; ", lines.isEmpty() ? List.of(message) : lines).replaceAll("\\s+", " ");
        int limit = 2 * ConfigException.ECHO_LIMIT;
        return joined.length() <= limit ? joined : joined.substring(0, limit - 3) + "...";
    }

    /** A problem of the file as a whole, found before the tree is built. */
    private static final class NotAccepted extends IOException {
        private static final long serialVersionUID = 1L;

        NotAccepted(String message) {
            super(message);
        }
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
            f.problem("name", "'" + ConfigException.abbreviate(name) + "' must be lower-case letters, digits and dashes"
                    + " (at most 63)");
        }
        f.named("pool '" + ConfigException.abbreviate(name) + "'");
        f.unknownFields(f.node, POOL_FIELDS, "");

        PoolConfig.Match match = match(f);
        PoolConfig.Backend backend = backend(f);
        int capacity = f.integer(f.node, "", "capacity_per_instance", 1, 1, MAX_CAPACITY_PER_INSTANCE);
        int maxInstances = f.integer(f.node, "", "max_instances", 10, 0, MAX_INSTANCES);
        int maxUse = f.integer(f.node, "", "max_use_count", 0, 0, MAX_USE_COUNT);
        Duration bootTimeout = f.duration(f.node, "", "boot_timeout", PoolConfig.DEFAULT_BOOT_TIMEOUT,
                MIN_BOOT_TIMEOUT, MAX_BOOT_TIMEOUT);
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
        if (backend instanceof PoolConfig.Fargate) {
            fargateRules(f, capacity, maxUse, policy, forecast);
            if (f.node.hasNonNull("warm_pool")) {
                f.problem("warm_pool", "applies to ec2-asg pools only (an Auto Scaling group's warm pool; a Fargate"
                        + " task starts from nothing)");
            }
        } else if (backend instanceof PoolConfig.Ec2Asg ec2) {
            PoolConfig.WarmPool warmPool = warmPool(f, ec2, maxInstances);
            backend = warmPool == null ? ec2 : ec2.withWarmPool(warmPool);
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
                f.unknownFields(node, EC2_ASG_FIELDS, "backend.");
                String asg = node.path("asg").asText("");
                if (asg.isBlank()) {
                    f.problem("backend.asg", "is required for type ec2-asg (the Auto Scaling group's name)");
                    return null;
                }
                if (asg.length() > MAX_ASG_NAME) {
                    f.problem("backend.asg", "'" + ConfigException.abbreviate(asg) + "' is longer than " + MAX_ASG_NAME
                            + " characters, which AWS allows for a group's name");
                    return null;
                }
                PoolConfig.StartTime bootTime = node.hasNonNull("boot_time")
                        ? startTime(f, node.get("boot_time"), "backend.boot_time", null) : null;
                PoolConfig.StartTime runnerStart = startTime(f, node.get("runner_start_time"),
                        "backend.runner_start_time", PoolConfig.Ec2Asg.DEFAULT_RUNNER_START_TIME);
                int volumeGib = f.integer(node, "backend.", "volume_gib", PoolConfig.Ec2Asg.DEFAULT_VOLUME_GIB, 1,
                        MAX_VOLUME_GIB);
                return new PoolConfig.Ec2Asg(asg, f.bool(node, "drain_on_rebalance", "backend.", false), null,
                        bootTime, runnerStart, volumeGib);
            }
            case "fargate" -> {
                return fargate(f, node);
            }
            default -> {
                f.problem("backend.type", type.isEmpty() ? "is required (ec2-asg or fargate)"
                        : "'" + ConfigException.abbreviate(type) + "' is not a backend (ec2-asg or fargate)");
                return null;
            }
        }
    }

    private static PoolConfig.Fargate fargate(Fields f, JsonNode node) {
        f.unknownFields(node, FARGATE_FIELDS, "backend.");
        String cluster = node.path("cluster").asText("");
        String taskDefinition = node.path("task_definition").asText("");
        String container = node.path("container").asText(PoolConfig.Fargate.DEFAULT_CONTAINER);
        List<String> subnets = f.stringList(node, "subnets", "backend.");
        List<String> groups = f.stringList(node, "security_groups", "backend.");
        if (cluster.isBlank()) {
            f.problem("backend.cluster", "is required for type fargate (the ECS cluster's name or ARN)");
        }
        if (taskDefinition.isBlank()) {
            f.problem("backend.task_definition", "is required for type fargate (family, family:revision or ARN)");
        }
        if (container.isBlank()) {
            f.problem("backend.container", "must name the runner container of the task definition");
        }
        if (subnets.isEmpty()) {
            f.problem("backend.subnets", "needs at least one subnet for type fargate");
        }
        PoolConfig.Fargate.Platform platform = PoolConfig.Fargate.Platform.X86_64;
        String platformName = node.path("platform").asText("X86_64");
        try {
            platform = PoolConfig.Fargate.Platform.valueOf(platformName.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            f.problem("backend.platform", "'" + ConfigException.abbreviate(platformName) + "' is not X86_64 or ARM64");
        }
        double vcpu = f.number(node, "backend.vcpu", 1, MAX_TASK_VCPU);
        double memory = f.number(node, "backend.memory_gib", 2, MAX_TASK_MEMORY_GIB);
        if (vcpu <= 0) {
            f.problem("backend.vcpu", "must be more than 0 (Fargate sizes: 0.25 to 16 vCPU)");
        }
        if (memory <= 0) {
            f.problem("backend.memory_gib", "must be more than 0 (Fargate sizes: 0.5 to 120 GiB)");
        }
        Duration waitTimeout = f.duration(node, "backend.", "wait_timeout", PoolConfig.Fargate.DEFAULT_WAIT_TIMEOUT,
                MIN_WAIT_TIMEOUT, MAX_WAIT_TIMEOUT);
        int attempts = f.integer(node, "backend.", "max_task_attempts", PoolConfig.Fargate.DEFAULT_MAX_TASK_ATTEMPTS,
                1, MAX_TASK_ATTEMPTS);
        PoolConfig.StartTime startTime = startTime(f, node.get("start_time"), "backend.start_time",
                PoolConfig.StartTime.DEFAULT);
        Long runnerId = null;
        JsonNode runner = node.get("runner_id");
        if (runner != null && !runner.isNull()) {
            if (runner.isIntegralNumber() && runner.canConvertToLong() && runner.asLong() > 0) {
                runnerId = runner.asLong();
            } else {
                f.problem("backend.runner_id", "must be the pool runner's id in GitLab (a whole number from 1), got '"
                        + Fields.echo(runner) + "'");
            }
        }
        if (cluster.isBlank() || taskDefinition.isBlank() || container.isBlank() || subnets.isEmpty()) {
            return null;
        }
        return new PoolConfig.Fargate(cluster, taskDefinition, container, subnets, groups,
                f.bool(node, "assign_public_ip", "backend.", false), f.bool(node, "spot", "backend.", false), platform,
                vcpu, memory, waitTimeout, attempts, startTime, runnerId);
    }

    /** {@code 45s} or {@code 40s-60s}: how long a task, an instance or a runner takes to start, in simulate and serve. */
    private static PoolConfig.StartTime startTime(Fields f, JsonNode value, String field,
                                                  PoolConfig.StartTime fallback) {
        if (value == null || value.isNull()) {
            return fallback;
        }
        String text = value.asText("").trim();
        String[] parts = text.split("\\s*-\\s*", -1);
        try {
            Duration min = Durations.parse(parts[0]);
            Duration max = parts.length == 2 ? Durations.parse(parts[1]) : min;
            if (parts.length > 2 || max.compareTo(min) < 0 || max.compareTo(MAX_BOOT_TIMEOUT) > 0) {
                throw new IllegalArgumentException("must be a duration or a range MIN-MAX with MIN <= MAX <= "
                        + Durations.format(MAX_BOOT_TIMEOUT));
            }
            return new PoolConfig.StartTime(min, max);
        } catch (IllegalArgumentException e) {
            f.problem(field, "'" + ConfigException.abbreviate(text) + "': " + e.getMessage() + " (e.g. 40s-60s)");
            return fallback;
        }
    }

    /**
     * {@code warm_pool: {state, min_size, max_prepared, reuse_on_scale_in, resume_time}}, or null when the
     * pool has none. AWS refuses warm pools on groups with Spot or mixed instances; the only sign of Spot
     * a pools file has is {@code drain_on_rebalance}, so that is refused here and the group itself is
     * checked when the warm pool is applied.
     */
    private static PoolConfig.WarmPool warmPool(Fields f, PoolConfig.Ec2Asg ec2, int maxInstances) {
        JsonNode node = f.node.get("warm_pool");
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isObject()) {
            f.problem("warm_pool", "must be a mapping like {state: stopped, min_size: 2, max_prepared: 10}");
            return null;
        }
        f.unknownFields(node, WARM_POOL_FIELDS, "warm_pool.");
        String stateName = node.path("state").asText("stopped");
        PoolConfig.WarmPool.State state = null;
        for (PoolConfig.WarmPool.State candidate : PoolConfig.WarmPool.State.values()) {
            if (candidate.awsName().equalsIgnoreCase(stateName)) {
                state = candidate;
            }
        }
        if (state == null) {
            f.problem("warm_pool.state", "'" + Fields.echo(node.get("state")) + "' is not stopped, hibernated or running");
        }
        int minSize = f.integer(node, "warm_pool.", "min_size", 0, 0, MAX_INSTANCES);
        Integer maxPrepared = node.hasNonNull("max_prepared")
                ? f.integer(node, "warm_pool.", "max_prepared", minSize, 1, MAX_INSTANCES) : null;
        boolean reuse = f.bool(node, "reuse_on_scale_in", "warm_pool.", false);
        PoolConfig.StartTime resume = startTime(f, node.get("resume_time"), "warm_pool.resume_time",
                PoolConfig.WarmPool.DEFAULT_RESUME_TIME);
        int before = f.problems.size();
        if (maxPrepared != null && maxPrepared < minSize) {
            f.problem("warm_pool.max_prepared", maxPrepared + " is below warm_pool.min_size " + minSize
                    + " (the warm pool keeps at least min_size instances)");
        }
        if (maxPrepared != null && maxPrepared > maxInstances) {
            f.problem("warm_pool.max_prepared", maxPrepared + " is more than max_instances " + maxInstances
                    + ": instances prepared beyond it would never be used");
        }
        if (reuse && state != null && state != PoolConfig.WarmPool.State.STOPPED) {
            // only a stopped instance boots again on its next draw, which is when its runner is reset
            f.problem("warm_pool.reuse_on_scale_in", "needs state stopped: a " + state.awsName().toLowerCase()
                    + " instance goes back to the warm pool and out again without a boot, so nothing would reset"
                    + " its runner");
        }
        if (ec2.drainOnRebalance()) {
            f.problem("warm_pool", "AWS allows no warm pool on a group with Spot or mixed instances, and"
                    + " backend.drain_on_rebalance is for Spot instances: use an On-Demand group or drop one of them");
        }
        if (state == null || f.problems.size() > before) {
            return null;
        }
        return new PoolConfig.WarmPool(state, minSize, maxPrepared, reuse, resume);
    }

    /**
     * A Fargate task serves one job and ends: there is nothing to share, reuse or keep idle, so settings
     * that only mean something for instances are refused rather than silently ignored.
     */
    private static void fargateRules(Fields f, int capacity, int maxUse, List<PolicyEntry> policy,
                                     ForecastConfig forecast) {
        String why = " (a Fargate task runs one job and ends)";
        if (capacity != 1) {
            f.problem("capacity_per_instance", "must be 1 for type fargate" + why);
        }
        if (maxUse != 0) {
            f.problem("max_use_count", "does not apply to type fargate" + why);
        }
        for (int i = 0; i < policy.size(); i++) {
            PolicyEntry entry = policy.get(i);
            if (entry.idleCount() > 0 || entry.scaleFactor() > 0) {
                f.problem("policy[" + i + "]", "idle_count and scale_factor do not apply to type fargate: one task"
                        + " starts per pending job and none is kept idle");
            }
        }
        if (forecast.enabled()) {
            f.problem("forecast", "does not apply to type fargate: no task is kept idle");
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
                f.problem(prefix + "timezone", "'" + ConfigException.abbreviate(node.get("timezone").asText())
                        + "' is not a time zone (e.g. Europe/Berlin)");
            }
        }
        int idleCount = f.integer(node, prefix, "idle_count", 0, 0, MAX_IDLE_SLOTS);
        Duration idleTime = f.duration(node, prefix, "idle_time", PolicyEntry.DEFAULT_IDLE_TIME, Duration.ZERO,
                MAX_IDLE_TIME);
        double scaleFactor = f.number(node, prefix + "scale_factor", 0, MAX_SCALE_FACTOR);
        int limit = f.integer(node, prefix, "scale_factor_limit", 0, 0, MAX_IDLE_SLOTS);
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
        Duration window = f.duration(node, "forecast.", "window", d.window(), MIN_FORECAST_SPAN, MAX_FORECAST_SPAN);
        int weeks = f.integer(node, "forecast.", "weeks", d.weeks(), 0, MAX_FORECAST_WEEKS);
        Duration lead = f.duration(node, "forecast.", "lead", d.lead(), MIN_FORECAST_SPAN, MAX_FORECAST_SPAN);
        double quantile = d.quantile();
        JsonNode quantileNode = node.get("quantile");
        if (quantileNode != null && !quantileNode.isNull()) {
            // written so that NaN fails too
            if (quantileNode.isNumber() && quantileNode.asDouble() >= 0 && quantileNode.asDouble() <= 1) {
                quantile = quantileNode.asDouble();
            } else {
                f.problem("forecast.quantile", "must be between 0 and 1, got " + ConfigException.abbreviate(quantileNode.asText()));
            }
        }
        int maxIdle = f.integer(node, "forecast.", "max_idle", d.maxIdle(), 0, MAX_IDLE_SLOTS);
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

        /** A value from the file as messages quote it. */
        static String echo(JsonNode value) {
            return ConfigException.abbreviate(value.isValueNode() ? value.asText() : value.toString());
        }

        void unknownFields(JsonNode object, Set<String> known, String prefix) {
            for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
                String field = it.next();
                if (!known.contains(field)) {
                    problem(prefix + ConfigException.abbreviate(field), "unknown field (known: " + String.join(", ", known.stream().sorted().toList()) + ")");
                }
            }
        }

        String text(String field, String fallback) {
            JsonNode value = node.get(field);
            return value == null || value.isNull() ? fallback : value.asText();
        }

        int integer(JsonNode object, String prefix, String field, int fallback, int min, int max) {
            JsonNode value = object.get(field);
            if (value == null || value.isNull()) {
                return fallback;
            }
            if (!value.isIntegralNumber()) {
                problem(prefix + field, "must be a whole number, got '" + echo(value) + "'");
                return fallback;
            }
            // compared as BigInteger: the file may hold any number of digits
            BigInteger number = value.bigIntegerValue();
            if (number.compareTo(BigInteger.valueOf(min)) < 0) {
                problem(prefix + field, "must be at least " + min + ", got " + echo(value));
                return fallback;
            }
            if (number.compareTo(BigInteger.valueOf(max)) > 0) {
                problem(prefix + field, "must be at most " + max + ", got " + echo(value));
                return fallback;
            }
            return value.asInt();
        }

        /** A number from 0 to {@code max}; infinities and NaN are not numbers a setting can use. */
        double number(JsonNode object, String path, double fallback, double max) {
            String field = path.substring(path.lastIndexOf('.') + 1);
            JsonNode value = object.get(field);
            if (value == null || value.isNull()) {
                return fallback;
            }
            if (!value.isNumber() || !(value.asDouble() >= 0)) {
                problem(path, "must be a number >= 0, got '" + echo(value) + "'");
                return fallback;
            }
            if (value.asDouble() > max) {
                problem(path, "must be at most " + BigDecimal.valueOf(max).stripTrailingZeros().toPlainString() + ", got " + echo(value));
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
                problem(prefix + field, "must be true or false, got '" + echo(value) + "'");
                return fallback;
            }
            return value.asBoolean();
        }

        Duration duration(JsonNode object, String prefix, String field, Duration fallback, Duration min, Duration max) {
            JsonNode value = object.get(field);
            if (value == null || value.isNull()) {
                return fallback;
            }
            Duration duration;
            try {
                duration = Durations.parse(value.isValueNode() ? value.asText() : value.toString());
            } catch (IllegalArgumentException e) {
                problem(prefix + field, e.getMessage());
                return fallback;
            }
            if (duration.compareTo(min) < 0) {
                problem(prefix + field, "must be at least " + Durations.format(min) + ", got " + Durations.format(duration));
                return fallback;
            }
            if (duration.compareTo(max) > 0) {
                problem(prefix + field, "must be at most " + Durations.format(max) + ", got " + Durations.format(duration));
                return fallback;
            }
            return duration;
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
                    problem(prefix + field, "entries must be non-empty strings, got '" + echo(item) + "'");
                } else {
                    out.add(item.asText().trim());
                }
            }
            return out;
        }
    }
}
