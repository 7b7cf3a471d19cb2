package dev.reprise.taskcache;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InputHashesTest {

    @TempDir
    Path temp;

    @Test
    void aKnownUnchangedFileIsNotReadAgainButAChangedOneIs() throws Exception {
        Path file = temp.resolve("a.txt");
        Files.writeString(file, "one");
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().minusSeconds(60)));
        InputHashes first = InputHashes.load(temp);
        assertThat(first.sha256(file)).isEqualTo(Hashing.sha256("one"));
        first.save();

        // Same size and time but other bytes: the index is trusted (as git and make trust mtimes) ...
        FileTime time = Files.getLastModifiedTime(file);
        Files.writeString(file, "two");
        Files.setLastModifiedTime(file, time);
        assertThat(InputHashes.load(temp).sha256(file)).isEqualTo(Hashing.sha256("one"));
        // ... and any new modification time makes it read again.
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().minusSeconds(30)));
        assertThat(InputHashes.load(temp).sha256(file)).isEqualTo(Hashing.sha256("two"));
    }

    @Test
    void aFileWrittenInTheLastSecondsIsAlwaysReadAgain() throws Exception {
        Path file = temp.resolve("racy.txt");
        Files.writeString(file, "one");
        InputHashes hashes = InputHashes.load(temp);
        assertThat(hashes.sha256(file)).isEqualTo(Hashing.sha256("one"));
        FileTime time = Files.getLastModifiedTime(file);
        Files.writeString(file, "two");
        Files.setLastModifiedTime(file, time);
        assertThat(hashes.sha256(file)).isEqualTo(Hashing.sha256("two"));
    }
}
