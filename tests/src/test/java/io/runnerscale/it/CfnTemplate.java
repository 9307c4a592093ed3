package io.runnerscale.it;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.AbstractConstruct;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * template.yaml as CloudFormation would see it for one set of parameter values: conditions evaluated,
 * resources whose Condition is false left out, and the intrinsic functions the template uses (Ref,
 * Sub, Join, Split, Select, If, Equals, Not, And, Or, Base64) resolved. What only exists at deploy
 * time stays symbolic: {@code Ref} of a resource is {@code {ref:Name}}, {@code GetAtt} is
 * {@code {Name.Attribute}} (also inside Sub). Pseudo parameters: partition aws, region eu-west-1,
 * account 123456789012, stack name {@code rs}. An intrinsic it does not know fails the test rather
 * than passing unresolved.
 */
final class CfnTemplate {
    static final String REGION = "eu-west-1";
    static final String ACCOUNT = "123456789012";
    static final String STACK = "rs";
    private static final Object NO_VALUE = new Object();
    private static final Pattern SUB_VARIABLE = Pattern.compile("\\$\\{(!?)([^}]+)}");

    private final Map<String, Object> template;
    private final Map<String, Object> parameters = new HashMap<>();
    private final Map<String, Boolean> conditions = new HashMap<>();

    private CfnTemplate(Map<String, Object> template, Map<String, ?> overrides) {
        this.template = template;
        map(template, "Parameters").forEach((name, declaration) -> {
            Map<String, Object> parameter = asMap(declaration);
            boolean list = "CommaDelimitedList".equals(parameter.get("Type"));
            Object value = overrides.containsKey(name) ? overrides.get(name) : String.valueOf(parameter.getOrDefault("Default", ""));
            if (list && value instanceof String text) value = List.of(text.split(",", -1));
            parameters.put(name, value);
        });
        for (String name : overrides.keySet()) {
            if (!parameters.containsKey(name)) throw new IllegalArgumentException("template.yaml has no parameter " + name);
        }
    }

    /** template.yaml from the repository root, with the parameters' defaults except {@code overrides}. */
    static CfnTemplate load(Map<String, ?> overrides) throws IOException {
        LoaderOptions options = new LoaderOptions();
        Yaml yaml = new Yaml(new CfnTagConstructor(options));
        Map<String, Object> parsed = yaml.load(Files.readString(path()));
        return new CfnTemplate(parsed, overrides);
    }

    boolean condition(String name) {
        Boolean known = conditions.get(name);
        if (known != null) return known;
        Object declaration = map(template, "Conditions").get(name);
        if (declaration == null) throw new IllegalArgumentException("no condition " + name);
        boolean value = (Boolean) resolve(declaration);
        conditions.put(name, value);
        return value;
    }

    /** The resources CloudFormation would create, resolved, by logical id. */
    Map<String, Map<String, Object>> resources() {
        Map<String, Map<String, Object>> created = new LinkedHashMap<>();
        map(template, "Resources").forEach((id, declaration) -> {
            Map<String, Object> resource = asMap(declaration);
            Object condition = resource.get("Condition");
            if (condition == null || condition((String) condition)) created.put(id, asMap(resolve(resource)));
        });
        return created;
    }

    Map<String, Object> resource(String id) {
        Map<String, Object> resource = resources().get(id);
        if (resource == null) throw new AssertionError("resource " + id + " is not created with these parameters");
        return resource;
    }

    /** The outputs CloudFormation would show (their Condition true), by name. */
    Map<String, Object> outputs() {
        Map<String, Object> shown = new LinkedHashMap<>();
        map(template, "Outputs").forEach((name, declaration) -> {
            Map<String, Object> output = asMap(declaration);
            Object condition = output.get("Condition");
            if (condition == null || condition((String) condition)) shown.put(name, resolve(output.get("Value")));
        });
        return shown;
    }

    /** The Globals section (SAM), resolved: what every function inherits. */
    Map<String, Object> globals() {
        return asMap(resolve(map(template, "Globals")));
    }

