package io.runnerscale.testing;

import io.runnerscale.job.JobEvent;
import io.runnerscale.job.JobKey;
import io.runnerscale.job.JobRecord;
import io.runnerscale.store.InMemoryJobStore;
import io.runnerscale.store.InstanceRecord;
import io.runnerscale.store.JobStore;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A job store that hands every call to an {@link InMemoryJobStore}: tests extend it and override
 * only the calls they make fail, slow or lag.
 */
public class DelegatingJobStore implements JobStore {
    public final InMemoryJobStore delegate = new InMemoryJobStore();

    @Override
    public ApplyOutcome apply(JobEvent event, String pool, Instant now) {
        return delegate.apply(event, pool, now);
    }

    @Override
    public Optional<JobRecord> find(JobKey key) {
        return delegate.find(key);
    }

    @Override
    public boolean claimDelivery(String deliveryId, Instant now) {
        return delegate.claimDelivery(deliveryId, now);
    }

    @Override
    public boolean deliveryRecorded(String deliveryId) {
        return delegate.deliveryRecorded(deliveryId);
    }

    @Override
    public void releaseDelivery(String deliveryId) {
        delegate.releaseDelivery(deliveryId);
    }

    @Override
    public List<JobRecord> liveJobs(String pool) {
        return delegate.liveJobs(pool);
    }

    @Override
    public List<InstanceRecord> instances(String pool) {
        return delegate.instances(pool);
    }

    @Override
    public boolean recordInstance(String pool, String instanceId, Instant launchedAt, Instant unknownSince) {
        return delegate.recordInstance(pool, instanceId, launchedAt, unknownSince);
    }

    @Override
    public void markStateUnknown(String instanceId, Instant since) {
        delegate.markStateUnknown(instanceId, since);
    }

    @Override
    public Optional<Instant> observePool(String pool, Instant now) {
        return delegate.observePool(pool, now);
    }

    @Override
    public void forgetInstance(String instanceId) {
        delegate.forgetInstance(instanceId);
    }
}
