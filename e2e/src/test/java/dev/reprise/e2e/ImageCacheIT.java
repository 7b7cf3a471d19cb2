package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reprise.testing.TestGitRepo;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A live build that declares its dependencies runs inside the image the image-cache service
 * resolved for them, through the runner's container executor, and streams its output like any
 * build; the same set asked again (in another order) is a hit on the same digest.
 */
class ImageCacheIT {

    @Test
    void aBuildRunsInsideTheImageResolvedForItsDependenciesAndStreamsItsOutput() throws Exception {
        TestGitRepo repo = TestGitRepo.withBuildScript("hello; echo \"in $REPRISE_IMAGE\"; echo done >&2");
        Files.createDirectories(repo.dir().resolve(".reprise"));
        Files.writeString(repo.dir().resolve(".reprise/image.json"), "{\"dependencies\":[{\"type\":\"apt\",\"name\":\"hello\"}]}\n");
        repo.git("add", ".reprise/image.json");
        repo.git("commit", "-q", "-m", "declare the build's image");

        Builds.Recorded build = Builds.recorded(repo.url(), "./build.sh", Map.of());

        JsonNode done = Builds.awaitFinal(build.buildId());
        assertThat(done.path("status").asText()).as(done.toString()).isEqualTo("SUCCESS");
        String stdout = stdout(build.messages());
        assertThat(steps(build.messages())).containsExactly("checkout", "image", "build");
        assertThat(stdout).contains("Hello, world!");
        Matcher image = Pattern.compile("in (127\\.0\\.0\\.1:5000/reprise/deps@sha256:[0-9a-f]{64})").matcher(stdout);
        assertThat(image.find()).as(stdout).isTrue();
        assertThat(stdout).containsPattern("reprise: image (cache hit|built in \\d+ s): " + Pattern.quote(image.group(1)));

        Services.Answer again = Services.post("image-cache", "/api/v1/images/resolve",
                "{\"dependencies\":[{\"type\":\"APT\",\"name\":\" hello\",\"version\":\"latest\"}]}");
        assertThat(again.status()).as(String.valueOf(again.body())).isEqualTo(200);
        assertThat(again.body().path("result").asText()).isEqualTo("hit");
        assertThat(again.body().path("image").path("pinnedReference").asText()).isEqualTo(image.group(1));
    }

    private static List<String> steps(List<String> messages) throws Exception {
        List<String> steps = new java.util.ArrayList<>();
        for (String message : messages) {
            JsonNode event = Services.JSON.readTree(message);
            if (event.path("type").asText().equals("dev.reprise.build.step-started.v1")) {
                steps.add(event.path("data").path("name").asText());
            }
        }
        return steps;
    }

    private static String stdout(List<String> messages) throws Exception {
        StringBuilder out = new StringBuilder();
        for (String message : messages) {
            JsonNode event = Services.JSON.readTree(message);
            if (event.path("type").asText().equals("dev.reprise.build.output.v1") && event.path("data").path("stream").asText().equals("STDOUT")) {
                out.append(event.path("data").path("chunk").asText());
            }
        }
        return out.toString();
    }
}
