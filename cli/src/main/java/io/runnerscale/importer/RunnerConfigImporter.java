package io.runnerscale.importer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import io.runnerscale.pool.ConfigException;
import io.runnerscale.pool.PoolsConfigParser;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Converts a GitLab Runner {@code config.toml} into a runnerscale pools file.
 *
 * <p>Runners using GitLab's autoscaler ({@code [runners.autoscaler]}, executors
 * docker-autoscaler and instance) map almost one to one; docker+machine runners
 * ({@code [runners.machine]}) map their idle settings and periods, but their ASG has to be
 * created by the user. Everything that has no runnerscale equivalent is reported as a note,
 * never silently dropped; secrets are never copied.
 */
public final class RunnerConfigImporter {

    /** The input is not a usable GitLab Runner config.toml; the message names the file and the problem. */
    public static final class InvalidConfigException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        InvalidConfigException(String message) {
            super(message);
        }

        InvalidConfigException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final TomlMapper TOML = new TomlMapper();
    private static final String GLOBAL = "global";
    /** A config.toml is a few KiB; reading a bigger file whole is only a way to run out of memory. */
    static final long MAX_BYTES = 1 << 20;
    /** Skipped runners listed when none could be converted; the rest are counted. */
    private static final int MAX_LISTED = 10;

    private RunnerConfigImporter() {
    }

    public static ImportResult convert(Path configToml) {
        String text;
        try {
            if (Files.isDirectory(configToml)) {
                throw new InvalidConfigException(configToml + ": is a directory, not a config.toml");
            }
            long size = Files.size(configToml);
            if (size > MAX_BYTES) {
                throw new InvalidConfigException(configToml + ": " + size + " bytes is too large for a config.toml"
                        + " (at most " + MAX_BYTES + ")");
            }
            text = Files.readString(configToml);
        } catch (NoSuchFileException e) {
            throw new InvalidConfigException(configToml + ": file not found", e);
        } catch (MalformedInputException e) {
            throw new InvalidConfigException(configToml + ": not a UTF-8 text file, so not a config.toml", e);
        } catch (IOException e) {
            throw new InvalidConfigException(configToml + ": cannot read: " + e.getMessage(), e);
        }
        return convert(text, configToml.toString());
    }

    public static ImportResult convert(String tomlText, String displayName) {
        return new Conversion(parse(tomlText, displayName), displayName).run();
    }

    private static ObjectNode parse(String text, String file) {
        if (text.isBlank()) {
            throw new InvalidConfigException(file + ": empty file, expected a GitLab Runner config.toml");
        }
        try {
            JsonNode root = TOML.readTree(text);
            if (root instanceof ObjectNode object) {
                return object;
            }
            throw new InvalidConfigException(file + ": empty file, expected a GitLab Runner config.toml");
        } catch (JsonProcessingException e) {
            throw new InvalidConfigException(file + ": not valid TOML: " + e.getOriginalMessage() + where(e.getLocation()), e);
        }
    }

    private static String where(JsonLocation location) {
        return location == null || location.getLineNr() < 0
                ? ""
                : " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
    }

    // ---------------------------------------------------------------------------------------
    // Model of the output

    record Match(List<String> tags, boolean runUntagged, boolean tagsUnknown) {
    }

    record Policy(List<String> periods, String timezone, Long idleCount, String idleTime,
                  BigDecimal scaleFactor, Long scaleFactorLimit) {
    }

    /**
     * One pool to write; {@code runner} is the runner's name in config.toml, {@code asgNamed} whether
     * the group's name came from it (plugin_config.name) rather than being made up from the pool's name.
     */
    record Pool(String name, String runner, Match match, String asg, boolean asgNamed, boolean asgToCreate,
                long capacityPerInstance, long maxInstances, long maxUseCount, List<Policy> policy) {
    }

    // ---------------------------------------------------------------------------------------
    // One conversion run: walks the TOML tree, collects pools and notes.

    private static final class Conversion {
        private static final Set<String> RUNNER_MAPPED = Set.of("name", "tag_list", "tags", "run_untagged");
        private static final Set<String> TOKEN_KEYS = Set.of("token", "token_obtained_at", "token_expires_at");
        private static final Set<String> AUTOSCALER_MAPPED = Set.of(
                "capacity_per_instance", "max_use_count", "max_instances", "plugin", "plugin_config", "policy");
        private static final Set<String> POLICY_MAPPED = Set.of(
                "periods", "timezone", "idle_count", "idle_time", "scale_factor", "scale_factor_limit");
        private static final Set<String> MACHINE_MAPPED = Set.of(
                "IdleCount", "IdleTime", "IdleScaleFactor", "IdleCountMin", "MaxBuilds", "MachineDriver", "MachineOptions",
                "OffPeakPeriods", "OffPeakTimezone", "OffPeakIdleCount", "OffPeakIdleTime", "autoscaling");
        private static final Set<String> MACHINE_PERIOD_MAPPED = Set.of(
                "Periods", "Timezone", "IdleCount", "IdleTime", "IdleScaleFactor", "IdleCountMin");

