package io.runnerscale.bench.lambda;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.amazonaws.services.lambda.runtime.serialization.PojoSerializer;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import com.amazonaws.services.lambda.runtime.serialization.factories.JacksonFactory;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Properties;
import java.util.UUID;

/**
 * The main class of one fresh JVM of {@code runnerscale bench-startup}: does what the Lambda Java
 * runtime does for a cold start, as far as it can be done outside Lambda, and writes when each step
 * ended. Runs on the function's Lambda classpath (its artifact + the layer's jars) plus only this
 * class, {@link MinimalHandler} and the runtime's own libraries (aws-lambda-java-core and
 * aws-lambda-java-serialization), so it must use nothing else: no runnerscale class, no library of
 * the layer.
 *
 * <pre>
 * java -cp ... LambdaStartupDriver HANDLER EVENT_FILE RESULT_FILE plain|primed
 * </pre>
 *
 * <ol>
 *   <li>loads the handler class and calls its public no-arg constructor (Lambda's init phase);</li>
 *   <li>{@code primed}: calls the handler's {@code beforeCheckpoint(null)} and {@code afterRestore(null)},
 *       what SnapStart runs at snapshot and restore time. The snapshot itself cannot be taken here, so
 *       this approximates a restored environment: classes loaded and code run by the priming, but
 *       not the restore cost;</li>
 *   <li>invokes it once with the event: a stream handler gets the bytes, a {@code RequestHandler}
 *       the event deserialized with the runtime's serializers (and its answer serialized back).</li>
 * </ol>
 *
 * The result file is a {@link Properties} file: {@code main}, {@code constructed}, {@code primed},
 * {@code answered} (wall clock, microseconds since the epoch, comparable with the parent's spawn
 * time on the same machine), {@code answer} (the serialized answer) or {@code error}. The handler's
 * own output (logs, metrics) goes to this process's stdout, not to the result file.
 */
public final class LambdaStartupDriver {
    private LambdaStartupDriver() {
    }

    public static void main(String[] args) throws Exception {
        long main = micros();
        if (args.length != 4 || !(args[3].equals("plain") || args[3].equals("primed"))) {
            System.err.println("usage: LambdaStartupDriver HANDLER EVENT_FILE RESULT_FILE plain|primed");
            System.exit(2);
        }
        String handlerSpec = args[0];
        Path eventFile = Path.of(args[1]);
        Path resultFile = Path.of(args[2]);
        boolean primed = args[3].equals("primed");
        Properties result = new Properties();
        result.setProperty("main", Long.toString(main));
        int code = 0;
        try {
            String className = handlerSpec.contains("::") ? handlerSpec.substring(0, handlerSpec.indexOf("::")) : handlerSpec;
            Class<?> handlerClass = Class.forName(className, true, LambdaStartupDriver.class.getClassLoader());
            Object handler = handlerClass.getConstructor().newInstance();
            result.setProperty("constructed", String.valueOf(micros()));
            if (primed) {
                prime(handler);
                result.setProperty("primed", String.valueOf(micros()));
            }
            byte[] event = Files.readAllBytes(eventFile);
            byte[] answer = invoke(handler, event);
            result.setProperty("answered", String.valueOf(micros()));
            result.setProperty("answer", String.valueOf(new String(answer, StandardCharsets.UTF_8).replace('\n', ' ')));
        } catch (Throwable e) {
            Throwable cause = e instanceof java.lang.reflect.InvocationTargetException ite && ite.getCause() != null
                    ? ite.getCause() : e;
            e.printStackTrace();
            result.setProperty("error", String.valueOf((cause.getClass().getName() + ": " + cause.getMessage()).replace('\n', ' ')));
            code = 1;
        }
        try (var writer = Files.newBufferedWriter(resultFile, StandardCharsets.UTF_8)) {
            result.store(writer, null);
        }
        System.out.flush();
        // non-daemon threads of SDK clients or loggers must not keep the JVM alive
        System.exit(code);
    }

    /** SnapStart's hooks, called as the runtime does when the handler registered itself (a CRaC Resource). */
    public static void prime(Object handler) throws Exception {
        Method before = crac(handler.getClass(), "beforeCheckpoint");
        Method after = crac(handler.getClass(), "afterRestore");
        if (before == null) {
            return;  // nothing to prime: the minimal handler, or a handler without SnapStart hooks
        }
        before.invoke(handler, (Object) null);
        if (after != null) {
            after.invoke(handler, (Object) null);
        }
    }

