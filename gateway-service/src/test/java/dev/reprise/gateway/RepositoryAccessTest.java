package dev.reprise.gateway;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

import dev.reprise.gateway.service.ApiTokens;
import dev.reprise.gateway.store.TenantStore;
import dev.reprise.testing.RepriseInfrastructure;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A production gateway (no file://, private hosts refused) and tenants whose repositories point
 * into the platform, or at a remote that never answers.
 */
@QuarkusTest
@TestProfile(RepositoryAccessTest.Production.class)
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis"))
class RepositoryAccessTest {

    /**
     * 127.0.0.2 (where the silent remote listens) and the name git.allowed.invalid are allowed;
     * ls-remote gives up after 3 s; two resolutions per tenant, three in all.
     */
    public static class Production implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("reprise.builds.allow-file-repositories", "false",
                    "reprise.builds.private-hosts-allowed", "127.0.0.2/32,git.allowed.invalid",
                    "reprise.builds.ref-resolution-timeout", "3s",
                    "reprise.builds.ref-resolutions-per-tenant", "2",
                    "reprise.builds.ref-resolutions-total", "3");
        }
    }

    private static final String SHA = "0123456789abcdef0123456789abcdef01234567";

    @Inject
    TenantStore tenants;

    /** Requests that hang until the timeout, side by side (the common pool may have one thread). */
    private final ExecutorService clients = Executors.newFixedThreadPool(4);

    @AfterEach
    void stopClients() {
        clients.shutdownNow();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "https://10.0.0.8/org/app.git                | main | host 10.0.0.8 is in 10.0.0.0/8 (RFC 1918 private)",
            "https://169.254.169.254/latest/meta-data    | main | 169.254.0.0/16 (link-local, cloud metadata)",
            "https://169.254.169.254/latest/meta-data    | " + SHA + " | 169.254.0.0/16",
            "https://100.100.100.200/x                   | main | 100.64.0.0/10 (carrier-grade NAT)",
            "https://127.0.0.1:8080/x                    | main | 127.0.0.0/8 (loopback)",
            "https://2130706433/x                        | main | host 2130706433 is in 127.0.0.0/8",
            "https://0x7f000001/x                        | main | 127.0.0.0/8",
            "https://0177.0.0.1/x                        | main | 127.0.0.0/8",
            "ssh://git@[::1]:22/x                        | main | ::1/128 (loopback)",
            "https://[::ffff:192.168.0.1]/x              | " + SHA + " | 192.168.0.0/16",
            "ssh://git@[fd00:ec2::254]/x                 | main | fc00::/7 (unique local)",
            "https://localhost/x                         | main | host localhost resolves to ",
            "ssh://git@localhost:2222/x                  | main | host localhost resolves to "
    })
    void aRepositoryOnAPrivateNetworkIsA400NamingTheFieldAndHowToAllowIt(String repository, String ref, String why) {
        given().auth().oauth2(token()).contentType(ContentType.JSON)
                .body("{\"repository\":\"" + repository.strip() + "\",\"ref\":\"" + ref.strip() + "\",\"tool\":\"make\"}")
                .post("/api/v1/builds").then()
                .statusCode(400).contentType("application/problem+json").body("field", equalTo("repository"))
                .body("detail", containsString(why.strip())).body("detail", containsString("a private network"))
                .body("detail", containsString("REPRISE_PRIVATE_REPOSITORY_HOSTS"));
    }

    @Test
    void anAllowListedHostIsNotRefusedForBeingPrivate() {
        // Allowed by name: the gateway asks git, which cannot resolve it; not refused as private.
        given().auth().oauth2(token()).contentType(ContentType.JSON)
                .body("{\"repository\":\"https://git.allowed.invalid/org/app.git\",\"ref\":\"main\",\"tool\":\"make\"}")
                .post("/api/v1/builds").then().statusCode(400).body("field", equalTo("repository"))
                .body("detail", containsString("could not be read")).body("detail", not(containsString("private network")));
    }

    @Test
    void aRemoteThatNeverAnswersIsStoppedAtTheTimeoutAndTheAnswerSaysSo() throws Exception {
        try (SilentServer remote = new SilentServer("127.0.0.2")) {
            long started = System.nanoTime();
            given().auth().oauth2(token()).contentType(ContentType.JSON)
                    .body("{\"repository\":\"https://127.0.0.2:" + remote.port() + "/org/app.git\",\"ref\":\"main\",\"tool\":\"make\"}")
                    .post("/api/v1/builds").then()
                    .statusCode(400).body("field", equalTo("repository"))
                    .body("detail", containsString("the remote did not answer within 3 s"));
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofSeconds(3), Duration.ofSeconds(10));
            assertThat(remote.connections()).isEqualTo(1); // allow-listed by CIDR: git did connect
            assertThat(remote.allClosedWithin(Duration.ofSeconds(3))).as("git and its remote helper were killed").isTrue();
            assertThat(gitProcessesFor(remote)).isEmpty();
        }
    }

    @Test
    void aTenantWithTwoResolutionsRunningGets429WithRetryAfterAndSoDoesAFullGateway() throws Exception {
        try (SilentServer remote = new SilentServer("127.0.0.2")) {
            String body = "{\"repository\":\"https://127.0.0.2:" + remote.port() + "/org/app.git\",\"ref\":\"main\",\"tool\":\"make\"}";
            String a = token();
            String b = token();
            List<CompletableFuture<Response>> hanging = List.of(submitAsync(a, body), submitAsync(a, body));
            assertThat(remote.awaitConnections(2, Duration.ofSeconds(3))).isTrue();

            Response limited = given().auth().oauth2(a).contentType(ContentType.JSON).body(body).post("/api/v1/builds");
            limited.then().statusCode(429).contentType("application/problem+json").body("status", equalTo(429))
                    .body("detail", containsString("this tenant already has 2 ref resolutions (git ls-remote) running"))
                    .body("detail", containsString("retry after"));
            assertThat(Integer.parseInt(limited.header("Retry-After"))).isBetween(1, 4);
            // A commit needs no resolution: the tenant can still build one meanwhile.
            given().auth().oauth2(a).contentType(ContentType.JSON)
                    .body("{\"repository\":\"https://git.example.org/org/app.git\",\"ref\":\"" + SHA + "\",\"tool\":\"make\"}")
                    .post("/api/v1/builds").then().statusCode(202).body("commit", equalTo(SHA));

            CompletableFuture<Response> third = submitAsync(b, body);
            assertThat(remote.awaitConnections(3, Duration.ofSeconds(3))).isTrue();
            Response full = given().auth().oauth2(b).contentType(ContentType.JSON).body(body).post("/api/v1/builds");
            full.then().statusCode(429).body("detail", containsString("the gateway is running 3 ref resolutions"));
            assertThat(full.header("Retry-After")).isNotNull();

            for (CompletableFuture<Response> request : List.of(hanging.get(0), hanging.get(1), third)) {
                request.get(15, TimeUnit.SECONDS).then().statusCode(400)
                        .body("detail", containsString("the remote did not answer within 3 s"));
            }
            // Slots are free again.
            given().auth().oauth2(a).contentType(ContentType.JSON)
                    .body("{\"repository\":\"https://git.allowed.invalid/x\",\"ref\":\"main\",\"tool\":\"make\"}")
                    .post("/api/v1/builds").then().statusCode(400).body("detail", containsString("could not be read"));
            assertThat(remote.allClosedWithin(Duration.ofSeconds(3))).isTrue();
        }
        given().get("/q/metrics").then().body(containsString("reprise_gateway_ref_resolutions_limited_total"))
                .body(containsString("limit=\"gateway\""));
    }

    private CompletableFuture<Response> submitAsync(String token, String body) {
        return CompletableFuture.supplyAsync(() -> given().auth().oauth2(token).contentType(ContentType.JSON).body(body)
                .post("/api/v1/builds"), clients);
    }

    private static List<String> gitProcessesFor(SilentServer remote) {
        return ProcessHandle.allProcesses().filter(ProcessHandle::isAlive)
                .map(p -> p.info().commandLine().orElse(""))
                .filter(line -> line.contains("127.0.0.2:" + remote.port())).toList();
    }

    private String token() {
        String tenant = "t-" + UUID.randomUUID();
        String secret = ApiTokens.generate();
        tenants.ensureTenant(tenant, "repository access test").await().atMost(Duration.ofSeconds(5));
        tenants.ensureToken(tenant, ApiTokens.hash(secret), "test", "read-write").await().atMost(Duration.ofSeconds(5));
        return secret;
    }
}
