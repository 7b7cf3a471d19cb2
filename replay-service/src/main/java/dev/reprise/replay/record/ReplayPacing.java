package dev.reprise.replay.record;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How a recording is replayed: the recorded gaps divided by {@code speed} (1 real time, 2 twice
 * as fast, 0 instant), each gap capped at {@code maxGap} when given, starting at the step named
 * or numbered {@code step} (null: from the first message).
 */
public record ReplayPacing(double speed, Duration maxGap, String step) {

    public static final int MAX_STEP_LENGTH = 128;

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

    /**
     * When each frame is due, in nanoseconds from the start of the replay: the running sum of
     * {@link #delays}. A replay sends each frame at its due time rather than a gap after the
     * previous send, so time spent sending (or a busy event loop) is caught up instead of adding up.
     */
    public long[] dueNanos(List<Recording.Frame> frames) {
        long[] due = new long[frames.size()];
        long at = 0;
        List<Duration> delays = delays(frames);
        for (int i = 0; i < due.length; i++) {
            at += delays.get(i).toNanos();
            due[i] = at;
        }
        return due;
    }

    /**
     * Parses the {@code speed}, {@code maxGapMs} and {@code step} query parameters (absent: 1, no
     * cap, from the start); any other parameter is refused, so a typo is not silently ignored.
     */
    public static ReplayPacing fromQuery(String query) {
        double speed = 1;
        Duration maxGap = null;
        String step = null;
        if (query != null && !query.isBlank()) {
            for (String pair : query.split("&")) {
                String[] kv = pair.split("=", 2);
                String value = kv.length == 2 ? decode(kv[1]) : "";
                try {
                    switch (kv[0]) {
                        case "speed" -> speed = Double.parseDouble(value);
                        case "maxGapMs" -> maxGap = Duration.ofMillis(Long.parseLong(value));
                        case "step" -> step = value;
                        case "ticket" -> { } // the stream ticket, checked by the socket
                        default -> throw new IllegalArgumentException("unknown parameter '" + abbreviate(kv[0])
                                + "'; use speed, maxGapMs and step");
                    }
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(kv[0] + " must be a number, was '" + value + "'");
                }
            }
        }
        if (step != null && (step.isBlank() || step.length() > MAX_STEP_LENGTH || step.chars().anyMatch(Character::isISOControl))) {
            throw new IllegalArgumentException("step must be a step name or number of at most " + MAX_STEP_LENGTH
                    + " printable characters");
        }
        return new ReplayPacing(speed, maxGap, step);
    }

    private static String decode(String value) {
        try {
            return java.net.URLDecoder.decode(value, java.nio.charset.StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad percent-encoding in '" + abbreviate(value) + "'");
        }
    }

    private static String abbreviate(String value) {
        String printable = value.replaceAll("\\p{Cntrl}", "?");
        return printable.length() > 40 ? printable.substring(0, 40) + "..." : printable;
    }
}