        private static final String USER_DATA = "the config.toml your instances' user data writes";
        private static final String GLOBAL_WHY = "not mapped; it configures the gitlab-runner process and runnerscale"
                + " has no manager process; if you need it, set it in " + USER_DATA;
        private static final String RUNNER_WHY = "not mapped; a job-execution setting of gitlab-runner: set it in "
                + USER_DATA + " (runnerscale registers one runner per instance)";
        private static final String NO_EQUIVALENT = "not mapped; runnerscale has no equivalent";
        private static final Map<String, String> GLOBAL_NOTES = Map.of(
                "concurrent", "not mapped; runnerscale has no global job limit: each pool is capped at"
                        + " max_instances × capacity_per_instance jobs",
                "check_interval", "not mapped; runnerscale reacts to GitLab job webhooks (with a 1-minute"
                        + " safety-net tick) instead of polling",
                "session_server", "not mapped; the interactive web terminal is configured per gitlab-runner:"
                        + " set it in " + USER_DATA);
        private static final Map<String, String> RUNNER_NOTES = Map.of(
                "url", "not mapped; runnerscale uses the GitLab URL of its own deployment settings:"
                        + " make sure it is this one",
                "id", "not mapped; runnerscale registers a new runner per instance: pause or delete this runner"
                        + " in GitLab once the pool is live",
                "cache", "not mapped; put this cache section in " + USER_DATA
                        + " and let the instance role reach the cache bucket",
                "docker", "not mapped; Docker executor settings (image, privileged, volumes, ...) belong in "
                        + USER_DATA);
        private static final String UPDATE_WHY = "not mapped; runnerscale scales on job webhooks within seconds,"
                + " with a 1-minute safety-net tick";
        private static final Map<String, String> AUTOSCALER_NOTES = Map.of(
                "connector_config", "not mapped; runnerscale never connects to instances: each instance's own"
                        + " gitlab-runner takes its jobs, so SSH/WinRM settings are not needed",
                "instance_ready_command", "not mapped; run this command in your instances' user data before"
                        + " gitlab-runner starts",
                "instance_acquire_timeout", "not mapped; jobs wait in GitLab's queue until an instance's runner"
                        + " takes them; the optional pool setting boot_timeout bounds how long an instance may take"
                        + " to come up",
                "update_interval", UPDATE_WHY,
                "update_interval_when_expecting", UPDATE_WHY,
                "delete_instances_on_shutdown", "not mapped; there is no manager to shut down: runnerscale removes"
                        + " instances by idle_time and max_use_count",
                "state_storage", "not mapped; runnerscale keeps instance state in DynamoDB");
        private static final Map<String, String> MACHINE_NOTES = Map.of(
                "MachineName", "not mapped; the ASG names the instances, and runnerscale names each instance's"
                        + " runner after its instance id",
                "MaxGrowthRate", "not mapped; runnerscale sets the ASG's desired capacity in one step");

        private final ObjectNode root;
        private final String file;
        private final Notes notes = new Notes();
        private final List<Pool> pools = new ArrayList<>();
        private final Set<String> poolNames = new HashSet<>();
        /** Group names in use: those config.toml names, then the ones made up for runners without one. */
        private final Set<String> groupNames = new HashSet<>();
        private final List<String> skipped = new ArrayList<>();
        private boolean untaggedAssigned;

        Conversion(ObjectNode root, String file) {
            this.root = root;
            this.file = file;
        }

        ImportResult run() {
            Table top = new Table(root, "", GLOBAL, file);
            List<Table> runners = runnersOf(top);
            noteGlobals(top);
            for (Table runner : runners) {
                namedGroup(runner).ifPresent(groupNames::add);
            }
            for (int i = 0; i < runners.size(); i++) {
                convertRunner(runners.get(i), i);
            }
            if (pools.isEmpty()) {
                int more = skipped.size() - MAX_LISTED;
                throw new InvalidConfigException(file + " has no [[runners]] that runnerscale can convert: "
                        + String.join("; ", skipped.subList(0, Math.min(MAX_LISTED, skipped.size())))
                        + (more > 0 ? "; and " + more + " more" : ""));
            }
            rejectSharedGroups();
            noteShadowedPools();
            String yaml = YamlOut.render(file, pools, notes);
            try {
                PoolsConfigParser.parse(yaml, file);
            } catch (ConfigException e) {
                // the service would refuse this file: better no file than one that fails on deployment
                throw new InvalidConfigException(file + ": the converted pools file would be rejected by runnerscale: "
                        + String.join("; ", e.problems()));
            }
            return new ImportResult(yaml, notes.all());
        }

        /** The group config.toml names for a runner converted from [runners.autoscaler], if any. */
        private Optional<String> namedGroup(Table runner) {
            if (usesMachine(runner)) {
                return Optional.empty();
            }
            return runner.table("autoscaler").flatMap(a -> a.table("plugin_config"))
                    .flatMap(p -> p.string("name")).filter(n -> !n.isBlank());
        }

        /**
         * A group belongs to one pool: runnerscale terminates the instances of a pool's group that
         * have no job of that pool, so two pools on one group would terminate each other's instances.
         */
        private void rejectSharedGroups() {
            Map<String, List<Pool>> byGroup = new LinkedHashMap<>();
            for (Pool pool : pools) {
                if (pool.asgNamed()) {
                    byGroup.computeIfAbsent(pool.asg(), g -> new ArrayList<>()).add(pool);
                }
            }
            for (Map.Entry<String, List<Pool>> group : byGroup.entrySet()) {
                List<Pool> sharing = group.getValue();
                if (sharing.size() > 1) {
                    int more = sharing.size() - 2;
                    throw new InvalidConfigException(file + ": runners \"" + abbreviate(sharing.get(0).runner())
                            + "\" and \"" + abbreviate(sharing.get(1).runner()) + "\" both use Auto Scaling group \""
                            + abbreviate(group.getKey()) + "\" (runners.autoscaler.plugin_config.name): runnerscale"
                            + " gives a group to one pool, whose scale-in would terminate the other's instances; merge"
                            + " the runners or give each its own group"
                            + (more > 0 ? " (and " + more + " more runners on that group)" : ""));
                }
            }
        }

        /**
         * A job goes to the first pool that accepts it, so a pool whose jobs an earlier pool all
         * accepts gets none: identical runners (same tags) are the usual cause.
         */
        private void noteShadowedPools() {
            for (int later = 1; later < pools.size(); later++) {
                Pool pool = pools.get(later);
                Match match = pool.match();
                if (match.tagsUnknown() || match.tags().isEmpty() && !match.runUntagged()) {
                    continue; // it takes no jobs until its tags are set, which its own note says
                }
                for (Pool earlier : pools.subList(0, later)) {
                    Match first = earlier.match();
                    if (first.tags().containsAll(match.tags()) && (first.runUntagged() || !match.runUntagged())) {
                        notes.add(pool.runner(), "match", "pool " + pool.name() + " takes no jobs: pool "
                                + earlier.name() + ", earlier in the file, accepts every job it accepts (a job goes to"
                                + " the first pool that accepts it): give it other tags or merge the runners");
                        break;
                    }
                }
            }
        }

