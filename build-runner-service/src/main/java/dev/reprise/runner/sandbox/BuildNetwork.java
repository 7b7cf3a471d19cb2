package dev.reprise.runner.sandbox;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Each build's network: a network namespace of its own (its own loopback, so a build's test
 * servers, Gradle's daemon and the like work, and nothing of the node's loopback or its abstract
 * sockets is there), joined to the node by a veth pair in a /30 of the builds' pool and NATed out.
 * The node's firewall lets a build reach DNS and the internet, and rejects everything else: the
 * node itself (its loopback-bound stores are not even routable), other builds, private,
 * link-local and carrier-grade ranges, where the platform's stores and cloud metadata live.
 * Chains {@code REPRISE-BUILDS} (FORWARD), {@code REPRISE-BUILDS-IN} (INPUT),
 * {@code REPRISE-BUILDS-RET} (replies) and {@code REPRISE-BUILDS-NAT} (nat POSTROUTING) are
 * replaced atomically with {@code iptables-restore --noflush}. Builds get no IPv6 route.
 */
public final class BuildNetwork {

    static final List<String> BLOCKED = List.of("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
            "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4");
    private static final Path NETNS = Path.of("/run/netns");

    private final int poolBase;
    private final int poolBits;

    private BuildNetwork(int poolBase, int poolBits) {
        this.poolBase = poolBase;
        this.poolBits = poolBits;
    }

    /**
     * Installs the firewall and NAT for the builds' pool (an IPv4 CIDR such as 100.127.0.0/16, room
     * for {@code slots} /30 subnets) and turns on forwarding.
     *
     * @throws IOException naming what failed: the caller decides whether builds may run without it
     */
    public static BuildNetwork install(String pool, int slots, List<String> resolvers, List<String> allowed) throws IOException {
        String[] parts = pool.split("/");
        int bits = Integer.parseInt(parts[1]);
        int base = toInt(InetAddress.getByName(parts[0]));
        if (slots > 1 << (32 - bits - 2)) {
            throw new IOException("the pool " + pool + " has room for " + (1 << (32 - bits - 2)) + " builds, not " + slots);
        }
        run(List.of("iptables-restore", "--noflush", "--wait"), rules(pool, resolvers, allowed));
        jump("filter", "FORWARD", List.of("-s", pool, "-j", "REPRISE-BUILDS"));
        jump("filter", "FORWARD", List.of("-d", pool, "-j", "REPRISE-BUILDS-RET"));
        jump("filter", "INPUT", List.of("-s", pool, "-j", "REPRISE-BUILDS-IN"));
        jump("nat", "POSTROUTING", List.of("-s", pool, "-j", "REPRISE-BUILDS-NAT"));
        Path forward = Path.of("/proc/sys/net/ipv4/ip_forward");
        if (!Files.readString(forward).strip().equals("1")) {
            Files.writeString(forward, "1");
        }
        return new BuildNetwork(base, bits);
    }

    /** The rules, in iptables-restore form. */
    static String rules(String pool, List<String> resolvers, List<String> allowed) {
        StringBuilder out = new StringBuilder("*filter\n:REPRISE-BUILDS - [0:0]\n:REPRISE-BUILDS-IN - [0:0]\n:REPRISE-BUILDS-RET - [0:0]\n");
        for (String resolver : resolvers) {
            for (String proto : List.of("udp", "tcp")) {
                out.append("-A REPRISE-BUILDS -d ").append(resolver).append(" -p ").append(proto).append(" --dport 53 -j ACCEPT\n");
            }
        }
        for (String range : allowed) {
            out.append("-A REPRISE-BUILDS -d ").append(range).append(" -j ACCEPT\n");
        }
        for (String range : BLOCKED) {
            out.append("-A REPRISE-BUILDS -d ").append(range).append(" -p tcp -j REJECT --reject-with tcp-reset\n");
            out.append("-A REPRISE-BUILDS -d ").append(range).append(" -j REJECT --reject-with icmp-admin-prohibited\n");
        }
        out.append("-A REPRISE-BUILDS -j ACCEPT\n");
        // The node itself: nothing a build may talk to (its gateway address included).
        out.append("-A REPRISE-BUILDS-IN -p tcp -j REJECT --reject-with tcp-reset\n");
        out.append("-A REPRISE-BUILDS-IN -j REJECT --reject-with icmp-admin-prohibited\n");
        out.append("-A REPRISE-BUILDS-RET -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n");
        out.append("-A REPRISE-BUILDS-RET -j DROP\n");
        out.append("COMMIT\n*nat\n:REPRISE-BUILDS-NAT - [0:0]\n");
        out.append("-A REPRISE-BUILDS-NAT ! -d ").append(pool).append(" -j MASQUERADE\n");
        return out.append("COMMIT\n").toString();
    }

