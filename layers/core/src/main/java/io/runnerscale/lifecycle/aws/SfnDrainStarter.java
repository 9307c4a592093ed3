package io.runnerscale.lifecycle.aws;

import io.runnerscale.lifecycle.Drain;
import io.runnerscale.lifecycle.DrainCodec;
import io.runnerscale.lifecycle.DrainStarter;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sfn.SfnClient;
import software.amazon.awssdk.services.sfn.model.ExecutionAlreadyExistsException;
import software.amazon.awssdk.services.sfn.model.ExecutionDoesNotExistException;
import software.amazon.awssdk.services.sfn.model.ExecutionStatus;

/**
 * Drain executions of a Standard state machine. StartExecution with the name and input of a running
 * execution returns that execution (AWS's idempotency); a name already used answers
 * ExecutionAlreadyExists: the execution is then described, and one still running (a duplicate event,
 * possibly carrying different details) counts as this drain, while one that ended leaves the name
 * spent for 90 days: {@link Outcome#NAME_USED}.
 */
public final class SfnDrainStarter implements DrainStarter {
    private final SfnClient sfn;
    private final String stateMachineArn;
    private final DrainCodec codec;

    public SfnDrainStarter(SfnClient sfn, String stateMachineArn, DrainCodec codec) {
        this.sfn = sfn;
        this.stateMachineArn = stateMachineArn;
        this.codec = codec;
    }

    @Override
    public Outcome start(Drain drain, int attempt) {
        String name = DrainStarter.executionName(drain, attempt);
        String input = codec.write(drain);
        try {
            sfn.startExecution(r -> r.stateMachineArn(stateMachineArn).name(name).input(input));
            return Outcome.STARTED;
        } catch (ExecutionAlreadyExistsException exists) {
            return existing(name);
        } catch (SdkException e) {
            throw AwsFailures.classify("Step Functions StartExecution " + name, e);
        }
    }

    private Outcome existing(String name) {
        String executionArn = executionArn(stateMachineArn, name);
        try {
            ExecutionStatus status = sfn.describeExecution(r -> r.executionArn(executionArn)).status();
            return status == ExecutionStatus.RUNNING || status == ExecutionStatus.PENDING_REDRIVE
                    ? Outcome.ALREADY_RUNNING : Outcome.NAME_USED;
        } catch (ExecutionDoesNotExistException gone) {
            return Outcome.NAME_USED;
        } catch (SdkException e) {
            throw AwsFailures.classify("Step Functions DescribeExecution " + name, e);
        }
    }

    /** {@code arn:aws:states:r:a:stateMachine:M} -> {@code arn:aws:states:r:a:execution:M:<name>}. */
    static String executionArn(String stateMachineArn, String name) {
        return stateMachineArn.replaceFirst(":stateMachine:", ":execution:") + ":" + name;
    }
}
