package dev.reprise.gateway.service;

import dev.reprise.events.RepositoryUrl;
import dev.reprise.gateway.config.BuildsConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Keeps tenants' repository URLs off the platform's private networks: the gateway runs git as
 * itself, inside the platform, so a URL naming a private host (literally, in any notation, or by a
 * name that resolves there) would let a tenant probe or reach what only the platform should. Such
 * hosts are a 400 unless the operator allow-lists them; where file:// repositories are allowed
 * (local mode, the tenants are the machine's owner) all hosts are.
 *
 * <p>Against DNS rebinding a name is resolved once, here, and git is made to connect to exactly the
 * addresses checked ({@link Destination#addresses()}), never resolving the name again itself.
 */
@ApplicationScoped
public class RepositoryHosts {

    /**
     * Where git may connect for a repository.
     *
     * @param addresses what the host name was resolved to and checked against; git must connect to
     *     these. Empty when git may resolve the host itself: a literal address (already checked), a
     *     host name the operator trusts, file://, or when private hosts are allowed
     */
    public record Destination(String scheme, String host, int port, List<InetAddress> addresses) {
    }

    /** Name resolution, replaceable in tests. */
    interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    private static final String HOW_TO_ALLOW = ": the gateway does not contact private networks for tenants. Use the"
            + " repository's public address, or ask the operator to allow this host in REPRISE_PRIVATE_REPOSITORY_HOSTS"
            + " (reprise.builds.private-hosts-allowed: host names or CIDR blocks)";

    private final boolean allowAll;
    private final HostAllowList allowed;
    private final Resolver resolver;

    @Inject
    public RepositoryHosts(BuildsConfig config) {
        this(config.allowFileRepositories(), new HostAllowList(config.privateHostsAllowed().orElse(List.of())),
                InetAddress::getAllByName);
    }

    RepositoryHosts(boolean allowAll, HostAllowList allowed, Resolver resolver) {
        this.allowAll = allowAll;
        this.allowed = allowed;
        this.resolver = resolver;
    }

    /**
     * Refuses a host that is literally a private address. No I/O: safe on the event loop, and for
     * requests that name a commit (which the gateway never contacts the repository for).
     *
     * @throws InvalidRequestException naming {@code repository}
     */
    public void checkAddress(RepositoryUrl repository) {
        URI uri = URI.create(repository.original());
        if (allowAll || "file".equalsIgnoreCase(uri.getScheme())) {
            return;
        }
        literal(uri.getHost()).ifPresent(address -> refuseIfPrivate(uri.getHost(), address, false));
    }

    /**
     * Where git may connect to read {@code repository}: a host name is resolved (blocking) and every
     * address it has must be public or allow-listed.
     *
     * @throws InvalidRequestException naming {@code repository} for a private or unknown host
     */
    public Destination destination(RepositoryUrl repository) {
        URI uri = URI.create(repository.original());
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        if ("file".equals(scheme)) {
            return new Destination(scheme, null, -1, List.of());
        }
        String host = uri.getHost();
        int port = uri.getPort() != -1 ? uri.getPort() : "ssh".equals(scheme) ? 22 : 443;
        if (allowAll) {
            return new Destination(scheme, host, port, List.of());
        }
        Optional<InetAddress> literal = literal(host);
        if (literal.isPresent()) {
            refuseIfPrivate(host, literal.get(), false);
            return new Destination(scheme, host, port, List.of());
        }
        if (allowed.allowsName(host)) {
            return new Destination(scheme, host, port, List.of());
        }
        InetAddress[] addresses;
        try {
            addresses = resolver.resolve(host.toLowerCase(Locale.ROOT));
        } catch (UnknownHostException e) {
            throw new InvalidRequestException("repository", "host " + host + " could not be resolved by the gateway");
        }
        if (addresses.length == 0) {
            throw new InvalidRequestException("repository", "host " + host + " could not be resolved by the gateway");
        }
        for (InetAddress address : addresses) {
            refuseIfPrivate(host, address, true);
        }
        return new Destination(scheme, host, port, List.of(addresses));
    }

    private void refuseIfPrivate(String host, InetAddress address, boolean resolved) {
        if (allowed.allowsAddress(address)) {
            return;
        }
        PrivateAddresses.privateRange(address).ifPresent(range -> {
            throw new InvalidRequestException("repository", "host " + host
                    + (resolved ? " resolves to " + address.getHostAddress() + ", in " : " is in ")
                    + range + ", a private network" + HOW_TO_ALLOW);
        });
    }

    private static Optional<InetAddress> literal(String host) {
        try {
            return PrivateAddresses.literal(host);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("repository", "host " + e.getMessage()
                    + "; write an address as a dotted quad (192.0.2.1) or [IPv6], or use the host's name");
        }
    }
}