        private static String abbreviate(String text) {
            return ConfigException.abbreviate(text);
        }

        /** A name for a group the user creates, unlike every group config.toml names or another pool got. */
        private String madeUpGroup(String poolName) {
            String base = poolName + "-asg";
            String name = base;
            for (int n = 2; !groupNames.add(name); n++) {
                name = base + "-" + n;
            }
            return name;
        }

        private static boolean usesMachine(Table runner) {
            String executor = runner.string("executor").orElse("");
            return runner.table("machine").isPresent()
                    && (runner.table("autoscaler").isEmpty() || executor.equals("docker+machine"));
        }

        private List<Table> runnersOf(Table top) {
            JsonNode runners = root.get("runners");
            if (runners == null || runners.isArray() && runners.isEmpty()) {
                throw new InvalidConfigException(file + ": no [[runners]] entries; this is not a GitLab Runner"
                        + " config.toml, or no runner is registered in it");
            }
            List<Table> tables = top.tables("runners");
            List<Table> named = new ArrayList<>();
            for (int i = 0; i < tables.size(); i++) {
                Table t = tables.get(i);
                String label = t.string("name").filter(n -> !n.isBlank()).orElse("runners[" + (i + 1) + "]");
                named.add(new Table(t.node(), "runners", label, file));
            }
            return named;
        }

        private void noteGlobals(Table top) {
            for (String key : top.keys()) {
                if (!key.equals("runners")) {
                    notes.add(GLOBAL, top.display(key), GLOBAL_NOTES.getOrDefault(key, GLOBAL_WHY));
                }
            }
        }

        // -- runners ----------------------------------------------------------------------

        private void convertRunner(Table runner, int index) {
            String executor = runner.string("executor").orElse("");
            Optional<Table> autoscaler = runner.table("autoscaler");
            Optional<Table> machine = runner.table("machine");
            boolean useMachine = usesMachine(runner);
            if (autoscaler.isEmpty() && machine.isEmpty()) {
                skipped.add("runner \"" + abbreviate(runner.owner()) + "\": executor \"" + abbreviate(executor)
                        + "\" has neither [runners.autoscaler] nor [runners.machine]");
                notes.add(runner.owner(), "runners", "not converted: executor \"" + executor + "\" has neither"
                        + " [runners.autoscaler] nor [runners.machine], and runnerscale only scales autoscaled"
                        + " runners; write its pool by hand if its jobs should run on runnerscale instances");
                return;
            }
            String name = uniquePoolName(runner.owner(), index);
            Match match = match(runner, name);
            Set<String> mapped = new HashSet<>(RUNNER_MAPPED);
            mapped.addAll(useMachine ? List.of("machine", "limit") : List.of("autoscaler"));
            noteRunnerKeys(runner, mapped);
            pools.add(useMachine
                    ? fromMachine(runner, machine.get(), name, match)
                    : fromAutoscaler(runner, autoscaler.get(), name, match));
        }

        private String uniquePoolName(String runnerName, int index) {
            String base = runnerName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
            if (base.isEmpty()) {
                base = "pool-" + (index + 1);
            }
            String name = base;
            for (int n = 2; !poolNames.add(name); n++) {
                name = base + "-" + n;
            }
            return name;
        }

        private Match match(Table runner, String poolName) {
            List<String> tags = tagsOf(runner);
            if (!tags.isEmpty()) {
                boolean untagged = runner.bool("run_untagged").orElse(false);
                untaggedAssigned |= untagged;
                return new Match(tags, untagged, false);
            }
            // GitLab keeps a runner's tags server-side; only one pool may take the untagged jobs.
            boolean untagged = !untaggedAssigned;
            untaggedAssigned = true;
            notes.add(runner.owner(), "match.tags", "config.toml does not hold this runner's tags (GitLab keeps"
                    + " them): set match.tags of pool " + poolName + " to the tags of runner \"" + runner.owner()
                    + "\" in GitLab" + (untagged
                    ? "; run_untagged: true was set because this is the first pool"
                    : "; until then this pool takes no jobs"));
            return new Match(List.of(), untagged, true);
        }

