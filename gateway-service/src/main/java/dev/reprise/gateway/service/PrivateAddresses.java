package dev.reprise.gateway.service;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which addresses belong to a private network (the platform's own, the host's, the cloud's
 * metadata service) rather than the internet, and which host names are addresses in disguise.
 * Pure: no name is ever resolved here.
 */
public final class PrivateAddresses {

    /** An address range and what it is, as a refusal names it: {@code 127.0.0.0/8 (loopback)}. */
    record Range(Cidr cidr, String what) {
        static Range of(String cidr, String what) {
            return new Range(Cidr.parse(cidr), cidr + " (" + what + ")");
        }
    }

    private static final List<Range> IPV4 = List.of(
            Range.of("0.0.0.0/8", "this host, any-local"),
            Range.of("10.0.0.0/8", "RFC 1918 private"),
            Range.of("100.64.0.0/10", "carrier-grade NAT"),
            Range.of("127.0.0.0/8", "loopback"),
            Range.of("169.254.0.0/16", "link-local, cloud metadata"),
            Range.of("172.16.0.0/12", "RFC 1918 private"),
            Range.of("192.168.0.0/16", "RFC 1918 private"),
            Range.of("224.0.0.0/4", "multicast"),
            Range.of("240.0.0.0/4", "reserved, broadcast"));

    private static final List<Range> IPV6 = List.of(
            Range.of("::/128", "unspecified, any-local"),
            Range.of("::1/128", "loopback"),
            // ::a.b.c.d: deprecated, nothing public is addressed that way
            Range.of("::/96", "IPv4-compatible, deprecated"),
            Range.of("64:ff9b:1::/48", "local-use NAT64"),
            Range.of("fc00::/7", "unique local"),
            Range.of("fe80::/10", "link-local"),
            Range.of("fec0::/10", "site-local, deprecated"),
            Range.of("ff00::/8", "multicast"));

    // IPv6 that carries an IPv4 address a connection ends up at (and ::ffff:0:0/96, IPv4-mapped).
    private static final Cidr NAT64 = Cidr.parse("64:ff9b::/96");
    private static final Cidr SIX_TO_FOUR = Cidr.parse("2002::/16");

    /** A label that some resolver reads as a number: decimal, octal (leading 0) or hex (0x). */
    private static final Pattern NUMERIC_LABEL = Pattern.compile("0[xX][0-9a-fA-F]*|[0-9]+");

    private PrivateAddresses() {
    }

    /**
     * The private range {@code address} is in, e.g. {@code "127.0.0.0/8 (loopback)"}; empty for a
     * public address. IPv4 embedded in IPv6 (mapped, NAT64, 6to4) is judged by the IPv4 address.
     */
    public static Optional<String> privateRange(InetAddress address) {
        byte[] bytes = address.getAddress();
        if (bytes.length == 4) {
            return find(IPV4, bytes);
        }
        if (ipv4Mapped(bytes)) {
            return privateRange(v4(Arrays.copyOfRange(bytes, 12, 16))).map(why -> why + " as IPv4-mapped IPv6");
        }
        if (NAT64.contains(bytes)) {
            return privateRange(v4(Arrays.copyOfRange(bytes, 12, 16))).map(why -> why + " through NAT64");
        }
        if (SIX_TO_FOUR.contains(bytes)) {
            return privateRange(v4(Arrays.copyOfRange(bytes, 2, 6))).map(why -> why + " through 6to4");
        }
        return find(IPV6, bytes);
    }

    /**
     * The address {@code host} (as a URL carries it) names literally, in every notation git's
     * resolvers accept: {@code [IPv6]}, and IPv4 as inet_aton and curl read it: one to four parts,
     * each decimal, octal ({@code 0177}) or hex ({@code 0x7f}), the last filling the remaining bytes
     * ({@code 2130706433}, {@code 0x7f000001}, {@code 127.1} are all 127.0.0.1). Note that Java reads
     * {@code 0177.0.0.1} as 177.0.0.1 where curl and ssh connect to 127.0.0.1, so the JDK's parser
     * is not used for IPv4. Empty for a host name.
     *
     * @throws IllegalArgumentException for a host of numbers that is not a valid address
     *     (resolvers disagree on those; no real host is named that way)
     */
    public static Optional<InetAddress> literal(String host) {
        String h = host;
        if (h.startsWith("[") && h.endsWith("]")) {
            String inner = h.substring(1, h.length() - 1);
            int zone = inner.indexOf('%');
            if (zone >= 0) {
                inner = inner.substring(0, zone);
            }
            if (inner.indexOf(':') < 0) {
                throw new IllegalArgumentException("[" + inner + "] is not an IPv6 address");
            }
            try {
                // Brackets and a colon: the JDK parses it as a literal and never asks DNS.
                return Optional.of(InetAddress.getByName("[" + inner + "]"));
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("[" + inner + "] is not a valid IPv6 address");
            }
        }
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        String[] labels = h.split("\\.", -1);
        if (!Arrays.stream(labels).allMatch(label -> NUMERIC_LABEL.matcher(label).matches())) {
            return Optional.empty();
        }
        return Optional.of(v4(ipv4(host, labels)));
    }

    private static byte[] ipv4(String host, String[] labels) {
        if (labels.length > 4) {
            throw notAnAddress(host);
        }
        long[] parts = new long[labels.length];
        for (int i = 0; i < labels.length; i++) {
            parts[i] = number(host, labels[i]);
        }
        long value = 0;
        for (int i = 0; i < parts.length - 1; i++) {
            if (parts[i] > 0xff) {
                throw notAnAddress(host);
            }
            value |= parts[i] << (24 - 8 * i);
        }
        long last = parts[parts.length - 1];
        if (last >= 1L << (8 * (5 - parts.length))) {
            throw notAnAddress(host);
        }
        value |= last;
        return new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
    }

    private static long number(String host, String label) {
        String lower = label.toLowerCase(Locale.ROOT);
        String digits;
        int radix;
        if (lower.startsWith("0x")) {
            digits = lower.substring(2);
            radix = 16;
        } else if (lower.length() > 1 && lower.startsWith("0")) {
            digits = lower.substring(1);
            radix = 8;
        } else {
            digits = lower;
            radix = 10;
        }
        // "0x" alone, "08", absurdly long numbers: readers differ (0, a name, an error), so refuse.
        if (digits.isEmpty() || digits.length() > 12) {
            throw notAnAddress(host);
        }
        try {
            return Long.parseLong(digits, radix);
        } catch (NumberFormatException e) {
            throw notAnAddress(host);
        }
    }

    private static IllegalArgumentException notAnAddress(String host) {
        return new IllegalArgumentException(host + " is a number but not a valid IPv4 address");
    }

    /** ::ffff:a.b.c.d (the JDK hands most of these out as IPv4 already, but not all). */
    private static boolean ipv4Mapped(byte[] v6) {
        for (int i = 0; i < 10; i++) {
            if (v6[i] != 0) {
                return false;
            }
        }
        return v6[10] == (byte) 0xff && v6[11] == (byte) 0xff;
    }

    private static Optional<String> find(List<Range> ranges, byte[] bytes) {
        return ranges.stream().filter(r -> r.cidr().contains(bytes)).map(Range::what).findFirst();
    }

    private static InetAddress v4(byte[] bytes) {
        try {
            return (Inet4Address) InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // four bytes are always an address
        }
    }
}
