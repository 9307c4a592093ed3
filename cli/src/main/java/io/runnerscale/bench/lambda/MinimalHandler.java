package io.runnerscale.bench.lambda;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The baseline of {@code runnerscale bench-startup}: a handler that does nothing but answer, so its
 * times are the JVM's and the driver's own, measured in the same run as the functions.
 */
public final class MinimalHandler implements RequestStreamHandler {
    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        int bytes = input.readAllBytes().length;
        output.write(("{\"ok\":true,\"bytes\":" + bytes + "}").getBytes(StandardCharsets.UTF_8));
    }
}