        private static List<String> tagsOf(Table runner) {
            for (String key : List.of("tag_list", "tags")) {
                JsonNode value = runner.node().get(key);
                if (value != null && value.isTextual()) {
                    return Arrays.stream(value.asText().split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
                }
                if (value != null) {
                    return runner.strings(key);
                }
            }
            return List.of();
        }

        private void noteRunnerKeys(Table runner, Set<String> mapped) {
            noteToken(runner);
            for (String key : runner.keys()) {
                if (!mapped.contains(key) && !TOKEN_KEYS.contains(key)) {
                    notes.add(runner.owner(), runner.display(key), runnerWhy(runner, key));
                }
            }
        }

        private void noteToken(Table runner) {
            List<String> dates = runner.keys().stream().filter(k -> TOKEN_KEYS.contains(k) && !k.equals("token")).toList();
            if (runner.has("token") || !dates.isEmpty()) {
                notes.add(runner.owner(), "token", "not copied; runnerscale creates one runner per instance"
                        + (dates.isEmpty() ? "" : " (" + String.join(", ", dates) + " dropped with it)"));
            }
        }

        private String runnerWhy(Table runner, String key) {
            return switch (key) {
                case "executor" -> executorWhy(runner.string(key).orElse(""));
                case "limit" -> "not mapped; runnerscale caps a pool at max_instances × capacity_per_instance jobs";
                case "autoscaler" -> "ignored: this docker+machine runner was converted from [runners.machine]";
                case "machine" -> "ignored: this runner was converted from [runners.autoscaler]";
                default -> RUNNER_NOTES.getOrDefault(key, RUNNER_WHY);
            };
        }

        private static String executorWhy(String executor) {
            String onInstance = switch (executor) {
                case "instance" -> "shell";
                case "docker-autoscaler", "docker+machine" -> "docker";
                default -> null;
            };
            return onInstance == null
                    ? "not mapped; executor \"" + executor + "\" is not an autoscaling executor: check which executor"
                      + " the gitlab-runner on each instance should use and set it in " + USER_DATA
                    : "not mapped; each instance runs its own gitlab-runner: use executor = \"" + onInstance
                      + "\" in " + USER_DATA;
        }

        // -- [runners.autoscaler] ---------------------------------------------------------

        private Pool fromAutoscaler(Table runner, Table autoscaler, String name, Match match) {
            long capacity = autoscaler.integer("capacity_per_instance", 1).orElse(1);
            long maxUse = autoscaler.integer("max_use_count", 0).orElse(0);
            OptionalLong maxInstances = autoscaler.integer("max_instances", 0);
            long max = maxInstances.isPresent() ? maxInstances.getAsLong() : defaultMaxInstances(runner, capacity);
            Optional<String> asg = autoscaler.table("plugin_config").flatMap(this::asgFromPluginConfig);
            String group = asg.orElseGet(() -> madeUpGroup(name));
            if (asg.isEmpty()) {
                notes.add(runner.owner(), "runners.autoscaler.plugin_config.name", "missing, so the ASG name is"
                        + " unknown: set backend.asg of pool " + name + " (" + group + " was put in)");
            }
            notePlugin(autoscaler);
            List<Policy> policy = autoscaler.tables("policy").stream().map(this::autoscalerPolicy).toList();
            noteUnmapped(autoscaler, AUTOSCALER_MAPPED, AUTOSCALER_NOTES, NO_EQUIVALENT);
            return new Pool(name, runner.owner(), match, group, asg.isPresent(), false, capacity, max, maxUse, policy);
        }

        private long defaultMaxInstances(Table runner, long capacity) {
            long limit = runner.integer("limit", 0).orElse(0);
            long jobs = limit > 0 ? limit : new Table(root, "", GLOBAL, file).integer("concurrent", 0).orElse(1);
            long max = Math.ceilDiv(jobs, capacity);
            notes.add(runner.owner(), "runners.autoscaler.max_instances", "not set; max_instances: " + max
                    + " was derived from " + (limit > 0 ? "the runner's limit" : "the global concurrent") + " ("
                    + jobs + " jobs) / capacity_per_instance: check it");
            return max;
        }

        private Optional<String> asgFromPluginConfig(Table pluginConfig) {
            noteUnmapped(pluginConfig, Set.of("name"), Map.of(), "not mapped; runnerscale calls the Auto Scaling"
                    + " API with its own IAM role, not with an AWS profile or credentials file of the manager");
            return pluginConfig.string("name").filter(n -> !n.isBlank());
        }

        private void notePlugin(Table autoscaler) {
            autoscaler.string("plugin")
                    .filter(plugin -> !plugin.toLowerCase(Locale.ROOT).contains("aws"))
                    .ifPresent(plugin -> notes.add(autoscaler.owner(), autoscaler.display("plugin"), "not an AWS"
                            + " fleeting plugin: plugin_config.name was copied as the ASG name, but runnerscale"
                            + " only manages EC2 Auto Scaling groups and ECS Fargate; fix the backend by hand"));
        }

        private Policy autoscalerPolicy(Table entry) {
            List<String> periods = entry.strings("periods");
            for (String period : periods) {
                if (period.strip().split("\\s+").length != 5) {
                    notes.add(entry.owner(), entry.pathOf("periods"), "\"" + period + "\" is not a 5-field cron"
                            + " expression, which runnerscale expects: rewrite it");
                }
            }
            Policy policy = new Policy(periods,
                    timezone(entry, "timezone").orElse(null),
                    boxed(entry.integer("idle_count", 0)),
                    entry.string("idle_time").map(d -> goDuration(entry, "idle_time", d)).orElse(null),
                    entry.decimal("scale_factor").orElse(null),
                    boxed(entry.integer("scale_factor_limit", 0)));
            noteUnmapped(entry, POLICY_MAPPED, Map.of(), NO_EQUIVALENT);
            return policy;
        }

        // -- [runners.machine] ------------------------------------------------------------

        private Pool fromMachine(Table runner, Table machine, String name, Match match) {
            long max = machineMaxInstances(runner);
            long maxUse = machine.integer("MaxBuilds", 0).orElse(0);
            List<Policy> policy = new ArrayList<>();
            policy.add(machineIdle(machine, List.of(), null));
            List<Table> autoscaling = machine.tables("autoscaling");
            if (!machine.strings("OffPeakPeriods").isEmpty()) {
                if (autoscaling.isEmpty()) {
                    policy.add(offPeak(machine));
                    notes.add(runner.owner(), "runners.machine.OffPeak*", "became policy entry " + policy.size()
                            + ", after the base entry, since off-peak settings override the base ones; its periods"
                            + " were converted to 5-field cron");
                } else {
                    notes.add(runner.owner(), "runners.machine.OffPeakPeriods", "not mapped; GitLab Runner ignores"
                            + " the deprecated OffPeak settings when [[runners.machine.autoscaling]] is present");
                }
            }
            for (Table entry : autoscaling) {
                machinePeriod(entry).ifPresent(policy::add);
            }
            String asg = madeUpGroup(name);
            noteMachineOptions(machine, asg, max);
            noteMachineDriver(machine, asg);
            noteUnmapped(machine, MACHINE_MAPPED, MACHINE_NOTES, NO_EQUIVALENT);
            return new Pool(name, runner.owner(), match, asg, false, true, 1, max, maxUse, policy);
        }

        private long machineMaxInstances(Table runner) {
            long limit = runner.integer("limit", 0).orElse(0);
            if (limit > 0) {
                return limit;
            }
            long concurrent = new Table(root, "", GLOBAL, file).integer("concurrent", 0).orElse(1);
            notes.add(runner.owner(), "runners.limit", "not set, so max_instances is the global concurrent ("
                    + concurrent + "), which bounded this runner's machines: check it");
            return concurrent;
        }

        private Policy offPeak(Table machine) {
            List<String> periods = machine.strings("OffPeakPeriods").stream()
                    .map(p -> machineCron(machine, "OffPeakPeriods", p)).toList();
            String timezone = machineTimezone(machine, "OffPeakTimezone");
            // GitLab Runner's off-peak override sets both values, defaulting to 0 when absent.
            long idleCount = machine.integer("OffPeakIdleCount", 0).orElse(0);
            long idleTime = machine.integer("OffPeakIdleTime", 0).orElse(0);
            return new Policy(periods, timezone, idleCount, formatDuration(idleTime), null, null);
        }

        private Optional<Policy> machinePeriod(Table entry) {
            List<String> periods = entry.strings("Periods").stream().map(p -> machineCron(entry, "Periods", p)).toList();
            noteUnmapped(entry, MACHINE_PERIOD_MAPPED, Map.of(), NO_EQUIVALENT);
            if (periods.isEmpty()) {
                notes.add(entry.owner(), entry.path(), "skipped: it has no Periods, so GitLab Runner never applied"
                        + " it (a runnerscale policy entry without periods would always apply)");
                return Optional.empty();
            }
            return Optional.of(machineIdle(entry, periods, machineTimezone(entry, "Timezone")));
        }

        /**
         * docker+machine idle settings. With IdleScaleFactor, IdleCount becomes the upper bound
         * and IdleCountMin (default 1) the lower one, which is runnerscale's
         * scale_factor_limit and idle_count.
         */
        private Policy machineIdle(Table table, List<String> periods, String timezone) {
            long idleCount = table.integer("IdleCount", 0).orElse(0);
            String idleTime = formatDuration(table.integer("IdleTime", 0).orElse(0));
            Optional<BigDecimal> factor = table.decimal("IdleScaleFactor").filter(f -> f.signum() > 0);
            if (factor.isPresent()) {
                long min = table.integer("IdleCountMin", 0).orElse(1);
                return new Policy(periods, timezone, min, idleTime, factor.get(), idleCount);
            }
            if (table.has("IdleCountMin")) {
                notes.add(table.owner(), table.display("IdleCountMin"), "not mapped; it only applies together"
                        + " with IdleScaleFactor > 0");
            }
            return new Policy(periods, timezone, idleCount, idleTime, null, null);
        }

        private String machineTimezone(Table table, String key) {
            Optional<String> timezone = timezone(table, key);
            if (timezone.isEmpty()) {
                notes.add(table.owner(), table.pathOf(key), "not set, so GitLab Runner used the manager host's"
                        + " local time zone; runnerscale uses UTC: set timezone if that host was not on UTC");
            }
            return timezone.orElse(null);
        }

        /**
         * GitLab Runner evaluates docker+machine periods with gorhill/cronexpr: 7 fields are
         * second..year, 6 fields minute..year, 5 fields standard cron with second fixed at 0.
         */
        private String machineCron(Table table, String key, String period) {
            String[] fields = period.strip().split("\\s+");
            String path = table.pathOf(key);
            switch (fields.length) {
                case 7 -> {
                    if (!fields[0].equals("*")) {
                        notes.add(table.owner(), path, "\"" + period + "\": seconds field \"" + fields[0]
                                + "\" dropped; GitLab Runner applied this period only during those seconds of each"
                                + " minute, runnerscale applies it for whole minutes");
                    }
                    noteYear(table, path, period, fields[6]);
                    return String.join(" ", Arrays.copyOfRange(fields, 1, 6));
                }
                case 6, 5 -> {
                    notes.add(table.owner(), path, "\"" + period + "\" has no seconds field, so GitLab Runner"
                            + " matched only second 0 (the period was active about one second per minute);"
                            + " runnerscale applies it for whole minutes: check that is what you want");
                    if (fields.length == 6) {
                        noteYear(table, path, period, fields[5]);
                    }
                    return String.join(" ", Arrays.copyOfRange(fields, 0, 5));
                }
                default -> throw table.fail(key, "period \"" + period + "\" has " + fields.length
                        + " fields; expected a cron expression of 5, 6 or 7 fields");
            }
        }

        private void noteYear(Table table, String path, String period, String year) {
            if (!year.equals("*")) {
                notes.add(table.owner(), path, "\"" + period + "\": year field \"" + year + "\" dropped;"
                        + " runnerscale periods apply every year");
            }
        }

        private void noteMachineDriver(Table machine, String asg) {
            machine.string("MachineDriver").ifPresent(driver -> notes.add(machine.owner(),
                    machine.display("MachineDriver"), driver.equals("amazonec2")
                            ? "not mapped; instances come from the Auto Scaling group " + asg + " instead of Docker Machine"
                            : "not mapped; driver \"" + driver + "\" is not AWS, and runnerscale only manages EC2"
                              + " Auto Scaling groups and ECS Fargate: fix the backend by hand"));
        }

        private void noteMachineOptions(Table machine, String asg, long max) {
            MachineOptions options = MachineOptions.parse(machine.strings("MachineOptions"));
            String facts = options.facts().isEmpty() ? "" : " with what MachineOptions said: "
                    + String.join("; ", options.facts());
            notes.add(machine.owner(), "runners.machine.MachineOptions", "not mapped; create the Auto Scaling"
                    + " group " + asg + " (desired 0, min 0, max at least " + max + ", no scaling policies) from a"
                    + " launch template" + facts + ". Docker Machine installed Docker itself: the template's AMI or"
                    + " user data must install Docker and gitlab-runner");
            if (!options.secrets().isEmpty()) {
                notes.add(machine.owner(), "runners.machine.MachineOptions", String.join(", ", options.secrets())
                        + ": not copied; give the instances an IAM instance profile instead of access keys");
            }
        }

        // -- shared helpers -----------------------------------------------------------------

        private void noteUnmapped(Table table, Set<String> mapped, Map<String, String> why, String defaultWhy) {
            for (String key : table.keys()) {
                if (!mapped.contains(key)) {
                    notes.add(table.owner(), table.display(key), why.getOrDefault(key, defaultWhy));
                }
            }
        }

        private Optional<String> timezone(Table table, String key) {
            Optional<String> timezone = table.string(key).map(String::strip).filter(tz -> !tz.isEmpty());
            timezone.ifPresent(tz -> {
                try {
                    ZoneId.of(tz);
                } catch (DateTimeException e) {
                    notes.add(table.owner(), table.pathOf(key), "\"" + tz + "\" is not an IANA time zone"
                            + " runnerscale knows: fix it");
                }
            });
            return timezone;
        }

        private String goDuration(Table table, String key, String text) {
            try {
                BigDecimal seconds = GoDuration.seconds(text);
                BigDecimal whole = seconds.setScale(0, RoundingMode.CEILING);
                if (whole.compareTo(seconds) != 0) {
                    notes.add(table.owner(), table.pathOf(key), "\"" + text + "\" rounded up to whole seconds");
                }
                return formatDuration(whole.longValueExact());
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw table.fail(key, "\"" + text + "\" is not a duration like \"20m0s\"");
            }
        }

        private static Long boxed(OptionalLong value) {
            return value.isPresent() ? value.getAsLong() : null;
        }
    }

