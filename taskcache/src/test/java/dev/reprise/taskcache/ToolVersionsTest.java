package dev.reprise.taskcache;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ToolVersionsTest {

    @TempDir
    Path temp;

    /** A fake javac on its own PATH that counts how often it is asked for its version. */
    private Path javac(String version) throws Exception {
        Path bin = Files.createDirectories(temp.resolve("bin"));
        Path javac = bin.resolve("javac");
        Files.writeString(javac, "#!/bin/sh\necho asked >> " + temp.resolve("asked") + "\necho 'javac " + version + "'\n");
        Files.setPosixFilePermissions(javac, PosixFilePermissions.fromString("rwxr-xr-x"));
        return javac;
    }

    private long asked() throws Exception {
        Path log = temp.resolve("asked");
        return Files.exists(log) ? Files.readAllLines(log).size() : 0;
    }

    private Map<String, String> detect(ToolVersions versions) {
        return Toolchains.detect(List.of("javac", "-d", "out", "A.java"), Map.of("PATH", temp.resolve("bin").toString()), versions);
    }

    @Test
    void anUnchangedBinaryIsAskedOnceAcrossRuns() throws Exception {
        javac("17.0.15");
        Path cache = Files.createDirectories(temp.resolve("cache"));

        ToolVersions first = ToolVersions.load(cache, 0);
        assertThat(detect(first)).containsEntry("javac", "javac 17.0.15");
        first.save();
        assertThat(detect(ToolVersions.load(cache, 0))).containsEntry("javac", "javac 17.0.15");
        assertThat(detect(ToolVersions.load(cache, 0))).containsEntry("javac", "javac 17.0.15");

        assertThat(asked()).isEqualTo(1);
    }

    @Test
    void aReplacedBinaryIsAskedAgainEvenWithItsOldSizeAndTime() throws Exception {
        Path javac = javac("17.0.15");
        Path cache = Files.createDirectories(temp.resolve("cache"));
        ToolVersions first = ToolVersions.load(cache, 0);
        detect(first);
        first.save();

        // Same length, same modification time: only the change time (which no one sets) tells.
        FileTime time = Files.getLastModifiedTime(javac);
        Files.writeString(javac, Files.readString(javac).replace("17.0.15", "17.0.16"));
        Files.setLastModifiedTime(javac, time);

        assertThat(detect(ToolVersions.load(cache, 0))).containsEntry("javac", "javac 17.0.16");
        assertThat(asked()).isEqualTo(2);
    }

    @Test
    void aBinaryChangedAMomentAgoAndTheRunnersUncachedVersionsAreAlwaysAsked() throws Exception {
        javac("17.0.15");
        Path cache = Files.createDirectories(temp.resolve("cache"));
        ToolVersions racy = ToolVersions.load(cache);
        detect(racy);
        racy.save();
        detect(ToolVersions.load(cache));
        assertThat(asked()).isEqualTo(2);

        detect(ToolVersions.none());
        detect(ToolVersions.none());
        assertThat(asked()).isEqualTo(4);
        assertThat(cache.resolve("toolchains.json")).doesNotExist();
    }
}
