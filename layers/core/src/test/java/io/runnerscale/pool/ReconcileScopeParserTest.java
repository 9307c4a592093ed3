package io.runnerscale.pool;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pools file's {@code reconcile} section: what it accepts, and every problem named. */
class ReconcileScopeParserTest {
    static final String POOLS = """
            pools:
              - {name: a, backend: {type: ec2-asg, asg: g}}
            """;

    static ReconcileScope parse(String reconcile) {
        return PoolsConfigParser.parse(POOLS + reconcile, "t").reconcile();
    }

    static List<String> problems(String reconcile) {
        return assertThrows(ConfigException.class, () -> PoolsConfigParser.parse(POOLS + reconcile, "t.yaml"))
                .problems();
    }

    @Test
    void withoutASectionNothingIsNamed() {
        assertEquals(ReconcileScope.NONE, PoolsConfigParser.parse(POOLS, "t").reconcile());
        assertEquals(ReconcileScope.NONE, parse("reconcile:\n"));
    }

    @Test
    void projectsGroupsAndTheHookUrlAreRead() {
        ReconcileScope scope = parse("""
                reconcile:
                  projects: [123, 456, 123]
                  groups: [my-org/ci, 42, "deep/sub.group_1/x-y"]
                  hook_url: " https://abc.execute-api.eu-west-1.amazonaws.com/webhook "
                """);
        assertEquals(List.of(123L, 456L), scope.projects(), "each once");
        assertEquals(List.of("my-org/ci", "42", "deep/sub.group_1/x-y"), scope.groups());
        assertEquals("https://abc.execute-api.eu-west-1.amazonaws.com/webhook", scope.hookUrl());
        assertEquals("https://x", scope.withHookUrl("https://x").hookUrl());
    }

    @Test
    void everyBadEntryIsNamedWithItsIndex() {
        List<String> problems = problems("""
                reconcile:
                  projects: [1, 0, "7", 1.5]
                  groups: ["a b", "../etc", {}, ok]
                  hook_url: "ftp://x"
                  hooks: true
                """);
        assertEquals(List.of(
                "reconcile.hooks: unknown field (known: groups, hook_url, projects)",
                "reconcile.projects[1]: must be a project id (a whole number from 1), got 0",
                "reconcile.projects[2]: must be a project id (a whole number from 1), got \"7\"",
                "reconcile.projects[3]: must be a project id (a whole number from 1), got 1.5",
                "reconcile.groups[0]: must be a group id or full path like my-org/ci, got \"a b\"",
                "reconcile.groups[1]: must be a group id or full path like my-org/ci, got \"../etc\"",
                "reconcile.groups[2]: must be a group id or full path like my-org/ci, got {}",
                "reconcile.hook_url: must be the http(s) URL GitLab's hooks deliver to, got \"ftp://x\""),
                problems.stream().map(p -> p.substring(p.indexOf("reconcile"))).toList());
    }

    @Test
    void shapesAndSizesAreBounded() {
        assertTrue(problems("reconcile: [1]\n").getFirst().contains("reconcile: must be a map"));
        assertTrue(problems("reconcile: {projects: 5}\n").getFirst().contains("reconcile.projects: must be a list"));
        assertTrue(problems("reconcile: {groups: x}\n").getFirst().contains("reconcile.groups: must be a list"));
        StringBuilder many = new StringBuilder("reconcile: {projects: [");
        for (int i = 1; i <= ReconcileScope.MAX_PROJECTS + 1; i++) {
            many.append(i).append(i <= ReconcileScope.MAX_PROJECTS ? ", " : "]}\n");
        }
        assertTrue(problems(many.toString()).getFirst().contains("at most 1000 projects, got 1001"));
        StringBuilder groups = new StringBuilder("reconcile: {groups: [");
        for (int i = 1; i <= ReconcileScope.MAX_GROUPS + 1; i++) {
            groups.append(i).append(i <= ReconcileScope.MAX_GROUPS ? ", " : "]}\n");
        }
        assertTrue(problems(groups.toString()).getFirst().contains("at most 100 groups, got 101"));
        assertTrue(problems("reconcile: {hook_url: \"https://a b\"}\n").getFirst().contains("hook_url"));
        assertTrue(problems("reconcile: {hook_url: \"https://" + "a".repeat(2050) + "\"}\n").getFirst()
                .contains("hook_url"));
        assertEquals("http://localhost:8080/webhook", parse("reconcile: {hook_url: http://localhost:8080/webhook}\n")
                .hookUrl());
    }
}
