package dev.reprise.runner.sandbox;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The seccomp program a build runs under, as the classic-BPF bytes bubblewrap's {@code --seccomp}
 * reads: system calls that change mounts or namespaces, trace or read other processes, reach the
 * kernel keyring, load BPF or kernel modules, or reboot fail with EPERM; {@code clone} with any
 * namespace flag fails with EPERM and {@code clone3} with ENOSYS (its flags sit behind a pointer
 * a filter cannot read; libc then falls back to {@code clone}). Everything else is allowed, so
 * compilers, package managers and test runners work unchanged. A foreign ABI on the same kernel
 * (i386 or x32 on x86-64) gets EPERM for every call: its numbers differ and would slip through.
 */
public final class SeccompFilter {

    /** Namespace flags of clone(2): NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET. */
    static final int CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

    private static final int EPERM = 1;
    private static final int ENOSYS = 38;
    private static final int RET_ALLOW = 0x7fff0000;
    private static final int RET_ERRNO = 0x00050000;
    private static final short LD_W_ABS = 0x20;
    private static final short JEQ = 0x15;
    private static final short JGE = 0x35;
    private static final short JSET = 0x45;
    private static final short RET = 0x06;
    /** Jump targets resolved once the program is complete: the three returns at its end. */
    private static final int TO_EPERM = -1;
    private static final int TO_ENOSYS = -2;
    private static final int TO_ALLOW = -3;
    private static final int OFFSET_NR = 0;
    private static final int OFFSET_ARCH = 4;
    /** Low 32 bits of args[0] (little-endian machines only: x86-64 and aarch64). */
    private static final int OFFSET_ARG0 = 16;

    /** One machine's system call numbers. */
    record Abi(String osArch, int auditArch, int cloneNr, int clone3Nr, List<Integer> denied, boolean x32) {
    }

    static final Abi X86_64 = new Abi("amd64", 0xc000003e, 56, 435, List.of(
            165, 166, 155, 161, // mount, umount2, pivot_root, chroot
            428, 429, 430, 431, 432, 433, 442, // open_tree, move_mount, fsopen, fsconfig, fsmount, fspick, mount_setattr
            272, 308, // unshare, setns
            101, 310, 311, // ptrace, process_vm_readv, process_vm_writev
            248, 249, 250, // add_key, request_key, keyctl
            321, 298, 323, // bpf, perf_event_open, userfaultfd
            175, 176, 313, 246, 320, // init_module, delete_module, finit_module, kexec_load, kexec_file_load
            303, 304, // name_to_handle_at, open_by_handle_at
            163, 179, 443, 167, 168, 169, 170, 171, // acct, quotactl, quotactl_fd, swapon, swapoff, reboot, sethostname, setdomainname
            172, 173, 212, 134, 156, 153), // iopl, ioperm, lookup_dcookie, uselib, _sysctl, vhangup
            true);

    static final Abi AARCH64 = new Abi("aarch64", 0xc00000b7, 220, 435, List.of(
            40, 39, 41, 51, // mount, umount2, pivot_root, chroot
            428, 429, 430, 431, 432, 433, 442,
            97, 268, // unshare, setns
            117, 270, 271, // ptrace, process_vm_readv, process_vm_writev
            217, 218, 219, // add_key, request_key, keyctl
            280, 241, 282, // bpf, perf_event_open, userfaultfd
            105, 106, 273, 104, 294, // init_module, delete_module, finit_module, kexec_load, kexec_file_load
            264, 265, // name_to_handle_at, open_by_handle_at
            89, 60, 443, 224, 225, 142, 161, 162, // acct, quotactl, quotactl_fd, swapon, swapoff, reboot, sethostname, setdomainname
            18, 58), // lookup_dcookie, vhangup
            false);

    private SeccompFilter() {
    }

    /** The ABI of this JVM's machine, if the filter knows it. */
    static Optional<Abi> host() {
        String arch = System.getProperty("os.arch");
        if (arch.equals("amd64") || arch.equals("x86_64")) {
            return Optional.of(X86_64);
        }
        if (arch.equals("aarch64")) {
            return Optional.of(AARCH64);
        }
        return Optional.empty();
    }

    /** The program for this machine; empty where the machine's system call numbers are not known here. */
    public static Optional<byte[]> forHost() {
        return host().map(SeccompFilter::program);
    }

    /** The program for one ABI, as an array of {@code struct sock_filter} in the machine's byte order. */
    static byte[] program(Abi abi) {
        List<long[]> code = new ArrayList<>();
        code.add(op(LD_W_ABS, 0, 0, OFFSET_ARCH));
        code.add(op(JEQ, 1, 0, abi.auditArch()));
        code.add(denyEperm());
        code.add(op(LD_W_ABS, 0, 0, OFFSET_NR));
        if (abi.x32()) {
            code.add(jumpToEperm(JGE, 0x40000000));
        }
        for (int nr : abi.denied()) {
            code.add(jumpToEperm(JEQ, nr));
        }
        code.add(op(JEQ, TO_ENOSYS, 0, abi.clone3Nr()));
        code.add(op(JEQ, 0, TO_ALLOW, abi.cloneNr()));
        code.add(op(LD_W_ABS, 0, 0, OFFSET_ARG0));
        code.add(jumpToEperm(JSET, CLONE_NAMESPACES));
        code.add(op(RET, 0, 0, RET_ALLOW));
        code.add(op(RET, 0, 0, RET_ERRNO | EPERM));
        code.add(op(RET, 0, 0, RET_ERRNO | ENOSYS));
        int allow = code.size() - 3;
        int eperm = code.size() - 2;
        int enosys = code.size() - 1;
        for (int i = 0; i < code.size(); i++) {
            long[] insn = code.get(i);
            for (int branch = 1; branch <= 2; branch++) {
                long target = insn[branch] == TO_EPERM ? eperm : insn[branch] == TO_ENOSYS ? enosys : insn[branch] == TO_ALLOW ? allow : -1;
                if (target >= 0) {
                    insn[branch] = target - i - 1;
                }
            }
        }
        ByteBuffer bytes = ByteBuffer.allocate(code.size() * 8).order(ByteOrder.nativeOrder());
        for (long[] insn : code) {
            if (insn[1] > 255 || insn[2] > 255) {
                throw new IllegalStateException("seccomp jump out of range");
            }
            bytes.putShort((short) insn[0]).put((byte) insn[1]).put((byte) insn[2]).putInt((int) insn[3]);
        }
        return bytes.array();
    }

    private static long[] op(short code, int jt, int jf, int k) {
        return new long[] {code, jt, jf, k};
    }

    /** A conditional jump whose true branch goes to the EPERM return. */
    private static long[] jumpToEperm(short code, int k) {
        return op(code, TO_EPERM, 0, k);
    }

    private static long[] denyEperm() {
        return op(RET, 0, 0, RET_ERRNO | EPERM);
    }
}
