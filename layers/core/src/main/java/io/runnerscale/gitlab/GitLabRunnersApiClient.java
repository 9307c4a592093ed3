package io.runnerscale.gitlab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.runnerscale.job.JobKey;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * {@link GitLabRunners} on GitLab's REST API v4 over the JDK's HTTP client: 2 s to connect, 2 s
 * for the headers, 2 s to read each answer, every answer bounded. A lifecycle task makes a few
 * such calls; the state machine retries what throws {@link GitLabUnavailableException}.
 */
public final class GitLabRunnersApiClient implements GitLabRunners {
    /** GitLab's runner system id format (gitlab-runner checks it the same way). */
    private static final java.util.regex.Pattern SYSTEM_ID = java.util.regex.Pattern.compile("[sr]_[0-9a-zA-Z]{12}");
    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    /**
     * Largest answer read. A page of 100 jobs with their commits is a few hundred KB; the bound
     * keeps a misbehaving server from filling the function's memory, with room for commit
     * messages far longer than real ones.
     */
    static final int MAX_ANSWER_BYTES = 8 * 1024 * 1024;
    static final int PER_PAGE = 100;
    /**
     * Most pages followed: 5,000 runners or running jobs. A runner runs a handful of jobs at
     * once; an owner with more runners than this is not one runnerscale manages alone.
     */
    static final int MAX_PAGES = 50;
    /** Most characters of GitLab's own error message put into ours. */
    private static final int MAX_MESSAGE_CHARS = 100;
    /** A wait longer than this is not waited for: the state machine's own backoff takes over. */
    static final Duration MAX_RETRY_AFTER = GitLabHttp.MAX_RETRY_AFTER;
    private static final Pattern DIGITS = GitLabHttp.DIGITS;
    private static final String CREATE_SCOPE = "create_runner";
    private static final String MANAGE_SCOPE = "manage_runner";
    private static final String JOB_SCOPE = "api";
    private static final String LIST_SCOPE = "read_api";

    private final HttpClient http;
    private final Supplier<GitLabCredentials> credentials;
    private final ObjectMapper json;
    private final Clock clock;

    public GitLabRunnersApiClient(HttpClient http, Supplier<GitLabCredentials> credentials, ObjectMapper json) {
        this(http, credentials, json, Clock.systemUTC());
    }

    /** @param clock reads a {@code Retry-After} given as an HTTP date */
    public GitLabRunnersApiClient(HttpClient http, Supplier<GitLabCredentials> credentials, ObjectMapper json,
                                  Clock clock) {
        this.http = http;
        this.credentials = credentials;
        this.json = json;
        this.clock = clock;
    }

    /** What a 401/403 needs: the token's scope and the user's role, for the message. */
    private record Needs(String scope, String role) {
    }

    @Override
    public CreatedRunner createRunner(RunnerSpec spec) {
        ObjectNode body = json.createObjectNode();
        body.put("runner_type", spec.owner().type().apiName());
        switch (spec.owner().type()) {
            case GROUP -> body.put("group_id", spec.owner().id());
            case PROJECT -> body.put("project_id", spec.owner().id());
            case INSTANCE -> {
                // an instance runner names no owner
            }
        }
        body.put("description", spec.description());
        ArrayNode tags = body.putArray("tag_list");
        spec.tags().forEach(tags::add);
        body.put("run_untagged", spec.runUntagged());
        body.put("locked", false);
        body.put("paused", false);
        spec.maximumTimeout().ifPresent(timeout -> body.put("maximum_timeout", timeout.toSeconds()));
        Needs needs = new Needs(CREATE_SCOPE, spec.owner().type().roleNeeded());
        Answer answer = send("POST", "/user/runners", body, needs);
        if (answer.status() != 201 && answer.status() != 200) {
            throw rejected(answer, needs);
        }
        JsonNode created = readJson(answer);
        JsonNode id = created.path("id");
        JsonNode token = created.path("token");
        if (!id.canConvertToLong() || !id.isIntegralNumber() || !JobKey.isValidId(id.asLong())) {
            throw unreadable(answer, "id is not a whole number from 1");
        }
        if (!token.isTextual() || !isPlausibleToken(token.asText())) {
            // a runner was created but its token cannot be used: the orphan sweep deletes it by description
            throw unreadable(answer, "token is not a printable string of at most 255 characters");
        }
        return new CreatedRunner(id.asLong(), token.asText());
    }