    /** Formats seconds the way runnerscale writes durations: "1h30m", "2m", "90s" → "1m30s", "0s". */
    static String formatDuration(long seconds) {
        if (seconds == 0) {
            return "0s";
        }
        StringBuilder text = new StringBuilder();
        appendPart(text, seconds / 3600, "h");
        appendPart(text, seconds % 3600 / 60, "m");
        appendPart(text, seconds % 60, "s");
        return text.toString();
    }

    private static void appendPart(StringBuilder text, long amount, String unit) {
        if (amount > 0) {
            text.append(amount).append(unit);
        }
    }

    /** Go's time.ParseDuration syntax ("20m0s", "1.5h", "300ms"), non-negative only. */
    static final class GoDuration {
        private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h)");
        private static final Map<String, BigDecimal> NANOS_PER_UNIT = Map.of(
                "ns", BigDecimal.ONE, "us", BigDecimal.valueOf(1_000), "µs", BigDecimal.valueOf(1_000),
                "μs", BigDecimal.valueOf(1_000), "ms", BigDecimal.valueOf(1_000_000),
                "s", BigDecimal.valueOf(1_000_000_000L), "m", BigDecimal.valueOf(60_000_000_000L),
                "h", BigDecimal.valueOf(3_600_000_000_000L));
        private static final BigDecimal NANOS_PER_SECOND = BigDecimal.valueOf(1_000_000_000L);

