package io.runnerscale.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.job.JobTags;
import io.runnerscale.testing.SharedFiles;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Properties of {@link GitLabHookParser} and {@link DeliveryKeys}: whatever a delivery holds, the
 * parser either answers with bounded events or a {@link BadRequestException} with a bounded
 * message (never another exception, which would be a 500); valid hooks keep exactly their ids,
 * statuses and tags; delivery ids are bounded, stable and distinct.
 */
class GitLabHookParserPropertyTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final GitLabHookParser PARSER = new GitLabHookParser(JSON);
    static final List<String> FIXTURES = SharedFiles.jsonFixtures("gitlab").stream().map(SharedFiles::read).toList();
    static final Pattern DELIVERY_ID = Pattern.compile("[A-Za-z0-9._:-]+");

    /** Names the parser reads, so generated objects hit its paths, not only unknown fields. */
    static final List<String> FIELDS = List.of("object_kind", "build_id", "project_id", "build_status", "pipeline_id",
            "build_name", "build_stage", "build_created_at", "build_started_at", "build_finished_at",
            "build_queued_duration", "build_failure_reason", "runner", "id", "description", "tag_list", "project",
            "object_attributes", "builds", "status", "name", "stage", "created_at", "started_at", "finished_at",
            "queued_duration", "failure_reason", "other");

    // ---- (a) nothing but a bounded BadRequestException ---------------------------------------------

    @Property(tries = 250)
    void anyJsonObjectParsesOrIsABoundedBadRequest(@ForAll("headers") String header, @ForAll("hookLikeObjects") JsonNode body) {
        parsesOrIsABoundedBadRequest(header, body.toString());
    }

    @Property(tries = 200)
    void anyTextParsesOrIsABoundedBadRequest(@ForAll("headers") String header, @ForAll("texts") String body) {
        parsesOrIsABoundedBadRequest(header, body);
    }

    /** Paths of everything the parser reads in a Job Hook ({@code a.b} for nested, {@code a.0} for list entries). */
    static final List<String> JOB_HOOK_PATHS = List.of("project_id", "build_id", "build_status", "pipeline_id",
            "build_name", "build_stage", "build_created_at", "build_started_at", "build_finished_at",
            "build_queued_duration", "build_failure_reason", "runner", "runner.id", "runner.description", "tag_list",
            "tag_list.0");
    /** The same for a Pipeline Hook. */
    static final List<String> PIPELINE_HOOK_PATHS = List.of("project", "project.id", "object_attributes",
            "object_attributes.id", "builds", "builds.0", "builds.0.id", "builds.0.status", "builds.0.name",
            "builds.0.stage", "builds.0.created_at", "builds.0.started_at", "builds.0.finished_at",
            "builds.0.queued_duration", "builds.0.failure_reason", "builds.0.runner", "builds.0.runner.id",
            "builds.0.runner.description", "builds.0.tag_list", "builds.0.tag_list.0");

    @Property(tries = 300)
    void anyValueInAnyFieldTheParserReadsParsesOrIsABoundedBadRequest(
            @ForAll("readPaths") String path, @ForAll("fieldValues") JsonNode value) {
        boolean pipeline = PIPELINE_HOOK_PATHS.contains(path);
        ObjectNode body = pipeline ? validPipelineHook() : validJobHook();
        String[] steps = path.split("[.]");
        JsonNode parent = body;
        for (int i = 0; i < steps.length - 1; i++) {
            parent = parent.isArray() ? parent.get(Integer.parseInt(steps[i])) : parent.get(steps[i]);
        }
        String last = steps[steps.length - 1];
        if (parent.isArray()) {
            ((ArrayNode) parent).set(Integer.parseInt(last), value);
        } else {
            ((ObjectNode) parent).set(last, value);
        }
        parsesOrIsABoundedBadRequest(pipeline ? "Pipeline Hook" : "Job Hook", body.toString());
        if (path.endsWith("tag_list.0") && !(value.isTextual() && JobTags.isValidTag(value.asText()))) {
            assertThrows(BadRequestException.class, () -> PARSER.parse(null, body.toString()),
                    "tag " + BadRequestException.abbreviate(value.toString()) + " is refused");
        }
    }

    static ObjectNode validJobHook() {
        ObjectNode body = JSON.createObjectNode().put("object_kind", "build").put("project_id", 380).put("build_id", 1977)
                .put("build_status", "running").put("pipeline_id", 2366).put("build_name", "test")
                .put("build_stage", "test").put("build_created_at", "2021-01-13 17:57:05 UTC")
                .put("build_started_at", "2021-02-23T02:41:37.886Z").put("build_finished_at", "2021-02-23T02:42:00Z")
                .put("build_queued_duration", 1.5).put("build_failure_reason", "script_failure");
        body.putObject("runner").put("id", 7).put("description", "i-0123456789abcdef0");
        body.putArray("tag_list").add("docker");
        return body;
    }

    static ObjectNode validPipelineHook() {
        ObjectNode body = JSON.createObjectNode().put("object_kind", "pipeline");
        body.putObject("project").put("id", 1);
        body.putObject("object_attributes").put("id", 31);
        ObjectNode build = body.putArray("builds").addObject().put("id", 380).put("status", "success")
                .put("name", "test").put("stage", "test").put("created_at", "2016-08-12 15:23:28 UTC")
                .put("started_at", "2016-08-12 15:24:28 UTC").put("finished_at", "2016-08-12 15:25:28 UTC")
                .put("queued_duration", 3).put("failure_reason", "script_failure");
        build.putObject("runner").put("id", 7).put("description", "Runner 4");
        build.putArray("tag_list").add("docker");
        return body;
    }

    @Provide
    Arbitrary<String> readPaths() {
        List<String> all = new ArrayList<>(JOB_HOOK_PATHS);
        all.addAll(PIPELINE_HOOK_PATHS);
        return Arbitraries.of(all);
    }

    @Provide
    Arbitrary<JsonNode> fieldValues() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, values(2)),
                Tuple.of(2, timestampLike().map(TextNode::valueOf)),
                Tuple.of(1, Arbitraries.strings().withChars("0123456789-+. e").ofMinLength(1).ofMaxLength(25)
                        .map(TextNode::valueOf)));
    }

    /** Texts in or near the two timestamp forms, with every part possibly out of range. */
    static Arbitrary<String> timestampLike() {
        Arbitrary<String> year = Arbitraries.oneOf(Arbitraries.integers().between(0, 10_000).map(y -> String.format("%04d", y)),
                Arbitraries.of("+999999999", "-999999999", "+10000", "+1000000000"));
        Arbitrary<String> two = Arbitraries.integers().between(0, 99).map(n -> String.format("%02d", n));
        Arbitrary<String> zone = Arbitraries.oneOf(Arbitraries.of(" UTC", "Z", " CET", "", "+18:00", "-18:01"),
                Combinators.combine(Arbitraries.of("+", "-", " +", " -"), two, Arbitraries.of("", ":"), two)
                        .as((sign, h, colon, m) -> sign + h + colon + m));
        return Combinators.combine(year, two, two, Arbitraries.of("T", " "), two, two, two, zone)
                .as((y, mo, d, sep, h, mi, sec, z) -> y + "-" + mo + "-" + d + sep + h + ":" + mi + ":" + sec + z);
    }

    @Property(tries = 250)
    void aRealPayloadWithOneValueReplacedParsesOrIsABoundedBadRequest(
            @ForAll("fixtures") String fixture, @ForAll("anyIndex") int where, @ForAll("values") JsonNode value,
            @ForAll boolean remove) throws Exception {
        JsonNode root = JSON.readTree(fixture);
        List<Slot> slots = new ArrayList<>();
        collectSlots(root, slots);
        // the parser's own fields (and entries of its lists) are where a wrong value matters
        List<Slot> read = slots.stream().filter(s -> s.name() == null || FIELDS.contains(s.name())).toList();
        Slot slot = read.get(Math.floorMod(where, read.size()));
        if (remove && slot.parent().isObject()) {
            ((ObjectNode) slot.parent()).remove(slot.name());
        } else if (slot.parent().isObject()) {
            ((ObjectNode) slot.parent()).set(slot.name(), value);
        } else {
            ((ArrayNode) slot.parent()).set(slot.index(), value);
        }
        String header = root.path("object_kind").asText().equals("build") ? "Job Hook" : "Pipeline Hook";
        parsesOrIsABoundedBadRequest(header, root.toString());
        parsesOrIsABoundedBadRequest(null, root.toString());
    }

    @Property(tries = 250)
    void aRealPayloadWithItsTextMutatedParsesOrIsABoundedBadRequest(
            @ForAll("fixtures") String fixture, @ForAll("anyIndex") int at, @ForAll("anyIndex") int length,
            @ForAll("texts") String insert) {
        int from = Math.floorMod(at, fixture.length() + 1);
        int to = Math.min(fixture.length(), from + Math.floorMod(length, 40));
        String mutated = fixture.substring(0, from) + insert + fixture.substring(to);
        parsesOrIsABoundedBadRequest(null, mutated);
        parsesOrIsABoundedBadRequest("Pipeline Hook", mutated);
        parsesOrIsABoundedBadRequest("Job Hook", fixture + insert);
    }

    record Slot(JsonNode parent, String name, int index) {
    }

    static void collectSlots(JsonNode node, List<Slot> slots) {
        if (node.isObject()) {
            node.fieldNames().forEachRemaining(name -> {
                slots.add(new Slot(node, name, -1));
                collectSlots(node.get(name), slots);
            });
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                slots.add(new Slot(node, null, i));
                collectSlots(node.get(i), slots);
            }
        }
    }

    /** The parse either gives bounded events or throws a bounded BadRequestException; anything else fails. */
    static void parsesOrIsABoundedBadRequest(String header, String body) {
        GitLabHook hook;
        try {
            hook = PARSER.parse(header, body);
        } catch (BadRequestException e) {
            assertNotNull(e.getMessage());
            assertTrue(e.getMessage().length() <= BadRequestException.MAX_MESSAGE_LENGTH,
                    "message of " + e.getMessage().length() + " chars: " + e.getMessage());
            assertTrue(e.field() == null || e.field().length() <= BadRequestException.MAX_QUOTED_LENGTH, e.field());
            return;
        }
        switch (hook) {
            case GitLabHook.Ignored ignored ->
                    assertTrue(ignored.reason().length() <= BadRequestException.MAX_MESSAGE_LENGTH, ignored.reason());
            case GitLabHook.JobUpdates updates -> {
                updates.skipped().forEach(note -> assertTrue(note.length() <= BadRequestException.MAX_MESSAGE_LENGTH, note));
                updates.events().forEach(GitLabHookParserPropertyTest::assertBounded);
            }
        }
    }

    static void assertBounded(JobEvent e) {
        for (String text : new String[]{e.name(), e.stage(), e.failureReason(), e.runnerDescription()}) {
            assertTrue(text == null || text.length() <= GitLabHookParser.MAX_TEXT_LENGTH, () -> "text of " + text.length());
        }
        assertTrue(e.pipelineId() == null || JobKey.isValidId(e.pipelineId()), "pipeline " + e.pipelineId());
        assertTrue(e.runnerId() == null || JobKey.isValidId(e.runnerId()), "runner " + e.runnerId());
        if (e.tags() != null) {
            assertTrue(e.tags().size() <= JobTags.MAX_TAGS);
            e.tags().forEach(tag -> assertTrue(JobTags.isValidTag(tag), "tag '" + tag + "'"));
        }
        for (var time : new java.time.Instant[]{e.createdAt(), e.startedAt(), e.finishedAt()}) {
            assertTrue(time == null || (!time.isBefore(Timestamps.EARLIEST) && time.isBefore(Timestamps.END)), "" + time);
        }
    }

    @Provide
    Arbitrary<String> headers() {
        return Arbitraries.oneOf(
                Arbitraries.of("Job Hook", "Pipeline Hook", " Job Hook ", "Push Hook", "", "System Hook"),
                Arbitraries.just(null),
                strings(0, 300));
    }

    @Provide
    Arbitrary<String> fixtures() {
        return Arbitraries.of(FIXTURES);
    }

    @Provide
    Arbitrary<Integer> anyIndex() {
        return Arbitraries.integers().between(0, 1_000_000);
    }

    @Provide
    Arbitrary<String> texts() {
        return Arbitraries.oneOf(
                strings(0, 50),
                Arbitraries.of("{}", "{}{}", "[]", "null", "]", "}", ",", "\"", "\\", "{\"", "1e999999", "-",
                        "{\"object_kind\":\"build\"}", " xyz", "\u0000", "\uFEFF{}", "[".repeat(2000)),
                strings(1, 20).map(s -> s.repeat(300)));
    }

    /** Strings of any well-formed text, with JSON's and the parser's special characters likely. */
    static Arbitrary<String> strings(int min, int max) {
        return Arbitraries.strings()
                .withChars("{}[]\":,\\ 0123456789-.eE+\n\t")
                .withCharRange(' ', '~')
                .withCharRange('\u00A0', '\uD7FF')
                .withCharRange('\u0000', '\u001F')
                .ofMinLength(min).ofMaxLength(max);
    }

    @Provide
    Arbitrary<JsonNode> values() {
        return values(3);
    }

    static Arbitrary<JsonNode> values(int depth) {
        JsonNodeFactory nodes = JsonNodeFactory.instance;
        Arbitrary<JsonNode> leaves = Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.just(NullNode.getInstance())),
                Tuple.of(1, Arbitraries.of(true, false).map(BooleanNode::valueOf)),
                Tuple.of(1, Arbitraries.longs().map(LongNode::valueOf)),
                Tuple.of(2, Arbitraries.longs().between(-2, 3).map(LongNode::valueOf)),
                Tuple.of(1, Arbitraries.bigIntegers().between(BigInteger.TWO.pow(63).negate().subtract(BigInteger.TEN),
                        BigInteger.TWO.pow(64)).map(BigIntegerNode::valueOf)),
                Tuple.of(1, Arbitraries.doubles().map(DoubleNode::valueOf)),
                Tuple.of(6, Arbitraries.of("pending", "running", "success", "failed", "build", "pipeline", "0", "-1",
                        "12abc", "9223372036854775807", "9223372036854775808", "", " ", "2021-01-13 17:57:05 UTC",
                        "2021-02-23T02:41:37.886Z", "+999999999-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
                        "2021-01-13 17:57:05 +9900", "2021-01-13 17:57:05 +1860", "i-0123456789abcdef0",
                        "docker").map(TextNode::valueOf)),
                Tuple.of(2, strings(0, 40).map(TextNode::valueOf)),
                Tuple.of(1, strings(1, 10).map(s -> TextNode.valueOf(s.repeat(100)))));
        if (depth == 0) {
            return leaves;
        }
        Arbitrary<JsonNode> inner = values(depth - 1);
        Arbitrary<JsonNode> arrays = inner.list().ofMaxSize(4).map(items -> {
            ArrayNode array = nodes.arrayNode();
            items.forEach(array::add);
            return array;
        });
        Arbitrary<JsonNode> objects = Combinators.combine(Arbitraries.of(FIELDS), inner).as(Field::new)
                .list().ofMaxSize(6).map(GitLabHookParserPropertyTest::object);
        return Arbitraries.frequencyOf(
                Tuple.of(4, leaves), Tuple.of(1, arrays), Tuple.of(2, objects));
    }

    record Field(String name, JsonNode value) {
    }

    static ObjectNode object(List<Field> fields) {
        ObjectNode object = JsonNodeFactory.instance.objectNode();
        fields.forEach(f -> object.set(f.name(), f.value()));
        return object;
    }

    /** Objects shaped like hooks: object_kind build or pipeline, and the parser's fields with any values. */
    @Provide
    Arbitrary<JsonNode> hookLikeObjects() {
        Arbitrary<JsonNode> anyValue = values(3);
        Arbitrary<JsonNode> builds = Combinators.combine(Arbitraries.of(FIELDS), anyValue).as(Field::new)
                .list().ofMaxSize(8).map(GitLabHookParserPropertyTest::object).map(JsonNode.class::cast)
                .list().ofMaxSize(4).map(items -> {
                    ArrayNode array = JsonNodeFactory.instance.arrayNode();
                    items.forEach(array::add);
                    return array;
                });
        return Combinators.combine(
                Arbitraries.of("build", "pipeline", "push"),
                Combinators.combine(Arbitraries.of(FIELDS), anyValue).as(Field::new).list().ofMaxSize(12),
                builds).as((kind, fields, buildList) -> {
                    ObjectNode body = object(fields);
                    body.put("object_kind", kind);
                    if (kind.equals("pipeline") && !body.has("builds")) {
                        body.set("builds", buildList);
                    }
                    return body;
                });
    }

    // ---- (b) valid hooks keep exactly their ids, statuses and tags -------------------------------------

    record Build(long jobId, JobStatus status, List<String> tags, boolean idAsText) {
    }

    @Provide
    Arbitrary<Long> ids() {
        return Arbitraries.longs().between(1, Long.MAX_VALUE);
    }

    @Provide
    Arbitrary<List<String>> tagLists() {
        Arbitrary<String> tag = Arbitraries.oneOf(
                        Arbitraries.strings().withCharRange('a', 'z').withChars("-_.:0123456789").ofMinLength(1).ofMaxLength(20),
                        strings(1, JobTags.MAX_TAG_LENGTH))
                .filter(JobTags::isValidTag);
        return tag.list().ofMaxSize(JobTags.MAX_TAGS).injectNull(0.3);
    }

    @Provide
    Arbitrary<Build> builds() {
        return Combinators.combine(ids(), Arbitraries.of(JobStatus.class), tagLists(), Arbitraries.of(true, false))
                .as(Build::new);
    }

    @Property(tries = 200)
    void aValidJobHookKeepsItsIdsStatusAndTags(@ForAll("ids") long projectId, @ForAll("builds") Build build,
                                               @ForAll("ids") long pipelineId, @ForAll boolean withHeader) {
        ObjectNode body = JSON.createObjectNode().put("object_kind", "build").put("pipeline_id", pipelineId)
                .put("build_created_at", "2021-01-13 17:57:05 UTC");
        body.set("project_id", id(projectId, build.idAsText()));
        body.set("build_id", id(build.jobId(), !build.idAsText()));
        body.put("build_status", build.status().wireName());
        setTags(body, build.tags());

        GitLabHook.JobUpdates updates = (GitLabHook.JobUpdates) PARSER.parse(withHeader ? "Job Hook" : null, body.toString());

        assertEquals(List.of(), updates.skipped());
        assertEquals(1, updates.events().size());
        JobEvent event = updates.events().getFirst();
        assertEquals(new JobKey(projectId, build.jobId()), event.key());
        assertEquals(build.status(), event.status());
        assertEquals(pipelineId, event.pipelineId());
        assertEquals(build.tags(), event.tags());
    }

    @Property(tries = 100)
    void aValidPipelineHookKeepsEachBuildsIdStatusAndTags(@ForAll("ids") long projectId, @ForAll("ids") long pipelineId,
                                                          @ForAll("buildLists") List<Build> builds, @ForAll boolean withHeader) {
        ObjectNode body = JSON.createObjectNode().put("object_kind", "pipeline");
        body.putObject("object_attributes").put("id", pipelineId);
        body.putObject("project").set("id", id(projectId, builds.size() % 2 == 0));
        ArrayNode array = body.putArray("builds");
        for (Build build : builds) {
            ObjectNode entry = array.addObject().put("status", build.status().wireName()).put("name", "job");
            entry.set("id", id(build.jobId(), build.idAsText()));
            entry.putNull("runner");
            setTags(entry, build.tags());
        }

        GitLabHook.JobUpdates updates = (GitLabHook.JobUpdates) PARSER.parse(withHeader ? "Pipeline Hook" : null,
                body.toString());

        assertEquals(List.of(), updates.skipped());
        assertEquals(builds.size(), updates.events().size());
        for (int i = 0; i < builds.size(); i++) {
            JobEvent event = updates.events().get(i);
            assertEquals(new JobKey(projectId, builds.get(i).jobId()), event.key());
            assertEquals(builds.get(i).status(), event.status());
            assertEquals(builds.get(i).tags(), event.tags());
            assertEquals(pipelineId, event.pipelineId());
        }
    }

    @Provide
    Arbitrary<List<Build>> buildLists() {
        return builds().list().ofMaxSize(12);
    }

    static JsonNode id(long id, boolean asText) {
        return asText ? TextNode.valueOf(Long.toString(id)) : LongNode.valueOf(id);
    }

    static void setTags(ObjectNode node, List<String> tags) {
        if (tags != null) {
            ArrayNode array = node.putArray("tag_list");
            tags.forEach(array::add);
        }
    }

    // ---- (c) delivery ids --------------------------------------------------------------------------------

    @Provide
    Arbitrary<String> deliveryKeys() {
        Arbitrary<String> plain = Arbitraries.strings().withCharRange('a', 'z').withCharRange('A', 'Z')
                .withCharRange('0', '9').withChars("._:-").ofMinLength(1).ofMaxLength(200);
        return Arbitraries.oneOf(
                        plain,
                        plain.map(k -> "sha256:" + k),
                        Arbitraries.randomValue(random -> new java.util.UUID(random.nextLong(), random.nextLong()).toString()),
                        strings(1, 300),
                        strings(1, 10).map(s -> s.repeat(500)))
                .filter(k -> !k.isBlank());
    }

    @Property(tries = 300)
    void aDeliveryIdIsBoundedPlainAndStable(@ForAll("deliveryKeys") String key, @ForAll("texts") String body) {
        String id = DeliveryKeys.deliveryId(key, null, body);
        assertTrue(id.length() <= DeliveryKeys.MAX_KEPT_LENGTH, id);
        assertTrue(DELIVERY_ID.matcher(id).matches(), id);
        assertEquals(id, DeliveryKeys.deliveryId(new String(key.toCharArray()), "some-uuid", "another body"),
                "the same key is the same delivery whatever else comes with it");
        assertEquals(id, DeliveryKeys.deliveryId(" " + key + "\t", null, body), "surrounding space is no part of the key");

        String fallback = DeliveryKeys.deliveryId(null, key, body);
        assertTrue(fallback.length() <= DeliveryKeys.MAX_ID_LENGTH, fallback);
        assertTrue(DELIVERY_ID.matcher(fallback).matches(), fallback);
        assertEquals(fallback, DeliveryKeys.deliveryId("", key, new String(body.toCharArray())));
    }

    @Property(tries = 300)
    void distinctKeysAreDistinctDeliveries(@ForAll("deliveryKeys") String a, @ForAll("deliveryKeys") String b) {
        Assume.that(!a.trim().equals(b.trim()));
        assertNotEquals(DeliveryKeys.deliveryId(a, null, ""), DeliveryKeys.deliveryId(b, null, ""));
        assertNotEquals(DeliveryKeys.deliveryId(null, a, "{}"), DeliveryKeys.deliveryId(null, b, "{}"));
    }

    @Property(tries = 200)
    void aKeyWrittenLikeAHashedIdIsNotTakenForOne(@ForAll("deliveryKeys") String key) {
        String id = DeliveryKeys.deliveryId(key, null, "");
        Assume.that(id.startsWith("sha256:"));
        assertNotEquals(id, DeliveryKeys.deliveryId(id, null, ""), "a sender writing another key's id as its key");
    }

    @Property(tries = 150)
    void distinctBodiesUnderOneEventUuidAreDistinctDeliveries(@ForAll("deliveryKeys") String uuid,
                                                             @ForAll("texts") String a, @ForAll("texts") String b) {
        Assume.that(!a.equals(b));
        assertNotEquals(DeliveryKeys.deliveryId(null, uuid, a), DeliveryKeys.deliveryId(null, uuid, b));
    }

    @Property(tries = 50)
    void withoutEitherHeaderThereIsNoDeliveryId(@ForAll("texts") String body) {
        assertNull(DeliveryKeys.deliveryId(null, null, body));
        assertNull(DeliveryKeys.deliveryId(" ", "\t", body));
    }
}
