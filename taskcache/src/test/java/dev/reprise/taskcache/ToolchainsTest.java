package dev.reprise.taskcache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ToolchainsTest {

    private static final Map<String, String> ENV = Map.of("PATH", System.getenv("PATH"));

    @Test
    void aShellScriptIsKeyedByItsFirstProgramsVersion() {
        Map<String, String> direct = Toolchains.detect(List.of("javac", "-d", "out", "A.java"), ENV);
        Map<String, String> viaShell = Toolchains.detect(List.of("bash", "-c", "LANG=C javac -d out A.java && echo done"), ENV);

        assertThat(direct).containsOnlyKeys("javac");
        assertThat(direct.get("javac")).startsWith("javac ");
        assertThat(viaShell).isEqualTo(direct);
    }

    @Test
    void theFirstProgramSkipsAssignmentsAndRefusesExpansions() {
        assertThat(Toolchains.firstProgram("  A=1 B=2 make -j2")).contains("make");
        assertThat(Toolchains.firstProgram("mvn -B verify; echo x")).contains("mvn");
        assertThat(Toolchains.firstProgram("$TOOL build")).isEmpty();
        assertThat(Toolchains.firstProgram("")).isEmpty();
    }

    @Test
    void anUnknownProgramCountsByItsPathAndAShellAloneByNothing() {
        assertThat(Toolchains.detect(List.of("true"), ENV)).containsOnlyKeys("true");
        assertThat(Toolchains.detect(List.of("bash", "-c", "$X"), ENV)).isEmpty();
    }
}
