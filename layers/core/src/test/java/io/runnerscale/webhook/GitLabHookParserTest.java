package io.runnerscale.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.job.JobTags;
import io.runnerscale.testing.SharedFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.runnerscale.job.JobStatus.CREATED;
import static io.runnerscale.job.JobStatus.FAILED;
import static io.runnerscale.job.JobStatus.PENDING;
import static io.runnerscale.job.JobStatus.RUNNING;
import static io.runnerscale.job.JobStatus.SKIPPED;
import static io.runnerscale.job.JobStatus.SUCCESS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class GitLabHookParserTest {
    static final ObjectMapper JSON = new ObjectMapper();
    final GitLabHookParser parser = new GitLabHookParser(JSON);

    /** What one event of a fixture must say. Times are ISO instants or null. */
    record Expected(long project, long job, JobStatus status, Long pipeline, Long runnerId, String runnerDescription,
                    String created, String started, String finished, Double queued) {
    }

    static final String SHARED = "shared-runners-manager-6.gitlab.com";

    static final Map<String, List<Expected>> EXPECTED = Map.of(
            "gitlab-doc_job_hook.json", List.of(
                    new Expected(380, 1977, CREATED, 2366L, 380987L, SHARED, "2021-02-23T02:41:37.886Z", null, null, 1095.588715)),
            "go-gitlab_testdata_webhooks_build.json", List.of(
                    new Expected(380, 1977, CREATED, 2366L, 380987L, SHARED, "2021-02-23T02:41:37.886Z", null, null, null)),
            "go-gitlab_testdata_webhooks_job.json", List.of(
                    new Expected(31537070, 3580121225L, SUCCESS, 743121198L, 12270837L,
                            "4-blue.shared.runners-manager.gitlab.com/default",
                            "2023-01-10T13:50:02Z", "2023-01-10T13:50:05Z", "2023-01-10T13:50:54Z", 0.193009)),
            "go-playground-webhooks_testdata_gitlab_job-event.json", List.of(
                    new Expected(380, 1977, CREATED, 2366L, 380987L, SHARED, null, null, null, 0.9678)),
            "nuecagram_job_hook_failed.json", List.of(
                    new Expected(282, 473579, FAILED, 53093L, 205L, "Runner 4",
                            "2024-06-11T03:02:25Z", "2024-06-11T03:13:06Z", "2024-06-11T03:13:44Z", 0.537157)),
            "gitlab-doc_pipeline_hook.json", List.of(
                    new Expected(1, 380, SKIPPED, 31L, null, null, "2016-08-12T15:23:28Z", null, null, null),
                    new Expected(1, 377, SUCCESS, 31L, 380987L, SHARED, "2016-08-12T15:23:28Z", "2016-08-12T15:26:12Z", "2016-08-12T15:26:29Z", 196.0),
                    new Expected(1, 378, FAILED, 31L, 380987L, SHARED, "2016-08-12T15:23:28Z", "2016-08-12T15:26:12Z", "2016-08-12T15:26:29Z", 196.0),
                    new Expected(1, 376, SUCCESS, 31L, 380987L, SHARED, "2016-08-12T15:23:28Z", "2016-08-12T15:24:56Z", "2016-08-12T15:25:26Z", 196.0),
                    new Expected(1, 379, CREATED, 31L, null, null, "2016-08-12T15:23:28Z", null, null, null)),
            "go-playground-webhooks_testdata_gitlab_pipeline-event.json", List.of(
                    new Expected(1, 380, SKIPPED, 31L, null, null, "2016-08-12T15:23:28Z", null, null, null),
                    new Expected(1, 377, SUCCESS, 31L, 380987L, SHARED, "2016-08-12T15:23:28Z", "2016-08-12T15:26:12Z", null, null),
                    new Expected(1, 378, SUCCESS, 31L, 380987L, SHARED, "2016-08-12T15:23:28Z", "2016-08-12T15:26:12Z", "2016-08-12T15:26:29Z", null),
                    new Expected(1, 376, SUCCESS, 31L, 380987L, SHARED, "2016-08-12T15:23:28Z", "2016-08-12T15:24:56Z", "2016-08-12T15:25:26Z", null),
                    new Expected(1, 379, CREATED, 31L, null, null, "2016-08-12T15:23:28Z", null, null, null)),
            "nuecagram_pipeline_hook_running.json", List.of(
                    new Expected(105, 481131, SUCCESS, 53479L, null, null, "2024-06-19T03:05:35Z", "2024-06-19T03:05:36Z", "2024-06-19T03:05:51Z", 1.460193),
                    new Expected(105, 480895, RUNNING, 53479L, null, null, "2024-06-19T02:20:18Z", "2024-06-19T03:05:52Z", null, 0.4089),
                    new Expected(105, 480896, PENDING, 53479L, null, null, "2024-06-19T02:20:18Z", null, null, null),
                    new Expected(105, 480897, PENDING, 53479L, null, null, "2024-06-19T02:20:18Z", null, null, null)));

    static Stream<Path> gitlabFixtures() {
        List<Path> files = SharedFiles.jsonFixtures("gitlab");
        assertTrue(files.size() >= EXPECTED.size(), "fixtures found: " + files);
        return files.stream();
    }

    static String eventHeader(JsonNode body) {
        return switch (body.path("object_kind").asText()) {
            case "build" -> GitLabHookParser.JOB_HOOK;
            case "pipeline" -> GitLabHookParser.PIPELINE_HOOK;
            default -> fail("fixture of kind " + body.path("object_kind"));
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gitlabFixtures")
    void everyFixtureParsesToTheJobsItDescribes(Path file) throws Exception {
        String body = SharedFiles.read(file);
        JsonNode raw = JSON.readTree(body);
        String header = eventHeader(raw);

        GitLabHook.JobUpdates updates = assertInstanceOf(GitLabHook.JobUpdates.class, parser.parse(header, body));

        assertEquals(header, updates.kind());
        assertEquals(List.of(), updates.skipped());
        if (header.equals(GitLabHookParser.JOB_HOOK)) {
            assertEquals(1, updates.events().size(), "a Job Hook is one job");
            assertEquals(raw.get("build_id").asLong(), updates.events().getFirst().key().jobId());
            assertEquals(raw.get("project_id").asLong(), updates.events().getFirst().key().projectId());
        } else {
            assertEquals(raw.get("builds").size(), updates.events().size(), "one event per builds[] entry");
            for (JobEvent event : updates.events()) {
                assertEquals(raw.at("/project/id").asLong(), event.key().projectId(), "project id from project.id");
            }
        }
        for (JobEvent event : updates.events()) {
            assertNull(event.tags(), "GitLab's hooks carry no job tags");
            assertNull(event.instanceId(), "none of these runners is one of ours");
        }

        List<Expected> expected = EXPECTED.get(file.getFileName().toString());
        if (expected == null) {
            fail("new fixture " + file.getFileName() + ": add its expected events to EXPECTED");
        }
        assertEquals(expected, updates.events().stream().map(GitLabHookParserTest::describe).toList());

        // Without the header the body's object_kind decides, with the same result.
        assertEquals(updates, parser.parse(null, body));
        assertEquals(updates, parser.parse(" ", body));
    }

    static Expected describe(JobEvent e) {
        return new Expected(e.key().projectId(), e.key().jobId(), e.status(), e.pipelineId(), e.runnerId(),
                e.runnerDescription(), text(e.createdAt()), text(e.startedAt()), text(e.finishedAt()),
                e.queuedDurationSeconds());
    }

    static String text(Instant instant) {
        return instant == null ? null : instant.toString();
    }

    @Test
    void jobHookCarriesNamesStageAndFailureReason() {
        JobEvent e = onlyEvent(parser.parse("Job Hook", fixture("nuecagram_job_hook_failed.json")));
        assertEquals(new JobKey(282, 473579), e.key());
        assertEquals("publish-badge", e.name());
        assertEquals("badge", e.stage());
        assertEquals("script_failure", e.failureReason());
    }

    @Test
    void pipelineBuildsCarryNamesStagesAndFailureReasons() {
        GitLabHook.JobUpdates u = (GitLabHook.JobUpdates) parser.parse("Pipeline Hook", fixture("gitlab-doc_pipeline_hook.json"));
        JobEvent failed = u.events().get(2);
        assertEquals("test-build", failed.name());
        assertEquals("test", failed.stage());
        assertEquals("script_failure", failed.failureReason());
        assertNull(u.events().get(1).failureReason());
    }

    // ---- runner description as instance id ----------------------------------------------------

    @ParameterizedTest(name = "runner description ''{0}'' -> instance {1}")
    @CsvSource(quoteCharacter = '"', value = {
            "i-0123456789abcdef0,   i-0123456789abcdef0",
            "i-01234567,            i-01234567",
            "' i-0abc12345678 ',    i-0abc12345678",
            "Runner 4,              ",
            "i-XYZ,                 ",
            "i-0123456789abcdef0 x, ",
    })
    void runnerDescriptionNamesTheInstance(String description, String instance) {
        ObjectNode body = jobHook("running");
        ((ObjectNode) body.get("runner")).put("description", description.replace("'", ""));
        JobEvent e = onlyEvent(parser.parse("Job Hook", body.toString()));
        assertEquals(instance, e.instanceId());
    }

    @Test
    void tagListIsHonouredWhenPresent() {
        ObjectNode body = jobHook("pending");
        body.putArray("tag_list").add("docker").add("arm64");
        assertEquals(List.of("docker", "arm64"), onlyEvent(parser.parse("Job Hook", body.toString())).tags());
    }

    // ---- bad deliveries --------------------------------------------------------------------------

    @ParameterizedTest(name = "without {0}")
    @ValueSource(strings = {"build_id", "project_id", "build_status"})
    void missingRequiredJobFieldIsABadRequestNamingIt(String field) {
        ObjectNode body = jobHook("pending");
        body.remove(field);
        BadRequestException e = assertThrows(BadRequestException.class, () -> parser.parse("Job Hook", body.toString()));
        assertEquals(field, e.field());
        assertTrue(e.getMessage().contains(field), e.getMessage());

        body.putNull(field);
        assertEquals(field, assertThrows(BadRequestException.class,
                () -> parser.parse("Job Hook", body.toString())).field());
    }

    static Stream<Arguments> wrongFields() {
        return Stream.of(
                Arguments.of("build_id", "\"abc\""),
                Arguments.of("build_id", "1.5"),
                Arguments.of("project_id", "true"),
                Arguments.of("project_id", "{}"),
                Arguments.of("build_status", "\"\""),
                Arguments.of("build_status", "42"),
                Arguments.of("build_created_at", "\"yesterday\""),
                Arguments.of("build_started_at", "\"2021-13-45 99:00:00 UTC\""));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("wrongFields")
    void wrongRequiredOrTimestampFieldIsABadRequestNamingIt(String field, String json) throws Exception {
        ObjectNode body = jobHook("pending");
        body.set(field, JSON.readTree(json));
        BadRequestException e = assertThrows(BadRequestException.class, () -> parser.parse("Job Hook", body.toString()));
        assertEquals(field, e.field());
        assertTrue(e.getMessage().contains(field), e.getMessage());
    }

    @Test
    void idsSentAsDigitStringsAreAccepted() {
        ObjectNode body = jobHook("pending");
        body.put("build_id", "1977").put("project_id", "380");
        assertEquals(new JobKey(380, 1977), onlyEvent(parser.parse("Job Hook", body.toString())).key());
    }

    @Test
    void pipelineWithoutProjectIdIsABadRequestNamingIt() {
        ObjectNode body = (ObjectNode) readFixture("nuecagram_pipeline_hook_running.json");
        ((ObjectNode) body.get("project")).remove("id");
        BadRequestException e = assertThrows(BadRequestException.class, () -> parser.parse("Pipeline Hook", body.toString()));
        assertEquals("project.id", e.field());
    }

    @ParameterizedTest(name = "builds[1] without {0}")
    @CsvSource({"id, builds[1].id", "status, builds[1].status"})
    void pipelineBuildWithoutIdOrStatusIsSkippedNamingIt(String field, String path) {
        ObjectNode body = (ObjectNode) readFixture("nuecagram_pipeline_hook_running.json");
        ((ObjectNode) body.get("builds").get(1)).remove(field);
        assertSkippedNaming(body, path);
    }

    /** One unreadable build is skipped with a note naming it; the others are read. */
    private void assertSkippedNaming(ObjectNode body, String path) {
        GitLabHook.JobUpdates updates = (GitLabHook.JobUpdates) parser.parse("Pipeline Hook", body.toString());
        assertEquals(body.get("builds").size() - 1, updates.events().size(), "the other builds are read");
        assertTrue(updates.skipped().stream().anyMatch(note -> note.contains(path)), updates.skipped().toString());
    }

    @Test
    void aPipelineHookWhoseBuildsAllFailIsABadRequest() {
        ObjectNode body = (ObjectNode) readFixture("nuecagram_pipeline_hook_running.json");
        body.get("builds").forEach(build -> ((ObjectNode) build).remove("id"));
        BadRequestException e = assertThrows(BadRequestException.class, () -> parser.parse("Pipeline Hook", body.toString()));
        assertEquals("builds", e.field());
        assertTrue(e.getMessage().contains("builds[0].id"), e.getMessage());
    }

    @Test
    void notesOnSkippedBuildsAreBounded() {
        ObjectNode body = (ObjectNode) readFixture("nuecagram_pipeline_hook_running.json");
        var builds = body.putArray("builds");
        for (int i = 0; i < 500; i++) {
            builds.addObject().put("id", i == 0 ? 1 : 0).put("status", "pending");
        }
        GitLabHook.JobUpdates updates = (GitLabHook.JobUpdates) parser.parse("Pipeline Hook", body.toString());
        assertEquals(1, updates.events().size());
        assertEquals(GitLabHookParser.MAX_SKIPPED_NOTES, updates.skipped().size());
    }

    @Test
    void pipelineBuildWithBadTimestampNamesItsPath() {
        ObjectNode body = (ObjectNode) readFixture("gitlab-doc_pipeline_hook.json");
        ((ObjectNode) body.get("builds").get(3)).put("finished_at", "soon");
        assertSkippedNaming(body, "builds[3].finished_at");
    }

    @Test
    void buildsThatAreNotAListAreABadRequest() {
        ObjectNode body = (ObjectNode) readFixture("nuecagram_pipeline_hook_running.json");
        body.put("builds", "none");
        assertEquals("builds", assertThrows(BadRequestException.class,
                () -> parser.parse("Pipeline Hook", body.toString())).field());
    }

    @Test
    void aPipelineWithoutBuildsHasNoJobs() {
        ObjectNode body = (ObjectNode) readFixture("nuecagram_pipeline_hook_running.json");
        body.remove("builds");
        GitLabHook.JobUpdates u = (GitLabHook.JobUpdates) parser.parse("Pipeline Hook", body.toString());
        assertEquals(List.of(), u.events());
    }

    @ParameterizedTest(name = "body: {0}")
    @ValueSource(strings = {"", "not json", "{\"object_kind\": ", "[1, 2]", "\"build\"", "42", "null"})
    void notAJsonObjectIsABadRequest(String body) {
        BadRequestException e = assertThrows(BadRequestException.class, () -> parser.parse("Job Hook", body));
        assertNull(e.field());
        assertTrue(e.getMessage().contains("JSON"), e.getMessage());
    }

    // ---- statuses and other events ----------------------------------------------------------------

    @ParameterizedTest(name = "build_status {0}")
    @CsvSource({"created, CREATED", "pending, PENDING", "running, RUNNING", "success, SUCCESS", "failed, FAILED",
            "canceled, CANCELED", "skipped, SKIPPED", "manual, MANUAL", "waiting_for_resource, WAITING_FOR_RESOURCE",
            "preparing, PREPARING", "scheduled, SCHEDULED", "canceling, CANCELING", "RUNNING, RUNNING"})
    void knownStatuses(String wire, JobStatus status) {
        assertEquals(status, onlyEvent(parser.parse("Job Hook", jobHook(wire).toString())).status());
    }

    @Test
    void anUnknownJobStatusIsSkippedAndReported() {
        GitLabHook.JobUpdates u = (GitLabHook.JobUpdates) parser.parse("Job Hook", jobHook("exploded").toString());
        assertEquals(List.of(), u.events());
        assertEquals(1, u.skipped().size());
        assertTrue(u.skipped().getFirst().contains("380/1977") && u.skipped().getFirst().contains("exploded"),
                u.skipped().toString());
    }

    @Test
    void anUnknownBuildStatusInAPipelineSkipsOnlyThatBuild() {
        ObjectNode body = (ObjectNode) readFixture("nuecagram_pipeline_hook_running.json");
        ((ObjectNode) body.get("builds").get(2)).put("status", "teleported");
        GitLabHook.JobUpdates u = (GitLabHook.JobUpdates) parser.parse("Pipeline Hook", body.toString());
        assertEquals(List.of(481131L, 480895L, 480897L), u.events().stream().map(e -> e.key().jobId()).toList());
        assertEquals(1, u.skipped().size());
        assertTrue(u.skipped().getFirst().contains("105/480896") && u.skipped().getFirst().contains("teleported"),
                u.skipped().toString());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"Push Hook", "Merge Request Hook", "Deployment Hook", "System Hook"})
    void otherEventsAreIgnored(String header) {
        GitLabHook hook = parser.parse(header, fixture("gitlab-doc_job_hook.json"));
        assertEquals(new GitLabHook.Ignored(header), hook);
    }

    @Test
    void withoutHeaderAnUnknownKindIsIgnored() {
        GitLabHook hook = parser.parse(null, "{\"object_kind\": \"push\", \"ref\": \"main\"}");
        GitLabHook.Ignored ignored = assertInstanceOf(GitLabHook.Ignored.class, hook);
        assertTrue(ignored.reason().contains("X-Gitlab-Event"), ignored.reason());
    }

    @Test
    void theHeaderIsTrimmed() {
        assertInstanceOf(GitLabHook.JobUpdates.class, parser.parse(" Job Hook ", jobHook("pending").toString()));
    }

    // ---- hostile input: ids, tags, text, trailing tokens, bounded messages ----------------------------

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource(delimiter = '|', value = {
            "project_id | -1", "project_id | 0", "build_id | 9223372036854775808", "build_id | 1.5",
            "build_id | '\"12abc\"'", "project_id | '\"\"'", "build_id | 1.0", "build_id | '[1]'"})
    void anIdOutsideTheIdRuleIsABadRequestNamingIt(String field, String json) throws Exception {
        ObjectNode body = jobHook("pending");
        body.set(field, JSON.readTree(json));
        BadRequestException e = assertThrows(BadRequestException.class, () -> parser.parse("Job Hook", body.toString()));
        assertEquals(field, e.field());
        assertTrue(e.getMessage().startsWith(field + " must be a whole number from 1 to 9223372036854775807, got "),
                e.getMessage());
    }

    @Test
    void theLargestIdIsAccepted() {
        ObjectNode body = jobHook("pending");
        body.put("project_id", Long.MAX_VALUE).put("build_id", String.valueOf(Long.MAX_VALUE));
        assertEquals(new JobKey(Long.MAX_VALUE, Long.MAX_VALUE), onlyEvent(parser.parse("Job Hook", body.toString())).key());
    }

    @Test
    void aPipelineBuildIdOfZeroIsABadRequestNamingItsPath() {
        ObjectNode body = (ObjectNode) readFixture("nuecagram_pipeline_hook_running.json");
        ((ObjectNode) body.get("builds").get(2)).put("id", 0);
        assertSkippedNaming(body, "builds[2].id");
        GitLabHook.JobUpdates updates = (GitLabHook.JobUpdates) parser.parse("Pipeline Hook", body.toString());
        assertTrue(updates.skipped().getFirst().contains("got 0"), updates.skipped().toString());
    }

    @Test
    void optionalIdsOutsideTheIdRuleAreAbsent() {
        ObjectNode job = jobHook("running");
        job.put("pipeline_id", 0);
        ((ObjectNode) job.get("runner")).put("id", -7);
        JobEvent e = onlyEvent(parser.parse("Job Hook", job.toString()));
        assertNull(e.pipelineId());
        assertNull(e.runnerId());

        ObjectNode pipeline = (ObjectNode) readFixture("gitlab-doc_pipeline_hook.json");
        ((ObjectNode) pipeline.get("object_attributes")).put("id", "99999999999999999999");
        ((ObjectNode) pipeline.get("builds").get(1).get("runner")).put("id", 1.5);
        GitLabHook.JobUpdates u = (GitLabHook.JobUpdates) parser.parse("Pipeline Hook", pipeline.toString());
        assertNull(u.events().get(1).pipelineId());
        assertNull(u.events().get(1).runnerId());
        assertEquals(380987L, u.events().get(2).runnerId());
    }

    static Stream<Arguments> badTags() {
        return Stream.of(
                Arguments.of("null", "tag_list[1]"),
                Arguments.of("5", "tag_list[1]"),
                Arguments.of("true", "tag_list[1]"),
                Arguments.of("{}", "tag_list[1]"),
                Arguments.of("[\"docker\"]", "tag_list[1]"),
                Arguments.of("\"\"", "tag_list[1]"),
                Arguments.of("\" \\t\"", "tag_list[1]"),
                Arguments.of("\"" + "t".repeat(256) + "\"", "tag_list[1]"));
    }

    @ParameterizedTest(name = "tag {0}")
    @MethodSource("badTags")
    void aTagThatIsNotANonBlankBoundedStringIsABadRequestNamingIt(String tag, String path) throws Exception {
        ObjectNode body = jobHook("pending");
        body.putArray("tag_list").add("docker").add(JSON.readTree(tag)).add("gpu");
        BadRequestException e = assertThrows(BadRequestException.class, () -> parser.parse("Job Hook", body.toString()));
        assertEquals(path, e.field());
        assertTrue(e.getMessage().contains(path), e.getMessage());
    }

    @Test
    void aPipelineBuildTagIsNamedByItsPath() {
        ObjectNode body = (ObjectNode) readFixture("gitlab-doc_pipeline_hook.json");
        ((ObjectNode) body.get("builds").get(3)).putArray("tag_list").addNull();
        assertSkippedNaming(body, "builds[3].tag_list[0]");
    }

    @Test
    void tagsAreBoundedInCountAndLength() {
        ObjectNode atLimit = jobHook("pending");
        var tags = atLimit.putArray("tag_list");
        for (int i = 0; i < JobTags.MAX_TAGS; i++) {
            tags.add("t".repeat(JobTags.MAX_TAG_LENGTH - 3) + String.format("%03d", i));
        }
        assertEquals(JobTags.MAX_TAGS, onlyEvent(parser.parse("Job Hook", atLimit.toString())).tags().size());

        tags.add("one-too-many");
        BadRequestException e = assertThrows(BadRequestException.class, () -> parser.parse("Job Hook", atLimit.toString()));
        assertEquals("tag_list", e.field());
        assertTrue(e.getMessage().contains("51") && e.getMessage().contains("50"), e.getMessage());
    }

    @Test
    void aTagListThatIsNotAListIsABadRequest() {
        ObjectNode body = jobHook("pending");
        body.put("tag_list", "docker");
        assertEquals("tag_list", assertThrows(BadRequestException.class,
                () -> parser.parse("Job Hook", body.toString())).field());
        body.putNull("tag_list");
        assertNull(onlyEvent(parser.parse("Job Hook", body.toString())).tags(), "a null tag_list is no tag_list");
    }

    @Test
    void textFieldsOfAJobHookAreCut() {
        String huge = "x".repeat(100_000);
        ObjectNode body = jobHook("failed");
        body.put("build_name", huge).put("build_stage", huge).put("build_failure_reason", huge);
        ((ObjectNode) body.get("runner")).put("description", huge);
        JobEvent e = onlyEvent(parser.parse("Job Hook", body.toString()));
        String cut = "x".repeat(GitLabHookParser.MAX_TEXT_LENGTH);
        assertEquals(List.of(cut, cut, cut, cut), List.of(e.name(), e.stage(), e.failureReason(), e.runnerDescription()));
    }

    @Test
    void textFieldsOfPipelineBuildsAreCut() {
        String huge = "y".repeat(100_000);
        ObjectNode body = (ObjectNode) readFixture("gitlab-doc_pipeline_hook.json");
        ObjectNode build = (ObjectNode) body.get("builds").get(2);
        build.put("name", huge).put("stage", huge).put("failure_reason", huge);
        ((ObjectNode) build.get("runner")).put("description", huge);
        JobEvent e = ((GitLabHook.JobUpdates) parser.parse("Pipeline Hook", body.toString())).events().get(2);
        String cut = "y".repeat(GitLabHookParser.MAX_TEXT_LENGTH);
        assertEquals(List.of(cut, cut, cut, cut), List.of(e.name(), e.stage(), e.failureReason(), e.runnerDescription()));
    }

    @Test
    void cuttingTextNeverSplitsACharacter() {
        ObjectNode body = jobHook("pending");
        // 254 letters, then emoji (two UTF-16 units each): the cut falls inside the first emoji
        body.put("build_name", "a".repeat(GitLabHookParser.MAX_TEXT_LENGTH - 1) + "\uD83D\uDE00\uD83D\uDE00");
        String name = onlyEvent(parser.parse("Job Hook", body.toString())).name();
        assertEquals("a".repeat(GitLabHookParser.MAX_TEXT_LENGTH - 1), name);
    }

    @ParameterizedTest(name = "body + {0}")
    @ValueSource(strings = {" xyz", "{}", "]", "\"x\""})
    void trailingTokensAfterTheBodyAreABadRequest(String garbage) {
        BadRequestException e = assertThrows(BadRequestException.class,
                () -> parser.parse("Job Hook", jobHook("pending") + garbage));
        assertNull(e.field());
        assertTrue(e.getMessage().contains("JSON"), e.getMessage());
    }

    @Test
    void trailingWhitespaceIsFine() {
        assertEquals(new JobKey(380, 1977), onlyEvent(parser.parse("Job Hook", jobHook("pending") + " \n\t\r\n")).key());
    }

    @Test
    void aSyntaxErrorNamesItsLineAndColumn() {
        BadRequestException e = assertThrows(BadRequestException.class,
                () -> parser.parse("Job Hook", "{\n  \"build_id\": 1977,\n  \"project_id\": nope\n}"));
        assertTrue(e.getMessage().contains("line 3"), e.getMessage());
    }

    @Test
    void messagesAndNotesDoNotEchoHugeInput() {
        String huge = "z".repeat(50_000);
        GitLabHook.Ignored ignored = assertInstanceOf(GitLabHook.Ignored.class, parser.parse(huge, "{}"));
        assertTrue(ignored.reason().length() <= BadRequestException.MAX_MESSAGE_LENGTH, ignored.reason());

        GitLabHook.JobUpdates skipped = (GitLabHook.JobUpdates) parser.parse("Job Hook", jobHook(huge).toString());
        assertTrue(skipped.skipped().getFirst().length() <= BadRequestException.MAX_MESSAGE_LENGTH);

        for (String field : List.of("build_id", "build_created_at", "build_status")) {
            ObjectNode body = jobHook("pending");
            body.set(field, JSON.createArrayNode().add(huge));
            BadRequestException e = assertThrows(BadRequestException.class, () -> parser.parse("Job Hook", body.toString()));
            assertEquals(field, e.field());
            assertTrue(e.getMessage().length() <= BadRequestException.MAX_MESSAGE_LENGTH, field + ": " + e.getMessage());
        }
        for (String body : List.of(huge, "{\"" + huge, "[" + huge + "]", "{\"a\": \"" + huge + "\" " + huge + "}")) {
            BadRequestException e = assertThrows(BadRequestException.class, () -> parser.parse("Job Hook", body));
            assertTrue(e.getMessage().length() <= BadRequestException.MAX_MESSAGE_LENGTH, e.getMessage());
        }
    }

    @ParameterizedTest(name = "build_created_at {0}")
    @ValueSource(strings = {"2021-01-13 17:57:05 +9900", "+999999999-12-31T23:59:59Z", "1969-12-31T23:59:59Z"})
    void anOutOfRangeTimestampIsABadRequestNamingIt(String text) {
        ObjectNode body = jobHook("pending");
        body.put("build_created_at", text);
        assertEquals("build_created_at", assertThrows(BadRequestException.class,
                () -> parser.parse("Job Hook", body.toString())).field());
    }

    // ---- helpers ----------------------------------------------------------------------------------

    static String fixture(String name) {
        return SharedFiles.read(SharedFiles.fixture("gitlab/" + name));
    }

    static JsonNode readFixture(String name) {
        try {
            return JSON.readTree(fixture(name));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A minimal Job Hook of job 380/1977. */
    static ObjectNode jobHook(String status) {
        ObjectNode body = JSON.createObjectNode()
                .put("object_kind", "build").put("build_id", 1977).put("project_id", 380)
                .put("build_status", status).put("pipeline_id", 2366)
                .put("build_created_at", "2021-01-13 17:57:05 UTC");
        body.putObject("runner").put("id", 7).put("description", "i-0123456789abcdef0");
        return body;
    }

    static JobEvent onlyEvent(GitLabHook hook) {
        GitLabHook.JobUpdates u = assertInstanceOf(GitLabHook.JobUpdates.class, hook);
        assertEquals(1, u.events().size(), u.toString());
        return u.events().getFirst();
    }
}
