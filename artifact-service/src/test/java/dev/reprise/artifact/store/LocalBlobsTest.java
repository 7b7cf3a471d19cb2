package dev.reprise.artifact.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalBlobsTest {

    private static final String HELLO_SHA256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    @TempDir
    Path temp;

    @Test
    void theDirectoriesAreMadeTheOwnersAloneWhetherNewOrFoundOpen() throws Exception {
        Path fresh = temp.resolve("fresh");
        LocalBlobs.ownerOnly(fresh);
        assertThat(Files.getPosixFilePermissions(fresh)).isEqualTo(PosixFilePermissions.fromString("rwx------"));

        Path open = Files.createDirectory(temp.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        LocalBlobs.ownerOnly(open);
        assertThat(Files.getPosixFilePermissions(open)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
    }

    @Test
    void aFileWhereTheDirectoryShouldBeIsRefused() throws Exception {
        Path file = Files.writeString(temp.resolve("blobs"), "x");
        assertThatThrownBy(() -> LocalBlobs.ownerOnly(file)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is not a directory");
    }

    @Test
    void aSmallCopyIsReadWholeAndCheckedAgainstItsSizeAndDigest() throws Exception {
        Path copy = Files.writeString(temp.resolve("copy"), "hello");
        assertThat(LocalBlobs.readChecked(copy, HELLO_SHA256, 5).bytes()).isEqualTo("hello".getBytes(StandardCharsets.UTF_8));
        assertThat(LocalBlobs.readChecked(copy, HELLO_SHA256, 4).mismatch()).isEqualTo("size");
        Files.writeString(copy, "jello");
        assertThat(LocalBlobs.readChecked(copy, HELLO_SHA256, 5)).isEqualTo(new LocalBlobs.Verified(null, "digest"));
        Files.writeString(copy, "hello, and then some more than was stored");
        assertThat(LocalBlobs.readChecked(copy, HELLO_SHA256, 5).mismatch()).isEqualTo("size");
    }
}
