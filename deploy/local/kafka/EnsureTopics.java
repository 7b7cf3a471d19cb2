import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates the topics of deploy/local/kafka-topics.conf that the local broker doesn't have yet.
 * Not part of the build: deploy/local/infra.sh runs it with Java's single-file source launcher,
 * {@code java -cp '<kafka lib>/*' EnsureTopics.java BOOTSTRAP CONF}. One JVM lists, compares and
 * creates everything, where kafka-tools' TopicCommand needs a JVM start (~2 s here) per topic.
 * Existing topics are never changed; a partition count that differs from the file is reported.
 * Prints the names it created, one per line.
 */
public class EnsureTopics {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: EnsureTopics BOOTSTRAP_SERVERS TOPICS_CONF");
            System.exit(2);
        }
        Map<String, Integer> wanted = readConf(Path.of(args[1]));
        Map<String, Object> config = Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0],
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
        try (Admin admin = Admin.create(config)) {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> missing = new ArrayList<>();
            List<String> present = new ArrayList<>();
            wanted.forEach((name, partitions) -> {
                if (existing.contains(name)) {
                    present.add(name);
                } else {
                    missing.add(new NewTopic(name, partitions, (short) 1));
                }
            });
            warnAboutPartitionCounts(admin, present, wanted);
            var results = admin.createTopics(missing).values();
            for (NewTopic topic : missing) {
                try {
                    results.get(topic.name()).get();
                    System.out.println(topic.name());
                } catch (ExecutionException e) {
                    // created concurrently by someone else: that is what we wanted
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
        }
    }

    /** Lines "name partitions [comment...]"; '#' starts a comment line. */
    static Map<String, Integer> readConf(Path conf) throws Exception {
        Map<String, Integer> wanted = new LinkedHashMap<>();
        for (String line : Files.readAllLines(conf)) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            String[] fields = trimmed.split("\\s+");
            if (fields.length < 2) {
                throw new IllegalArgumentException(conf + ": no partition count in line: " + line);
            }
            wanted.put(fields[0], Integer.parseInt(fields[1]));
        }
        return wanted;
    }

    static void warnAboutPartitionCounts(Admin admin, List<String> present, Map<String, Integer> wanted)
            throws Exception {
        if (present.isEmpty()) {
            return;
        }
        Map<String, TopicDescription> descriptions = admin.describeTopics(present).allTopicNames().get();
        descriptions.forEach((name, description) -> {
            int actual = description.partitions().size();
            if (actual != wanted.get(name)) {
                System.err.printf("warning: topic %s has %d partitions, kafka-topics.conf says %d"
                        + " (left as it is; delete the Kafka data dir to recreate)%n", name, actual, wanted.get(name));
            }
        });
    }
}
