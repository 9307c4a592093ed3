package io.runnerscale.gitlab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobTags;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/** GitLab's REST API v4 over the JDK's HTTP client, with short timeouts: the webhook has 10 s in all. */
public final class GitLabApiClient implements GitLab {
    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    /**
     * Largest answer read. A job's JSON is a few KB (its commit message and artifact list are the
     * big parts); the bound keeps a misbehaving server from filling the webhook's memory, with
     * room for a commit message far longer than any real one.
     */
    static final int MAX_ANSWER_BYTES = 4 * 1024 * 1024;

    private final HttpClient http;
    private final Supplier<GitLabCredentials> credentials;
    private final ObjectMapper json;

    public GitLabApiClient(HttpClient http, Supplier<GitLabCredentials> credentials, ObjectMapper json) {
        this.http = http;
        this.credentials = credentials;
        this.json = json;
    }

    public static HttpClient defaultHttpClient() {
        return HttpClient.newBuilder().connectTimeout(TIMEOUT).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    @Override
    public List<String> jobTags(JobKey job) {
        GitLabCredentials gitlab;
        try {
            gitlab = credentials.get();
        } catch (RuntimeException e) {
            throw new GitLabUnavailableException("GitLab credentials unavailable: " + e.getMessage(), e);
        }
        URI uri = URI.create(gitlab.baseUrl() + "/api/v4/projects/" + job.projectId() + "/jobs/" + job.jobId());
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(TIMEOUT)
                .header("PRIVATE-TOKEN", gitlab.token())
                .header("Accept", "application/json").GET().build();
        HttpResponse<InputStream> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new GitLabUnavailableException("GET " + uri.getPath() + ": " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + e.getMessage()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GitLabUnavailableException("interrupted", e);
        }
        if (response.statusCode() != 200) {
            GitLabHttp.closeQuietly(response.body());
            throw new GitLabUnavailableException("GET " + uri.getPath() + " answered " + response.statusCode(), null);
        }
        byte[] body = GitLabHttp.readBounded(response.body(), TIMEOUT, MAX_ANSWER_BYTES, "GET " + uri.getPath());
        JsonNode tags;
        try {
            tags = json.readTree(body).path("tag_list");
        } catch (IOException e) {
            throw new GitLabUnavailableException("GET " + uri.getPath() + " answered with invalid JSON", e);
        }
        String problem = tagListProblem(tags);
        if (problem != null) {
            throw new GitLabUnavailableException("GET " + uri.getPath() + " answered a tag_list that cannot be read: "
                    + problem, null);
        }
        List<String> out = new ArrayList<>(tags.size());
        tags.forEach(tag -> out.add(tag.asText()));
        return out;
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
