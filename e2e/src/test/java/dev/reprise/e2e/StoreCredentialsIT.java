package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reprise.e2e.Services.Run;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * Every store of the local stack asks for this installation's generated credentials, and a
 * PostgreSQL or Redis that lets anyone in is never where Reprise keeps its data: on a default port
 * it is left alone and infra.sh runs its own beside it; on a port chosen explicitly it is refused.
 */
@Isolated
class StoreCredentialsIT {

    @TempDir
    Path scratch;

    private final Map<String, String> cleanups = new HashMap<>();

    @AfterEach
    void stopWhatTheTestStarted() throws Exception {
        for (String script : cleanups.values()) {
            Services.run(Services.ROOT, Map.of(), Duration.ofSeconds(60), "bash", "-c", script);
        }
    }

    @Test
    void theStoresTheSuiteRunsOnRefuseAWrongPassword() throws Exception {
        Run wrongPg = Services.run(Services.ROOT, Map.of("PGPASSWORD", "not-the-password", "PGCONNECT_TIMEOUT", "5"),
                Duration.ofSeconds(20), "psql", "-X", "-w", "-h", "127.0.0.1", "-p", env("PG_PORT"), "-U", env("PG_USER"), "-d",
                env("PG_DATABASE"), "-c", "SELECT 1");
        assertThat(wrongPg.exitCode()).as(wrongPg.output()).isNotZero();
        assertThat(wrongPg.output()).contains("password authentication failed");
        assertThat(Services.sql("SELECT 1")).as("the generated password opens it").isEqualTo("1");

        assertThat(redisPing(env("REDIS_PORT"), null)).as("Redis without a password").startsWith("NOAUTH");
        assertThat(redisPing(env("REDIS_PORT"), "not-the-password")).as("Redis with a wrong one").contains("WRONGPASS", "NOAUTH")
                .doesNotContain("PONG");
        assertThat(redisPing(env("REDIS_PORT"), env("REDIS_PASSWORD"))).as("Redis with REDIS_PASSWORD").isEqualTo("PONG");
    }

    @Test
    void anOpenRedisAndATrustingPostgresOnTheDefaultPortsAreLeftAloneAndReprisesOwnRunBeside() throws Exception {
        int redisPort = startOpenRedis();
        int pgPort = startTrustingPostgres();
        Path home = scratch.resolve("home");
        Map<String, String> env = installation(home, " PG_PORT REDIS_PORT REDIS_URL ", pgPort, redisPort);
        cleanups.put("reprise", "REPRISE_HOME=" + home + " PG_PORT=" + pgPort + " REDIS_PORT=" + redisPort
                + " REPRISE_DEFAULTED=' PG_PORT REDIS_PORT REDIS_URL ' " + Services.ROOT.resolve("deploy/local/infra.sh") + " down postgres redis");

        Run up = Services.run(Services.ROOT, env, Duration.ofMinutes(3), Services.ROOT.resolve("deploy/local/infra.sh").toString(), "up",
                "postgres", "redis");
        assertThat(up.exitCode()).as(up.output()).isZero();
        assertThat(up.output()).contains("postgres: the one on 127.0.0.1:" + pgPort + " lets anyone on this machine in without a password")
                .contains("redis: the one on 127.0.0.1:" + redisPort + " answers anyone without a password");

        Map<String, String> chosen = storesEnv(home);
        int ownPg = Integer.parseInt(chosen.get("PG_PORT"));
        int ownRedis = Integer.parseInt(chosen.get("REDIS_PORT"));
        assertThat(ownPg).isGreaterThan(pgPort);
        assertThat(ownRedis).isGreaterThan(redisPort);
        assertThat(Files.getPosixFilePermissions(home.resolve("stores.env"))).hasSize(2); // rw for the owner only

        String pgPassword = Files.readString(home.resolve("secrets/pg-password"), StandardCharsets.UTF_8).strip();
        String redisPassword = Files.readString(home.resolve("secrets/redis-password"), StandardCharsets.UTF_8).strip();
        assertThat(psql(ownPg, "not-" + pgPassword).exitCode()).as("Reprise's own cluster, a wrong password").isNotZero();
        Run right = psql(ownPg, pgPassword);
        assertThat(right.exitCode()).as(right.output()).isZero();
        assertThat(redisPing(String.valueOf(ownRedis), null)).startsWith("NOAUTH");
        assertThat(redisPing(String.valueOf(ownRedis), redisPassword)).isEqualTo("PONG");
        assertThat(redisPing(String.valueOf(redisPort), null)).as("the machine's Redis is untouched").isEqualTo("PONG");

        // env.sh hands the new ports (and the password in REDIS_URL) to everything that sources it
        Run sourced = Services.run(Services.ROOT, Map.of("REPRISE_HOME", home.toString()), Duration.ofSeconds(20), "env", "-u", "PG_PORT",
                "-u", "REDIS_PORT", "-u", "REDIS_URL", "-u", "REDIS_PASSWORD", "-u", "REPRISE_DEFAULTED", "bash", "-c",
                ". deploy/local/env.sh && echo \"$PG_PORT $REDIS_URL\"");
        assertThat(sourced.output().strip()).isEqualTo(ownPg + " redis://:" + redisPassword + "@127.0.0.1:" + ownRedis);
    }