        private GoDuration() {
        }

        static BigDecimal seconds(String text) {
            String rest = text.strip();
            if (rest.startsWith("+")) {
                rest = rest.substring(1);
            }
            if (rest.equals("0")) {
                return BigDecimal.ZERO;
            }
            Matcher part = PART.matcher(rest);
            BigDecimal nanos = BigDecimal.ZERO;
            int at = 0;
            while (at < rest.length() && part.find(at) && part.start() == at) {
                nanos = nanos.add(new BigDecimal(part.group(1)).multiply(NANOS_PER_UNIT.get(part.group(2))));
                at = part.end();
            }
            if (at == 0 || at != rest.length()) {
                throw new IllegalArgumentException("not a Go duration: " + text);
            }
            return nanos.divide(NANOS_PER_SECOND);
        }
    }

    /** The facts about instances that docker+machine's amazonec2 options carry, secrets left out. */
    record MachineOptions(List<String> facts, List<String> secrets) {
        private static final Pattern SECRET = Pattern.compile("(?i)secret|token|password|access-key");
        private static final Map<String, String> LABELS = labels();

        private static Map<String, String> labels() {
            Map<String, String> labels = new LinkedHashMap<>();
            labels.put("instance-type", "instance type %s");
            labels.put("region", "region %s");
            labels.put("vpc-id", "VPC %s");
            labels.put("subnet-id", "subnet %s");
            labels.put("security-group", "security group %s");
            labels.put("iam-instance-profile", "IAM instance profile %s");
            labels.put("ami", "AMI %s");
            labels.put("root-size", "root volume %s GB");
            labels.put("volume-type", "volume type %s");
            labels.put("private-address-only", "private address only: %s");
            labels.put("keypair-name", "key pair %s");
            return labels;
        }

        static MachineOptions parse(List<String> options) {
            Map<String, List<String>> values = new LinkedHashMap<>();
            List<String> secrets = new ArrayList<>();
            for (String option : options) {
                String trimmed = option.strip().replaceFirst("^--", "");
                int eq = trimmed.indexOf('=');
                String key = eq < 0 ? trimmed : trimmed.substring(0, eq);
                String value = eq < 0 ? "true" : trimmed.substring(eq + 1);
                if (SECRET.matcher(key).find()) {
                    secrets.add(key);
                } else {
                    values.computeIfAbsent(key.replaceFirst("^amazonec2-", ""), k -> new ArrayList<>()).add(value);
                }
            }
            return new MachineOptions(facts(values), secrets);
        }

        private static List<String> facts(Map<String, List<String>> values) {
            List<String> facts = new ArrayList<>();
            Optional.ofNullable(values.remove("instance-type")).ifPresent(v -> facts.add("instance type " + v.getLast()));
            spot(values).ifPresent(facts::add);
            String region = Optional.ofNullable(values.remove("region")).map(List::getLast).orElse("");
            if (!region.isEmpty()) {
                facts.add("region " + region);
            }
            Optional.ofNullable(values.remove("zone")).ifPresent(v -> facts.add("availability zone "
                    + (v.getLast().length() == 1 ? region + v.getLast() : v.getLast())));
            for (Map.Entry<String, String> label : LABELS.entrySet()) {
                Optional.ofNullable(values.remove(label.getKey()))
                        .ifPresent(v -> facts.add(label.getValue().formatted(String.join(", ", v))));
            }
            Optional.ofNullable(values.remove("tags")).ifPresent(v -> facts.add("tags " + tags(v.getLast())));
            List<String> others = values.entrySet().stream()
                    .flatMap(e -> e.getValue().stream().map(v -> "amazonec2-" + e.getKey() + "=" + v)).toList();
            if (!others.isEmpty()) {
                facts.add("other options " + String.join(", ", others));
            }
            return facts;
        }

