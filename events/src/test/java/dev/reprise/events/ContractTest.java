package dev.reprise.events;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Guards the rules a consumer in another team relies on. */
class ContractTest {

    @Test
    void everyFamilyMemberHasAUniqueVersionedTypeName() {
        Set<String> names = new HashSet<>();
        for (Class<?> family : ReprisePayload.class.getPermittedSubclasses()) {
            JsonSubTypes subTypes = family.getAnnotation(JsonSubTypes.class);
            assertThat(subTypes).as(family.getSimpleName() + " lists its members").isNotNull();

            Set<Class<?>> listed = new HashSet<>();
            for (JsonSubTypes.Type type : subTypes.value()) {
                String name = EventTypes.typeOf(type.value());
                assertThat(name).matches("dev\\.reprise\\.[a-z]+\\.[a-z-]+\\.v[0-9]+");
                assertThat(names.add(name)).as("duplicate type " + name).isTrue();
                listed.add(type.value());
            }
            assertThat(listed).as(family.getSimpleName() + " @JsonSubTypes vs permits")
                    .containsExactlyInAnyOrderElementsOf(Arrays.asList(family.getPermittedSubclasses()));
        }
        assertThat(names).hasSizeGreaterThanOrEqualTo(16);
    }

    @Test
    void payloadsAreRecords() {
        for (Class<?> family : ReprisePayload.class.getPermittedSubclasses()) {
            for (Class<?> member : family.getPermittedSubclasses()) {
                assertThat(member.isRecord()).as(member.getSimpleName()).isTrue();
            }
        }
    }

    @Test
    void theLocalScriptsCreateExactlyTheseTopics() throws Exception {
        Path conf = Path.of(System.getProperty("user.dir")).resolve("../deploy/local/kafka-topics.conf");
        List<String> configured = new ArrayList<>();
        for (String line : Files.readAllLines(conf)) {
            String trimmed = line.strip();
            if (!trimmed.isEmpty() && !trimmed.startsWith("#")) {
                configured.add(trimmed.split("\\s+")[0]);
            }
        }
        assertThat(configured).containsExactlyInAnyOrderElementsOf(Topics.ALL);
    }
}
