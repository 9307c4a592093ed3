package io.runnerscale.lifecycle.aws;

import io.runnerscale.lifecycle.RetryableError;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;

/** Which AWS failures a drain step retries: throttling, a 5xx, the service unreachable. */
public final class AwsFailures {
    private AwsFailures() {
    }

    /** {@code failure} as a {@link RetryableError} when asking again may help, else unchanged. */
    public static RuntimeException classify(String call, SdkException failure) {
        if (failure instanceof AwsServiceException service
                && (service.isThrottlingException() || service.statusCode() >= 500)) {
            return new RetryableError(call + ": " + errorCode(service) + " (" + service.statusCode() + ")", failure);
        }
        if (failure instanceof SdkClientException) {
            return new RetryableError(call + ": " + failure.getClass().getSimpleName(), failure);
        }
        return failure;
    }

    static String errorCode(AwsServiceException e) {
        return e.awsErrorDetails() != null && e.awsErrorDetails().errorCode() != null
                ? e.awsErrorDetails().errorCode() : "error";
    }

    static String message(AwsServiceException e) {
        String message = e.awsErrorDetails() != null ? e.awsErrorDetails().errorMessage() : e.getMessage();
        return message == null ? "" : message;
    }
}