    @Test
    void anOpenStoreChosenExplicitlyIsRefusedWithAMessage() throws Exception {
        int redisPort = startOpenRedis();
        Path home = scratch.resolve("explicit");
        Run up = Services.run(Services.ROOT, installation(home, " ", 1, redisPort), Duration.ofMinutes(1),
                Services.ROOT.resolve("deploy/local/infra.sh").toString(), "up", "redis");
        assertThat(up.exitCode()).as(up.output()).isNotZero();
        assertThat(up.output()).contains("redis on 127.0.0.1:" + redisPort + " answers anyone without a password, and REDIS_PORT="
                + redisPort + " was chosen explicitly").contains("requirepass");
        assertThat(home.resolve("stores.env")).doesNotExist();
    }

    /** A separate installation (its own state dir and secrets) pointed at the given ports. */
    private static Map<String, String> installation(Path home, String defaulted, int pgPort, int redisPort) {
        return Map.of("REPRISE_HOME", home.toString(), "REPRISE_DEFAULTED", defaulted, "PG_PORT", String.valueOf(pgPort), "REDIS_PORT",
                String.valueOf(redisPort), "REDIS_URL", "", "PG_PASSWORD", "", "REDIS_PASSWORD", "");
    }

    private int startOpenRedis() throws Exception {
        int port = freePort();
        Path dir = Files.createDirectories(scratch.resolve("open-redis"));
        Run started = Services.run(dir, Map.of(), Duration.ofSeconds(20), "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1",
                "--port", String.valueOf(port), "--save", "", "--dir", dir.toString(), "--pidfile", dir.resolve("pid").toString());
        assertThat(started.exitCode()).as(started.output()).isZero();
        cleanups.put("open-redis", "redis-cli -p " + port + " shutdown nosave");
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!redisPing(String.valueOf(port), null).equals("PONG") && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        return port;
    }

    /** A throwaway cluster with pg_hba's "trust" for everyone, as many development machines have. */
    private int startTrustingPostgres() throws Exception {
        int port = freePort();
        Path dir = scratch.resolve("trusting-pg");
        String script = "set -e; bin=$(dirname \"$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)\"); chmod o+x " + scratch
                + "; mkdir -p " + dir + " && chown postgres: " + dir + " && cd / && runuser -u postgres -- \"$bin/initdb\" -D " + dir
                + "/data --auth=trust -U postgres >/dev/null && runuser -u postgres -- \"$bin/pg_ctl\" -D " + dir + "/data -l " + dir
                + "/log -w start -o \"-c listen_addresses=127.0.0.1 -p " + port + " -k " + dir + " -c fsync=off\" >/dev/null";
        Run started = Services.run(Services.ROOT, Map.of(), Duration.ofMinutes(2), "bash", "-c", script);
        assertThat(started.exitCode()).as(started.output()).isZero();
        cleanups.put("trusting-pg", "cd / && runuser -u postgres -- \"$(dirname \"$(ls /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n 1)\")/pg_ctl\" -D "
                + dir + "/data -m immediate stop");
        return port;
    }

    private static Run psql(int port, String password) throws IOException, InterruptedException {
        return Services.run(Services.ROOT, Map.of("PGPASSWORD", password, "PGCONNECT_TIMEOUT", "5"), Duration.ofSeconds(20), "psql", "-X",
                "-w", "-h", "127.0.0.1", "-p", String.valueOf(port), "-U", "reprise", "-d", "reprise", "-c", "SELECT 1");
    }

    /** PING's answer; the password (if any) goes through redis-cli's environment, as infra.sh passes it. */
    private static String redisPing(String port, String password) throws IOException, InterruptedException {
        Map<String, String> env = password == null ? Map.of() : Map.of("REDISCLI_AUTH", password);
        String[] command = password == null
                ? new String[] {"env", "-u", "REDISCLI_AUTH", "redis-cli", "-h", "127.0.0.1", "-p", port, "ping"}
                : new String[] {"redis-cli", "--no-auth-warning", "-h", "127.0.0.1", "-p", port, "ping"};
        return Services.run(Services.ROOT, env, Duration.ofSeconds(10), command).output().strip();
    }

    private static Map<String, String> storesEnv(Path home) throws IOException {
        Map<String, String> values = new HashMap<>();
        for (String line : Files.readAllLines(home.resolve("stores.env"))) {
            String[] kv = line.split("=", 2);
            values.put(kv[0], kv[1]);
        }
        return values;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static String env(String name) {
        String value = System.getenv(name);
        assertThat(value).as(name + " (exported by ./reprise test from deploy/local/env.sh)").isNotBlank();
        return value;
    }
}
