package io.runnerscale.bench;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A {@code moto_server} child process on a free loopback port ({@code $MOTO_SERVER} or moto_server on PATH). */
final class MotoProcess implements AutoCloseable {
    private final Process process;
    final URI endpoint;

    private MotoProcess(Process process, URI endpoint) {
        this.process = process;
        this.endpoint = endpoint;
    }

    static MotoProcess start(Path log) {
        String command = System.getenv().getOrDefault("MOTO_SERVER", "moto_server");
        int port = freePort();
        Process process;
        try {
            process = new ProcessBuilder(command, "-H", "127.0.0.1", "-p", Integer.toString(port))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run '" + command + "' (moto 5.x on PATH, or set MOTO_SERVER): "
                    + e.getMessage(), e);
        }
        MotoProcess moto = new MotoProcess(process, URI.create("http://127.0.0.1:" + port));
        // also when the benchmark is interrupted (Ctrl-C): no moto_server left behind
        Runtime.getRuntime().addShutdownHook(new Thread(moto::close, "moto-server-stop"));
        try {
            moto.awaitReady(log);
        } catch (RuntimeException e) {
            moto.close();
            throw e;
        }
        return moto;
    }

    private void awaitReady(Path log) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        Instant deadline = Instant.now().plusSeconds(60);
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("moto_server exited with " + process.exitValue() + "; see " + log);
            }
            try {
                HttpResponse<Void> answer = http.send(HttpRequest.newBuilder(endpoint.resolve("/moto-api/"))
                        .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.discarding());
                if (answer.statusCode() < 500) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("moto_server did not answer at " + endpoint + " within 60 s; see " + log);
    }

    @Override
    public void close() {
        List<ProcessHandle> children = process.descendants().toList();
        process.destroy();
        children.forEach(ProcessHandle::destroy);
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                children.forEach(ProcessHandle::destroyForcibly);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
