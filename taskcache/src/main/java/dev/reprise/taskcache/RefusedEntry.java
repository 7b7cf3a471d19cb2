package dev.reprise.taskcache;

import java.io.IOException;

/**
 * A cache entry that is not restored or stored because it is unsafe: a path leaving the working
 * tree, a symlink on the way, a file whose bytes do not match its hash, more bytes or entries than
 * {@link RestoreLimits} allow. Callers treat it as a miss; nothing of the entry has been written.
 */
public final class RefusedEntry extends IOException {

    private final boolean entryAtFault;

    private RefusedEntry(String message, boolean entryAtFault) {
        super(message);
        this.entryAtFault = entryAtFault;
    }

    /** The entry itself is hostile or damaged: it should be removed so a good one can take its place. */
    static RefusedEntry unsafe(String message) {
        return new RefusedEntry(message, true);
    }

    /** The entry is fine but the working tree is in its way (a symlinked directory, a directory where a file goes). */
    public static RefusedEntry conflict(String message) {
        return new RefusedEntry(message, false);
    }

    public boolean entryAtFault() {
        return entryAtFault;
    }
}
