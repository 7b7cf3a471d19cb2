package dev.reprise.runner.sandbox;

import java.util.BitSet;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The uids builds run as: a range of its own (no account on the node owns them), one uid per
 * running build, so a build's processes, files and process limit are its own and the firewall can
 * tell builds from the runner by owner. Taken at random among the free ones, so runners sharing a
 * node rarely hand out the same uid at once (and when they do, namespaces still separate them).
 */
public final class BuildUids {

    private final int first;
    private final int count;
    private final BitSet taken;

    public BuildUids(int first, int count) {
        if (first < 1000 || count < 1) {
            throw new IllegalArgumentException("build uids must be a non-empty range above the system accounts, was " + first + "+" + count);
        }
        this.first = first;
        this.count = count;
        this.taken = new BitSet(count);
    }

    public int first() {
        return first;
    }

    public int last() {
        return first + count - 1;
    }

    /** A free uid, marked taken until {@link #release}. */
    public synchronized int take() {
        if (taken.cardinality() >= count) {
            throw new IllegalStateException("all " + count + " build uids are in use; raise reprise.runner.sandbox.uid-count");
        }
        int start = ThreadLocalRandom.current().nextInt(count);
        int free = taken.nextClearBit(start);
        if (free >= count) {
            free = taken.nextClearBit(0);
        }
        taken.set(free);
        return first + free;
    }

    public synchronized void release(int uid) {
        if (uid >= first && uid <= last()) {
            taken.clear(uid - first);
        }
    }
}
