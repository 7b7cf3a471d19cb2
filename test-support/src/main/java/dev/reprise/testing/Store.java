package dev.reprise.testing;

import java.net.URI;
import java.util.Map;
import java.util.function.Function;

/**
 * The four stores a Reprise service may need, with the environment variables that locate them
 * (the same names deploy/local/env.sh exports and application.properties reads) and their
 * loopback defaults from the local scripts.
 */
public enum Store {
    KAFKA("Kafka", "kafka", env -> hostPort(env.getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092").split(",")[0]),
            "KAFKA_BOOTSTRAP_SERVERS"),
    POSTGRES("PostgreSQL", "postgres",
            env -> new HostPort(env.getOrDefault("PG_HOST", "127.0.0.1"), Integer.parseInt(env.getOrDefault("PG_PORT", "5432"))),
            "PG_HOST/PG_PORT"),
    REDIS("Redis", "redis", env -> fromUri(env.getOrDefault("REDIS_URL", "redis://127.0.0.1:6379"), 6379), "REDIS_URL"),
    S3("S3", "s3", env -> fromUri(env.getOrDefault("S3_ENDPOINT", "http://127.0.0.1:9000"), 80), "S3_ENDPOINT");

    /** A TCP address. */
    public record HostPort(String host, int port) {
        @Override
        public String toString() {
            return host + ":" + port;
        }
    }

    private final String displayName;
    private final String scriptName;
    private final Function<Map<String, String>, HostPort> address;
    private final String variables;

    Store(String displayName, String scriptName, Function<Map<String, String>, HostPort> address, String variables) {
        this.displayName = displayName;
        this.scriptName = scriptName;
        this.address = address;
        this.variables = variables;
    }

    /** Where the store is expected, from {@code env} or the local scripts' defaults. */
    public HostPort address(Map<String, String> env) {
        return address.apply(env);
    }

    /** The one line a developer needs when the store is not there. */
    public String missingMessage(Map<String, String> env) {
        return displayName + " is not reachable at " + address(env) + ": start it with `deploy/local/infra.sh up "
                + scriptName + "` (or `./reprise infra up`), or point " + variables + " at a running one";
    }

    public String scriptName() {
        return scriptName;
    }

    private static HostPort hostPort(String value) {
        int colon = value.lastIndexOf(':');
        return new HostPort(value.substring(0, colon), Integer.parseInt(value.substring(colon + 1)));
    }

    private static HostPort fromUri(String value, int defaultPort) {
        URI uri = URI.create(value);
        return new HostPort(uri.getHost(), uri.getPort() > 0 ? uri.getPort() : defaultPort);
    }
}
