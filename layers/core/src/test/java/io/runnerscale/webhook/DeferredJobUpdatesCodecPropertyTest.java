package io.runnerscale.webhook;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Deferred job updates survive the queue: every event, every field, in order, in messages that fit. */
class DeferredJobUpdatesCodecPropertyTest {
    final DeferredJobUpdatesCodec codec = new DeferredJobUpdatesCodec(new ObjectMapper());

    @Property(tries = 200)
    void everyEventSurvivesSplittingInOrder(@ForAll("events") @Size(max = 300) List<JobEvent> events,
                                            @ForAll @IntRange(min = 2_000, max = 60_000) int maxBytes,
                                            @ForAll("deliveryIds") String deliveryId) {
        DeferredJobUpdates updates = new DeferredJobUpdates(deliveryId, "Pipeline Hook",
                Instant.parse("2026-01-07T12:00:00.123Z"), 0, events);
        List<String> messages = codec.encode(updates, maxBytes);

        List<JobEvent> decoded = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            DeferredJobUpdates part = codec.decode(messages.get(i));
            assertEquals(i, part.part());
            assertEquals(deliveryId, part.deliveryId());
            assertEquals(updates.receivedAt(), part.receivedAt());
            assertEquals("Pipeline Hook", part.kind());
            int bytes = messages.get(i).getBytes(StandardCharsets.UTF_8).length;
            assertTrue(bytes <= maxBytes || part.events().size() == 1,
                    "part " + i + " has " + bytes + " bytes for a limit of " + maxBytes);
            decoded.addAll(part.events());
        }
        assertEquals(events, decoded);
    }

    @Property(tries = 100)
    void garbageIsRefusedWithAReason(@ForAll @Size(max = 200) String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> codec.decode(text));
        assertTrue(e.getMessage().length() < 400, e.getMessage());
    }

    @Provide
    Arbitrary<String> deliveryIds() {
        return Arbitraries.oneOf(Arbitraries.strings().alpha().numeric().withChars("-:._").ofMinLength(1).ofMaxLength(128),
                Arbitraries.strings().withCharRange('0', 'f').ofLength(64).map(hex -> "sha256:" + hex));
    }

    @Provide
    Arbitrary<List<JobEvent>> events() {
        Arbitrary<JobKey> keys = Combinators.combine(Arbitraries.longs().between(1, Long.MAX_VALUE),
                Arbitraries.longs().between(1, Long.MAX_VALUE)).as(JobKey::new);
        Arbitrary<String> text = Arbitraries.strings().ofMaxLength(255).injectNull(0.3);
        Arbitrary<Instant> times = Arbitraries.longs().between(0, 253_402_300_799L)
                .map(Instant::ofEpochSecond).injectNull(0.3);
        Arbitrary<List<String>> tags = Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(20).list().ofMaxSize(5)
                .injectNull(0.3);
        Arbitrary<JobEvent> event = Combinators.combine(
                keys, Arbitraries.of(JobStatus.class), Arbitraries.longs().between(1, 1_000_000).injectNull(0.3),
                text, text, times, times, times).as((key, status, pipeline, name, stage, created, started, finished) ->
                new Object[]{key, status, pipeline, name, stage, created, started, finished})
                .flatMap(head -> Combinators.combine(
                        Arbitraries.doubles().between(0, 1e6).injectNull(0.3),
                        Arbitraries.longs().between(1, Long.MAX_VALUE).injectNull(0.3),
                        text, text, tags).as((queued, runnerId, description, failure, tagList) -> new JobEvent(
                        (JobKey) head[0], (JobStatus) head[1], (Long) head[2], (String) head[3], (String) head[4],
                        (Instant) head[5], (Instant) head[6], (Instant) head[7], queued, runnerId, description,
                        failure, tagList)));
        return event.list().ofMaxSize(300);
    }
}
