package dev.reprise.events;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class BuildEnvTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "LD_PRELOAD             | how programs are loaded or started",
            "LD_LIBRARY_PATH        | how programs are loaded or started",
            "LD_AUDIT               | how programs are loaded or started",
            "LD_ANYTHING_NEW        | how programs are loaded or started",
            "GCONV_PATH             | how programs are loaded or started",
            "GLIBC_TUNABLES         | how programs are loaded or started",
            "MALLOC_TRACE           | how programs are loaded or started",
            "BASH_ENV               | a shell run code",
            "ENV                    | a shell run code",
            "SHELLOPTS              | a shell run code",
            "BASHOPTS               | a shell run code",
            "PS4                    | a shell run code",
            "PROMPT_COMMAND         | a shell run code",
            "IFS                    | a shell run code",
            "CDPATH                 | a shell run code",
            "GLOBIGNORE             | a shell run code",
            "ZDOTDIR                | a shell run code",
            "BASH_FUNC_ls           | a shell run code",
            "GIT_SSH_COMMAND        | configure git",
            "GIT_CONFIG_COUNT       | configure git",
            "GIT_CONFIG_KEY_0       | configure git",
            "GIT_EXEC_PATH          | configure git",
            "GIT_DIR                | configure git",
            "XDG_CONFIG_HOME        | configure git",
            "SSH_ASKPASS            | ssh's variables",
            "SSH_AUTH_SOCK          | ssh's variables",
            "NODE_OPTIONS           | language runtime",
            "PYTHONSTARTUP          | language runtime",
            "PYTHONPATH             | language runtime",
            "PYTHONHOME             | language runtime",
            "PERL5OPT               | language runtime",
            "PERL5LIB               | language runtime",
            "RUBYOPT                | language runtime",
            "JAVA_TOOL_OPTIONS      | language runtime",
            "_JAVA_OPTIONS          | language runtime",
            "JDK_JAVA_OPTIONS       | language runtime",
            "PATH                   | the runner sets this variable",
            "HOME                   | the runner sets this variable",
            "TMPDIR                 | the runner sets this variable",
            "REPRISE_TENANT         | reserved for the platform",
            "REPRISE_BUILD_ID       | reserved for the platform",
            "ld_preload             | how programs are loaded or started",
            "Git_Dir                | configure git",
            "BASH_FUNC_x%%          | not a plain variable name",
            "1ABC                   | not a plain variable name",
            "A=B                    | not a plain variable name"
    })
    void variablesThatRunCodeAroundTheBuildAreRefusedWithAReason(String name, String reason) {
        assertThat(BuildEnv.refusedReason(name.strip())).hasValueSatisfying(why -> assertThat(why).contains(reason.strip()));
        assertThat(BuildEnv.allowed(name.strip())).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"NO_CACHE", "CI_FLAG", "MAVEN_OPTS", "GRADLE_OPTS", "NODE_ENV", "JAVA_HOME", "LANG", "LC_ALL",
            "MALLOC_ARENA_MAX", "DEBUG", "ENVIRONMENT", "PATHS", "HOMEPAGE", "GITHUB_SHA", "SSHD", "LDFLAGS", "TZ", "_X"})
    void ordinaryVariablesAreAllowed(String name) {
        assertThat(BuildEnv.refusedReason(name)).isEmpty();
        assertThat(BuildEnv.allowed(name)).isTrue();
    }

    @Test
    void anEmptyNameIsRefused() {
        assertThat(BuildEnv.refusedReason("")).isPresent();
        assertThat(BuildEnv.refusedReason(null)).isPresent();
    }
}
