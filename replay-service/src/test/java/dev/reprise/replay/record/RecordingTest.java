package dev.reprise.replay.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

class RecordingTest {

    private final ObjectMapper json = new ObjectMapper();
    private final Recording recording = new Recording(
            new Recording.Header(Recording.FORMAT, "k", "b-1", "dev", "file:///r", "a".repeat(40), "make", "SUCCESS",
                    250, 3, 42),
            List.of(new Recording.Frame(0, "{\"seq\":1}"), new Recording.Frame(100, "line with \"quotes\"\nand newline"),
                    new Recording.Frame(250, "ünïcödé ✓")));

    @Test
    void aRecordingRoundTripsThroughGzipExactly() {
        Recording read = Recording.fromGzip(recording.toGzip(json), json);
        assertThat(read).isEqualTo(recording);
    }

    @Test
    void aTruncatedRecordingIsRejectedNotServed() throws Exception {
        byte[] whole = recording.toGzip(json);
        String text = new String(new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(whole)).readAllBytes());
        String withoutLast = text.substring(0, text.lastIndexOf("{\"t\":250"));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(bytes)) {
            gzip.write(withoutLast.getBytes());
        }
        assertThatThrownBy(() -> Recording.fromGzip(bytes.toByteArray(), json)).hasMessageContaining("truncated: 2 of 3");
        assertThatThrownBy(() -> Recording.fromGzip(new byte[] {1, 2, 3}, json)).hasMessageContaining("not a readable recording");
    }
}