    @Override
    public void setPaused(long runnerId, boolean paused) {
        requireRunnerId(runnerId);
        ObjectNode body = json.createObjectNode();
        body.put("paused", paused);
        Needs needs = new Needs(MANAGE_SCOPE, "administrator access (instance runners), the Owner role (group"
                + " runners) or Maintainer (project runners)");
        Answer answer = send("PUT", "/runners/" + runnerId, body, needs);
        if (answer.status() != 200) {
            throw rejected(answer, needs);
        }
        answer.discard();
    }

    @Override
    public List<JobKey> runningJobs(long runnerId) {
        return runningJobsAt(runnerId, "/runners/" + runnerId + "/jobs?status=running");
    }

    @Override
    public List<JobKey> runningJobs(long runnerId, String systemId) {
        if (systemId == null || !SYSTEM_ID.matcher(systemId).matches()) {
            throw new IllegalArgumentException("a runner system id looks like s_ or r_ and 12 letters or digits");
        }
        return runningJobsAt(runnerId, "/runners/" + runnerId + "/jobs?status=running&system_id=" + systemId);
    }

    private List<JobKey> runningJobsAt(long runnerId, String path) {
        requireRunnerId(runnerId);
        Needs needs = new Needs(MANAGE_SCOPE, "administrator access, or Reporter in the projects whose jobs"
                + " the runner runs");
        List<JobKey> jobs = new ArrayList<>();
        for (JsonNode job : allPages(path, needs)) {
            long jobId = job.path("id").asLong(0);
            long projectId = job.path("project").path("id").asLong(0);
            if (!job.path("id").isIntegralNumber() || !JobKey.isValidId(jobId)
                    || !job.path("project").path("id").isIntegralNumber() || !JobKey.isValidId(projectId)) {
                throw new GitLabUnavailableException("GET /api/v4/runners/" + runnerId
                        + "/jobs answered a job without a whole-number id and project.id", null);
            }
            jobs.add(new JobKey(projectId, jobId));
        }
        return List.copyOf(jobs);
    }

    @Override
    public void deleteRunner(long runnerId) {
        requireRunnerId(runnerId);
        Needs needs = new Needs(MANAGE_SCOPE, "administrator access (instance runners), the Owner role (group"
                + " runners) or Maintainer in the owning project (project runners)");
        Answer answer = send("DELETE", "/runners/" + runnerId, null, needs);
        if (answer.status() != 204 && answer.status() != 200 && answer.status() != 404) {
            throw rejected(answer, needs);
        }
        answer.discard();
    }

    @Override
    public void cancelJob(JobKey job) {
        Needs needs = new Needs(JOB_SCOPE, "the Developer role or more in project " + job.projectId());
        Answer answer = send("POST", "/projects/" + job.projectId() + "/jobs/" + job.jobId() + "/cancel", null,
                needs);
        if (answer.status() != 201 && answer.status() != 200 && answer.status() != 404) {
            throw rejected(answer, needs);
        }
        answer.discard();
    }

