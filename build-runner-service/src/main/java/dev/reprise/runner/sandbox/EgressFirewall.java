package dev.reprise.runner.sandbox;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * What a build may reach on the network: the internet (package registries, git hosts), but not
 * loopback, the node's own addresses, link-local or private ranges, where the platform's stores,
 * services and cloud metadata live. Enforced by the kernel with an owner match on the builds' uid
 * range (builds run as their own uids, see {@link BuildUids}): one chain per address family,
 * {@code REPRISE-BUILDS}, replaced atomically with {@code iptables-restore --noflush}, and one
 * jump to it from OUTPUT. DNS to the node's resolvers and operator allow-listed ranges are let
 * through first.
 */
public final class EgressFirewall {

    static final String CHAIN = "REPRISE-BUILDS";
    static final List<String> BLOCKED_V4 = List.of("127.0.0.0/8", "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16",
            "172.16.0.0/12", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4");
    static final List<String> BLOCKED_V6 = List.of("::1/128", "::/128", "::ffff:0:0/96", "64:ff9b::/96", "fc00::/7", "fe80::/10",
            "ff00::/8");

    private EgressFirewall() {
    }

    /** The rules, in iptables-restore form, for one family ({@code v6} false: IPv4). */
    static String rules(boolean v6, int firstUid, int lastUid, List<String> resolvers, List<String> allowed, List<String> nodeAddresses) {
        StringBuilder out = new StringBuilder("*filter\n:").append(CHAIN).append(" - [0:0]\n");
        for (String resolver : resolvers) {
            if (isV6(resolver) == v6) {
                for (String proto : List.of("udp", "tcp")) {
                    out.append("-A ").append(CHAIN).append(" -d ").append(resolver).append(" -p ").append(proto)
                            .append(" --dport 53 -j RETURN\n");
                }
            }
        }
        for (String range : allowed) {
            if (isV6(range) == v6) {
                out.append("-A ").append(CHAIN).append(" -d ").append(range).append(" -j RETURN\n");
            }
        }
        Set<String> blocked = new LinkedHashSet<>(v6 ? BLOCKED_V6 : BLOCKED_V4);
        nodeAddresses.stream().filter(a -> isV6(a) == v6).forEach(blocked::add);
        String reject = v6 ? "icmp6-adm-prohibited" : "icmp-admin-prohibited";
        for (String range : blocked) {
            out.append("-A ").append(CHAIN).append(" -d ").append(range).append(" -p tcp -j REJECT --reject-with tcp-reset\n");
            out.append("-A ").append(CHAIN).append(" -d ").append(range).append(" -j REJECT --reject-with ").append(reject).append('\n');
        }
        return out.append("COMMIT\n").toString();
    }

    /** The jump from OUTPUT for the builds' uids. */
    static List<String> jump(int firstUid, int lastUid) {
        return List.of("OUTPUT", "-m", "owner", "--uid-owner", firstUid + "-" + lastUid, "-j", CHAIN);
    }

    /**
     * Installs (or replaces) the rules for both families.
     *
     * @throws IOException naming what failed: the caller decides whether builds may run without them
     */
    public static void install(int firstUid, int lastUid, List<String> allowed) throws IOException {
        List<String> resolvers = resolvers(Path.of("/etc/resolv.conf"));
        List<String> node = nodeAddresses();
        for (boolean v6 : List.of(false, true)) {
            String tool = v6 ? "ip6tables" : "iptables";
            run(List.of(tool + "-restore", "--noflush", "--wait"), rules(v6, firstUid, lastUid, resolvers, allowed, node));
            List<String> jump = jump(firstUid, lastUid);
            List<String> check = new ArrayList<>(List.of(tool, "--wait", "-C"));
            check.addAll(jump);
            if (exit(check, null) != 0) {
                List<String> insert = new ArrayList<>(List.of(tool, "--wait", "-I"));
                insert.add(jump.get(0));
                insert.add("1");
                insert.addAll(jump.subList(1, jump.size()));
                run(insert, null);
            }
        }
    }

    /** The name servers of a resolv.conf: builds need DNS even when the resolver sits in a private range. */
    static List<String> resolvers(Path resolvConf) {
        try {
            return Files.readAllLines(resolvConf).stream().map(String::strip).filter(l -> l.startsWith("nameserver"))
                    .map(l -> l.substring("nameserver".length()).strip()).map(a -> a.contains("%") ? a.substring(0, a.indexOf('%')) : a)
                    .filter(a -> a.matches("[0-9a-fA-F:.]+")).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static List<String> nodeAddresses() {
        List<String> addresses = new ArrayList<>();
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InetAddress address : Collections.list(nic.getInetAddresses())) {
                    if (address instanceof Inet4Address) {
                        addresses.add(address.getHostAddress() + "/32");
                    } else if (address instanceof Inet6Address v6 && !v6.isLinkLocalAddress()) {
                        String text = v6.getHostAddress();
                        addresses.add((text.contains("%") ? text.substring(0, text.indexOf('%')) : text) + "/128");
                    }
                }
            }
        } catch (SocketException e) {
            // the fixed private and loopback ranges still apply
        }
        return addresses;
    }

    private static boolean isV6(String address) {
        return address.contains(":");
    }

    private static void run(List<String> command, String input) throws IOException {
        int exit = exit(command, input);
        if (exit != 0) {
            throw new IOException(String.join(" ", command) + " exited with " + exit);
        }
    }

    private static int exit(List<String> command, String input) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (input != null) {
            try (var stdin = process.getOutputStream()) {
                stdin.write(input.getBytes(StandardCharsets.UTF_8));
            }
        } else {
            process.getOutputStream().close();
        }
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(command.get(0) + " did not finish in 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + command.get(0), e);
        }
        return process.exitValue();
    }
}