        private static Optional<String> spot(Map<String, List<String>> values) {
            List<String> request = values.remove("request-spot-instance");
            List<String> price = values.remove("spot-price");
            if (request == null || request.getLast().equalsIgnoreCase("false")) {
                return price == null ? Optional.empty() : Optional.of("spot price " + price.getLast() + " (unused)");
            }
            return Optional.of(price == null ? "spot instances" : "spot instances, max price " + price.getLast() + " USD/h");
        }

        /** amazonec2-tags is a flat "key1,value1,key2,value2" list. */
        private static String tags(String flat) {
            String[] parts = flat.split(",");
            List<String> pairs = new ArrayList<>();
            for (int i = 0; i + 1 < parts.length; i += 2) {
                pairs.add(parts[i] + "=" + parts[i + 1]);
            }
            return pairs.isEmpty() ? flat : String.join(", ", pairs);
        }
    }

    /** Notes grouped per owner (global first, then runners in file order). */
    static final class Notes {
        private final Map<String, List<String>> byOwner = new LinkedHashMap<>();

        Notes() {
            byOwner.put(GLOBAL, new ArrayList<>());
        }

        void add(String owner, String path, String why) {
            byOwner.computeIfAbsent(owner, k -> new ArrayList<>()).add(owner + ": " + path + ": " + why);
        }

        List<List<String>> groups() {
            return byOwner.values().stream().filter(g -> !g.isEmpty()).toList();
        }

        List<String> all() {
            return groups().stream().flatMap(List::stream).toList();
        }
    }

    /**
     * A TOML table with its path, for typed reads whose errors name the file, the runner and
     * the key.
     */
    record Table(ObjectNode node, String path, String owner, String file) {
        private static final Pattern SENSITIVE = Pattern.compile(
                "(?i)token|secret|password|passwd|credential|private.?key|access.?key|dsn|auth");
        private static final Pattern SECRET_VALUE = Pattern.compile("glrt-|glpat-|GR1348941|glcbt-|gldt-");

        String pathOf(String key) {
            return path.isEmpty() ? key : path + "." + key;
        }

        boolean has(String key) {
            return node.has(key);
        }

        List<String> keys() {
            List<String> keys = new ArrayList<>();
            node.fieldNames().forEachRemaining(keys::add);
            return keys;
        }

        /** How a key is shown in a note: [table], [[array of tables]], or key = value (secrets hidden). */
        String display(String key) {
            JsonNode value = node.get(key);
            if (value.isObject()) {
                return "[" + pathOf(key) + "]";
            }
            if (value.isArray() && !value.isEmpty() && value.get(0).isObject()) {
                return "[[" + pathOf(key) + "]]";
            }
            return isSecret(key, value) ? pathOf(key) : pathOf(key) + " = " + tomlValue(value);
        }

        private static boolean isSecret(String key, JsonNode value) {
            return SENSITIVE.matcher(key).find() || SECRET_VALUE.matcher(value.toString()).find();
        }

        private static String tomlValue(JsonNode value) {
            String text = value.isArray()
                    ? "[" + streamOf(value).map(Table::tomlValue).collect(Collectors.joining(", ")) + "]"
                    : value.isTextual() ? "\"" + value.asText() + "\"" : value.asText();
            return text.length() > 120 ? text.substring(0, 117) + "..." : text;
        }

        private static java.util.stream.Stream<JsonNode> streamOf(JsonNode array) {
            List<JsonNode> items = new ArrayList<>();
            array.forEach(items::add);
            return items.stream();
        }

        Optional<Table> table(String key) {
            JsonNode value = node.get(key);
            if (value == null) {
                return Optional.empty();
            }
            if (!value.isObject()) {
                throw fail(key, "expected a table [" + pathOf(key) + "], got " + describe(key, value));
            }
            return Optional.of(new Table((ObjectNode) value, pathOf(key), owner, file));
        }

        List<Table> tables(String key) {
            JsonNode value = node.get(key);
            if (value == null) {
                return List.of();
            }
            if (!value.isArray()) {
                throw fail(key, "expected [[" + pathOf(key) + "]] entries (an array of tables), got "
                        + describe(key, value));
            }
            List<Table> tables = new ArrayList<>();
            for (int i = 0; i < value.size(); i++) {
                if (!value.get(i).isObject()) {
                    throw fail(key, "expected [[" + pathOf(key) + "]] entries (an array of tables)");
                }
                tables.add(new Table((ObjectNode) value.get(i), pathOf(key) + "[" + (i + 1) + "]", owner, file));
            }
            return tables;
        }

        Optional<String> string(String key) {
            JsonNode value = node.get(key);
            if (value == null) {
                return Optional.empty();
            }
            if (!value.isTextual()) {
                throw fail(key, "expected a string, got " + describe(key, value));
            }
            return Optional.of(value.asText());
        }

        Optional<Boolean> bool(String key) {
            JsonNode value = node.get(key);
            if (value == null) {
                return Optional.empty();
            }
            if (!value.isBoolean()) {
                throw fail(key, "expected true or false, got " + describe(key, value));
            }
            return Optional.of(value.asBoolean());
        }

        OptionalLong integer(String key, long min) {
            JsonNode value = node.get(key);
            if (value == null) {
                return OptionalLong.empty();
            }
            if (!value.isIntegralNumber() || !value.canConvertToLong() || value.asLong() < min) {
                throw fail(key, "expected an integer >= " + min + ", got " + describe(key, value));
            }
            return OptionalLong.of(value.asLong());
        }

        Optional<BigDecimal> decimal(String key) {
            JsonNode value = node.get(key);
            if (value == null) {
                return Optional.empty();
            }
            if (!value.isNumber() || value.decimalValue().signum() < 0) {
                throw fail(key, "expected a number >= 0, got " + describe(key, value));
            }
            return Optional.of(value.decimalValue());
        }

