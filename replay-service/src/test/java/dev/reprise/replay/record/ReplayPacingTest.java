package dev.reprise.replay.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplayPacingTest {

    private final List<Recording.Frame> frames = List.of(new Recording.Frame(0, "a"), new Recording.Frame(100, "b"),
            new Recording.Frame(100, "c"), new Recording.Frame(5100, "d"));

    @Test
    void realTimeKeepsTheRecordedGaps() {
        assertThat(ReplayPacing.fromQuery(null).delays(frames)).containsExactly(Duration.ZERO, Duration.ofMillis(100),
                Duration.ZERO, Duration.ofMillis(5000));
    }

    @Test
    void speedDividesTheGapsAndZeroIsInstant() {
        assertThat(ReplayPacing.fromQuery("speed=2").delays(frames)).containsExactly(Duration.ZERO, Duration.ofMillis(50),
                Duration.ZERO, Duration.ofMillis(2500));
        assertThat(ReplayPacing.fromQuery("speed=0").delays(frames)).allMatch(Duration::isZero);
        assertThat(ReplayPacing.fromQuery("speed=0.5").delays(frames).get(1)).isEqualTo(Duration.ofMillis(200));
    }

    @Test
    void anIdleGapCapShortensLongSilencesOnly() {
        assertThat(ReplayPacing.fromQuery("speed=1&maxGapMs=1000").delays(frames)).containsExactly(Duration.ZERO,
                Duration.ofMillis(100), Duration.ZERO, Duration.ofMillis(1000));
    }

    @Test
    void framesAreDueAtTheirRecordedOffsetFromTheStartNotAGapAfterTheLastSend() {
        assertThat(ReplayPacing.fromQuery(null).dueNanos(frames)).containsExactly(0, 100_000_000, 100_000_000, 5_100_000_000L);
        assertThat(ReplayPacing.fromQuery("speed=2&maxGapMs=1000").dueNanos(frames))
                .containsExactly(0, 50_000_000, 50_000_000, 1_050_000_000L);
        assertThat(ReplayPacing.fromQuery("speed=0").dueNanos(frames)).containsOnly(0);
    }

    @Test
    void badParametersSayWhatIsWrong() {
        assertThatThrownBy(() -> ReplayPacing.fromQuery("speed=-1")).hasMessageContaining("speed must be a number >= 0");
        assertThatThrownBy(() -> ReplayPacing.fromQuery("speed=fast")).hasMessage("speed must be a number, was 'fast'");
        assertThatThrownBy(() -> ReplayPacing.fromQuery("speed=NaN")).hasMessageContaining("speed must be a number >= 0");
        assertThatThrownBy(() -> ReplayPacing.fromQuery("maxGapMs=-5")).hasMessageContaining("maxGapMs must be >= 0");
    }

    @org.junit.jupiter.api.Test
    void aStepIsTakenByNameOrNumberAndUnknownParametersAreRefused() {
        assertThat(ReplayPacing.fromQuery("speed=0&step=unit%20tests").step()).isEqualTo("unit tests");
        assertThat(ReplayPacing.fromQuery("step=2").step()).isEqualTo("2");
        assertThat(ReplayPacing.fromQuery(null).step()).isNull();
        assertThatThrownBy(() -> ReplayPacing.fromQuery("sped=2")).hasMessage("unknown parameter 'sped'; use speed, maxGapMs and step");
        assertThatThrownBy(() -> ReplayPacing.fromQuery("step=")).hasMessageContaining("step must be a step name or number");
        assertThatThrownBy(() -> ReplayPacing.fromQuery("step=a%0Ab")).hasMessageContaining("printable");
        assertThatThrownBy(() -> ReplayPacing.fromQuery("step=%zz")).hasMessageContaining("bad percent-encoding");
    }
}
