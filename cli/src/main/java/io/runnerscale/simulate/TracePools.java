package io.runnerscale.simulate;

import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.pool.PoolsConfigParser;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Pools for a trace when the user has written none: one per distinct tag set among its jobs, each
 * like runnerscale's built-in pool (EC2, one job per instance, {@code idle_time: 2m}). Untagged jobs
 * go to a pool named {@code default} that runs untagged jobs, so a trace of untagged jobs gets
 * exactly the built-in pools file. The pools are written as a pools file, and that text is what is
 * parsed and simulated: what is printed for the user to save and edit is what ran.
 *
 * <p>A job goes to the first pool whose tags hold all of its own (GitLab's rule), so the pools are
 * ordered by how many tags they have: a job's own tag set comes before any wider one that would
 * also take it. At most {@link #MAX_POOLS} tag sets get a pool (those with most jobs); the jobs of
 * the rest match none and are reported as such.
 */
public final class TracePools {
    /** More tag sets than this is not a set of pools anybody would run; the rarest are left out. */
    public static final int MAX_POOLS = 100;
    /** The name of the pool for untagged jobs, as in the built-in pools file. */
    public static final String UNTAGGED = "default";

    private TracePools() {
    }

    /** The jobs' tag sets (each sorted, no repeats), with how many jobs carry each, most first. */
    public static Map<List<String>, Integer> tagSets(List<TraceJob> jobs) {
        Map<List<String>, Integer> counts = new LinkedHashMap<>();
        for (TraceJob job : jobs) {
            counts.merge(tagSet(job.tags()), 1, Integer::sum);
        }
        List<Map.Entry<List<String>, Integer>> sorted = new ArrayList<>(counts.entrySet());
        sorted.sort(Map.Entry.<List<String>, Integer>comparingByValue().reversed()
                .thenComparing(e -> String.join(",", e.getKey())));
        Map<List<String>, Integer> ordered = new LinkedHashMap<>();
        sorted.forEach(e -> ordered.put(e.getKey(), e.getValue()));
        return ordered;
    }

    /** A job's tags as a set: sorted, each once. */
    public static List<String> tagSet(List<String> tags) {
        return tags == null ? List.of() : List.copyOf(new TreeSet<>(tags));
    }

    /** The pools file for the trace's jobs, as YAML. */
    public static String yaml(List<TraceJob> jobs) {
        List<Map.Entry<List<String>, Integer>> sets = new ArrayList<>(tagSets(jobs).entrySet());
        int left = Math.max(0, sets.size() - MAX_POOLS);
        sets = new ArrayList<>(sets.subList(0, Math.min(sets.size(), MAX_POOLS)));
        sets.sort(Comparator.<Map.Entry<List<String>, Integer>>comparingInt(e -> e.getKey().size())
                .thenComparing(Map.Entry.<List<String>, Integer>comparingByValue().reversed())
                .thenComparing(e -> String.join(",", e.getKey())));
        StringBuilder out = new StringBuilder();
        out.append("# Pools derived from the trace by runnerscale simulate: one per tag set among its jobs, each like\n")
                .append("# the built-in pool (EC2, one job per instance, idle_time 2m). Save it, edit it (asg names,\n")
                .append("# capacity, policy, forecast, Fargate backends) and pass it with --config.\n");
        if (left > 0) {
            out.append("# ").append(left).append(" rarer tag set(s) left out: at most ").append(MAX_POOLS)
                    .append(" pools are derived.\n");
        }
        out.append("pools:\n");
        Set<String> names = new HashSet<>();
        for (Map.Entry<List<String>, Integer> set : sets) {
            List<String> tags = set.getKey();
            String name = unique(tags.isEmpty() ? UNTAGGED : name(tags), names);
            out.append("  - name: ").append(name).append("   # ").append(set.getValue()).append(" job(s)\n");
            if (tags.isEmpty()) {
                out.append("    match: {run_untagged: true}\n");
            } else {
                out.append("    match: {tags: [").append(String.join(", ", tags.stream().map(TracePools::quoted)
                        .toList())).append("]}\n");
            }
            out.append("    backend: {type: ec2-asg, asg: gitlab-runners").append(tags.isEmpty() ? "" : "-" + name)
                    .append("}\n")
                    .append("    capacity_per_instance: 1\n")
                    .append("    max_instances: 50\n")
                    .append("    boot_timeout: 5m\n")
                    .append("    policy:\n")
                    .append("      - {idle_count: 0, idle_time: 2m}\n");
        }
        return out.toString();
    }

    /** The pools {@link #yaml} describes. */
    public static PoolsConfig derive(List<TraceJob> jobs) {
        return parse(yaml(jobs));
    }

    /** The pools of a text {@link #yaml} wrote: for a caller that shows the text too, without deriving it twice. */
    public static PoolsConfig parse(String yaml) {
        return PoolsConfigParser.parse(yaml, "pools derived from the trace");
    }

    /** A pool name from tags: lower case letters, digits and dashes, at most 63 characters. */
    static String name(List<String> tags) {
        String joined = String.join("-", tags).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-")
                .replaceAll("^-+|-+$", "");
        if (joined.length() > 56) { // room for a "-NNN" to tell apart
            joined = joined.substring(0, 56).replaceAll("-+$", "");
        }
        return joined.isEmpty() ? "pool" : joined;
    }

    private static String unique(String name, Set<String> taken) {
        String candidate = name;
        for (int i = 2; !taken.add(candidate); i++) {
            candidate = name + "-" + i;
        }
        return candidate;
    }

    /** A YAML double-quoted scalar: any tag text stays one plain string. */
    private static String quoted(String tag) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : tag.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        out.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }
}
