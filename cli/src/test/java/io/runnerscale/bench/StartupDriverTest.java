package io.runnerscale.bench;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.bench.lambda.LambdaStartupDriver;
import io.runnerscale.bench.lambda.MinimalHandler;
import org.crac.Resource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The driver's pieces, and one real fresh JVM of the minimal handler. */
class StartupDriverTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path work;

    /** Echoes what the runtime's deserializer made of the event. */
    public static final class EchoHandler implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse>, Resource {
        static int primed;

        @Override
        public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
            return APIGatewayV2HTTPResponse.builder().withStatusCode(201)
                    .withBody(event.getHeaders().get("x-gitlab-event") + "|" + event.getRequestContext().getHttp().getMethod()
                            + "|" + event.getBody().length() + "|" + (context.getRemainingTimeInMillis() > 0))
                    .build();
        }

        @Override
        public void beforeCheckpoint(org.crac.Context<? extends Resource> context) {
            primed++;
        }

        @Override
        public void afterRestore(org.crac.Context<? extends Resource> context) {
            primed += 10;
        }
    }

    @Test
    void aRequestHandlerGetsTheEventAsTheRuntimeDeserializesItAndItsAnswerSerialized() throws Exception {
        byte[] event = Files.readAllBytes(Path.of("..", "events", "webhook-job-pending.json"));
        String body = JSON.readTree(event).path("body").asText();

        JsonNode answer = JSON.readTree(LambdaStartupDriver.invoke(new EchoHandler(), event));

        assertEquals(201, answer.path("statusCode").asInt(), answer.toString());
        assertEquals("Job Hook|POST|" + body.length() + "|true", answer.path("body").asText());
    }

    @Test
    void primingRunsBothSnapStartHooksAndToleratesAHandlerWithout() throws Exception {
        EchoHandler.primed = 0;
        LambdaStartupDriver.prime(new EchoHandler());
        assertEquals(11, EchoHandler.primed);
        LambdaStartupDriver.prime(new MinimalHandler());  // no hooks: nothing to do, no failure
    }

    @Test
    void aFreshJvmOfTheMinimalHandlerReportsOrderedPositiveTimesAndItsAnswer() throws Exception {
        Path event = Files.writeString(work.resolve("event.json"), "{\"sweep\": true}");
        LambdaClasspath classpath = new LambdaClasspath(LambdaClasspath.runtimePart(work), null, List.of());

        StartupBenchmark.Launch launch = StartupBenchmark.launch(Path.of(System.getProperty("java.home"), "bin", "java"),
                classpath, Map.of("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1"), MinimalHandler.class.getName(), event,
                false, work, work.resolve("out.log"), null, work);

        StartupBenchmark.Sample s = launch.sample();
        assertTrue(s.mainMs() > 0 && s.constructedMs() >= s.mainMs() && s.answeredMs() >= s.constructedMs(), s.toString());
        assertTrue(s.firstRequestMs() >= 0 && Double.isNaN(s.primeMs()), s.toString());
        assertEquals("{\"ok\":true,\"bytes\":15}", launch.answer());
        assertTrue(Files.readString(work.resolve("out.log")).contains("JAVA_TOOL_OPTIONS"),
                "the JVM picked the options up from the environment, as on Lambda");
    }
}
