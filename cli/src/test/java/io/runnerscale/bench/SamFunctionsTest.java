package io.runnerscale.bench;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** bench-startup starts each function as template.yaml declares it. */
class SamFunctionsTest {
    static final Path TEMPLATE = Path.of("..", "template.yaml");

    @Test
    void readsEachFunctionsHandlerSettingsAndTheGlobalJavaToolOptions() throws Exception {
        SamFunctions sam = SamFunctions.load(TEMPLATE);
        assertEquals(java.util.Set.of("WebhookFunction", "ScalerFunction", "LifecycleFunction"), sam.functions().keySet());
        SamFunctions.Function webhook = sam.function("WebhookFunction");
        assertEquals("io.runnerscale.webhook.WebhookHandler::handleRequest", webhook.handler());
        assertEquals(10, webhook.timeoutSeconds());      // its own Timeout, not the Globals' 30
        assertEquals(1024, webhook.memoryMb());          // from Globals
        // the template's line, character for character
        String line = Files.readAllLines(TEMPLATE).stream().filter(l -> l.trim().startsWith("JAVA_TOOL_OPTIONS:"))
                .findFirst().orElseThrow();
        assertEquals(line.substring(line.indexOf('"') + 1, line.lastIndexOf('"')), webhook.javaToolOptions());
        assertEquals(webhook.javaToolOptions(), sam.function("LifecycleFunction").javaToolOptions());
        assertEquals("io.runnerscale.lifecycle.LifecycleHandler::handleRequest", sam.function("LifecycleFunction").handler());
    }

    @Test
    void environmentTakesLiteralsParameterDefaultsAndLocalValuesAndRefusesWhatItCannotFill() throws Exception {
        SamFunctions sam = SamFunctions.load(TEMPLATE);
        SamFunctions.Function lifecycle = sam.function("LifecycleFunction");
        Map<String, String> local = new HashMap<>(Map.of("TABLE_NAME", "t", "POOLS_PARAMETER", "/p",
                "WEBHOOK_SECRET_ID", "w", "GITLAB_SECRET_ID", "g", "SCALE_QUEUE_URL", "q",
                "DRAIN_STATE_MACHINE_ARN", "arn", "RUNNER_TOKEN_PREFIX", "/r/", "WEBHOOK_URL", "https://h/webhook",
                "STACK_WARM_POOL_GROUPS", ""));
        Map<String, String> env = lifecycle.environment(local, sam.parameterDefaults());
        assertEquals("t", env.get("TABLE_NAME"));
        assertEquals("runnerscale", env.get("POWERTOOLS_SERVICE_NAME"));          // literal
        assertEquals(sam.parameterDefaults().get("JobTtlDays"), env.get("JOB_TTL_DAYS")); // !Ref JobTtlDays
        assertTrue(env.containsKey("RUNNER_TOKEN_KMS_KEY_ID"), "the function's own variables are merged in");
        assertEquals(lifecycle.javaToolOptions(), env.get("JAVA_TOOL_OPTIONS"));

        local.remove("DRAIN_STATE_MACHINE_ARN");
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> lifecycle.environment(local, sam.parameterDefaults()));
        assertTrue(refused.getMessage().contains("DRAIN_STATE_MACHINE_ARN"), refused.getMessage());
    }
}
