package io.runnerscale.bench;

import io.runnerscale.bench.lambda.LambdaStartupDriver;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * A function's classpath as the Lambda Java runtime builds it from a {@code sam build} output: the
 * runtime's own part first (here: the benchmark's driver and the runtime libraries it needs), then the
 * function's artifact (unzipped to {@code /var/task} on Lambda: its root directory), then every jar
 * of the layer ({@code /opt/java/lib/*.jar}, in name order).
 *
 * @param runtime  the driver's classes and the runtime libraries (aws-lambda-java-core, -serialization)
 * @param function the function's artifact directory, or null (the minimal handler)
 * @param layer    the layer's jars, or empty (the minimal handler without the layer)
 */
public record LambdaClasspath(List<Path> runtime, Path function, List<Path> layer) {
    public static final String LAYER_LIB = "java/lib";

    public LambdaClasspath {
        runtime = List.copyOf(runtime);
        layer = List.copyOf(layer);
    }

    /** {@code <build>/<functionId>} + {@code <build>/<layerId>/java/lib/*.jar} after {@code runtime}. */
    public static LambdaClasspath of(List<Path> runtime, Path buildDir, String functionId, String layerId) {
        Path function = null;
        if (functionId != null) {
            function = buildDir.resolve(functionId);
            if (!Files.isDirectory(function)) {
                throw new IllegalStateException(function + " is missing: build the artifacts first (make sam-build)");
            }
        }
        return new LambdaClasspath(runtime, function, layerId == null ? List.of() : layerJars(buildDir.resolve(layerId)));
    }

    /** The layer's {@code java/lib/*.jar}, sorted by name. */
    public static List<Path> layerJars(Path layerDir) {
        Path lib = layerDir.resolve(LAYER_LIB);
        if (!Files.isDirectory(lib)) {
            throw new IllegalStateException(lib + " is missing: build the artifacts first (make sam-build)");
        }
        try (Stream<Path> files = Files.list(lib)) {
            List<Path> jars = files.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList();
            if (jars.isEmpty()) {
                throw new IllegalStateException(lib + " holds no jar");
            }
            return jars;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<Path> entries() {
        List<Path> entries = new ArrayList<>(runtime);
        if (function != null) {
            entries.add(function);
        }
        entries.addAll(layer);
        return entries;
    }

    @Override
    public String toString() {
        return String.join(File.pathSeparator, entries().stream().map(Path::toString).toList());
    }

    /**
     * The runtime's part: a directory holding only the driver's package ({@code io.runnerscale.bench.lambda},
     * copied out of this program's classes into {@code workDir}), aws-lambda-java-core and
     * aws-lambda-java-serialization (the runtime's own copies on Lambda).
     */
    public static List<Path> runtimePart(Path workDir) {
        Path classes = workDir.resolve("driver-classes");
        String prefix = LambdaStartupDriver.class.getPackageName().replace('.', '/') + "/";
        try {
            Path source = codeSource(LambdaStartupDriver.class);
            if (Files.isDirectory(source)) {
                try (Stream<Path> files = Files.walk(source.resolve(prefix))) {
                    for (Path file : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                        Path target = classes.resolve(source.relativize(file).toString());
                        Files.createDirectories(target.getParent());
                        Files.copy(file, target, StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            } else {
                try (JarFile jar = new JarFile(source.toFile())) {
                    for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                        JarEntry entry = e.nextElement();
                        if (entry.getName().startsWith(prefix) && entry.getName().endsWith(".class")
                                && entry.getName().indexOf('/', prefix.length()) < 0) {
                            Path target = classes.resolve(entry.getName());
                            Files.createDirectories(target.getParent());
                            try (InputStream in = jar.getInputStream(entry)) {
                                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                            }
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return List.of(classes, codeSource(com.amazonaws.services.lambda.runtime.Context.class),
                codeSource(com.amazonaws.services.lambda.runtime.serialization.PojoSerializer.class));
    }

    private static Path codeSource(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