    @Override
    public Optional<JobKey> retryJob(JobKey job) {
        Needs needs = new Needs(JOB_SCOPE, "the Developer role or more in project " + job.projectId());
        Answer answer = send("POST", "/projects/" + job.projectId() + "/jobs/" + job.jobId() + "/retry", null,
                needs);
        if (answer.status() == 404) {
            answer.discard();
            return Optional.empty();
        }
        if (answer.status() == 403) {
            String message = gitLabMessage(answer);
            if (message.contains("not retryable")) {
                return Optional.empty();
            }
            throw rejected(answer, needs, message);
        }
        if (answer.status() != 201 && answer.status() != 200) {
            throw rejected(answer, needs);
        }
        JsonNode id = readJson(answer).path("id");
        if (!id.isIntegralNumber() || !id.canConvertToLong() || !JobKey.isValidId(id.asLong())) {
            throw unreadable(answer, "id is not a whole number from 1");
        }
        return Optional.of(new JobKey(job.projectId(), id.asLong()));
    }

    @Override
    public List<RunnerInfo> runnersOf(RunnerOwner owner) {
        String path = switch (owner.type()) {
            case INSTANCE -> "/runners/all?type=instance_type";
            case GROUP -> "/groups/" + owner.id() + "/runners?type=group_type";
            case PROJECT -> "/projects/" + owner.id() + "/runners?type=project_type";
        };
        Needs needs = new Needs(LIST_SCOPE + " (or api)", owner.type().roleNeeded());
        List<RunnerInfo> runners = new ArrayList<>();
        for (JsonNode runner : allPages(path, needs)) {
            JsonNode id = runner.path("id");
            Optional<RunnerType> type = RunnerType.fromApiName(runner.path("runner_type").asText(""));
            if (!id.isIntegralNumber() || !id.canConvertToLong() || !JobKey.isValidId(id.asLong()) || type.isEmpty()) {
                throw new GitLabUnavailableException("GET /api/v4" + path.substring(0, path.indexOf('?'))
                        + " answered a runner without a whole-number id and a runner_type", null);
            }
            // group and project lists include inherited runners; only the owner's own type is theirs
            if (type.get() == owner.type()) {
                JsonNode description = runner.path("description");
                runners.add(new RunnerInfo(id.asLong(), description.isTextual() ? description.asText() : "",
                        type.get(), runner.path("paused").asBoolean(false)));
            }
        }
        return List.copyOf(runners);
    }

    /** Every entry of every page, following {@code X-Next-Page} to at most {@link #MAX_PAGES} pages. */
    private List<JsonNode> allPages(String pathAndQuery, Needs needs) {
        List<JsonNode> entries = new ArrayList<>();
        int page = 1;
        while (true) {
            Answer answer = send("GET", pathAndQuery + "&per_page=" + PER_PAGE + "&page=" + page, null, needs);
            if (answer.status() != 200) {
                throw rejected(answer, needs);
            }
            JsonNode list = readJson(answer);
            if (!list.isArray()) {
                throw unreadable(answer, "the answer is not a list");
            }
            list.forEach(entries::add);
            String next = answer.response().headers().firstValue("X-Next-Page").orElse("").strip();
            if (next.isEmpty()) {
                return entries;
            }
            // anything but the page after this one could loop or skip: the answer cannot be trusted
            if (!DIGITS.matcher(next).matches() || Integer.parseInt(next) != page + 1) {
                throw unreadable(answer, "X-Next-Page is not page " + (page + 1));
            }
            if (page == MAX_PAGES) {
                throw new GitLabUnavailableException(answer.request() + " has more than " + MAX_PAGES + " pages of "
                        + PER_PAGE + "; runnerscale reads at most " + MAX_PAGES * PER_PAGE + " entries", null);
            }
            page++;
        }
    }

    /** One answer: its status and headers, its body not read yet. */
    private record Answer(String request, HttpResponse<InputStream> response, String token) {
        int status() {
            return response.statusCode();
        }

        void discard() {
            GitLabHttp.closeQuietly(response.body());
        }
    }

