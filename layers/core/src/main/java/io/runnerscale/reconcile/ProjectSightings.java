package io.runnerscale.reconcile;

import io.runnerscale.store.ProjectStore;
import io.runnerscale.webhook.JobUpdateService;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Notes the projects jobs come from in the {@link ProjectStore}, at most once per project every
 * {@link #EVERY} in one process: the reconciler only needs to know a project was seen within the
 * day, and a busy project must not cost a write per job.
 */
public final class ProjectSightings implements JobUpdateService.ProjectsSeen {
    static final Duration EVERY = Duration.ofHours(1);
    /** Projects remembered by one process; beyond this the least recent are written again when seen. */
    static final int MEMORY = 10_000;

    private final ProjectStore store;
    private final Map<Long, Instant> written = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Instant> eldest) {
            return size() > MEMORY;
        }
    };

    public ProjectSightings(ProjectStore store) {
        this.store = store;
    }

    @Override
    public void seen(long projectId, Instant at) {
        synchronized (written) {
            Instant last = written.get(projectId);
            if (last != null && at.isBefore(last.plus(EVERY))) {
                return;
            }
            written.put(projectId, at);
        }
        try {
            store.projectSeen(projectId, at);
        } catch (RuntimeException e) {
            synchronized (written) {
                written.remove(projectId);
            }
            throw e;
        }
    }
}
