package io.runnerscale.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The classpath is the runtime's part, the function's artifact and the layer's jars: nothing else. */
class LambdaClasspathTest {
    @TempDir
    Path build;

    @Test
    void functionArtifactThenEveryLayerJarInNameOrderAfterTheRuntime() throws Exception {
        Path lib = Files.createDirectories(build.resolve("CoreLayer/java/lib"));
        Files.writeString(lib.resolve("b.jar"), "");
        Files.writeString(lib.resolve("a.jar"), "");
        Files.writeString(lib.resolve("README.txt"), "not a jar");
        Files.createDirectories(build.resolve("WebhookFunction/io"));
        Files.createDirectories(build.resolve("ScalerFunction/io"));
        List<Path> runtime = List.of(Path.of("/runtime/driver"), Path.of("/runtime/core.jar"));

        LambdaClasspath classpath = LambdaClasspath.of(runtime, build, "WebhookFunction", "CoreLayer");

        assertEquals(List.of(Path.of("/runtime/driver"), Path.of("/runtime/core.jar"), build.resolve("WebhookFunction"),
                lib.resolve("a.jar"), lib.resolve("b.jar")), classpath.entries());
        assertEquals(String.join(java.io.File.pathSeparator, classpath.entries().stream().map(Path::toString).toList()),
                classpath.toString());
    }

    @Test
    void aMissingArtifactOrLayerIsAnErrorNotAShorterClasspath() throws Exception {
        Files.createDirectories(build.resolve("CoreLayer/java/lib"));
        assertThrows(IllegalStateException.class, () -> LambdaClasspath.of(List.of(), build, "WebhookFunction", "CoreLayer"));
        Files.createDirectories(build.resolve("WebhookFunction"));
        IllegalStateException empty = assertThrows(IllegalStateException.class,
                () -> LambdaClasspath.of(List.of(), build, "WebhookFunction", "CoreLayer"));
        assertTrue(empty.getMessage().contains("no jar"), empty.getMessage());
    }

    @Test
    void runtimePartHoldsOnlyTheDriversPackageAndTheRuntimeLibraries() throws Exception {
        List<Path> runtime = LambdaClasspath.runtimePart(build);

        assertEquals(3, runtime.size());
        Path classes = runtime.get(0);
        try (Stream<Path> files = Files.walk(classes)) {
            List<String> names = files.filter(Files::isRegularFile).map(p -> classes.relativize(p).toString()).sorted().toList();
            assertTrue(names.contains("io/runnerscale/bench/lambda/LambdaStartupDriver.class"), names.toString());
            assertTrue(names.contains("io/runnerscale/bench/lambda/MinimalHandler.class"), names.toString());
            assertTrue(names.stream().allMatch(n -> n.startsWith("io/runnerscale/bench/lambda/")), names.toString());
        }
        assertTrue(runtime.get(1).getFileName().toString().startsWith("aws-lambda-java-core"), runtime.toString());
        assertTrue(runtime.get(2).getFileName().toString().startsWith("aws-lambda-java-serialization"), runtime.toString());
    }
}
