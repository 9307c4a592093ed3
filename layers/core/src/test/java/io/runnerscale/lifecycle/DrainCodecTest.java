package io.runnerscale.lifecycle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.job.JobKey;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DrainCodecTest {
    final ObjectMapper json = new ObjectMapper();
    final DrainCodec codec = new DrainCodec(json);

    static final String CONTRACT = """
            {"instanceId":"i-0abc","pool":"docker","asg":"asg-docker","runnerId":42,"reason":"lifecycle-hook",
             "lifecycleHook":{"name":"runnerscale-terminate","token":"tok-1"},
             "startedAt":"2025-03-01T10:00:00Z","deadline":"2025-03-01T11:00:00Z","heartbeatSeconds":30,
             "runningJobs":[{"project":7,"job":100}],"jobStartedDuringDrain":true,
             "cancelledJobs":[{"project":7,"job":99}],"outcome":"timed-out-cleaned","next":"WaitForJobs"}""";

    @Test
    void readsTheContractsJsonAndWritesItBackUnchanged() throws Exception {
        Drain drain = codec.read(CONTRACT);
        assertEquals("i-0abc", drain.instanceId());
        assertEquals(42L, drain.runnerId());
        assertEquals(DrainReason.LIFECYCLE_HOOK, drain.reason());
        assertEquals(new LifecycleHook("runnerscale-terminate", "tok-1"), drain.lifecycleHook());
        assertEquals(Instant.parse("2025-03-01T11:00:00Z"), drain.deadline());
        assertEquals(List.of(new JobKey(7, 100)), drain.runningJobs());
        assertEquals(List.of(new JobKey(7, 99)), drain.cancelledJobs());
        assertTrue(drain.jobStartedDuringDrain());
        assertEquals(DrainOutcome.TIMED_OUT_CLEANED, drain.outcome());
        assertEquals("WaitForJobs", drain.next());
        assertEquals(json.readTree(CONTRACT), json.readTree(codec.write(drain)));
        assertEquals(CONTRACT.replace("\n ", "").replace("\n", ""), codec.write(drain), "field order as in the contract");
    }

    @Test
    void nullsAndEmptiesAreWrittenExplicitly() throws Exception {
        Drain drain = Drain.start("i-1", "p", "a", null, DrainReason.SPOT, null,
                Instant.parse("2025-03-01T10:00:00Z"), java.time.Duration.ofHours(1), 10, List.of());
        JsonNode node = json.readTree(codec.write(drain));
        assertTrue(node.get("runnerId").isNull());
        assertTrue(node.get("lifecycleHook").isNull());
        assertTrue(node.get("outcome").isNull());
        assertTrue(node.get("next").isNull());
        assertEquals("spot", node.get("reason").asText());
        assertEquals("2025-03-01T10:01:40Z", node.get("deadline").asText());
        assertEquals(0, node.get("runningJobs").size());
        assertFalse(node.get("jobStartedDuringDrain").asBoolean());
        assertEquals(drain, codec.read(node.toString()));
    }

    @Test
    void aHookReturningTheInstanceToTheWarmPoolSaysSoAndOthersStayAsTheContract() throws Exception {
        String toWarm = CONTRACT.replace("\"token\":\"tok-1\"}", "\"token\":\"tok-1\",\"toWarmPool\":true}");
        Drain drain = codec.read(toWarm);
        assertEquals(new LifecycleHook("runnerscale-terminate", "tok-1", true), drain.lifecycleHook());
        assertEquals(json.readTree(toWarm), json.readTree(codec.write(drain)));
        assertFalse(codec.read(CONTRACT).lifecycleHook().toWarmPool());
        assertFalse(codec.write(codec.read(CONTRACT)).contains("toWarmPool"), "absent unless true");
    }

    @Test
    void unknownFieldsAreIgnoredAndOptionalOnesDefault() {
        Drain drain = codec.read("""
                {"instanceId":"i-1","pool":"p","asg":"a","reason":"scale-in","startedAt":"2025-03-01T10:00:00+01:00",
                 "deadline":"2025-03-01T10:30:00Z","heartbeatSeconds":5,"error":{"Error":"States.Timeout"}}""");
        assertNull(drain.runnerId());
        assertNull(drain.outcome());
        assertEquals(Instant.parse("2025-03-01T09:00:00Z"), drain.startedAt());
        assertEquals(List.of(), drain.runningJobs());
    }

    @Test
    void badFieldsAreNamedAndLongValuesAbbreviated() {
        String base = CONTRACT.replace("\n", "");
        assertMessage("drain.reason", base.replace("\"lifecycle-hook\"", "\"shutdown\""));
        assertMessage("drain.outcome", base.replace("\"timed-out-cleaned\"", "\"done\""));
        assertMessage("drain.heartbeatSeconds", base.replace("\"heartbeatSeconds\":30", "\"heartbeatSeconds\":0"));
        assertMessage("drain.runnerId", base.replace("\"runnerId\":42", "\"runnerId\":\"42\""));
        assertMessage("drain.runnerId", base.replace("\"runnerId\":42", "\"runnerId\":-1"));
        assertMessage("drain.runningJobs[0]", base.replace("{\"project\":7,\"job\":100}", "{\"project\":7}"));
        assertMessage("drain.cancelledJobs", base.replace("[{\"project\":7,\"job\":99}]", "{}"));
        assertMessage("drain.lifecycleHook", base.replace("\"token\":\"tok-1\"", "\"token\":1"));
        assertMessage("drain.startedAt", base.replace("2025-03-01T10:00:00Z", "yesterday"));
        assertMessage("drain.jobStartedDuringDrain", base.replace("\"jobStartedDuringDrain\":true", "\"jobStartedDuringDrain\":\"yes\""));
        assertMessage("drain.next", base.replace("\"next\":\"WaitForJobs\"", "\"next\":3"));
        assertMessage("drain.instanceId is missing", base.replace("\"instanceId\":\"i-0abc\",", ""));
        assertMessage("drain.pool", base.replace("\"pool\":\"docker\"", "\"pool\":\" \""));
        assertMessage("expected a JSON object", "[1]");
        assertMessage("not JSON", "{");
        String huge = "x".repeat(5000);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> codec.read(base.replace("\"lifecycle-hook\"", "\"" + huge + "\"")));
        assertTrue(e.getMessage().length() < 200, e.getMessage());
    }

    private void assertMessage(String expected, String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> codec.read(text));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void enumWireNamesRoundTrip() {
        for (DrainReason r : DrainReason.values()) {
            assertEquals(r, DrainReason.fromWireName(r.wireName()).orElseThrow());
        }
        for (DrainOutcome o : DrainOutcome.values()) {
            assertEquals(o, DrainOutcome.fromWireName(o.wireName()).orElseThrow());
        }
        assertEquals(List.of("warm", "launching", "registered", "ready", "draining", "interrupted", "returning", "gone"),
                java.util.Arrays.stream(InstanceState.values()).map(InstanceState::wireName).toList());
        for (InstanceState s : InstanceState.values()) {
            assertEquals(s, InstanceState.fromWireName(s.wireName()).orElseThrow());
        }
        assertTrue(InstanceState.fromWireName("busy").isEmpty());
        assertEquals(List.of("scale-in", "retired", "boot-timeout", "lifecycle-hook", "spot", "rebalance", "outdated"),
                java.util.Arrays.stream(DrainReason.values()).map(DrainReason::wireName).toList());
    }
}
