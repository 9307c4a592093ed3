package io.runnerscale.pool;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;

import static io.runnerscale.pool.PoolsConfigParserTest.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code warm_pool} and the EC2 boot-path settings of an ec2-asg pool. */
class WarmPoolConfigTest {

    static String ec2(String backendExtra, String warmPool) {
        return """
                pools:
                  - name: docker
                    match: {tags: [docker]}
                    max_instances: 20
                    backend: {type: ec2-asg, asg: runners%s}
                %s""".formatted(backendExtra.isEmpty() ? "" : ", " + backendExtra,
                warmPool.isEmpty() ? "" : "    warm_pool: " + warmPool + "\n");
    }

    static PoolConfig pool(String yaml) {
        return PoolsConfigParser.parse(yaml, "test.yaml").pools().getFirst();
    }

    @Test
    void noWarmPoolAndTheBootDefaults() {
        PoolConfig pool = pool(ec2("", ""));
        assertNull(pool.warmPool());
        PoolConfig.Ec2Asg b = (PoolConfig.Ec2Asg) pool.backend();
        assertNull(b.bootTime(), "null: simulate's --boot decides");
        assertEquals(new PoolConfig.StartTime(Duration.ofSeconds(1), Duration.ofSeconds(3)), b.runnerStartTime());
        assertEquals(30, b.volumeGib());
    }

    @Test
    void defaultsOfAWarmPool() {
        PoolConfig.WarmPool warm = pool(ec2("", "{}")).warmPool();
        assertEquals(new PoolConfig.WarmPool(PoolConfig.WarmPool.State.STOPPED, 0, null, false,
                new PoolConfig.StartTime(Duration.ofSeconds(15), Duration.ofSeconds(20))), warm);
        assertEquals("Stopped", warm.state().awsName());
    }

    @Test
    void everySetting() {
        PoolConfig pool = pool(ec2("boot_time: 45s-70s, runner_start_time: 2s, volume_gib: 50",
                "{state: hibernated, min_size: 2, max_prepared: 12, reuse_on_scale_in: false, resume_time: 10s-14s}"));
        assertEquals(new PoolConfig.WarmPool(PoolConfig.WarmPool.State.HIBERNATED, 2, 12, false,
                new PoolConfig.StartTime(Duration.ofSeconds(10), Duration.ofSeconds(14))), pool.warmPool());
        assertEquals(new PoolConfig.Ec2Asg("runners", false, pool.warmPool(),
                new PoolConfig.StartTime(Duration.ofSeconds(45), Duration.ofSeconds(70)),
                new PoolConfig.StartTime(Duration.ofSeconds(2), Duration.ofSeconds(2)), 50), pool.backend());
        assertEquals(PoolConfig.WarmPool.State.RUNNING, pool(ec2("", "{state: Running}")).warmPool().state());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            {state: frozen}                        | warm_pool.state: 'frozen' is not stopped, hibernated or running
            {min_size: -1}                         | warm_pool.min_size: must be at least 0, got -1
            {max_prepared: 0}                      | warm_pool.max_prepared: must be at least 1, got 0
            {min_size: 5, max_prepared: 3}         | warm_pool.max_prepared: 3 is below warm_pool.min_size 5
            {max_prepared: 21}                     | warm_pool.max_prepared: 21 is more than max_instances 20
            {reuse_on_scale_in: yes please}        | warm_pool.reuse_on_scale_in: must be true or false
            {resume_time: 20s-10s}                 | warm_pool.resume_time: '20s-10s'
            {size: 3}                              | warm_pool.size: unknown field
            [stopped]                              | warm_pool: must be a mapping
            """)
    void badWarmPoolsNameThePoolAndTheField(String warmPool, String problem) {
        assertProblem(ec2("", warmPool), "pool 'docker': " + problem);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            boot_time: fast       | backend.boot_time: 'fast'
            runner_start_time: 0s-3h | backend.runner_start_time: '0s-3h'
            volume_gib: 0         | backend.volume_gib: must be at least 1, got 0
            """)
    void badBootSettings(String backend, String problem) {
        assertProblem(ec2(backend, ""), "pool 'docker': " + problem);
    }

    @Test
    void spotGroupsAreRefusedNamingThePool() {
        assertProblem(ec2("drain_on_rebalance: true", "{min_size: 1}"),
                "pool 'docker': warm_pool: AWS allows no warm pool on a group with Spot or mixed instances");
    }

    @Test
    void reuseNeedsAStoppedWarmPool() {
        // a running or hibernated instance comes back without a boot: nothing resets its runner
        assertProblem(ec2("", "{state: running, reuse_on_scale_in: true}"),
                "pool 'docker': warm_pool.reuse_on_scale_in: needs state stopped");
        assertProblem(ec2("", "{state: hibernated, reuse_on_scale_in: true}"),
                "pool 'docker': warm_pool.reuse_on_scale_in: needs state stopped");
        assertTrue(pool(ec2("", "{state: stopped, reuse_on_scale_in: true}")).warmPool().reuseOnScaleIn());
    }

    @Test
    void fargatePoolsHaveNoWarmPool() {
        assertProblem("""
                pools:
                  - name: f
                    backend: {type: fargate, cluster: ci, task_definition: runner:3, subnets: [subnet-1]}
                    warm_pool: {min_size: 1}
                """, "pool 'f': warm_pool: applies to ec2-asg pools only");
    }

    @Test
    void theRecordKeepsItsOwnRules() {
        assertThrows(IllegalArgumentException.class, () -> new PoolConfig.WarmPool(null, -1, null, false, null));
        assertThrows(IllegalArgumentException.class, () -> new PoolConfig.WarmPool(null, 3, 2, false, null));
        PoolConfig.WarmPool defaults = new PoolConfig.WarmPool(null, 0, null, false, null);
        assertEquals(PoolConfig.WarmPool.State.STOPPED, defaults.state());
        assertEquals(PoolConfig.WarmPool.DEFAULT_RESUME_TIME, defaults.resumeTime());
        assertThrows(IllegalArgumentException.class,
                () -> new PoolConfig.Ec2Asg("g", false, null, null, null, 0));
        PoolConfig.Ec2Asg plain = new PoolConfig.Ec2Asg("g");
        assertFalse(plain.drainOnRebalance());
        assertTrue(plain.withWarmPool(defaults).warmPool() == defaults);
        assertNull(plain.warmPool());
    }
}