    /** The assertion descriptions of template Rules that would fail for these parameters. */
    List<String> failedRules() {
        List<String> failed = new ArrayList<>();
        map(template, "Rules").forEach((name, declaration) -> {
            Map<String, Object> rule = asMap(declaration);
            if (rule.containsKey("RuleCondition") && !(Boolean) resolve(rule.get("RuleCondition"))) return;
            for (Object assertion : (List<?>) rule.get("Assertions")) {
                Map<String, Object> a = asMap(assertion);
                if (!(Boolean) resolve(a.get("Assert"))) failed.add((String) a.get("AssertDescription"));
            }
        });
        return failed;
    }

    /** Every IAM policy statement of a resolved AWS::IAM::Role, tagged with its policy's name. */
    static List<Statement> statements(Map<String, Object> role) {
        List<Statement> statements = new ArrayList<>();
        Object policies = asMap(role.get("Properties")).get("Policies");
        if (policies == null) return statements;
        for (Object policy : (List<?>) policies) {
            Map<String, Object> p = asMap(policy);
            for (Object statement : (List<?>) asMap(p.get("PolicyDocument")).get("Statement")) {
                statements.add(new Statement((String) p.get("PolicyName"), asMap(statement)));
            }
        }
        return statements;
    }

    record Statement(String policy, Map<String, Object> body) {
        String sid() {
            return (String) body.get("Sid");
        }

        List<String> actions() {
            return strings(body.get("Action"));
        }

        List<String> resources() {
            return strings(body.get("Resource"));
        }

        /** The condition's value for {@code operator} and {@code key}, as a list; empty when absent. */
        List<String> condition(String operator, String key) {
            Object conditions = body.get("Condition");
            if (conditions == null) return List.of();
            Object byKey = asMap(conditions).get(operator);
            return byKey == null ? List.of() : strings(asMap(byKey).get(key));
        }

        @Override
        public String toString() {
            return policy + "/" + sid() + " " + body;
        }
    }

