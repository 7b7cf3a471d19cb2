package dev.reprise.image.builder;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reprise.events.Dependency;
import dev.reprise.image.deps.DependencySet;
import java.util.List;
import org.junit.jupiter.api.Test;

class DockerfilesTest {

    private final DependencySet set = DependencySet.of("127.0.0.1:5000/reprise/base:bookworm", "sha256:" + "a".repeat(64),
            "reprise-image-builder/1", List.of(new Dependency("npm", "is-number", "7.0.0"), new Dependency("apt", "hello", null),
                    new Dependency("system", "ca-certificates", null), new Dependency("pip", "six", ">= 1.16"),
                    new Dependency("apt", "curl", "7.88.1-10+deb12u8")));

    @Test
    void oneLayerPerTypeInOrderFromTheBasePinnedByDigestEachCleaningItsCaches() {
        String file = Dockerfiles.of(set, "127.0.0.1:5000/reprise/base@sha256:" + "a".repeat(64));
        List<String> runs = file.lines().filter(l -> l.startsWith("RUN ")).toList();

        assertThat(file).contains("FROM 127.0.0.1:5000/reprise/base@sha256:" + "a".repeat(64) + "\n");
        assertThat(runs).hasSize(4);
        assertThat(runs.get(0)).contains("install -y --no-install-recommends 'ca-certificates'");
        assertThat(runs.get(1)).contains("'curl=7.88.1-10+deb12u8' 'hello'");
        assertThat(runs.get(2)).contains("npm");
        assertThat(runs.get(3)).contains("pip3");
        String npmRun = file.substring(file.indexOf(runs.get(2)));
        assertThat(npmRun.substring(0, npmRun.indexOf("\nRUN"))).contains("npm install -g --no-audit --no-fund --no-update-notifier 'is-number@7.0.0'")
                .contains("npm cache clean --force")
                .as("nodejs from apt, npm from its registry tarball checked against its integrity, not Debian's npm")
                .contains("install -y --no-install-recommends nodejs ca-certificates &&")
                .contains("https://registry.npmjs.org/npm/-/npm-" + Dockerfiles.NPM_VERSION + ".tgz " + Dockerfiles.NPM_INTEGRITY)
                .doesNotContain("nodejs npm");
        assertThat(file).contains("'six>=1.16'").contains("--no-cache-dir");
        assertThat(file.split(java.util.regex.Pattern.quote(Dockerfiles.APT_CLEAN), -1)).as("every apt use cleans in its own RUN").hasSize(5);
        assertThat(file).contains("LABEL dev.reprise.dependency-hash=\"" + set.hash() + "\"");
    }

    @Test
    void theVerifyScriptAsksEachPackageManager() {
        String script = Dockerfiles.verifyScript(set);

        assertThat(script.lines()).hasSize(5);
        assertThat(script).contains("dpkg-query -W -f='${Status} ${Version}' 'hello'").contains("echo \"apt hello ${v:-MISSING}\"")
                .contains("$(npm root -g)/\"'is-number'/package.json").contains("pip3 show 'six'");
    }

    @Test
    void aBareVersionIsExactForPipAndARangeKeepsItsOperator() {
        assertThat(Dockerfiles.pipVersion("2.31.0")).isEqualTo("==2.31.0");
        assertThat(Dockerfiles.pipVersion(">=1, <2")).isEqualTo(">=1,<2");
        assertThat(Dockerfiles.pipVersion(null)).isEmpty();
    }

    @Test
    void theBuildContextIsATarHoldingTheDockerfile() throws Exception {
        byte[] tar = DockerEngine.context("FROM scratch\n");
        try (var in = new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(new java.io.ByteArrayInputStream(tar))) {
            var entry = in.getNextEntry();
            assertThat(entry.getName()).isEqualTo("Dockerfile");
            assertThat(new String(in.readAllBytes())).isEqualTo("FROM scratch\n");
        }
    }
}
