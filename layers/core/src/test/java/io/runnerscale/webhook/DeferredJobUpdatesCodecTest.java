package io.runnerscale.webhook;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeferredJobUpdatesCodecTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Instant RECEIVED = Instant.parse("2026-01-07T12:00:00.250Z");
    final DeferredJobUpdatesCodec codec = new DeferredJobUpdatesCodec(JSON);

    static JobEvent full(long job) {
        return new JobEvent(new JobKey(380, job), JobStatus.SUCCESS, 77L, "rspec 1/4", "test",
                Instant.parse("2026-01-07T11:50:00Z"), Instant.parse("2026-01-07T11:51:00Z"),
                Instant.parse("2026-01-07T11:59:30Z"), 12.5, 9001L, "i-0123456789abcdef0", "script_failure",
                List.of("docker", "linux"));
    }

    static JobEvent bare(long job) {
        return new JobEvent(new JobKey(380, job), JobStatus.PENDING, null, null, null, null, null, null, null, null,
                null, null, null);
    }

    @Test
    void everyFieldSurvivesAndAbsentFieldsStayAbsent() {
        DeferredJobUpdates updates = new DeferredJobUpdates("sha256:ab", "Pipeline Hook", RECEIVED, 0,
                List.of(full(1), bare(2), full(3).withTags(List.of())));
        List<String> messages = codec.encode(updates, DeferredJobUpdatesCodec.DEFAULT_MAX_BYTES);

        assertEquals(1, messages.size());
        assertTrue(DeferredJobUpdatesCodec.isDeferredUpdates(JSON.valueToTree(JSON.convertValue(
                readTree(messages.getFirst()), Object.class))));
        DeferredJobUpdates decoded = codec.decode(messages.getFirst());
        assertEquals(updates, decoded);
        assertEquals(null, decoded.events().get(1).tags(), "unknown tags stay unknown (null), not empty");
        assertEquals(List.of(), decoded.events().get(2).tags(), "an untagged job stays untagged");
    }

    @Test
    void partsStayUnderTheLimitAndKeepTheOrder() {
        List<JobEvent> events = new ArrayList<>();
        for (long job = 1; job <= 100; job++) {
            events.add(full(job));
        }
        DeferredJobUpdates updates = new DeferredJobUpdates("d", "Pipeline Hook", RECEIVED, 0, events);
        int single = codec.encode(new DeferredJobUpdates("d", "Pipeline Hook", RECEIVED, 0, List.of(full(1))),
                100_000).getFirst().getBytes(StandardCharsets.UTF_8).length;
        int limit = single * 10;

        List<String> messages = codec.encode(updates, limit);

        // a part holds about ten messages worth of events, more as the envelope is shared: 7 to 10 parts
        assertTrue(messages.size() >= 7 && messages.size() <= 10, messages.size() + " parts");
        List<JobEvent> back = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            assertTrue(messages.get(i).getBytes(StandardCharsets.UTF_8).length <= limit, "part " + i);
            DeferredJobUpdates part = codec.decode(messages.get(i));
            assertEquals(i, part.part());
            assertFalse(part.events().isEmpty());
            back.addAll(part.events());
        }
        assertEquals(events, back);
    }

    @Test
    void anEventLargerThanTheLimitStillGetsAMessageOfItsOwn() {
        DeferredJobUpdates updates = new DeferredJobUpdates("d", "Job Hook", RECEIVED, 0, List.of(full(1), full(2)));
        List<String> messages = codec.encode(updates, 10);
        assertEquals(2, messages.size());
        assertEquals(List.of(full(2)), codec.decode(messages.get(1)).events());
    }

    @Test
    void noEventsIsOneEmptyMessage() {
        List<String> messages = codec.encode(new DeferredJobUpdates("d", "Pipeline Hook", RECEIVED, 0, List.of()), 1000);
        assertEquals(1, messages.size());
        assertEquals(List.of(), codec.decode(messages.getFirst()).events());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "not json",
            "[]",
            "{\"type\":\"scale\",\"pool\":\"docker\"}",
            "{\"type\":\"job-updates\",\"receivedAt\":\"2026-01-07T12:00:00Z\",\"events\":[]}",
            "{\"type\":\"job-updates\",\"delivery\":\"d\",\"events\":[]}",
            "{\"type\":\"job-updates\",\"delivery\":\"d\",\"receivedAt\":\"yesterday\",\"events\":[]}",
            "{\"type\":\"job-updates\",\"delivery\":\"d\",\"receivedAt\":\"2026-01-07T12:00:00Z\","
                    + "\"events\":[{\"project\":1,\"job\":2,\"status\":\"sleeping\"}]}",
            "{\"type\":\"job-updates\",\"delivery\":\"d\",\"receivedAt\":\"2026-01-07T12:00:00Z\","
                    + "\"events\":[{\"project\":0,\"job\":2,\"status\":\"pending\"}]}",
            "{\"type\":\"job-updates\",\"delivery\":\"d\",\"receivedAt\":\"2026-01-07T12:00:00Z\","
                    + "\"events\":[{\"project\":\"x\",\"job\":2,\"status\":\"pending\"}]}",
            "{\"type\":\"job-updates\",\"delivery\":\"d\",\"receivedAt\":\"2026-01-07T12:00:00Z\","
                    + "\"events\":[{\"project\":1,\"job\":2,\"status\":\"pending\",\"createdAt\":\"soon\"}]}"})
    void whatIsNotOneOfOurMessagesIsRefusedWithAReason(String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> codec.decode(message));
        assertFalse(e.getMessage().isBlank());
    }

    @Test
    void refusalsNameWhatIsWrong() {
        String badId = "{\"type\":\"job-updates\",\"delivery\":\"d\",\"receivedAt\":\"2026-01-07T12:00:00Z\","
                + "\"events\":[{\"project\":1,\"job\":2,\"status\":\"pending\"},{\"project\":0,\"job\":2,\"status\":\"pending\"}]}";
        assertTrue(assertThrows(IllegalArgumentException.class, () -> codec.decode(badId)).getMessage()
                .startsWith("events[1]"));
        String noDelivery = "{\"type\":\"job-updates\",\"receivedAt\":\"2026-01-07T12:00:00Z\",\"events\":[]}";
        assertTrue(assertThrows(IllegalArgumentException.class, () -> codec.decode(noDelivery)).getMessage()
                .contains("delivery"));
        assertFalse(DeferredJobUpdatesCodec.isDeferredUpdates(null));
    }

    /**
     * Defect (hostile tester, issue 6): a spool file edited by hand, or an SQS message not written by
     * this codec, with {@code events} not a list made decode throw a NullPointerException (an
     * uncaught stack trace in serve's job-updates worker, naming no file) instead of the
     * IllegalArgumentException its contract names; a missing list or tags that are not a list were
     * read as "no events" (the part deleted as applied) and "untagged" (the job sent to another pool).
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "\"events\":{\"a\":{\"project\":1,\"job\":2,\"status\":\"pending\"}}|events",
            "\"part\":0|events",
            "\"events\":[\"pending\"]|events[0]",
            "\"events\":[{\"project\":1,\"job\":2,\"status\":\"pending\",\"tags\":\"docker\"}]|events[0].tags",
            "\"events\":[{\"project\":1,\"job\":2,\"status\":\"pending\",\"tags\":[1]}]|events[0].tags"})
    void malformedPartsAreRefusedNamingTheField(String fieldsAndName) {
        String[] split = fieldsAndName.split("\\|");
        String message = "{\"type\":\"job-updates\",\"delivery\":\"d\",\"receivedAt\":\"2026-01-07T12:00:00Z\","
                + split[0] + "}";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> codec.decode(message));
        assertTrue(e.getMessage().contains(split[1]), e.getMessage());
    }

    private static Object readTree(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
