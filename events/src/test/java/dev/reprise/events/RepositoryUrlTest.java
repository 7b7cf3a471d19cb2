package dev.reprise.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RepositoryUrlTest {

    @ParameterizedTest
    @CsvSource({
            "https://github.com/org/app.git,       https://github.com/org/app",
            "HTTPS://GitHub.COM/org/app/,          https://github.com/org/app",
            "https://github.com:443/org/app.git/,  https://github.com/org/app",
            "https://git.example.org:8443/app.git, https://git.example.org:8443/app",
            "ssh://git@github.com/org/app.git,     ssh://github.com/org/app",
            "ssh://git@github.com:22/org/app,      ssh://github.com/org/app",
            "ssh://github.com:2222/org/app.git,    ssh://github.com:2222/org/app",
            "file:///srv/repos/app.git/,           file:///srv/repos/app",
            "file:///srv/repos/App,                file:///srv/repos/App"
    })
    void everySpellingOfARepositoryNormalizesToOneForm(String input, String normalized) {
        RepositoryUrl url = RepositoryUrl.parse(input);
        assertThat(url.normalized()).isEqualTo(normalized);
        assertThat(url.original()).isEqualTo(input);
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://user:secret@github.com/org/app.git", "https://ghp_token@github.com/org/app.git",
            "ssh://git:pw@github.com/org/app"})
    void embeddedCredentialsAreRefusedWithoutEchoingThem(String input) {
        assertThatThrownBy(() -> RepositoryUrl.parse(input))
                .isInstanceOfSatisfying(IllegalArgumentException.class, e ->
                        assertThat(e.getMessage()).contains("credentials").doesNotContain("secret", "ghp_token", "pw@"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "http://github.com/org/app.git | must use https://, ssh:// or file:// (got http://)",
            "git://github.com/org/app.git  | must use https://, ssh:// or file:// (got git://)",
            "github.com/org/app            | must use https://, ssh:// or file:// (got no scheme)",
            "https://github.com/org/a b    | must not contain spaces",
            "file://host/srv/app           | file URLs must be absolute",
            "https:///org/app              | has no host",
            "https://github.com/app?x=1    | must not have a query"
    })
    void badUrlsSayWhatIsWrong(String input, String problem) {
        assertThatThrownBy(() -> RepositoryUrl.parse(input))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(problem.strip());
    }

    @Test
    void missingAndOversizeUrlsAreRefused() {
        assertThatThrownBy(() -> RepositoryUrl.parse(null)).hasMessage("is required, e.g. https://github.com/org/app.git");
        assertThatThrownBy(() -> RepositoryUrl.parse("https://x.org/" + "a".repeat(3000)))
                .hasMessageContaining("longer than 2048");
    }
}
