package dev.reprise.runner.sandbox;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The slots builds run in: slot {@code n} is uid {@code first + n} (owned by no account on the
 * node) and the {@code n}-th subnet of the builds' network. One slot per running build, so a
 * build's processes, files, process limit and network are its own. A slot is held with a file
 * lock, so runners sharing a node never hand out the same slot, and a slot whose runner died
 * (killed, its lock gone with it) is free again: whoever takes it next clears what was left.
 */
public final class BuildUids {

    private final int first;
    private final int count;
    private final Path locks;
    private final Map<Integer, FileLock> held = new ConcurrentHashMap<>();

    public BuildUids(int first, int count, Path locks) {
        if (first < 1000 || count < 1) {
            throw new IllegalArgumentException("build uids must be a non-empty range above the system accounts, was " + first + "+" + count);
        }
        this.first = first;
        this.count = count;
        this.locks = locks;
    }

    public int first() {
        return first;
    }

    public int last() {
        return first + count - 1;
    }

    public int slotOf(int uid) {
        return uid - first;
    }

    /** A free uid, held until {@link #release}. */
    public int take() throws IOException {
        int start = ThreadLocalRandom.current().nextInt(count);
        for (int i = 0; i < count; i++) {
            int slot = (start + i) % count;
            if (hold(slot)) {
                return first + slot;
            }
        }
        throw new IllegalStateException("all " + count + " build slots are in use; raise reprise.runner.sandbox.uid-count");
    }

    /**
     * Slot {@code slot}'s uid if no runner holds it, held until {@link #release} (to clear what a killed runner left
     * under it without racing a runner that takes it); empty while it is in use.
     */
    public java.util.OptionalInt takeIfFree(int slot) throws IOException {
        return slot >= 0 && slot < count && hold(slot) ? java.util.OptionalInt.of(first + slot) : java.util.OptionalInt.empty();
    }

    private boolean hold(int slot) throws IOException {
        if (held.containsKey(slot)) {
            return false;
        }
        Files.createDirectories(locks, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        FileChannel channel = FileChannel.open(locks.resolve("slot-" + slot + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        try {
            FileLock lock = channel.tryLock();
            if (lock != null && held.putIfAbsent(slot, lock) == null) {
                return true;
            }
            if (lock != null) {
                lock.release();
            }
        } catch (OverlappingFileLockException e) {
            // held by another thread of this runner
        }
        channel.close();
        return false;
    }

    public void release(int uid) {
        FileLock lock = held.remove(uid - first);
        if (lock != null) {
            try {
                lock.channel().close();
            } catch (IOException e) {
                // the lock goes with the channel either way
            }
        }
    }
}
