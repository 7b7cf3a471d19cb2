package dev.reprise.testing;

import dev.reprise.events.Topics;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.kafka.KafkaContainer;

/**
 * Containers standing in for missing stores, on machines where a Docker engine runs. The
 * credentials match deploy/local/env.sh so the services' configuration needs no change.
 */
final class DockerStores implements AutoCloseable {

    private final Map<String, String> env;
    private final List<GenericContainer<?>> started = new ArrayList<>();

    DockerStores(Map<String, String> env) {
        this.env = env;
    }

    static boolean engineAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    Map<String, String> start(Store store) {
        return switch (store) {
            case KAFKA -> kafka();
            case POSTGRES -> postgres();
            case REDIS -> redis();
            case S3 -> s3();
        };
    }

    private Map<String, String> kafka() {
        KafkaContainer kafka = track(new KafkaContainer("apache/kafka:4.1.1"));
        String bootstrap = kafka.getBootstrapServers();
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(props)) {
            admin.createTopics(Topics.ALL.stream().map(t -> new NewTopic(t, 3, (short) 1)).toList()).all().get();
        } catch (Exception e) {
            throw new IllegalStateException("could not create topics in the Kafka container", e);
        }
        return Map.of("kafka.bootstrap.servers", bootstrap);
    }

    private Map<String, String> postgres() {
        GenericContainer<?> pg = track(new GenericContainer<>("postgres:15-alpine")
                .withEnv("POSTGRES_USER", env.getOrDefault("PG_USER", "reprise"))
                .withEnv("POSTGRES_PASSWORD", env.getOrDefault("PG_PASSWORD", "reprise"))
                .withEnv("POSTGRES_DB", env.getOrDefault("PG_DATABASE", "reprise"))
                .withExposedPorts(5432)
                .waitingFor(Wait.forLogMessage(".*ready to accept connections.*\\n", 2)));
        String hostPort = pg.getHost() + ":" + pg.getMappedPort(5432) + "/" + env.getOrDefault("PG_DATABASE", "reprise");
        return Map.of(
                "quarkus.datasource.jdbc.url", "jdbc:postgresql://" + hostPort,
                "quarkus.datasource.reactive.url", "postgresql://" + hostPort);
    }

    private Map<String, String> redis() {
        GenericContainer<?> redis = track(new GenericContainer<>("redis:7-alpine").withExposedPorts(6379));
        return Map.of("quarkus.redis.hosts", "redis://" + redis.getHost() + ":" + redis.getMappedPort(6379));
    }

    private Map<String, String> s3() {
        GenericContainer<?> minio = track(new GenericContainer<>("minio/minio:latest")
                .withCommand("server", "/data")
                .withEnv("MINIO_ROOT_USER", env.getOrDefault("S3_ACCESS_KEY", "reprise"))
                .withEnv("MINIO_ROOT_PASSWORD", env.getOrDefault("S3_SECRET_KEY", "reprise-secret"))
                .withExposedPorts(9000)
                .waitingFor(Wait.forHttp("/minio/health/ready").forPort(9000)));
        return Map.of("quarkus.s3.endpoint-override", "http://" + minio.getHost() + ":" + minio.getMappedPort(9000));
    }

    private <C extends GenericContainer<?>> C track(C container) {
        container.start();
        started.add(container);
        return container;
    }

    @Override
    public void close() {
        started.forEach(GenericContainer::stop);
        started.clear();
    }
}
