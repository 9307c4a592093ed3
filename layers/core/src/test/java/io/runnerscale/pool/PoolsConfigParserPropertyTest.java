package io.runnerscale.pool;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Properties of {@link PoolsConfigParser} on hostile and on generated input: whatever the text,
 * the parser answers with a config or a bounded {@link ConfigException}; a valid config keeps
 * exactly its values; two ec2-asg pools on one group are always rejected, naming both.
 */
class PoolsConfigParserPropertyTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final YAMLMapper YAML = new YAMLMapper();
    /** Longest problem line: label (pool name ≤ 100) + field + message with the known-fields list or ≤ 200 chars of YAML error. */
    private static final int MAX_PROBLEM_LENGTH = 600;

    private static final List<String> KEYS = List.of("pools", "name", "match", "tags", "run_untagged", "backend",
            "type", "asg", "cluster", "task_definition", "subnets", "security_groups", "spot", "capacity_per_instance",
            "max_instances", "max_use_count", "boot_timeout", "policy", "periods", "timezone", "idle_count", "idle_time",
            "scale_factor", "scale_factor_limit", "forecast", "enabled", "window", "weeks", "lead", "quantile", "max_idle",
            "x", "<<", "? a");
    /** Scalars as written into the text, YAML's odd ones included. */
    private static final List<String> TOKENS = List.of("ec2-asg", "fargate", "p", "q", "0", "1", "-1", "2147483648",
            "99999999999999999999999", "1e400", "-1e400", ".inf", "-.inf", ".nan", "0x7fffffff", "0o777", "1_000",
            "1.5", "NaN", "true", "no", "~", "null", "''", "\"\"", "10m", "0s", "99999999999999h", "1h30m", "20m0s",
            "\"* * * * *\"", "\"*/2147483647 * * * *\"", "\"70-5 * * * *\"", "\"* 8-18 * * mon-fri\"", "Europe/Berlin",
            "Mars/Phobos", "&a x", "*a", "*b", "!!binary aGk=", "!!str 5", "!!int x", "!!float y", "!!set {a}",
            "!!omap [a: 1]", "!custom z", "'it''s'", "\"\\u0000\"", "\"\\ud800\"", "|\n  block", ">-\n  folded",
            "2026-01-01", "12:30:00", "=", "- -", "? x", "@", "`", "%", "&", "*", "!");

    // ---- (a) no input makes the parser throw anything but a bounded ConfigException ---------------

    @Property(tries = 400)
    void randomDocumentsGiveAConfigOrABoundedConfigException(@ForAll Random random) {
        String text = random.nextBoolean() ? flowYaml(random, 0) : blockYaml(random);
        assertParsesOrFailsCleanly(text);
    }

    @Property(tries = 400)
    void mutatedValidFilesGiveAConfigOrABoundedConfigException(@ForAll("validFiles") String valid, @ForAll Random random) {
        String text = valid;
        int mutations = 1 + random.nextInt(4);
        for (int i = 0; i < mutations; i++) {
            text = mutate(text, random);
        }
        assertParsesOrFailsCleanly(text);
    }

    @Property(tries = 200)
    void treeMutationsOfValidFilesGiveAConfigOrABoundedConfigException(@ForAll("validFiles") String valid,
                                                                         @ForAll Random random) throws IOException {
        Object tree = YAML.readValue(valid, Object.class);
        Object mutated = mutateTree(tree, random, 0);
        String text = random.nextBoolean() ? JSON.writeValueAsString(mutated) : YAML.writeValueAsString(mutated);
        assertParsesOrFailsCleanly(text);
    }

    static void assertParsesOrFailsCleanly(String text) {
        try {
            PoolsConfig config = PoolsConfigParser.parse(text, "fuzz.yaml");
            assertTrue(!config.pools().isEmpty(), "a parsed config has pools");
        } catch (ConfigException e) {
            assertTrue(!e.problems().isEmpty());
            assertTrue(e.problems().size() <= PoolsConfigParser.MAX_PROBLEMS + 1, e.problems().size() + " problems");
            for (String problem : e.problems()) {
                assertTrue(problem.length() <= MAX_PROBLEM_LENGTH, problem.length() + " chars: "
                        + problem.substring(0, Math.min(problem.length(), 300)));
            }
        } catch (RuntimeException e) {
            fail("parser threw " + e + " for:\n" + text.substring(0, Math.min(2000, text.length())), e);
        }
    }

    @Provide
    Arbitrary<String> validFiles() {
        return Arbitraries.of(validSamples());
    }

    /** The pools files of samples/, the README's example and the design notes' example. */
    static List<String> validSamples() {
        Path root = projectRoot();
        List<String> files = new ArrayList<>();
        try (var samples = Files.list(root.resolve("samples"))) {
            samples.filter(p -> p.toString().endsWith(".yaml")).sorted().forEach(p -> files.add(read(p)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Matcher readme = Pattern.compile("## Configuration reference.*?```yaml\\n(.*?)```", Pattern.DOTALL)
                .matcher(read(root.resolve("README.md")));
        assertTrue(readme.find(), "README has a yaml block under ## Configuration reference");
        files.add(readme.group(1));
        files.add(PoolsConfigParserTest.designExample());
        for (String file : files) {
            PoolsConfigParser.parse(file, "sample"); // the seeds themselves are valid
        }
        return files;
    }

    private static Path projectRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("samples")) && Files.isRegularFile(dir.resolve("README.md"))) {
                return dir;
            }
        }
        return fail("no samples/ and README.md above " + Path.of("").toAbsolutePath());
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String pick(List<String> from, Random random) {
        return from.get(random.nextInt(from.size()));
    }

    private static String scalar(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> Long.toString(random.nextLong() >> random.nextInt(64));
            case 1 -> "\"" + "x".repeat(random.nextInt(3) == 0 ? 200 + random.nextInt(2000) : random.nextInt(5)) + "\"";
            default -> pick(TOKENS, random);
        };
    }

    /** A random tree in YAML flow style (which JSON is a special case of). */
    private static String flowYaml(Random random, int depth) {
        int kind = depth > 6 ? 0 : random.nextInt(3);
        StringBuilder out = new StringBuilder();
        switch (kind) {
            case 1 -> {
                out.append('[');
                int n = random.nextInt(4);
                for (int i = 0; i < n; i++) {
                    out.append(i == 0 ? "" : ", ").append(flowYaml(random, depth + 1));
                }
                out.append(']');
            }
            case 2 -> {
                out.append('{');
                int n = random.nextInt(5);
                for (int i = 0; i < n; i++) {
                    out.append(i == 0 ? "" : ", ").append(pick(KEYS, random)).append(": ").append(flowYaml(random, depth + 1));
                }
                out.append('}');
            }
            default -> out.append(scalar(random));
        }
        return depth == 0 && random.nextBoolean() ? "{pools: " + out + "}" : out.toString();
    }

    /** Block-style YAML: random indentation, keys, list items and scalars. */
    private static String blockYaml(Random random) {
        StringBuilder out = new StringBuilder("pools:\n");
        int lines = random.nextInt(15);
        for (int i = 0; i < lines; i++) {
            out.append(" ".repeat(random.nextInt(4) * 2));
            out.append(random.nextInt(3) == 0 ? "- " : "");
            out.append(pick(KEYS, random)).append(": ").append(random.nextInt(4) == 0 ? flowYaml(random, 3) : scalar(random));
            out.append('\n');
        }
        return out.toString();
    }

    private static String mutate(String text, Random random) {
        if (text.isEmpty()) {
            return scalar(random);
        }
        int at = random.nextInt(text.length());
        int end = Math.min(text.length(), at + 1 + random.nextInt(20));
        return switch (random.nextInt(5)) {
            case 0 -> text.substring(0, at) + text.substring(end); // delete
            case 1 -> text.substring(0, at) + pick(TOKENS, random) + text.substring(at); // insert a token
            case 2 -> text.substring(0, at) + pick(KEYS, random) + ": " + scalar(random) + text.substring(end); // replace
            case 3 -> { // repeat a line (duplicate keys, second pools with the same group)
                List<String> lines = new ArrayList<>(text.lines().toList());
                int line = random.nextInt(lines.size());
                lines.add(line, lines.get(line));
                yield String.join("\n", lines) + "\n";
            }
            default -> text.substring(0, at) + (char) random.nextInt(0x3000) + text.substring(at); // any character
        };
    }

    @SuppressWarnings("unchecked")
    private static Object mutateTree(Object node, Random random, int depth) {
        if (random.nextInt(6) == 0 || depth > 8) {
            return randomValue(random);
        }
        if (node instanceof Map<?, ?> map && !map.isEmpty()) {
            Map<String, Object> copy = new LinkedHashMap<>((Map<String, Object>) map);
            String key = new ArrayList<>(copy.keySet()).get(random.nextInt(copy.size()));
            copy.put(key, mutateTree(copy.get(key), random, depth + 1));
            if (random.nextInt(5) == 0) {
                copy.put(pick(KEYS, random), randomValue(random));
            }
            return copy;
        }
        if (node instanceof List<?> list && !list.isEmpty()) {
            List<Object> copy = new ArrayList<>(list);
            int index = random.nextInt(copy.size());
            copy.set(index, mutateTree(copy.get(index), random, depth + 1));
            if (random.nextInt(4) == 0) {
                copy.add(copy.get(random.nextInt(copy.size())));
            }
            return copy;
        }
        return randomValue(random);
    }

    private static Object randomValue(Random random) {
        return switch (random.nextInt(9)) {
            case 0 -> random.nextLong();
            case 1 -> random.nextDouble() * Math.pow(10, random.nextInt(40) - 5) * (random.nextBoolean() ? 1 : -1);
            case 2 -> new BigDecimal("1e" + random.nextInt(500)).toBigInteger();
            case 3 -> random.nextBoolean();
            case 4 -> null;
            case 5 -> List.of(pick(TOKENS, random));
            case 6 -> Map.of(pick(KEYS, random), pick(TOKENS, random));
            case 7 -> "y".repeat(random.nextInt(5000));
            default -> pick(TOKENS, random);
        };
    }

    // ---- (b) a valid config keeps exactly its values ------------------------------------------------

    record GeneratedPolicy(List<String> periods, String timezone, int idleCount, Duration idleTime,
                           BigDecimal scaleFactor, int scaleFactorLimit) {
    }

    record GeneratedPool(String name, List<String> tags, boolean runUntagged, String asg, int capacity,
                         int maxInstances, int maxUseCount, Duration bootTimeout, List<GeneratedPolicy> policy) {
    }

    private static final List<String> PERIODS = List.of("* * * * *", "* 8-18 * * mon-fri", "*/15 0-6 * * *",
            "0 22-6 1,15 * sat,sun", "30 9 * jan-mar fri-mon", "5-55/10 * */2 * *");
    private static final List<String> ZONES = List.of("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo",
            "Australia/Lord_Howe", "+05:30");

    @Provide
    Arbitrary<List<GeneratedPool>> validConfigs() {
        Arbitrary<String> names = Arbitraries.strings().withChars("abcdefghijklmnopqrstuvwxyz0123456789-")
                .ofMinLength(0).ofMaxLength(40).map(rest -> "p" + rest);
        Arbitrary<String> tags = Arbitraries.strings().withChars("abcdefghijklmnopqrstuvwxyzABC0123456789_.-: ")
                .ofMinLength(1).ofMaxLength(20).filter(t -> !t.isBlank()).map(String::trim);
        Arbitrary<GeneratedPolicy> policy = Combinators.combine(
                Arbitraries.of(PERIODS).list().ofMaxSize(3),
                Arbitraries.of(ZONES),
                Arbitraries.integers().between(0, PoolsConfigParser.MAX_IDLE_SLOTS),
                Arbitraries.longs().between(0, PoolsConfigParser.MAX_IDLE_TIME.toSeconds()).map(Duration::ofSeconds),
                Arbitraries.integers().between(0, 10_000).map(n -> BigDecimal.valueOf(n, 2)),
                Arbitraries.integers().between(0, PoolsConfigParser.MAX_IDLE_SLOTS)).as(GeneratedPolicy::new);
        Arbitrary<GeneratedPool> pool = Combinators.combine(
                names,
                tags.list().ofMaxSize(4).uniqueElements(),
                Arbitraries.of(true, false),
                Arbitraries.integers().between(1, PoolsConfigParser.MAX_CAPACITY_PER_INSTANCE),
                Arbitraries.integers().between(0, PoolsConfigParser.MAX_INSTANCES),
                Arbitraries.integers().between(0, PoolsConfigParser.MAX_USE_COUNT),
                Arbitraries.longs().between(PoolsConfigParser.MIN_BOOT_TIMEOUT.toSeconds(),
                        PoolsConfigParser.MAX_BOOT_TIMEOUT.toSeconds()).map(Duration::ofSeconds),
                policy.list().ofMaxSize(3)).as((name, tagList, untagged, capacity, max, maxUse, boot, entries) ->
                new GeneratedPool(name, tagList, untagged, "asg-" + name, capacity, max, maxUse, boot, entries));
        return pool.list().ofMinSize(1).ofMaxSize(6).uniqueElements(GeneratedPool::name);
    }

    static String render(List<GeneratedPool> pools, boolean json) throws IOException {
        List<Object> out = new ArrayList<>();
        for (GeneratedPool pool : pools) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("name", pool.name());
            p.put("match", Map.of("tags", pool.tags(), "run_untagged", pool.runUntagged()));
            p.put("backend", Map.of("type", "ec2-asg", "asg", pool.asg()));
            p.put("capacity_per_instance", pool.capacity());
            p.put("max_instances", pool.maxInstances());
            p.put("max_use_count", pool.maxUseCount());
            p.put("boot_timeout", Durations.format(pool.bootTimeout()));
            List<Object> entries = new ArrayList<>();
            for (GeneratedPolicy entry : pool.policy()) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("periods", entry.periods());
                e.put("timezone", entry.timezone());
                e.put("idle_count", entry.idleCount());
                e.put("idle_time", Durations.format(entry.idleTime()));
                e.put("scale_factor", entry.scaleFactor());
                e.put("scale_factor_limit", entry.scaleFactorLimit());
                entries.add(e);
            }
            p.put("policy", entries);
            out.add(p);
        }
        return (json ? JSON : YAML).writeValueAsString(Map.of("pools", out));
    }

    @Property(tries = 200)
    void generatedValidConfigsKeepExactlyTheirValues(@ForAll("validConfigs") List<GeneratedPool> generated,
                                                     @ForAll boolean json) throws IOException {
        PoolsConfig config = PoolsConfigParser.parse(render(generated, json), "generated");
        assertEquals(generated.size(), config.pools().size());
        for (int i = 0; i < generated.size(); i++) {
            GeneratedPool expected = generated.get(i);
            PoolConfig actual = config.pools().get(i);
            assertEquals(expected.name(), actual.name());
            assertEquals(new PoolConfig.Match(expected.tags(), expected.runUntagged()), actual.match());
            assertEquals(new PoolConfig.Ec2Asg(expected.asg()), actual.backend());
            assertEquals(expected.capacity(), actual.capacityPerInstance());
            assertEquals(expected.maxInstances(), actual.maxInstances());
            assertEquals(expected.maxUseCount(), actual.maxUseCount());
            assertEquals(expected.bootTimeout(), actual.bootTimeout());
            assertEquals(ForecastConfig.OFF, actual.forecast());
            List<PolicyEntry> policy = actual.policy();
            if (expected.policy().isEmpty()) {
                assertEquals(List.of(PolicyEntry.DEFAULT), policy);
                continue;
            }
            assertEquals(expected.policy().size(), policy.size());
            for (int j = 0; j < policy.size(); j++) {
                GeneratedPolicy e = expected.policy().get(j);
                PolicyEntry a = policy.get(j);
                assertEquals(e.periods(), a.periods().stream().map(CronPeriod::expression).toList());
                assertEquals(ZoneId.of(e.timezone()), a.timezone());
                assertEquals(e.idleCount(), a.idleCount());
                assertEquals(e.idleTime(), a.idleTime());
                assertEquals(e.scaleFactor().doubleValue(), a.scaleFactor());
                assertEquals(e.scaleFactorLimit(), a.scaleFactorLimit());
            }
        }
    }

    // ---- (c) two ec2-asg pools on one group are always rejected, naming both -------------------------

    @Provide
    Arbitrary<Tuple.Tuple3<List<GeneratedPool>, Integer, Integer>> configsWithASharedGroup() {
        return validConfigs().filter(pools -> pools.size() >= 2).flatMap(pools -> {
            Arbitrary<Integer> first = Arbitraries.integers().between(0, pools.size() - 2);
            return first.flatMap(i -> Arbitraries.integers().between(i + 1, pools.size() - 1)
                    .map(j -> Tuple.of(pools, i, j)));
        });
    }

    @Property(tries = 200)
    void twoPoolsOnOneGroupAreRejectedNamingBoth(
            @ForAll("configsWithASharedGroup") Tuple.Tuple3<List<GeneratedPool>, Integer, Integer> sample,
            @ForAll boolean json) throws IOException {
        List<GeneratedPool> pools = new ArrayList<>(sample.get1());
        GeneratedPool owner = pools.get(sample.get2());
        GeneratedPool second = pools.get(sample.get3());
        pools.set(sample.get3(), new GeneratedPool(second.name(), second.tags(), second.runUntagged(), owner.asg(),
                second.capacity(), second.maxInstances(), second.maxUseCount(), second.bootTimeout(), second.policy()));
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> PoolsConfigParser.parse(render(pools, json), "shared"));
        assertEquals(List.of("pool '" + second.name() + "': backend.asg: pools '" + owner.name() + "' and '"
                + second.name() + "' both use Auto Scaling group '" + owner.asg() + "': a group belongs to one pool"),
                e.problems());
    }
}
