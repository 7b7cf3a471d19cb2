package dev.reprise.replay.record;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * When each recorded message is sent on replay: the recorded gaps divided by {@code speed}
 * (1 real time, 2 twice as fast, 0 instant), each gap capped at {@code maxGap} when given.
 */
public record ReplayPacing(double speed, Duration maxGap) {

    public ReplayPacing {
        if (Double.isNaN(speed) || Double.isInfinite(speed) || speed < 0) {
            throw new IllegalArgumentException("speed must be a number >= 0 (0 = instant), was " + speed);
        }
        if (maxGap != null && maxGap.isNegative()) {
            throw new IllegalArgumentException("maxGapMs must be >= 0");
        }
    }

    /** The wait before each frame, relative to the previous one. */
    public List<Duration> delays(List<Recording.Frame> frames) {
        List<Duration> delays = new ArrayList<>(frames.size());
        long previous = frames.isEmpty() ? 0 : frames.get(0).offsetMs();
        for (Recording.Frame frame : frames) {
            long gap = Math.max(0, frame.offsetMs() - previous);
            previous = frame.offsetMs();
            Duration delay = speed == 0 ? Duration.ZERO : Duration.ofNanos((long) (gap * 1_000_000L / speed));
            if (maxGap != null && delay.compareTo(maxGap) > 0) {
                delay = maxGap;
            }
            delays.add(delay);
        }
        return delays;
    }

    /** Parses {@code speed} and {@code maxGapMs} query parameters (absent: 1 and no cap). */
    public static ReplayPacing fromQuery(String query) {
        double speed = 1;
        Duration maxGap = null;
        if (query != null && !query.isBlank()) {
            for (String pair : query.split("&")) {
                String[] kv = pair.split("=", 2);
                String value = kv.length == 2 ? kv[1] : "";
                try {
                    switch (kv[0]) {
                        case "speed" -> speed = Double.parseDouble(value);
                        case "maxGapMs" -> maxGap = Duration.ofMillis(Long.parseLong(value));
                        default -> { }
                    }
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(kv[0] + " must be a number, was '" + value + "'");
                }
            }
        }
        return new ReplayPacing(speed, maxGap);
    }
}
