package io.runnerscale.pool;

import java.util.List;
import java.util.regex.Pattern;

/**
 * What the pools file tells the reconciler besides the projects it heard from: projects and groups
 * whose pending jobs it lists every run (a project whose hook never delivered anything is known no
 * other way), and the URL of runnerscale's webhook, so it can tell its hooks from others' when
 * checking whether GitLab disabled them.
 *
 * <pre>
 * reconcile:
 *   projects: [123, 456]
 *   groups: [my-org/ci, 42]
 *   hook_url: https://abc123.execute-api.eu-west-1.amazonaws.com/webhook
 * </pre>
 *
 * @param projects project ids
 * @param groups   group ids or full paths; their projects and their subgroups' are listed
 * @param hookUrl  runnerscale's hooks are those whose URL starts with this; null: the deployment's
 *                 own URL (the template's {@code WEBHOOK_URL}), else no hook is checked
 */
public record ReconcileScope(List<Long> projects, List<String> groups, String hookUrl) {
    public static final ReconcileScope NONE = new ReconcileScope(List.of(), List.of(), null);
    public static final int MAX_PROJECTS = 1000;
    public static final int MAX_GROUPS = 100;
    /** A group id, or a full path of GitLab's path characters ({@code my-org/sub.group_1}). */
    static final Pattern GROUP = Pattern.compile("[0-9]{1,19}|[A-Za-z0-9_][A-Za-z0-9_.\\-]{0,254}(/[A-Za-z0-9_][A-Za-z0-9_.\\-]{0,254}){0,20}");

    public ReconcileScope {
        projects = List.copyOf(projects);
        groups = List.copyOf(groups);
    }

    public ReconcileScope withHookUrl(String url) {
        return new ReconcileScope(projects, groups, url);
    }
}
