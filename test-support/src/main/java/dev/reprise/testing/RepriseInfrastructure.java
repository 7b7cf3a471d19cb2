package dev.reprise.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Finds the real infrastructure a {@code @QuarkusTest} needs, in this order: addresses given by
 * environment variables; the loopback services {@code deploy/local/infra.sh} starts; containers,
 * but only when a Docker engine answers. When a store is missing and there is no Docker engine,
 * the test run fails at once with one line saying which store and how to start it, instead of
 * hanging on a client's connect retries.
 *
 * <p>Use with {@code @WithTestResource(value = RepriseInfrastructure.class, initArgs =
 * @ResourceArg(name = "stores", value = "kafka,postgres,redis"))}; without the argument all four
 * stores are required.
 */
public class RepriseInfrastructure implements QuarkusTestResourceLifecycleManager {

    private static final int CONNECT_TIMEOUT_MS = 1000;

    private final Map<String, String> env;
    private Set<Store> stores = EnumSet.allOf(Store.class);
    private DockerStores docker;

    public RepriseInfrastructure() {
        this(System.getenv());
    }

    RepriseInfrastructure(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public void init(Map<String, String> initArgs) {
        String list = initArgs.get("stores");
        if (list != null && !list.isBlank()) {
            stores = Arrays.stream(list.split(","))
                    .map(s -> Store.valueOf(s.strip().toUpperCase(Locale.ROOT)))
                    .collect(Collectors.toCollection(() -> EnumSet.noneOf(Store.class)));
        }
    }

    @Override
    public Map<String, String> start() {
        List<Store> missing = stores.stream().filter(store -> !reachable(store.address(env))).toList();
        if (missing.isEmpty()) {
            return Map.of();
        }
        if (!DockerStores.engineAvailable()) {
            throw new MissingInfrastructureException(missingMessage(missing));
        }
        docker = new DockerStores(env);
        Map<String, String> overrides = new HashMap<>();
        for (Store store : missing) {
            overrides.putAll(docker.start(store));
        }
        return overrides;
    }

    @Override
    public void stop() {
        if (docker != null) {
            docker.close();
        }
    }

    /** The message for the stores that answered nobody; one line per store, no stack trace needed. */
    String missingMessage(List<Store> missing) {
        List<String> lines = new ArrayList<>();
        for (Store store : missing) {
            lines.add(store.missingMessage(env));
        }
        return String.join("; ", lines) + " (no Docker engine either, so Testcontainers cannot stand in)";
    }

    static boolean reachable(Store.HostPort address) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(address.host(), address.port()), CONNECT_TIMEOUT_MS);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Thrown when a store is missing; its message is the whole diagnosis. */
    public static final class MissingInfrastructureException extends IllegalStateException {
        MissingInfrastructureException(String message) {
            super(message);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }
}
