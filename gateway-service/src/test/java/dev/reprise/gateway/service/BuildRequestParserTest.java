package dev.reprise.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.gateway.service.BuildRequestParser.ValidRequest;
import java.nio.charset.StandardCharsets;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BuildRequestParserTest {

    private final BuildRequestParser parser = new BuildRequestParser(new ObjectMapper());

    @Test
    void aMinimalRequestGetsItsDefaults() {
        ValidRequest request = parse("{\"repository\":\"https://github.com/org/app.git\",\"tool\":\"maven\"}");
        assertThat(request.ref()).isEqualTo("HEAD");
        assertThat(request.env()).isEmpty();
        assertThat(request.fresh()).isFalse();
        assertThat(request.command()).isNull();
        assertThat(request.repository().normalized()).isEqualTo("https://github.com/org/app");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
            "{\"repository\":\"https://x.org/a\",\"tool\":\"ant\"}                    | tool   | 'ant' is unknown; one of custom, gradle, make, maven, npm",
            "{\"repository\":\"https://x.org/a\"}                                     | tool   | is required",
            "{\"tool\":\"maven\"}                                                     | repository | is required",
            "{\"repository\":\"not a url\",\"tool\":\"maven\"}                        | repository | must not contain spaces",
            "{\"repository\":\"https://x.org/a\",\"tool\":\"custom\"}                 | command | is required when tool is custom",
            "{\"repository\":\"https://x.org/a\",\"tool\":\"maven\",\"colour\":1}     | colour | is not a field of a build request",
            "{\"repository\":\"https://x.org/a\",\"tool\":\"maven\",\"ref\":\"--upload-pack=x\"} | ref | must be a branch, tag",
            "{\"repository\":\"https://x.org/a\",\"tool\":\"maven\",\"env\":{\"lower\":\"x\"}} | env | name 'lower' must match",
            "{\"repository\":\"https://x.org/a\",\"tool\":\"maven\",\"env\":[1]}      | env    | has the wrong type",
            "{\"repository\":\"https://x.org/a\",\"tool\":\"maven\",\"fresh\":\"yes\"} | fresh  | has the wrong type",
            "{\"repository\":\"https://x.org/a\",\"tool\":\"maven\",\"timeoutSeconds\":0} | timeoutSeconds | must be between 1 and 86400",
            "{\"repository\": | body | is not valid JSON",
            "[1,2] | body | must be a JSON object",
            "null | body | must be a JSON object, not null"
    })
    void badRequestsNameTheFieldAndSayWhatToFix(String body, String field, String problem) {
        assertThatThrownBy(() -> parse(body))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo(field.strip()))
                .hasMessageContaining(problem.strip());
    }

    @Test
    void oversizeEnvIsRefused() {
        String many = IntStream.range(0, 33).mapToObj(i -> "\"V" + i + "\":\"x\"").collect(Collectors.joining(","));
        assertThatThrownBy(() -> parse("{\"repository\":\"https://x.org/a\",\"tool\":\"make\",\"env\":{" + many + "}}"))
                .hasMessage("env: has 33 variables; at most 32");
        String big = "x".repeat(5000);
        assertThatThrownBy(() -> parse("{\"repository\":\"https://x.org/a\",\"tool\":\"make\",\"env\":{\"A\":\"" + big + "\"}}"))
                .hasMessageStartingWith("env: value of A must be a string of at most 4096");
        String total = IntStream.range(0, 5).mapToObj(i -> "\"V" + i + "\":\"" + "y".repeat(4000) + "\"")
                .collect(Collectors.joining(","));
        assertThatThrownBy(() -> parse("{\"repository\":\"https://x.org/a\",\"tool\":\"make\",\"env\":{" + total + "}}"))
                .hasMessageStartingWith("env: is 20010 bytes; at most 16384");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "LD_PRELOAD      | how programs are loaded or started",
            "BASH_ENV        | a shell run code",
            "GIT_SSH_COMMAND | configure git",
            "PATH            | the runner sets this variable",
            "REPRISE_TENANT  | reserved for the platform"
    })
    void envThatRunsCodeAroundTheBuildIsRefusedNamingTheVariable(String name, String why) {
        assertThatThrownBy(() -> parse("{\"repository\":\"https://x.org/a\",\"tool\":\"make\",\"env\":{\"OK\":\"1\",\""
                + name.strip() + "\":\"x\"}}"))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("env." + name.strip()))
                .hasMessageStartingWith("env." + name.strip() + ": ").hasMessageContaining(why.strip());
        assertThat(parse("{\"repository\":\"https://x.org/a\",\"tool\":\"make\",\"env\":{\"NO_CACHE\":\"1\",\"MAVEN_OPTS\":\"-Xmx1g\"}}")
                .env()).containsKeys("NO_CACHE", "MAVEN_OPTS");
    }

    @Test
    void anEmptyBodyIsRefused() {
        assertThatThrownBy(() -> parser.parse(new byte[0])).hasMessageStartingWith("body: is empty");
    }

    private ValidRequest parse(String body) {
        return parser.parse(body.getBytes(StandardCharsets.UTF_8));
    }
}
