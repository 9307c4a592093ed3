package io.runnerscale.lifecycle;

import java.util.ArrayList;
import java.util.List;

/**
 * What one run of the {@link OrphanSweep} did. Each kind counts everything it did and names at most
 * {@link #MAX_IDS} ids (instance ids, or runner ids for the runner kinds), in the order acted on.
 *
 * @param adopted         instances in a group without a runner record whose runner (described by the
 *                        instance id) was recorded
 * @param drainsStarted   instances in a group without a runner record and without a runner: drained
 *                        ({@code boot-timeout})
 * @param runnersDeleted  runners of gone instances, deleted (ids: runner ids)
 * @param runnersBusy     runners of gone instances that GitLab lists a running job on: left for the
 *                        next run (ids: runner ids)
 * @param tokensDeleted   token parameters of gone instances, deleted
 * @param recordsForgotten records of gone instances, removed
 * @param drainsEnded      gone instances whose record still said draining (a failed or ending drain):
 *                         cleaned like any gone instance, the record kept as a tombstone
 * @param returnsTerminated returning instances still in service past the grace time (a lost decrement
 *                        of desired capacity): terminated
 * @param unclaimed       gone instances whose runners show no sign that runnerscale made them: not
 *                        touched
 * @param cutShort        the run stopped at its action or time budget; the next run continues
 */
public record SweepReport(Kind adopted, Kind drainsStarted, Kind runnersDeleted, Kind runnersBusy, Kind tokensDeleted,
                          Kind recordsForgotten, Kind drainsEnded, Kind returnsTerminated, Kind unclaimed,
                          boolean cutShort) {
    public static final int MAX_IDS = 50;

    public record Kind(int count, List<String> ids) {
        public Kind {
            ids = List.copyOf(ids);
        }
    }

    /** Collects one run's counts; not thread-safe (one run, one thread). */
    static final class Builder {
        final Tally adopted = new Tally();
        final Tally drainsStarted = new Tally();
        final Tally runnersDeleted = new Tally();
        final Tally runnersBusy = new Tally();
        final Tally tokensDeleted = new Tally();
        final Tally recordsForgotten = new Tally();
        final Tally drainsEnded = new Tally();
        final Tally returnsTerminated = new Tally();
        final Tally unclaimed = new Tally();
        boolean cutShort;

        SweepReport build() {
            return new SweepReport(adopted.kind(), drainsStarted.kind(), runnersDeleted.kind(), runnersBusy.kind(),
                    tokensDeleted.kind(), recordsForgotten.kind(), drainsEnded.kind(), returnsTerminated.kind(),
                    unclaimed.kind(), cutShort);
        }
    }

    static final class Tally {
        private int count;
        private final List<String> ids = new ArrayList<>();

        void add(Object id) {
            count++;
            if (ids.size() < MAX_IDS) {
                ids.add(String.valueOf(id));
            }
        }

        Kind kind() {
            return new Kind(count, ids);
        }
    }
}
