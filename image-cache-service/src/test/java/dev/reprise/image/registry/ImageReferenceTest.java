package dev.reprise.image.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ImageReferenceTest {

    @Test
    void registryRepositoryAndTagOrDigest() {
        ImageReference local = ImageReference.parse("127.0.0.1:5000/reprise/base:bookworm");
        assertThat(local).isEqualTo(new ImageReference("127.0.0.1:5000", "reprise/base", "bookworm", null));
        assertThat(local.manifestReference()).isEqualTo("bookworm");
        assertThat(local.withDigest("sha256:" + "b".repeat(64))).isEqualTo("127.0.0.1:5000/reprise/base@sha256:" + "b".repeat(64));

        ImageReference pinned = ImageReference.parse("registry.example/team/app@sha256:" + "c".repeat(64));
        assertThat(pinned.registry()).isEqualTo("registry.example");
        assertThat(pinned.tag()).isNull();
        assertThat(pinned.manifestReference()).isEqualTo("sha256:" + "c".repeat(64));
    }

    @Test
    void aNameWithoutHostIsDockerHubAndWithoutTagIsLatest() {
        assertThat(ImageReference.parse("debian")).isEqualTo(new ImageReference("registry-1.docker.io", "library/debian", "latest", null));
        assertThat(ImageReference.parse("team/app:1").repository()).isEqualTo("team/app");
        assertThat(ImageReference.parse("localhost/app:1").registry()).isEqualTo("localhost");
    }

    @Test
    void whatIsNoReferenceIsRefused() {
        assertThatThrownBy(() -> ImageReference.parse("UPPER/case")).hasMessageContaining("not an image reference");
        assertThatThrownBy(() -> ImageReference.parse("a/../b")).hasMessageContaining("not an image reference");
        assertThatThrownBy(() -> ImageReference.parse("")).hasMessageContaining("not an image reference");
        assertThatThrownBy(() -> ImageReference.parse("127.0.0.1:70000/reprise/x")).hasMessageContaining("a port is 1 to 65535");
        assertThatThrownBy(() -> ImageReference.parse("127.0.0.1:99999999/reprise/x")).hasMessageContaining("a port is 1 to 65535");
        assertThatThrownBy(() -> ImageReference.parse("127.0.0.1:0/reprise/x")).hasMessageContaining("a port is 1 to 65535");
        assertThat(ImageReference.parse("127.0.0.1:65535/reprise/x").registry()).isEqualTo("127.0.0.1:65535");
    }
}
