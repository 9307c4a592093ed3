package io.runnerscale.gitlab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;

/**
 * The GitLab URL and API token, stored together as one Secrets Manager secret:
 * {@code {"url": "https://gitlab.example.com", "token": "glpat-..."}}.
 */
public record GitLabCredentials(String baseUrl, String token) {

    public GitLabCredentials {
        baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    }

    /** The token is left out on purpose: records print their fields. */
    @Override
    public String toString() {
        return "GitLabCredentials[" + baseUrl + "]";
    }

    public static GitLabCredentials fromSecretJson(String secret, ObjectMapper json) {
        try {
            JsonNode node = json.readTree(secret);
            String url = node.path("url").asText("");
            String token = node.path("token").asText("");
            if (url.isBlank() || token.isBlank()) {
                throw new IllegalArgumentException("the GitLab secret needs both \"url\" and \"token\"");
            }
            return new GitLabCredentials(url, token);
        } catch (IOException e) {
            throw new IllegalArgumentException("the GitLab secret is not JSON like {\"url\": ..., \"token\": ...}");
        }
    }
}