    private static Method crac(Class<?> type, String name) {
        for (Method method : type.getMethods()) {
            if (method.getName().equals(name) && method.getParameterCount() == 1
                    && method.getParameterTypes()[0].getName().equals("org.crac.Context")) {
                return method;
            }
        }
        return null;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    public static byte[] invoke(Object handler, byte[] event) throws Exception {
        Context context = new BenchContext();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (handler instanceof RequestStreamHandler stream) {
            stream.handleRequest(new ByteArrayInputStream(event), out, context);
            return out.toByteArray();
        }
        if (handler instanceof RequestHandler requestHandler) {
            Class<?> input = typeArgument(handler.getClass(), 0);
            Class<?> output = typeArgument(handler.getClass(), 1);
            Object in = serializer(input).fromJson(new ByteArrayInputStream(event));
            Object answer = requestHandler.handleRequest(in, context);
            serializer(output).toJson(answer, out);
            return out.toByteArray();
        }
        throw new IllegalArgumentException(handler.getClass().getName()
                + " is neither a RequestStreamHandler nor a RequestHandler");
    }

    /** As the runtime picks them: its event serializers for aws-lambda-java-events types, else plain Jackson. */
    @SuppressWarnings("unchecked")
    private static PojoSerializer<Object> serializer(Class<?> type) {
        ClassLoader loader = LambdaStartupDriver.class.getClassLoader();
        if (LambdaEventSerializers.isLambdaSupportedEvent(type.getName())) {
            return (PojoSerializer<Object>) LambdaEventSerializers.serializerFor(type, loader);
        }
        return (PojoSerializer<Object>) JacksonFactory.getInstance().getSerializer(type);
    }

    /** The {@code I} or {@code O} of {@code RequestHandler<I, O>} as the handler class declares it. */
    static Class<?> typeArgument(Class<?> handlerClass, int index) {
        for (Class<?> c = handlerClass; c != null; c = c.getSuperclass()) {
            for (Type type : c.getGenericInterfaces()) {
                if (type instanceof ParameterizedType p && p.getRawType() == RequestHandler.class
                        && p.getActualTypeArguments()[index] instanceof Class<?> argument) {
                    return argument;
                }
            }
        }
        return Object.class;
    }

    private static long micros() {
        return ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
    }

    /** What Lambda passes: request id, names from the environment, the function's timeout counting down. */
    private static final class BenchContext implements Context {
        private final String requestId = UUID.randomUUID().toString();
        private final long deadline = System.currentTimeMillis()
                + 1000L * Long.parseLong(System.getenv().getOrDefault("AWS_LAMBDA_FUNCTION_TIMEOUT", "30"));

        @Override
        public String getAwsRequestId() {
            return requestId;
        }

        @Override
        public String getLogGroupName() {
            return System.getenv("AWS_LAMBDA_LOG_GROUP_NAME");
        }

        @Override
        public String getLogStreamName() {
            return System.getenv("AWS_LAMBDA_LOG_STREAM_NAME");
        }

        @Override
        public String getFunctionName() {
            return System.getenv("AWS_LAMBDA_FUNCTION_NAME");
        }

        @Override
        public String getFunctionVersion() {
            return System.getenv().getOrDefault("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
        }

        @Override
        public String getInvokedFunctionArn() {
            return "arn:aws:lambda:" + System.getenv().getOrDefault("AWS_REGION", "us-east-1")
                    + ":123456789012:function:" + getFunctionName();
        }

        @Override
        public CognitoIdentity getIdentity() {
            return null;
        }

        @Override
        public ClientContext getClientContext() {
            return null;
        }

        @Override
        public int getRemainingTimeInMillis() {
            return (int) Math.max(0, deadline - System.currentTimeMillis());
        }

        @Override
        public int getMemoryLimitInMB() {
            return Integer.parseInt(System.getenv().getOrDefault("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"));
        }

        @Override
        public LambdaLogger getLogger() {
            return new LambdaLogger() {
                @Override
                public void log(String message) {
                    System.out.print(message);
                }

                @Override
                public void log(byte[] message) {
                    System.out.print(new String(message, StandardCharsets.UTF_8));
                }
            };
        }
    }
}
