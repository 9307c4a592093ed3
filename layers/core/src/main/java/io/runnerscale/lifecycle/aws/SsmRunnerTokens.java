package io.runnerscale.lifecycle.aws;

import io.runnerscale.lifecycle.RunnerTokens;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.ssm.SsmClient;
import software.amazon.awssdk.services.ssm.model.GetParametersByPathResponse;
import software.amazon.awssdk.services.ssm.model.Parameter;
import software.amazon.awssdk.services.ssm.model.ParameterAlreadyExistsException;
import software.amazon.awssdk.services.ssm.model.ParameterNotFoundException;
import software.amazon.awssdk.services.ssm.model.ParameterType;
import software.amazon.awssdk.services.ssm.model.ResourceTypeForTagging;
import software.amazon.awssdk.services.ssm.model.Tag;

import java.util.ArrayList;
import java.util.List;

/**
 * Runner tokens as SSM SecureStrings at {@code <prefix><instance-id>}, tagged
 * {@code runnerscale:instance-arn = <instance ARN>} (the instance role reads only the parameter
 * whose tag equals its {@code ec2:SourceInstanceARN}).
 *
 * <p>PutParameter refuses tags together with Overwrite: a new parameter is created with its tag; one
 * that exists (a retried launch) is overwritten, then tagged with AddTagsToResource.
 */
public final class SsmRunnerTokens implements RunnerTokens {
    public static final String INSTANCE_ARN_TAG = "runnerscale:instance-arn";

    private final SsmClient ssm;
    private final String prefix;
    private final String kmsKeyId;

    public SsmRunnerTokens(SsmClient ssm, String prefix) {
        this(ssm, prefix, null);
    }

    /** @param kmsKeyId the customer managed key for the SecureStrings; null or blank: SSM's default {@code aws/ssm} */
    public SsmRunnerTokens(SsmClient ssm, String prefix, String kmsKeyId) {
        this.ssm = ssm;
        this.prefix = prefix;
        this.kmsKeyId = kmsKeyId == null || kmsKeyId.isBlank() ? null : kmsKeyId.strip();
    }

    public String parameterName(String instanceId) {
        return prefix + instanceId;
    }

    @Override
    public void put(String instanceId, String token, String instanceArn) {
        String name = parameterName(instanceId);
        Tag tag = Tag.builder().key(INSTANCE_ARN_TAG).value(instanceArn).build();
        try {
            try {
                ssm.putParameter(r -> r.name(name).type(ParameterType.SECURE_STRING).value(token).tags(tag)
                        .keyId(kmsKeyId).description("GitLab runner token of " + instanceId));
            } catch (ParameterAlreadyExistsException exists) {
                ssm.putParameter(r -> r.name(name).type(ParameterType.SECURE_STRING).value(token).keyId(kmsKeyId)
                        .overwrite(true));
                ssm.addTagsToResource(r -> r.resourceType(ResourceTypeForTagging.PARAMETER).resourceId(name).tags(tag));
            }
        } catch (SdkException e) {
            // never the token in a message
            throw AwsFailures.classify("SSM PutParameter " + name, e);
        }
    }

    @Override
    public boolean exists(String instanceId) {
        String name = parameterName(instanceId);
        try {
            ssm.getParameter(r -> r.name(name).withDecryption(false));
            return true;
        } catch (ParameterNotFoundException missing) {
            return false;
        } catch (SdkException e) {
            throw AwsFailures.classify("SSM GetParameter " + name, e);
        }
    }

    @Override
    public void delete(String instanceId) {
        String name = parameterName(instanceId);
        try {
            ssm.deleteParameter(r -> r.name(name));
        } catch (ParameterNotFoundException gone) {
            // deleted already: drains repeat this step
        } catch (SdkException e) {
            throw AwsFailures.classify("SSM DeleteParameter " + name, e);
        }
    }

    /**
     * GetParametersByPath on the prefix, one level, every page, without decryption (the values are
     * never read: SSM returns SecureStrings encrypted then, and no kms:Decrypt is needed).
     */
    @Override
    public List<String> list() {
        String path = prefix.endsWith("/") && prefix.length() > 1 ? prefix.substring(0, prefix.length() - 1) : prefix;
        List<String> ids = new ArrayList<>();
        try {
            for (GetParametersByPathResponse page : ssm.getParametersByPathPaginator(r -> r.path(path).recursive(false)
                    .withDecryption(false).maxResults(10))) {
                for (Parameter parameter : page.parameters()) {
                    if (parameter.name().startsWith(prefix)) {
                        ids.add(parameter.name().substring(prefix.length()));
                    }
                }
            }
        } catch (SdkException e) {
            throw AwsFailures.classify("SSM GetParametersByPath " + path, e);
        }
        return ids;
    }
}
