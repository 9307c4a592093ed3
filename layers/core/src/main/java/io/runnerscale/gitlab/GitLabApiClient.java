package io.runnerscale.gitlab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobStatus;
import io.runnerscale.job.JobTags;
import io.runnerscale.text.Quoted;
import io.runnerscale.webhook.GitLabHookParser;
import io.runnerscale.webhook.Timestamps;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * GitLab's REST API v4 over the JDK's HTTP client, with short timeouts: the webhook has 10 s in all.
 * {@code GET /projects/:id/jobs/:job_id} is read two ways: for the webhook only the job's tags
 * ({@link #jobTags}, where anything but a 200 is "unavailable"), for the reconciler the whole job
 * ({@link #job}, where a 404 is an answer of its own). The reconciler also lists projects' live
 * jobs, groups' projects and projects' hooks ({@link GitLabProjects}).
 *
 * <p>A client made {@link #reservingRateLimit reserving} part of GitLab's rate limit makes no call
 * while GitLab's {@code RateLimit-Remaining} is within that reserve, until {@code RateLimit-Reset}:
 * the reconciler's background reads must not use up the quota the webhook's lookups and the runners
 * share with it.
 */
public final class GitLabApiClient implements GitLab, GitLabJobs, GitLabProjects {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    /**
     * Largest answer read. A job's JSON is a few KB (its commit message and artifact list are the
     * big parts); the bound keeps a misbehaving server from filling the webhook's memory, with
     * room for a commit message far longer than any real one.
     */
    static final int MAX_ANSWER_BYTES = 4 * 1024 * 1024;
    /** A {@code RateLimit-*} value: a count, or Unix seconds (ten digits until 2286). */
    private static final java.util.regex.Pattern HEADER_NUMBER = java.util.regex.Pattern.compile("[0-9]{1,12}");

    private final HttpClient http;
    private final Supplier<GitLabCredentials> credentials;
    private final ObjectMapper json;
    private final Clock clock;
    private final double rateLimitReserve;
    /** No call before this, GitLab's rate limit being nearly spent (a reserving client only). */
    private volatile Instant holdUntil;

    public GitLabApiClient(HttpClient http, Supplier<GitLabCredentials> credentials, ObjectMapper json) {
        this(http, credentials, json, Clock.systemUTC());
    }

    /** @param clock reads a {@code Retry-After} given as an HTTP date */
    public GitLabApiClient(HttpClient http, Supplier<GitLabCredentials> credentials, ObjectMapper json, Clock clock) {
        this(http, credentials, json, clock, 0);
    }

    private GitLabApiClient(HttpClient http, Supplier<GitLabCredentials> credentials, ObjectMapper json, Clock clock,
                            double rateLimitReserve) {
        this.http = http;
        this.credentials = credentials;
        this.json = json;
        this.clock = clock;
        this.rateLimitReserve = rateLimitReserve;
    }

    /**
     * A client like this one that holds back once GitLab says no more than {@code fraction} of its
     * rate limit is left ({@code RateLimit-Remaining} against {@code RateLimit-Limit}), until
     * {@code RateLimit-Reset}: its calls then throw {@link GitLabUnavailableException} with that wait,
     * as a 429 would, without asking.
     */
    public GitLabApiClient reservingRateLimit(double fraction) {
        if (!(fraction >= 0 && fraction < 1)) {
            throw new IllegalArgumentException("rate limit reserve must be in [0, 1), got " + fraction);
        }
        return new GitLabApiClient(http, credentials, json, clock, fraction);
    }

    public static HttpClient defaultHttpClient() {
        return HttpClient.newBuilder().connectTimeout(TIMEOUT).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    @Override
    public List<String> jobTags(JobKey job) {
        Answer answer = get(jobPath(job));
        if (answer.status() != 200) {
            answer.discard();
            // the webhook falls back to the pool for untagged jobs whatever the reason, a 404 included
            throw new GitLabUnavailableException(answer.request() + " answered " + answer.status(), null,
                    answer.retryAfter().orElse(null));
        }
        JsonNode tags = readJson(answer).path("tag_list");
        String problem = tagListProblem(tags);
        if (problem != null) {
            throw new GitLabUnavailableException(answer.request() + " answered a tag_list that cannot be read: "
                    + problem, null);
        }
        List<String> out = new ArrayList<>(tags.size());
        tags.forEach(tag -> out.add(tag.asText()));
        return out;
    }

    /**
     * {@inheritDoc}
     *
     * <p>The answer is read as the webhook reads a Pipeline Hook's build: text cut at
     * {@link GitLabHookParser#MAX_TEXT_LENGTH}, ids by {@link JobKey}'s rule (else absent), a
     * timestamp that cannot be read is absent, and a {@code tag_list} that breaks {@link JobTags}'
     * rule makes the tags unknown (null) rather than the whole answer unusable: the job's state is
     * still worth having. Only a missing or unknown {@code status}, or an {@code id} that is not the
     * job asked for, make it {@link JobLookup.Unreadable}.
     */
    @Override
    public JobLookup job(JobKey key) {
        Answer answer = get(jobPath(key));
        int status = answer.status();
        throwIfUnavailable(answer);
        if (status == 404) {
            String message = gitLabMessage(answer);
            return new JobLookup.Gone(key, message.toLowerCase(Locale.ROOT).contains("project"), message);
        }
        if (status != 200) {
            throw rejected(answer, "the GitLab token needs scope read_api and its user at least the Reporter role "
                    + "in the job's project");
        }
        JsonNode job;
        try {
            job = readJson(answer);
        } catch (GitLabUnavailableException e) {
            if (e.getCause() instanceof IOException) {
                // invalid JSON for this job; a slow or oversized answer stays "unavailable"
                return new JobLookup.Unreadable(key, "the answer is not JSON");
            }
            throw e;
        }
        return toLookup(key, job);
    }

    @Override
    public Page<JobEvent> liveJobs(long projectId, int page) {
        Answer answer = get("/projects/" + projectId + "/jobs?scope%5B%5D=pending&scope%5B%5D=running&per_page=" + PER_PAGE
                + "&page=" + page);
        JsonNode list = readList(answer, "the GitLab token needs scope read_api and its user at least the Reporter "
                + "role in the project");
        List<JobEvent> jobs = new ArrayList<>(list.size());
        for (JsonNode node : list) {
            JsonNode id = node.path("id");
            if (!(id.isIntegralNumber() && id.canConvertToLong() && JobKey.isValidId(id.asLong()))) {
                continue;
            }
            if (toLookup(new JobKey(projectId, id.asLong()), node) instanceof JobLookup.Found found
                    && (found.event().status() == JobStatus.PENDING || found.event().status() == JobStatus.RUNNING)) {
                jobs.add(found.event());
            }
        }
        return new Page<>(jobs, nextPage(answer));
    }

    @Override
    public Page<Long> groupProjects(String group, int page) {
        Answer answer = get("/groups/" + URLEncoder.encode(group, StandardCharsets.UTF_8)
                + "/projects?include_subgroups=true&archived=false&simple=true&per_page=" + PER_PAGE + "&page=" + page);
        JsonNode list = readList(answer, "the GitLab token needs scope read_api and its user access to the group");
        List<Long> ids = new ArrayList<>(list.size());
        for (JsonNode node : list) {
            Long id = optionalId(node.path("id"));
            if (id != null) {
                ids.add(id);
            }
        }
        return new Page<>(ids, nextPage(answer));
    }

    @Override
    public List<ProjectHook> hooks(long projectId) {
        Answer answer = get("/projects/" + projectId + "/hooks?per_page=" + PER_PAGE);
        JsonNode list = readList(answer, "listing a project's hooks needs scope read_api and the Maintainer role "
                + "in the project");
        List<ProjectHook> hooks = new ArrayList<>(list.size());
        for (JsonNode node : list) {
            Long id = optionalId(node.path("id"));
            JsonNode url = node.path("url");
            if (id == null || !url.isTextual()) {
                continue;
            }
            JsonNode alert = node.path("alert_status");
            hooks.add(new ProjectHook(id, Quoted.cut(url.asText(), 2048), node.path("job_events").asBoolean(false),
                    alert.isTextual() ? Quoted.cut(alert.asText(), 64) : null, timestamp(node.path("disabled_until"))));
        }
        return hooks;
    }

    /** A list answer's JSON array; anything else from a 200 is GitLab unavailable (a proxy's page, say). */
    private JsonNode readList(Answer answer, String forbiddenHint) {
        throwIfUnavailable(answer);
        if (answer.status() != 200) {
            throw rejected(answer, forbiddenHint);
        }
        JsonNode list = readJson(answer);
        if (!list.isArray()) {
            throw new GitLabUnavailableException(answer.request() + " answered something other than a list", null);
        }
        return list;
    }

    /** {@code X-Next-Page}: the next page's number, or null on the last page. */
    private static Integer nextPage(Answer answer) {
        String next = answer.response().headers().firstValue("X-Next-Page").orElse("").strip();
        return GitLabHttp.DIGITS.matcher(next).matches() && Integer.parseInt(next) > 0 ? Integer.parseInt(next) : null;
    }

    /** 429 (with its {@code Retry-After}), 5xx, 408 and 409: GitLab cannot answer now. */
    private static void throwIfUnavailable(Answer answer) {
        int status = answer.status();
        if (status == 429) {
            answer.discard();
            Optional<Duration> wait = answer.retryAfter();
            throw new GitLabUnavailableException(answer.request() + " answered 429 (rate limited)"
                    + wait.map(d -> "; retry after " + d.toSeconds() + " s").orElse(""), null, wait.orElse(null));
        }
        if (status >= 500 || status == 408 || status == 409) {
            answer.discard();
            throw new GitLabUnavailableException(answer.request() + " answered " + status, null);
        }
    }

    /** A refusal, with GitLab's message and what to do about it. */
    private GitLabRejectedException rejected(Answer answer, String forbiddenHint) {
        int status = answer.status();
        String message = gitLabMessage(answer);
        StringBuilder text = new StringBuilder(answer.request()).append(" answered ").append(status);
        if (!message.isEmpty()) {
            text.append(" (").append(message).append(")");
        }
        if (status == 401) {
            text.append(": the GitLab token is invalid, expired or revoked; reading jobs needs scope read_api");
        } else if (status == 403) {
            text.append(": ").append(forbiddenHint);
        } else if (status >= 300 && status < 400) {
            text.append(": redirects are not followed; check the GitLab URL (https, no trailing path)");
        }
        return new GitLabRejectedException(text.toString(), status);
    }

    /** The job's answer as the same {@link JobEvent} a hook gives. */
    static JobLookup toLookup(JobKey key, JsonNode job) {
        if (!job.isObject()) {
            return new JobLookup.Unreadable(key, "the answer is not a JSON object");
        }
        JsonNode id = job.get("id");
        if (id != null && !(id.isIntegralNumber() && id.canConvertToLong() && id.asLong() == key.jobId())) {
            return new JobLookup.Unreadable(key, "the answer is about job " + Quoted.abbreviate(id.toString()));
        }
        JsonNode statusNode = job.path("status");
        Optional<JobStatus> status = statusNode.isTextual() ? JobStatus.fromWire(statusNode.asText()) : Optional.empty();
        if (status.isEmpty()) {
            return new JobLookup.Unreadable(key, "status " + Quoted.abbreviate(statusNode.toString())
                    + " is not a job status");
        }
        JsonNode runner = job.path("runner");
        JsonNode tags = job.path("tag_list");
        List<String> tagList = null;
        if (tagListProblem(tags) == null) {
            tagList = new ArrayList<>(tags.size());
            for (JsonNode tag : tags) {
                tagList.add(tag.asText());
            }
        }
        JsonNode queued = job.path("queued_duration");
        return new JobLookup.Found(new JobEvent(
                key,
                status.get(),
                optionalId(job.path("pipeline").path("id")),
                text(job.path("name")),
                text(job.path("stage")),
                timestamp(job.path("created_at")),
                timestamp(job.path("started_at")),
                timestamp(job.path("finished_at")),
                queued.isNumber() ? queued.asDouble() : null,
                optionalId(runner.path("id")),
                text(runner.path("description")),
                text(job.path("failure_reason")),
                tagList));
    }

    private static Long optionalId(JsonNode value) {
        if (value.isIntegralNumber() && value.canConvertToLong() && JobKey.isValidId(value.asLong())) {
            return value.asLong();
        }
        return null;
    }

    private static String text(JsonNode value) {
        return value.isTextual() ? Quoted.cut(value.asText(), GitLabHookParser.MAX_TEXT_LENGTH) : null;
    }

    private static Instant timestamp(JsonNode value) {
        if (!value.isTextual()) {
            return null;
        }
        try {
            return Timestamps.parse(value.asText());
        } catch (IllegalArgumentException unreadable) {
            return null;
        }
    }

    /** One answer: its status and headers, its body not read yet. */
    private record Answer(String request, HttpResponse<InputStream> response, String token, Instant at) {
        int status() {
            return response.statusCode();
        }

        void discard() {
            GitLabHttp.closeQuietly(response.body());
        }

        Optional<Duration> retryAfter() {
            return GitLabHttp.retryAfter(response.headers().firstValue("Retry-After").orElse(null), at);
        }
    }

    private static String jobPath(JobKey job) {
        return "/projects/" + job.projectId() + "/jobs/" + job.jobId();
    }

    /** @param path below {@code /api/v4}, with its query */
    private Answer get(String path) {
        Instant held = holdUntil;
        Instant now = clock.instant();
        if (held != null && now.isBefore(held)) {
            Duration wait = Duration.between(now, held);
            throw new GitLabUnavailableException("holding back: GitLab's rate limit is within the reserve kept for "
                    + "others until " + held, null, wait);
        }
        GitLabCredentials gitlab;
        try {
            gitlab = credentials.get();
        } catch (RuntimeException e) {
            throw new GitLabUnavailableException("GitLab credentials unavailable: " + e.getMessage(), e);
        }
        URI uri = URI.create(gitlab.baseUrl() + "/api/v4" + path);
        String request = "GET " + uri.getPath();
        HttpRequest httpRequest = HttpRequest.newBuilder(uri).timeout(TIMEOUT)
                .header("PRIVATE-TOKEN", gitlab.token())
                .header("Accept", "application/json").GET().build();
        try {
            HttpResponse<InputStream> response = http.send(httpRequest, HttpResponse.BodyHandlers.ofInputStream());
            Instant at = clock.instant();
            noteRateLimit(response, at);
            return new Answer(request, response, gitlab.token(), at);
        } catch (IOException e) {
            throw new GitLabUnavailableException(request + ": " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + GitLabHttp.scrub(e.getMessage(), gitlab.token())), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GitLabUnavailableException("interrupted", e);
        }
    }

    /**
     * Holds back a reserving client when {@code RateLimit-Remaining} is within its reserve of
     * {@code RateLimit-Limit}, until {@code RateLimit-Reset} (Unix seconds; a minute when GitLab gives
     * none, GitLab's limits being per minute), at most {@link GitLabHttp#MAX_RETRY_AFTER}.
     */
    private void noteRateLimit(HttpResponse<?> response, Instant at) {
        if (rateLimitReserve <= 0) {
            return;
        }
        Long remaining = header(response, "RateLimit-Remaining");
        Long limit = header(response, "RateLimit-Limit");
        if (remaining == null || limit == null || limit <= 0 || remaining > limit * rateLimitReserve) {
            return;
        }
        Long reset = header(response, "RateLimit-Reset");
        Instant until = reset == null ? at.plusSeconds(60) : Instant.ofEpochSecond(reset);
        Instant latest = at.plus(GitLabHttp.MAX_RETRY_AFTER);
        holdUntil = until.isAfter(latest) ? latest : until;
    }

    private static Long header(HttpResponse<?> response, String name) {
        String value = response.headers().firstValue(name).orElse("").strip();
        return HEADER_NUMBER.matcher(value).matches() ? Long.parseLong(value) : null;
    }

    private JsonNode readJson(Answer answer) {
        return GitLabHttp.readJson(json, answer.response().body(), TIMEOUT, MAX_ANSWER_BYTES, answer.request());
    }

    /** GitLab's {@code message} (or {@code error}) of an error answer, bounded; empty when there is none. */
    private String gitLabMessage(Answer answer) {
        String text = GitLabHttp.errorMessage(json, answer.response().body(), TIMEOUT, answer.request(), answer.token());
        return text.isEmpty() ? "" : Quoted.abbreviate(text);
    }

    /**
     * Why a {@code tag_list} is not a list of tags by {@link JobTags}' rule, or null when it is.
     * Such an answer is not read at all: dropping an odd entry would route the job, for good, as if
     * it lacked that tag, and a "null" tag sends it to no pool. Treated like an unavailable API, the
     * job goes to the pool for untagged jobs for now and a later event asks again.
     */
    static String tagListProblem(JsonNode tags) {
        if (!tags.isArray()) {
            return tags.isMissingNode() ? "tag_list is missing" : "tag_list is not a list";
        }
        if (tags.size() > JobTags.MAX_TAGS) {
            return "tag_list has " + tags.size() + " tags; at most " + JobTags.MAX_TAGS + " are read";
        }
        for (int i = 0; i < tags.size(); i++) {
            JsonNode tag = tags.get(i);
            if (!tag.isTextual() || !JobTags.isValidTag(tag.asText())) {
                return "tag_list[" + i + "] is not " + JobTags.RULE;
            }
        }
        return null;
    }
}