    /** A build's network namespace, to be entered with {@code nsenter --net=}{@link #path()}. */
    public record Namespace(String name) {
        public Path path() {
            return NETNS.resolve(name);
        }
    }

    /**
     * Creates slot {@code slot}'s namespace; one a dead runner left under this slot (its lock was
     * free) is removed first.
     */
    public Namespace create(int slot) throws IOException {
        Namespace namespace = new Namespace("reprise-build-" + slot);
        if (Files.exists(namespace.path())) {
            remove(namespace);
        }
        String host = "rbh" + slot;
        int subnet = poolBase + slot * 4;
        String gateway = toText(subnet + 1);
        String build = toText(subnet + 2);
        try {
            batch(List.of(), String.join("\n", "netns add " + namespace.name(),
                    "link add " + host + " type veth peer name eth0 netns " + namespace.name(),
                    "addr add " + gateway + "/30 dev " + host, "link set " + host + " up"));
            batch(List.of("-n", namespace.name()), String.join("\n", "addr add " + build + "/30 dev eth0", "link set eth0 up",
                    "link set lo up", "route add default via " + gateway));
        } catch (IOException e) {
            remove(namespace);
            throw e;
        }
        return namespace;
    }

    /** The slots that have a namespace on this node, in use or left by a runner that was killed. */
    public static List<Integer> slotsWithNamespace() {
        try (var names = Files.list(NETNS)) {
            return names.map(p -> p.getFileName().toString()).filter(n -> n.matches("reprise-build-[0-9]{1,6}"))
                    .map(n -> Integer.parseInt(n.substring("reprise-build-".length()))).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Removes a namespace (its veth pair goes with it). */
    public void remove(Namespace namespace) {
        try {
            run(List.of("ip", "netns", "delete", namespace.name()), null);
        } catch (IOException e) {
            // already gone
        }
    }

    /** The name servers of a resolv.conf that a build can reach (not the node's loopback). */
    public static List<String> resolvers(Path resolvConf) {
        try {
            return Files.readAllLines(resolvConf).stream().map(String::strip).filter(l -> l.startsWith("nameserver"))
                    .map(l -> l.substring("nameserver".length()).strip())
                    .filter(a -> a.matches("[0-9.]+") && !a.startsWith("127.")).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static void jump(String table, String chain, List<String> rule) throws IOException {
        List<String> check = new ArrayList<>(List.of("iptables", "--wait", "-t", table, "-C", chain));
        check.addAll(rule);
        if (exit(check, null) != 0) {
            List<String> insert = new ArrayList<>(List.of("iptables", "--wait", "-t", table, "-I", chain, "1"));
            insert.addAll(rule);
            run(insert, null);
        }
    }

    private static void batch(List<String> options, String commands) throws IOException {
        List<String> command = new ArrayList<>(List.of("ip"));
        command.addAll(options);
        command.addAll(List.of("-batch", "-"));
        run(command, commands + "\n");
    }

    private static int toInt(InetAddress address) throws IOException {
        if (!(address instanceof Inet4Address)) {
            throw new IOException("the builds' address pool must be IPv4, was " + address);
        }
        byte[] b = address.getAddress();
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }

    static String toText(int address) {
        return (address >>> 24) + "." + (address >>> 16 & 0xff) + "." + (address >>> 8 & 0xff) + "." + (address & 0xff);
    }

    private static void run(List<String> command, String input) throws IOException {
        int exit = exit(command, input);
        if (exit != 0) {
            throw new IOException(String.join(" ", command) + " exited with " + exit);
        }
    }

    private static int exit(List<String> command, String input) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try (var stdin = process.getOutputStream()) {
            if (input != null) {
                stdin.write(input.getBytes(StandardCharsets.UTF_8));
            }
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
