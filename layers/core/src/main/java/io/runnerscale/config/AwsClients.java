package io.runnerscale.config;

import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.client.builder.AwsSyncClientBuilder;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;

import java.net.URI;
import java.time.Duration;

/**
 * How every AWS client is built: one lightweight URLConnection HTTP client shared by all, the region
 * set explicitly (no region lookup at cold start), the default credentials chain.
 */
public final class AwsClients {
    private final SdkHttpClient http;
    private final Region region;
    private final URI endpoint;

    public AwsClients(SdkHttpClient http, Region region, URI endpoint) {
        this.http = http;
        this.region = region;
        this.endpoint = endpoint;
    }

    /** @param endpoint null for AWS itself; a URL for a local stand-in such as moto_server */
    public static AwsClients create(URI endpoint) {
        SdkHttpClient http = UrlConnectionHttpClient.builder()
                .connectionTimeout(Duration.ofSeconds(2))
                .socketTimeout(Duration.ofSeconds(10))
                .build();
        String regionName = System.getenv("AWS_REGION");
        Region region = regionName != null && !regionName.isBlank() ? Region.of(regionName)
                : new DefaultAwsRegionProviderChain().getRegion();
        return new AwsClients(http, region, endpoint);
    }

    public <C, B extends AwsClientBuilder<B, C> & AwsSyncClientBuilder<B, C>> C build(B builder) {
        builder.httpClient(http).region(region).credentialsProvider(DefaultCredentialsProvider.builder().build());
        if (endpoint != null) {
            builder.endpointOverride(endpoint);
        }
        return builder.build();
    }
}
