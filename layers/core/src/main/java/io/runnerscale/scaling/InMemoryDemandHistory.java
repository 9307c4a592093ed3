package io.runnerscale.scaling;

import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/** Demand history in memory: request times per pool, appended in time order (as the simulator and a live server see them). */
public final class InMemoryDemandHistory implements DemandHistory {
    private final Map<String, long[]> times = new HashMap<>();
    private final Map<String, Integer> sizes = new HashMap<>();

    @Override
    public synchronized void record(String pool, Instant requestedAt) {
        long[] array = times.computeIfAbsent(pool, p -> new long[1024]);
        int size = sizes.getOrDefault(pool, 0);
        if (size == array.length) {
            array = Arrays.copyOf(array, size * 2);
            times.put(pool, array);
        }
        long millis = requestedAt.toEpochMilli();
        int at = size;
        while (at > 0 && array[at - 1] > millis) { // rare: keep order for slightly late records
            array[at] = array[at - 1];
            at--;
        }
        array[at] = millis;
        sizes.put(pool, size + 1);
    }

    @Override
    public synchronized int count(String pool, Instant from, Instant to) {
        long[] array = times.get(pool);
        if (array == null) {
            return 0;
        }
        int size = sizes.get(pool);
        return lowerBound(array, size, to.toEpochMilli()) - lowerBound(array, size, from.toEpochMilli());
    }

    @Override
    public synchronized Instant since(String pool) {
        long[] array = times.get(pool);
        return array == null || sizes.get(pool) == 0 ? null : Instant.ofEpochMilli(array[0]);
    }

    private static int lowerBound(long[] array, int size, long value) {
        int low = 0;
        int high = size;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (array[mid] < value) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low;
    }
}
