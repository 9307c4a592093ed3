package io.runnerscale.it;

import io.runnerscale.lifecycle.aws.SsmRunnerTokens;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.ParameterMetadata;
import software.amazon.awssdk.services.ssm.model.ParameterStringFilter;

import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Runner tokens are encrypted with the key the stack names (RunnerTokenKmsKeyArn), on first write and on overwrite. */
@ExtendWith(MotoServer.ResetBetweenTests.class)
class SsmRunnerTokensIntegrationTest {
    static final String KEY = "alias/runnerscale-tokens";

    final SsmClient ssm = MotoServer.shared().ssm();
    final String prefix = "/runnerscale/it-" + UUID.randomUUID().toString().substring(0, 8) + "/runners/";

    ParameterMetadata metadata(String name) {
        return ssm.describeParameters(r -> r.parameterFilters(ParameterStringFilter.builder().key("Name")
                .values(name).build())).parameters().getFirst();
    }

    @Test
    void aCustomerKeyIsUsedForNewAndOverwrittenTokens() {
        SsmRunnerTokens tokens = new SsmRunnerTokens(ssm, prefix, KEY);
        tokens.put("i-0123456789abcdef0", "glrt-first", "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0");
        assertEquals(KEY, metadata(prefix + "i-0123456789abcdef0").keyId());

        tokens.put("i-0123456789abcdef0", "glrt-second", "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0");
        assertEquals(KEY, metadata(prefix + "i-0123456789abcdef0").keyId(), "the overwrite keeps the customer key");
        assertEquals("glrt-second", ssm.getParameter(r -> r.name(prefix + "i-0123456789abcdef0").withDecryption(true))
                .parameter().value());
    }

    @Test
    void withoutAKeySsmsDefaultIsUsed() {
        new SsmRunnerTokens(ssm, prefix, " ").put("i-0fedcba9876543210", "glrt-x",
                "arn:aws:ec2:us-east-1:123456789012:instance/i-0fedcba9876543210");
        assertEquals("alias/aws/ssm", metadata(prefix + "i-0fedcba9876543210").keyId());
    }
}