    static List<String> strings(Object value) {
        if (value == null) return List.of();
        if (value instanceof List<?> list) return list.stream().map(String::valueOf).toList();
        return List.of(String.valueOf(value));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> asMap(Object value) {
        if (!(value instanceof Map<?, ?>)) throw new AssertionError("not a mapping: " + value);
        return (Map<String, Object>) value;
    }

    private static Map<String, Object> map(Map<String, Object> parent, String key) {
        Object value = parent.get(key);
        return value == null ? Map.of() : asMap(value);
    }

    // ------------------------------------------------------------------ intrinsic functions

    private Object resolve(Object node) {
        if (node instanceof List<?> list) {
            List<Object> resolved = new ArrayList<>();
            for (Object item : list) {
                Object value = resolve(item);
                if (value != NO_VALUE) resolved.add(value);
            }
            return resolved;
        }
        if (!(node instanceof Map<?, ?>)) return node;
        Map<String, Object> map = asMap(node);
        if (map.size() == 1) {
            Map.Entry<String, Object> only = map.entrySet().iterator().next();
            String key = only.getKey();
            if (key.equals("Ref") || key.equals("Condition") || key.startsWith("Fn::")) {
                return function(key, only.getValue());
            }
        }
        Map<String, Object> resolved = new LinkedHashMap<>();
        map.forEach((key, value) -> {
            Object v = resolve(value);
            if (v != NO_VALUE) resolved.put(key, v);
        });
        return resolved;
    }

    private Object function(String name, Object argument) {
        List<?> args = argument instanceof List<?> list ? list : List.of();
        return switch (name) {
            case "Ref" -> reference((String) argument);
            case "Condition" -> condition((String) argument);
            case "Fn::If" -> condition((String) args.get(0)) ? resolve(args.get(1)) : resolve(args.get(2));
            case "Fn::Equals" -> String.valueOf(resolve(args.get(0))).equals(String.valueOf(resolve(args.get(1))));
            case "Fn::Not" -> !(Boolean) resolve(args.get(0));
            case "Fn::And" -> args.stream().allMatch(a -> (Boolean) resolve(a));
            case "Fn::Or" -> args.stream().anyMatch(a -> (Boolean) resolve(a));
            case "Fn::Join" -> String.join((String) args.get(0), strings(resolve(args.get(1))));
            case "Fn::Split" -> List.of(((String) resolve(args.get(1))).split(Pattern.quote((String) args.get(0)), -1));
            case "Fn::Select" -> strings(resolve(args.get(1))).get(Integer.parseInt(String.valueOf(resolve(args.get(0)))));
            case "Fn::Base64" -> resolve(argument);
            case "Fn::GetAtt" -> {
                List<String> parts = argument instanceof String text
                        ? List.of(text.substring(0, text.indexOf('.')), text.substring(text.indexOf('.') + 1))
                        : strings(argument);
                yield "{" + parts.get(0) + "." + parts.get(1) + "}";
            }
            case "Fn::Sub" -> sub(argument);
            default -> throw new UnsupportedOperationException("CfnTemplate does not evaluate " + name);
        };
    }

    private Object reference(String name) {
        return switch (name) {
            case "AWS::NoValue" -> NO_VALUE;
            case "AWS::Region" -> REGION;
            case "AWS::AccountId" -> ACCOUNT;
            case "AWS::Partition" -> "aws";
            case "AWS::StackName" -> STACK;
            case "AWS::URLSuffix" -> "amazonaws.com";
            default -> parameters.containsKey(name) ? parameters.get(name) : "{ref:" + name + "}";
        };
    }

    private String sub(Object argument) {
        String text;
        Map<String, Object> variables = new HashMap<>();
        if (argument instanceof List<?> list) {
            text = (String) list.get(0);
            asMap(list.get(1)).forEach((key, value) -> variables.put(key, resolve(value)));
        } else {
            text = (String) argument;
        }
        Matcher matcher = SUB_VARIABLE.matcher(text);
        StringBuilder out = new StringBuilder();
        while (matcher.find()) {
            String variable = matcher.group(2);
            String replacement;
            if (!matcher.group(1).isEmpty()) {
                replacement = "${" + variable + "}";
            } else if (variables.containsKey(variable)) {
                replacement = String.valueOf(variables.get(variable));
            } else if (variable.contains(".") && !variable.startsWith("AWS::")) {
                replacement = "{" + variable + "}";
            } else {
                Object value = reference(variable);
                if (value instanceof List<?>) throw new AssertionError("Fn::Sub of a list parameter: " + variable);
                replacement = String.valueOf(value);
            }
            matcher.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        matcher.appendTail(out);
        return out.toString();
    }

    /** Short-form tags as the long form: !Ref X -> {Ref: X}, !Sub s -> {Fn::Sub: s}, !GetAtt A.b -> {Fn::GetAtt: A.b}. */
    private static final class CfnTagConstructor extends SafeConstructor {
        CfnTagConstructor(LoaderOptions options) {
            super(options);
            yamlMultiConstructors.put("!", new AbstractConstruct() {
                @Override
                public Object construct(Node node) {
                    String tag = node.getTag().getValue().substring(1);
                    Object value = switch (node) {
                        case ScalarNode scalar -> constructScalar(scalar);
                        case SequenceNode sequence -> constructSequence(sequence);
                        case MappingNode mapping -> constructMapping(mapping);
                        default -> throw new IllegalStateException("unexpected node " + node);
                    };
                    String key = tag.equals("Ref") || tag.equals("Condition") ? tag : "Fn::" + tag;
                    Map<String, Object> function = new LinkedHashMap<>();
                    function.put(key, value);
                    return function;
                }
            });
        }
    }

    /** template.yaml of this checkout (found upwards from the working directory). */
    static Path path() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("template.yaml");
            if (Files.isRegularFile(candidate) && Files.isDirectory(dir.resolve("fargate"))) return candidate;
        }
        throw new IllegalStateException("template.yaml not found above " + Path.of("").toAbsolutePath());
    }
}
