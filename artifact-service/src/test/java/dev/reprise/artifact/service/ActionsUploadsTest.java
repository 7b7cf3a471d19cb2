package dev.reprise.artifact.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class ActionsUploadsTest {

    @Test
    void rangesMergeWhenTheyTouchOrOverlapInAnyOrder() {
        TreeMap<Long, Long> ranges = new TreeMap<>();
        ActionsUploads.addRange(ranges, 200, 300);
        ActionsUploads.addRange(ranges, 0, 100);
        assertThat(ranges).isEqualTo(Map.of(0L, 100L, 200L, 300L));
        ActionsUploads.addRange(ranges, 100, 200); // the gap, exactly
        assertThat(ranges).isEqualTo(Map.of(0L, 300L));
        ActionsUploads.addRange(ranges, 250, 400); // overlapping the end
        ActionsUploads.addRange(ranges, 50, 60);   // inside
        assertThat(ranges).isEqualTo(Map.of(0L, 400L));
        ActionsUploads.addRange(ranges, 500, 600);
        ActionsUploads.addRange(ranges, 450, 700); // swallows a later range
        assertThat(ranges).isEqualTo(Map.of(0L, 400L, 450L, 700L));
    }
}
