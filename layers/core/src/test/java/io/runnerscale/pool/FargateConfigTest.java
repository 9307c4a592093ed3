package io.runnerscale.pool;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static io.runnerscale.pool.PoolsConfigParserTest.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fargate backend's settings and the rules that keep a Fargate pool meaningful. */
class FargateConfigTest {

    static String fargate(String backendExtra, String poolExtra) {
        return """
                pools:
                  - name: f
                    match: {tags: [fargate]}
                    backend: {type: fargate, cluster: ci, task_definition: runner:3, subnets: [subnet-1]%s}
                %s""".formatted(backendExtra.isEmpty() ? "" : ", " + backendExtra,
                poolExtra.isEmpty() ? "" : "    " + poolExtra + "\n");
    }

    static PoolConfig.Fargate backend(String yaml) {
        return (PoolConfig.Fargate) PoolsConfigParser.parse(yaml, "test.yaml").pools().getFirst().backend();
    }

    @Test
    void defaults() {
        PoolConfig.Fargate b = backend(fargate("", ""));
        assertEquals("runner", b.container());
        assertFalse(b.assignPublicIp());
        assertFalse(b.spot());
        assertEquals(PoolConfig.Fargate.Platform.X86_64, b.platform());
        assertEquals(1.0, b.vcpu());
        assertEquals(2.0, b.memoryGib());
        assertEquals(Duration.ofMinutes(2), b.waitTimeout());
        assertEquals(3, b.maxTaskAttempts());
        assertEquals(new PoolConfig.StartTime(Duration.ofSeconds(40), Duration.ofSeconds(60)), b.startTime());
    }

    @Test
    void everySetting() {
        PoolConfig.Fargate b = backend(fargate("container: build, security_groups: [sg-1], assign_public_ip: true, "
                + "spot: true, platform: arm64, vcpu: 2, memory_gib: 4, wait_timeout: 90s, max_task_attempts: 5, "
                + "start_time: 20s-35s", ""));
        assertEquals(new PoolConfig.Fargate("ci", "runner:3", "build", List.of("subnet-1"), List.of("sg-1"), true, true,
                PoolConfig.Fargate.Platform.ARM64, 2, 4, Duration.ofSeconds(90), 5,
                new PoolConfig.StartTime(Duration.ofSeconds(20), Duration.ofSeconds(35))), b);
        assertEquals(new PoolConfig.StartTime(Duration.ofSeconds(45), Duration.ofSeconds(45)),
                backend(fargate("start_time: 45s", "")).startTime());
        assertEquals(4242L, backend(fargate("runner_id: 4242", "")).runnerId());
        assertEquals(null, backend(fargate("", "")).runnerId());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "platform: sparc|pool 'f': backend.platform: 'sparc' is not X86_64 or ARM64",
            "vcpu: 0|pool 'f': backend.vcpu: must be more than 0",
            "vcpu: 32|pool 'f': backend.vcpu: must be at most 16",
            "memory_gib: -1|pool 'f': backend.memory_gib: must be a number >= 0",
            "wait_timeout: 5s|pool 'f': backend.wait_timeout: must be at least 10s",
            "wait_timeout: 2h|pool 'f': backend.wait_timeout: must be at most 1h",
            "max_task_attempts: 0|pool 'f': backend.max_task_attempts: must be at least 1",
            "start_time: 60s-40s|pool 'f': backend.start_time: '60s-40s'",
            "start_time: soon|pool 'f': backend.start_time: 'soon'",
            "container: ''|pool 'f': backend.container: must name the runner container",
            "launch_type: EC2|pool 'f': backend.launch_type: unknown field",
            "runner_id: 0|pool 'f': backend.runner_id: must be the pool runner's id in GitLab",
            "runner_id: abc|pool 'f': backend.runner_id: must be the pool runner's id in GitLab",
    })
    void badBackendSettingsAreNamed(String setting, String expected) {
        assertProblem(fargate(setting, ""), expected);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "capacity_per_instance: 2|pool 'f': capacity_per_instance: must be 1 for type fargate",
            "max_use_count: 5|pool 'f': max_use_count: does not apply to type fargate",
            "'policy: [{idle_count: 2}]'|pool 'f': policy[0]: idle_count and scale_factor do not apply to type fargate",
            "'policy: [{scale_factor: 0.5}]'|pool 'f': policy[0]: idle_count and scale_factor do not apply",
            "forecast: true|pool 'f': forecast: does not apply to type fargate",
    })
    void instanceOnlySettingsAreRefusedForFargate(String setting, String expected) {
        assertProblem(fargate("", setting), expected);
    }

    @Test
    void aPolicyWithoutIdleSlotsIsFine() {
        PoolConfig pool = PoolsConfigParser.parse(fargate("", "policy: [{idle_count: 0, idle_time: 5m}]"), "t")
                .pools().getFirst();
        assertTrue(pool.backend() instanceof PoolConfig.Fargate);
    }
}
