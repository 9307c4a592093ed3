package io.runnerscale.simulate;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** The simulator's time: moves only when the event loop moves it. */
final class VirtualClock extends Clock {
    private Instant now;

    VirtualClock(Instant start) {
        this.now = start;
    }

    void advanceTo(Instant time) {
        if (time.isAfter(now)) {
            now = time;
        }
    }

    @Override
    public Instant instant() {
        return now;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("the simulator runs in UTC");
    }
}
