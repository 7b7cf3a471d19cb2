package dev.reprise.gateway.service;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Private repository hosts the operator allows: host names ({@code git.corp.example}), every name
 * under a domain ({@code *.corp.example}), and address blocks ({@code 10.20.0.0/16},
 * {@code 10.20.1.5}, {@code fd00:1::/32}). A listed name is trusted whatever it resolves to; an
 * address block allows the addresses in it, whichever name led there.
 */
public final class HostAllowList {

    private static final Pattern HOST_NAME = Pattern.compile(
            "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");

    private final Set<String> names = new HashSet<>();
    private final List<String> domains = new ArrayList<>();
    private final List<Cidr> blocks = new ArrayList<>();

    /** @throws IllegalArgumentException naming the entry that is neither a host name nor a CIDR block */
    public HostAllowList(Collection<String> entries) {
        for (String raw : entries) {
            String entry = raw.strip().toLowerCase(Locale.ROOT);
            if (entry.isEmpty()) {
                continue;
            }
            if (entry.indexOf(':') >= 0 || entry.indexOf('/') >= 0 || entry.matches("[0-9.]+")) {
                blocks.add(Cidr.parse(entry));
            } else if (entry.startsWith("*.") && HOST_NAME.matcher(entry.substring(2)).matches()) {
                domains.add(entry.substring(1));
            } else if (HOST_NAME.matcher(stripDot(entry)).matches()) {
                names.add(stripDot(entry));
            } else {
                throw new IllegalArgumentException("'" + raw.strip() + "' is neither a host name (git.corp.example, "
                        + "*.corp.example) nor a CIDR block (10.0.0.0/8, fd00::/8)");
            }
        }
    }

    public boolean allowsName(String host) {
        String name = stripDot(host.toLowerCase(Locale.ROOT));
        return names.contains(name) || domains.stream().anyMatch(name::endsWith);
    }

    public boolean allowsAddress(InetAddress address) {
        return blocks.stream().anyMatch(block -> block.contains(address));
    }

    public boolean isEmpty() {
        return names.isEmpty() && domains.isEmpty() && blocks.isEmpty();
    }

    private static String stripDot(String host) {
        return host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
    }
}