        List<String> strings(String key) {
            JsonNode value = node.get(key);
            if (value == null) {
                return List.of();
            }
            if (!value.isArray() || streamOf(value).anyMatch(v -> !v.isTextual())) {
                throw fail(key, "expected a list of strings, got " + describe(key, value));
            }
            return streamOf(value).map(JsonNode::asText).toList();
        }

        InvalidConfigException fail(String key, String problem) {
            String runner = owner.equals(GLOBAL) ? "" : "runner \"" + owner + "\": ";
            return new InvalidConfigException(file + ": " + runner + pathOf(key) + ": " + problem);
        }

        private static String describe(String key, JsonNode value) {
            return isSecret(key, value) ? "a value (not shown)" : tomlValue(value);
        }
    }

    /** Hand-written YAML: flow style where it reads best, quoting only when YAML needs it. */
    static final class YamlOut {
        private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_./+-]*");
        private static final Pattern NUMBER_LIKE = Pattern.compile(
                "[-+]?(\\d[\\d_]*)?(\\.[\\d_]*)?([eE][-+]?\\d+)?|0[xob].*|\\d{4}-\\d\\d?-\\d\\d?.*");
        private static final Set<String> RESERVED = Set.of(
                "true", "false", "yes", "no", "on", "off", "y", "n", "null");
        private static final int WIDTH = 100;

        private YamlOut() {
        }

        static String render(String file, List<Pool> pools, Notes notes) {
            StringBuilder out = new StringBuilder();
            out.append("# generated by runnerscale import-config from ").append(oneLine(file)).append('\n');
            out.append("# Check every TODO and the notes at the end before loading this file into runnerscale.\n");
            out.append(pools.isEmpty() ? "pools: []\n" : "pools:\n");
            pools.forEach(pool -> pool(out, pool));
            List<List<String>> groups = notes.groups();
            if (!groups.isEmpty()) {
                out.append("\n# Notes (not read by runnerscale; [n] in a path counts entries from 1):\n");
                for (List<String> group : groups) {
                    out.append("#\n");
                    group.forEach(note -> comment(out, note));
                }
            }
            return out.toString();
        }

        private static void pool(StringBuilder out, Pool pool) {
            out.append("  - name: ").append(scalar(pool.name())).append('\n');
            out.append("    match: ").append(match(pool.match()));
            out.append(pool.match().tagsUnknown() ? "  # TODO: set tags to this runner's tags in GitLab\n" : "\n");
            out.append("    backend: {type: ec2-asg, asg: ").append(scalar(pool.asg())).append('}');
            out.append(pool.asgToCreate() ? "  # TODO: create this ASG (see notes)\n" : "\n");
            out.append("    capacity_per_instance: ").append(pool.capacityPerInstance()).append('\n');
            out.append("    max_instances: ").append(pool.maxInstances()).append('\n');
            out.append("    max_use_count: ").append(pool.maxUseCount()).append('\n');
            if (!pool.policy().isEmpty()) {
                out.append("    policy:\n");
                pool.policy().forEach(p -> out.append("      - ").append(policy(p)).append('\n'));
            }
        }

        private static String match(Match match) {
            if (match.tagsUnknown() && match.runUntagged()) {
                return "{run_untagged: true}";
            }
            return "{tags: " + list(match.tags(), false) + ", run_untagged: " + match.runUntagged() + "}";
        }

        private static String policy(Policy policy) {
            List<String> fields = new ArrayList<>();
            if (!policy.periods().isEmpty()) {
                fields.add("periods: " + list(policy.periods(), true));
            }
            addIfSet(fields, "timezone", policy.timezone() == null ? null : scalar(policy.timezone()));
            addIfSet(fields, "idle_count", policy.idleCount());
            addIfSet(fields, "idle_time", policy.idleTime() == null ? null : scalar(policy.idleTime()));
            addIfSet(fields, "scale_factor", policy.scaleFactor() == null ? null : number(policy.scaleFactor()));
            addIfSet(fields, "scale_factor_limit", policy.scaleFactorLimit());
            return "{" + String.join(", ", fields) + "}";
        }

        private static void addIfSet(List<String> fields, String key, Object value) {
            if (value != null) {
                fields.add(key + ": " + value);
            }
        }

        private static String number(BigDecimal value) {
            BigDecimal stripped = value.stripTrailingZeros();
            return (stripped.scale() < 0 ? stripped.setScale(0) : stripped).toPlainString();
        }

        private static String list(List<String> items, boolean alwaysQuote) {
            return items.stream().map(i -> alwaysQuote ? quoted(i) : scalar(i))
                    .collect(Collectors.joining(", ", "[", "]"));
        }

        static String scalar(String text) {
            boolean plain = PLAIN.matcher(text).matches()
                    && !NUMBER_LIKE.matcher(text).matches()
                    && !RESERVED.contains(text.toLowerCase(Locale.ROOT));
            return plain ? text : quoted(text);
        }

        private static String quoted(String text) {
            StringBuilder out = new StringBuilder("\"");
            for (char c : text.toCharArray()) {
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\t' -> out.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            out.append(String.format("\\x%02x", (int) c));
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            return out.append('"').toString();
        }

        private static String oneLine(String text) {
            return text.replaceAll("[\\r\\n]+", " ");
        }

        /** Word-wraps a note into comment lines; continuation lines are indented. */
        private static void comment(StringBuilder out, String note) {
            String prefix = "# ";
            StringBuilder line = new StringBuilder(prefix);
            for (String word : oneLine(note).split(" ")) {
                if (line.length() > prefix.length() && line.length() + 1 + word.length() > WIDTH) {
                    out.append(line.toString().stripTrailing()).append('\n');
                    prefix = "#     ";
                    line = new StringBuilder(prefix);
                }
                if (line.length() > prefix.length()) {
                    line.append(' ');
                }
                line.append(word);
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
    }
}
