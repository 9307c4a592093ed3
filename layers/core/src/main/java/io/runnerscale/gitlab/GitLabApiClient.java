package io.runnerscale.gitlab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.runnerscale.job.JobKey;

import java.io.IOException;
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
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new GitLabUnavailableException("GET " + uri.getPath() + ": " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : " " + e.getMessage()), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GitLabUnavailableException("interrupted", e);
        }
        if (response.statusCode() != 200) {
            throw new GitLabUnavailableException("GET " + uri.getPath() + " answered " + response.statusCode(), null);
        }
        try {
            JsonNode tags = json.readTree(response.body()).path("tag_list");
            List<String> out = new ArrayList<>();
            tags.forEach(tag -> out.add(tag.asText()));
            return out;
        } catch (IOException e) {
            throw new GitLabUnavailableException("GET " + uri.getPath() + " answered with invalid JSON", e);
        }
    }
}
