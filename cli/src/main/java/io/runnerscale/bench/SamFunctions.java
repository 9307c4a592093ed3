package io.runnerscale.bench;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.AbstractConstruct;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What template.yaml says about each function's start-up: its handler, timeout, memory and environment
 * (the Globals' merged with its own, {@code JAVA_TOOL_OPTIONS} included). Intrinsics stay symbolic
 * ({@code {"!Ref": "JobsTable"}}): {@link Function#environment} resolves them against values the
 * benchmark supplies, or a parameter's default, and refuses anything else, so a variable added to the
 * template that the benchmark cannot fill fails loudly instead of being silently left out.
 */
public record SamFunctions(Map<String, Function> functions, Map<String, String> parameterDefaults) {

    /** One AWS::Serverless::Function, as Lambda would start it. */
    public record Function(String logicalId, String handler, int timeoutSeconds, int memoryMb,
                           Map<String, Object> variables) {
        /**
         * The environment Lambda would give it.
         *
         * @param local values for variables whose template value is an intrinsic (a table name, an ARN)
         */
        public Map<String, String> environment(Map<String, String> local, Map<String, String> parameterDefaults) {
            Map<String, String> env = new LinkedHashMap<>();
            variables.forEach((name, value) -> {
                if (local.containsKey(name)) {
                    env.put(name, local.get(name));
                } else if (value instanceof String || value instanceof Number || value instanceof Boolean) {
                    env.put(name, String.valueOf(value));
                } else if (value instanceof Map<?, ?> map && map.size() == 1 && map.get("!Ref") instanceof String ref
                        && parameterDefaults.containsKey(ref)) {
                    env.put(name, parameterDefaults.get(ref));
                } else {
                    throw new IllegalStateException(logicalId + ": environment variable " + name + " is " + value
                            + " in template.yaml; bench-startup has no local value for it");
                }
            });
            return env;
        }

        /** The template's {@code JAVA_TOOL_OPTIONS} (empty when none). */
        public String javaToolOptions() {
            return variables.get("JAVA_TOOL_OPTIONS") instanceof String s ? s : "";
        }
    }

    public static SamFunctions load(Path template) throws IOException {
        try (Reader reader = Files.newBufferedReader(template, StandardCharsets.UTF_8)) {
            Object root = new Yaml(new CfnTags(new LoaderOptions())).load(reader);
            return from(map(root, "template"));
        }
    }

    static SamFunctions from(Map<String, Object> template) {
        Map<String, String> defaults = new LinkedHashMap<>();
        map(template.getOrDefault("Parameters", Map.of()), "Parameters").forEach((name, declaration) ->
                defaults.put(name, String.valueOf(map(declaration, name).getOrDefault("Default", ""))));
        Map<String, Object> globals = map(map(template.getOrDefault("Globals", Map.of()), "Globals")
                .getOrDefault("Function", Map.of()), "Globals.Function");
        Map<String, Function> functions = new LinkedHashMap<>();
        map(template.get("Resources"), "Resources").forEach((id, resource) -> {
            Map<String, Object> r = map(resource, id);
            if (!"AWS::Serverless::Function".equals(r.get("Type"))) {
                return;
            }
            Map<String, Object> properties = map(r.getOrDefault("Properties", Map.of()), id + ".Properties");
            Map<String, Object> variables = new LinkedHashMap<>(variables(globals));
            variables.putAll(variables(properties));
            functions.put(id, new Function(id, String.valueOf(properties.get("Handler")),
                    integer(properties, globals, "Timeout", 3), integer(properties, globals, "MemorySize", 128),
                    variables));
        });
        return new SamFunctions(functions, defaults);
    }

    public Function function(String logicalId) {
        Function function = functions.get(logicalId);
        if (function == null) {
            throw new IllegalArgumentException("template.yaml has no function " + logicalId + " (has " + functions.keySet() + ")");
        }
        return function;
    }

    private static Map<String, Object> variables(Map<String, Object> properties) {
        Object environment = properties.get("Environment");
        if (environment == null) {
            return Map.of();
        }
        return map(map(environment, "Environment").getOrDefault("Variables", Map.of()), "Environment.Variables");
    }

    private static int integer(Map<String, Object> properties, Map<String, Object> globals, String key, int fallback) {
        Object value = properties.containsKey(key) ? properties.get(key) : globals.get(key);
        return value instanceof Number n ? n.intValue() : fallback;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value, String what) {
        if (!(value instanceof Map<?, ?>)) {
            throw new IllegalStateException("template.yaml: " + what + " is not a mapping");
        }
        return (Map<String, Object>) value;
    }

    /** CloudFormation's short-form tags ({@code !Ref X}, {@code !Sub ...}) read as one-key maps {@code {"!Ref": X}}. */
    private static final class CfnTags extends SafeConstructor {
        CfnTags(LoaderOptions options) {
            super(options);
            for (String tag : List.of("Ref", "Sub", "GetAtt", "If", "Join", "Select", "Split", "Equals", "Not", "And",
                    "Or", "Condition", "FindInMap", "Base64", "GetAZs", "ImportValue", "Cidr")) {
                yamlConstructors.put(new Tag("!" + tag), new AbstractConstruct() {
                    @Override
                    public Object construct(Node node) {
                        Object value = switch (node) {
                            case ScalarNode scalar -> constructScalar(scalar);
                            case SequenceNode sequence -> constructSequence(sequence);
                            case MappingNode mapping -> constructMapping(mapping);
                            default -> throw new IllegalStateException("unexpected node " + node);
                        };
                        return Map.of("!" + tag, value);
                    }
                });
            }
        }
    }
}
