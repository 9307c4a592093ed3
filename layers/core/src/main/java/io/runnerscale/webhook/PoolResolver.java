package io.runnerscale.webhook;

import io.runnerscale.gitlab.GitLab;
import io.runnerscale.gitlab.GitLabUnavailableException;
import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.pool.PoolConfig;
import io.runnerscale.pool.PoolsConfig;
import io.runnerscale.store.JobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds the pool of a job. GitLab's hooks carry no job tags, so the tags come from the jobs API,
 * once per job: remembered in memory and in the job's record. When GitLab cannot answer, the job
 * goes to the pool for untagged jobs, and a later event retries the lookup.
 *
 * <p>Live jobs need their pool to scale; finished ones need it too when none is stored yet (a job
 * first seen finished). Jobs not yet pending, and finished jobs whose pool is stored, spare the API.
 */
public final class PoolResolver {
    private static final Logger LOG = LoggerFactory.getLogger(PoolResolver.class);

    private final GitLab gitlab;
    private final JobStore store;
    private final Map<JobKey, List<String>> tagsByJob;

    public PoolResolver(GitLab gitlab, JobStore store, int cacheSize) {
        this.gitlab = gitlab;
        this.store = store;
        this.tagsByJob = new LinkedHashMap<>(256, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<JobKey, List<String>> eldest) {
                return size() > cacheSize;
            }
        };
    }

    public Resolution resolve(JobEvent event, PoolsConfig config) {
        if (event.tags() != null) {
            return found(config, event.tags(), Source.EVENT);
        }
        List<String> cached;
        synchronized (tagsByJob) {
            cached = tagsByJob.get(event.key());
        }
        if (cached != null) {
            return found(config, cached, Source.CACHE);
        }
        Optional<JobRecord> stored = store.find(event.key());
        if (stored.isPresent() && stored.get().tags() != null) {
            remember(event.key(), stored.get().tags());
            return found(config, stored.get().tags(), Source.STORE);
        }
        String storedPool = stored.map(JobRecord::pool).orElse(null);
        if (!event.status().isLive() && (!event.status().isTerminal() || storedPool != null)) {
            // Nothing to scale for: keep what is known and spare GitLab's API rate limit. A finished
            // job without a pool is still looked up: its pending and running hooks were lost (or
            // never stored), and without a pool its record and its instance's use count belong nowhere.
            return new Resolution(storedPool, null, Source.NOT_NEEDED);
        }
        try {
            List<String> tags = gitlab.jobTags(event.key());
            remember(event.key(), tags);
            return found(config, tags, Source.GITLAB);
        } catch (GitLabUnavailableException e) {
            String fallback = config.untaggedPool().map(PoolConfig::name).orElse(null);
            LOG.warn("GitLab API unavailable for job {} ({}); using the pool for untagged jobs: {}",
                    event.key(), e.getMessage(), fallback == null ? "none configured" : fallback);
            return new Resolution(fallback, null, Source.FALLBACK);
        }
    }

    private void remember(JobKey key, List<String> tags) {
        synchronized (tagsByJob) {
            tagsByJob.put(key, List.copyOf(tags));
        }
    }

    private static Resolution found(PoolsConfig config, List<String> tags, Source source) {
        String pool = config.poolFor(tags).map(PoolConfig::name).orElse(null);
        if (pool == null) {
            LOG.warn("no pool takes jobs with tags {}; the job is recorded but nothing scales for it",
                    BadRequestException.abbreviate(tags.toString()));
        }
        return new Resolution(pool, tags, source);
    }

    public enum Source { EVENT, CACHE, STORE, GITLAB, FALLBACK, NOT_NEEDED }

    /** @param tags null when the job's tags are unknown */
    public record Resolution(String pool, List<String> tags, Source source) {
    }
}