    private Answer send(String method, String pathAndQuery, JsonNode body, Needs needs) {
        GitLabCredentials gitlab;
        try {
            gitlab = credentials.get();
        } catch (RuntimeException e) {
            throw new GitLabUnavailableException("GitLab credentials unavailable: " + e.getMessage(), e);
        }
        URI uri = URI.create(gitlab.baseUrl() + "/api/v4" + pathAndQuery);
        String request = method + " " + uri.getPath();
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body.toString(), StandardCharsets.UTF_8);
        HttpRequest.Builder builder = HttpRequest.newBuilder(uri).timeout(TIMEOUT)
                .header("PRIVATE-TOKEN", gitlab.token())
                .header("Accept", "application/json")
                .method(method, publisher);
        if (body != null) {
            builder.header("Content-Type", "application/json");
        }
        HttpResponse<InputStream> response;
        try {
            response = http.send(builder.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new GitLabUnavailableException(request + ": " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + GitLabHttp.scrub(e.getMessage(), gitlab.token())), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GitLabUnavailableException("interrupted", e);
        }
        Answer answer = new Answer(request, response, gitlab.token());
        int status = response.statusCode();
        if (status == 429) {
            answer.discard();
            Optional<Duration> wait = retryAfter(response.headers().firstValue("Retry-After").orElse(null));
            throw new GitLabUnavailableException(request + " answered 429 (rate limited)"
                    + wait.map(d -> "; retry after " + d.toSeconds() + " s").orElse(""), null, wait.orElse(null));
        }
        if (status >= 500 || status == 409 || status == 408) {
            answer.discard();
            throw new GitLabUnavailableException(request + " answered " + status, null);
        }
        return answer;
    }

    /**
     * {@code Retry-After} as GitLab (RFC 9110) writes it: whole seconds or an HTTP date; empty when
     * it is neither. Capped at {@link #MAX_RETRY_AFTER}, never negative.
     */
    Optional<Duration> retryAfter(String header) {
        return GitLabHttp.retryAfter(header, clock.instant());
    }

    private JsonNode readJson(Answer answer) {
        return GitLabHttp.readJson(json, answer.response().body(), TIMEOUT, MAX_ANSWER_BYTES, answer.request());
    }

    /** GitLab's {@code message} (or {@code error}) of an error answer, bounded; empty when there is none. */
    private String gitLabMessage(Answer answer) {
        String text = GitLabHttp.errorMessage(json, answer.response().body(), TIMEOUT, answer.request(), answer.token());
        return text.length() > MAX_MESSAGE_CHARS ? text.substring(0, MAX_MESSAGE_CHARS) + "..." : text;
    }

    private GitLabRejectedException rejected(Answer answer, Needs needs) {
        return rejected(answer, needs, gitLabMessage(answer));
    }

    private static GitLabRejectedException rejected(Answer answer, Needs needs, String gitLabMessage) {
        int status = answer.status();
        StringBuilder message = new StringBuilder(answer.request()).append(" answered ").append(status);
        if (!gitLabMessage.isEmpty()) {
            message.append(" (").append(gitLabMessage).append(")");
        }
        if (status == 401) {
            message.append(": the GitLab token is invalid, expired or revoked; it needs scope ")
                    .append(needs.scope()).append(" and ").append(needs.role());
        } else if (status == 403) {
            message.append(": the GitLab token needs scope ").append(needs.scope()).append(" and its user ")
                    .append(needs.role());
        } else if (status >= 300 && status < 400) {
            message.append(": redirects are not followed; check the GitLab URL (https, no trailing path)");
        }
        return new GitLabRejectedException(message.toString(), status);
    }

    private static GitLabUnavailableException unreadable(Answer answer, String problem) {
        return new GitLabUnavailableException(answer.request() + " answered " + answer.status()
                + " with an answer that cannot be read: " + problem, null);
    }

    private static boolean isPlausibleToken(String token) {
        return !token.isEmpty() && token.length() <= 255 && token.chars().allMatch(c -> c > 0x20 && c < 0x7f);
    }

    private static void requireRunnerId(long runnerId) {
        if (!JobKey.isValidId(runnerId)) {
            throw new IllegalArgumentException("runner id must be a whole number from 1, got " + runnerId);
        }
    }
}
