package dev.reprise.image.deps;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reprise.events.Dependency;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class DependencySetTest {

    private static final String BASE = "127.0.0.1:5000/reprise/base:bookworm";
    private static final String DIGEST = "sha256:" + "1".repeat(64);
    private static final String BUILDER = "reprise-image-builder/1";

    private static final List<Dependency> ASKED = List.of(
            new Dependency("pip", "Requests_Toolbelt", "latest"),
            new Dependency(" NPM ", "@types/node", " ^20 "),
            new Dependency("apt", "git", "1:2.39.5-0+deb12u2"),
            new Dependency("apt", "  curl ", ""),
            new Dependency("APT", "curl", "*"));

    @Test
    void theCanonicalFormAndHashArePinned() {
        DependencySet set = DependencySet.of(BASE, DIGEST, BUILDER, ASKED);

        assertThat(set.canonical()).isEqualTo("{\"v\":1,\"base\":\"" + DIGEST + "\",\"builder\":\"" + BUILDER + "\",\"dependencies\":["
                + "{\"type\":\"apt\",\"name\":\"curl\",\"version\":null},"
                + "{\"type\":\"apt\",\"name\":\"git\",\"version\":\"1:2.39.5-0+deb12u2\"},"
                + "{\"type\":\"npm\",\"name\":\"@types/node\",\"version\":\"^20\"},"
                + "{\"type\":\"pip\",\"name\":\"requests-toolbelt\",\"version\":null}]}");
        // Checked independently: printf '%s' "<canonical>" | sha256sum
        assertThat(set.hash()).isEqualTo("d0de13813cfca6750a4cef1fa95b8ad709407837f863932a3eb7ea0705cfbf3e");
    }

    @Test
    void orderCaseWhitespaceAndDuplicatesNeverChangeTheHash() {
        String expected = DependencySet.of(BASE, DIGEST, BUILDER, ASKED).hash();
        for (int i = 0; i < 20; i++) {
            List<Dependency> shuffled = new ArrayList<>(ASKED);
            Collections.shuffle(shuffled);
            shuffled.add(new Dependency("apt", "GIT", "1:2.39.5-0+deb12u2"));
            assertThat(DependencySet.of(BASE, DIGEST, BUILDER, shuffled).hash()).isEqualTo(expected);
        }
    }

    @Test
    void everyPartOfTheSetChangesTheHash() {
        String hash = DependencySet.of(BASE, DIGEST, BUILDER, ASKED).hash();
        List<Dependency> more = new ArrayList<>(ASKED);
        more.add(new Dependency("apt", "make", null));
        List<Dependency> otherVersion = new ArrayList<>(ASKED.subList(0, 4));
        otherVersion.set(2, new Dependency("apt", "git", "1:2.39.2-1.1"));

        assertThat(DependencySet.of(BASE, DIGEST, BUILDER, more).hash()).isNotEqualTo(hash);
        assertThat(DependencySet.of(BASE, DIGEST, BUILDER, otherVersion).hash()).isNotEqualTo(hash);
        assertThat(DependencySet.of(BASE, "sha256:" + "2".repeat(64), BUILDER, ASKED).hash()).as("base digest").isNotEqualTo(hash);
        assertThat(DependencySet.of(BASE, DIGEST, "reprise-image-builder/2", ASKED).hash()).as("builder").isNotEqualTo(hash);
        assertThat(DependencySet.of(BASE, DIGEST, BUILDER, List.of(new Dependency("npm", "curl", null))).hash())
                .as("type").isNotEqualTo(DependencySet.of(BASE, DIGEST, BUILDER, List.of(new Dependency("apt", "curl", null))).hash());
    }

    @Test
    void theBaseIsKeyedByDigestNotByName() {
        assertThat(DependencySet.of("other/name:tag", DIGEST, BUILDER, ASKED).hash()).isEqualTo(DependencySet.of(BASE, DIGEST, BUILDER, ASKED).hash());
    }

    @Test
    void whatNoBuilderCouldInstallIsRefusedWithWhatToFix() {
        assertThatThrownBy(() -> DependencySet.of(BASE, DIGEST, BUILDER, List.of(new Dependency("brew", "git", null))))
                .isInstanceOf(InvalidDependencyException.class).hasMessageContaining("unknown dependency type 'brew'");
        assertThatThrownBy(() -> DependencySet.of(BASE, DIGEST, BUILDER, List.of(new Dependency("apt", "git; rm -rf /", null))))
                .hasMessageContaining("not a valid apt package name");
        assertThatThrownBy(() -> DependencySet.of(BASE, DIGEST, BUILDER, List.of(new Dependency("npm", "../../etc", null))))
                .hasMessageContaining("not a valid npm package name");
        assertThatThrownBy(() -> DependencySet.of(BASE, DIGEST, BUILDER, List.of(new Dependency("apt", "git", "$(reboot)"))))
                .hasMessageContaining("has characters a version cannot have");
        assertThatThrownBy(() -> DependencySet.of(BASE, DIGEST, BUILDER, List.of(new Dependency("apt", "git", ">=2"))))
                .hasMessageContaining("apt installs exact versions only");
        assertThatThrownBy(() -> DependencySet.of(BASE, DIGEST, BUILDER, List.of(new Dependency("apt", "git", "1"), new Dependency("apt", "git", "2"))))
                .hasMessageContaining("listed at two versions");
        assertThatThrownBy(() -> DependencySet.of(BASE, DIGEST, BUILDER, List.of(new Dependency("apt", null, null))))
                .hasMessageContaining("needs a type");
        assertThatThrownBy(() -> DependencySet.of(BASE, "latest", BUILDER, List.of())).hasMessageContaining("sha256:<64 hex>");
    }
}
