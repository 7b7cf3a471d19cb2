package dev.reprise.taskcache;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.type.TypeReference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Remembers what a tool's version option printed (in the cache directory's {@code toolchains.json}),
 * by the binary's real path and what {@code stat} says of it: device-independent inode, size,
 * modification and change time. A run of {@code javac -version} costs a JVM start (about 160 ms);
 * an unchanged binary is not asked again. Installing, upgrading or replacing the binary changes its
 * inode or change time (which no one sets by hand), so it is asked again; a binary changed in the last
 * two seconds always is (git's "racy clean" rule). Not for a runner keying a tenant's tools: it uses
 * {@link #none()}.
 */
public final class ToolVersions {

    private static final long RACY_NANOS = 2_000_000_000L;

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Known(long inode, long size, long modifiedNanos, long changedNanos, String line) {
    }

    private final Path file;
    private final Map<String, Known> known;
    private final long racyNanos;
    private boolean learned;

    private ToolVersions(Path file, Map<String, Known> known, long racyNanos) {
        this.file = file;
        this.known = known;
        this.racyNanos = racyNanos;
    }

    /** The versions remembered in {@code cacheRoot}, or none when the file is missing or unreadable. */
    public static ToolVersions load(Path cacheRoot) {
        return load(cacheRoot, RACY_NANOS);
    }

    /** With another "racy" window (tests: a binary made a moment ago). */
    static ToolVersions load(Path cacheRoot, long racyNanos) {
        Path file = cacheRoot.resolve("toolchains.json");
        return new ToolVersions(file, MemoFile.read(file, new TypeReference<HashMap<String, Known>>() { }), racyNanos);
    }

    /** Asks every time. */
    public static ToolVersions none() {
        return new ToolVersions(null, new HashMap<>(), 0);
    }

    /** What {@code program flag} prints first, from memory when the binary is unchanged; {@code ask} runs it. */
    public String line(Path program, String flag, Supplier<String> ask) {
        if (file == null) {
            return ask.get();
        }
        Path real;
        Known now;
        try {
            real = program.toRealPath();
            Map<String, Object> stat = Files.readAttributes(real, "unix:ino,size,lastModifiedTime,ctime");
            now = new Known((Long) stat.get("ino"), (Long) stat.get("size"), nanos(stat.get("lastModifiedTime")),
                    nanos(stat.get("ctime")), null);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return ask.get(); // no stat to trust (not a POSIX file system): ask
        }
        String id = real + " " + flag;
        Known hit = known.get(id);
        if (hit != null && hit.inode() == now.inode() && hit.size() == now.size() && hit.modifiedNanos() == now.modifiedNanos()
                && hit.changedNanos() == now.changedNanos()) {
            return hit.line();
        }
        String line = ask.get();
        long nowNanos = TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis());
        boolean racy = nowNanos - Math.max(now.modifiedNanos(), now.changedNanos()) < racyNanos;
        if (!racy && !line.startsWith("unknown (")) {
            known.put(id, new Known(now.inode(), now.size(), now.modifiedNanos(), now.changedNanos(), line));
            learned = true;
        }
        return line;
    }

    private static long nanos(Object time) {
        return ((FileTime) time).to(TimeUnit.NANOSECONDS);
    }

    /** Writes what it learned back (atomically). */
    public void save() {
        if (file != null && learned && MemoFile.write(file, known)) {
            learned = false;
        }
    }
}
