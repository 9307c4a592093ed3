package io.runnerscale.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.runnerscale.cli.MainRun.main;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code runnerscale serve} command lines that cannot run, through {@link Main#run} as a user sees
 * them: a plain message naming the option, a non-zero exit, no Java exception, and nothing left running.
 * (A serve that does start never returns from {@code Main.run}; the timeout turns that into a failure.)
 */
@Timeout(60)
class ServeCommandLineTest {
    @TempDir
    Path dir;

    private static void assertPlain(MainRun r) {
        assertFalse(r.err().contains("Exception"), "no Java exception shown: " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertFalse(r.out().contains("serving on"), "nothing started: " + r.out());
    }

    @Test
    void portOutOfRangeIsAUsageError() {
        for (String port : new String[]{"70000", "-1", "65536"}) {
            MainRun r = main("serve", "--port", port, "--in-memory");
            assertEquals(2, r.code(), port + ": " + r.err());
            assertTrue(r.err().contains("error: --port: " + port + " is not a port (0 to 65535; 0 = any free port)"), r.err());
            assertTrue(r.err().contains("usage: runnerscale serve"), r.err());
            assertPlain(r);
        }
    }

    @Test
    void portInUseIsAPlainMessage() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            MainRun r = main("serve", "--port", Integer.toString(port), "--in-memory");
            assertEquals(1, r.code(), r.err());
            assertEquals("error: port " + port + " on 127.0.0.1 is in use; choose another with --port\n", r.err());
            assertPlain(r);
        }
    }

    @Test
    void bindAddressNotOfThisMachineIsAPlainMessage() {
        // 203.0.113.0/24 is TEST-NET-3: never an address of this machine
        MainRun r = main("serve", "--port", "0", "--bind", "203.0.113.7", "--in-memory");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().startsWith("error: cannot listen on port 0 on 203.0.113.7 ("), r.err());
        assertTrue(r.err().contains("choose another --bind or --port"), r.err());
        assertPlain(r);
    }

    @Test
    void dataDirThatIsAFileIsAPlainMessage() throws IOException {
        Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
        MainRun r = main("serve", "--port", "0", "--data-dir", file.toString());
        assertEquals(1, r.code(), r.err());
        assertEquals("error: --data-dir " + file + " is not a directory; choose another with --data-dir, or --in-memory\n",
                r.err());
        assertPlain(r);

        MainRun below = main("serve", "--port", "0", "--data-dir", file.resolve("sub").toString());
        assertEquals(1, below.code(), below.err());
        assertTrue(below.err().startsWith("error: --data-dir " + file.resolve("sub") + " cannot be created"), below.err());
        assertPlain(below);
    }

    @Test
    void dataDirAndInMemoryTogetherIsAUsageError() {
        MainRun r = main("serve", "--data-dir", dir.toString(), "--in-memory");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--data-dir and --in-memory exclude each other"), r.err());
        assertPlain(r);
    }

    @Test
    void missingConfigFileIsAUsageErrorNamingIt() {
        Path missing = dir.resolve("pools.yaml");
        MainRun r = main("serve", "--port", "0", "--in-memory", "--config", missing.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("error: --config: " + missing + " does not exist"), r.err());
        assertPlain(r);
    }

    @Test
    void lockedDataDirIsAPlainMessage() throws Exception {
        Path dataDir = dir.resolve("state");
        try (ServeCommand.Running first = ServeCommand.start(List.of("--port", "0", "--data-dir",
                dataDir.toString(), "--tick", "1h"), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))) {
            MainRun r = main("serve", "--port", "0", "--data-dir", dataDir.toString());
            assertEquals(1, r.code(), r.err());
            assertTrue(r.err().startsWith("error: the data directory " + dataDir + " is in use by another runnerscale serve"),
                    r.err());
            assertPlain(r);
        }
    }
}
