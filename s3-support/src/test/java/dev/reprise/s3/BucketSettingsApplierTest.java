package dev.reprise.s3;

import static dev.reprise.s3.BucketSettingsTest.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.reprise.s3.BucketSettingsReport.Setting;
import dev.reprise.s3.BucketSettingsReport.Status;
import dev.reprise.s3.StandInS3.Answer;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.jboss.logmanager.formatters.PatternFormatter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * Applying the bucket settings through the real AWS SDK client (CRT HTTP, as the service builds it)
 * against a stand-in endpoint answering as S3, s3proxy and MinIO do.
 */
class BucketSettingsApplierTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    /** Held so the logger (and the handler on it) is not collected during a test. */
    private static final Logger APPLIER_LOG = Logger.getLogger(BucketSettingsApplier.class.getName());
    private static final Map<String, String> ALL = Map.of(
            "reprise.s3.bucket", "reprise-cas",
            "reprise.s3.versioning", "enabled",
            "reprise.s3.encryption", "aws:kms",
            "reprise.s3.kms-key-id", "alias/reprise",
            "reprise.s3.lifecycle.transition-days", "30",
            "reprise.s3.lifecycle.expiry-days", "365",
            "reprise.s3.lifecycle.prefix", "blobs/");
    private static final String S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/";
    /** The message with its parameters (JBoss Logging hands printf-style records to the log manager). */
    private static final PatternFormatter MESSAGE = new PatternFormatter("%s");

    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private final List<String> infos = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            String message = MESSAGE.format(record);
            (record.getLevel().intValue() >= Level.WARNING.intValue() ? warnings : infos).add(message);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private final List<AutoCloseable> closeAfter = new ArrayList<>();

    @BeforeEach
    void captureLog() {
        APPLIER_LOG.addHandler(capture);
    }

    @AfterEach
    void cleanUp() throws Exception {
        APPLIER_LOG.removeHandler(capture);
        for (AutoCloseable closeable : closeAfter) {
            closeable.close();
        }
    }

    @Test
    void aStoreThatImplementsNoneOfThemGetsOneWarningPerSettingAndTheServiceCarriesOn() throws Exception {
        // s3proxy's answers: the bucket is there, every settings subresource is 501 NotImplemented.
        StandInS3 store = store(request -> request.method().equals("HEAD") ? Answer.ok()
                : Answer.error(501, "NotImplemented", "A header or query you provided implies functionality that is not implemented."));
        S3AsyncClient s3 = client(store);
        BucketConfig config = config(ALL);
        BucketSettingsApplier applier = new BucketSettingsApplier(s3, config);
        BucketGuard guard = new BucketGuard(s3, config, applier);
        BucketReadinessCheck readiness = new BucketReadinessCheck(guard, config, applier);

        guard.ensureBucket().await().atMost(WAIT);
        // Applied because the bucket was found, not because anyone asked: the guard starts it.
        await().atMost(WAIT).until(() -> applier.report().outcomes().values().stream().noneMatch(o -> o.status() == Status.PENDING));
        guard.ensureBucket().await().atMost(WAIT);
        HealthCheckResponse ready = readiness.call().await().atMost(WAIT);
        BucketSettingsReport report = applier.applyOnce().toCompletableFuture().get(30, TimeUnit.SECONDS);

        assertThat(report.outcomes()).containsOnlyKeys(Setting.VERSIONING, Setting.ENCRYPTION, Setting.LIFECYCLE);
        assertThat(report.outcomes().values()).allSatisfy(outcome -> {
            assertThat(outcome.status()).isEqualTo(Status.UNSUPPORTED);
            assertThat(outcome.detail()).startsWith("NotImplemented (501): ");
        });
        assertThat(store.count("PUT", "versioning")).isEqualTo(1);
        assertThat(store.count("PUT", "encryption")).isEqualTo(1);
        assertThat(store.count("GET", "lifecycle")).isEqualTo(1);
        assertThat(store.count("PUT", "lifecycle")).as("nothing to put a rule into").isZero();
        assertThat(warnings).hasSize(3);
        assertThat(warnings.get(0)).startsWith("S3 bucket reprise-cas: the store does not support versioning (asked for Enabled,"
                + " it answered NotImplemented (501)").endsWith("the service carries on without it");
        assertThat(warnings.get(1)).startsWith("S3 bucket reprise-cas: the store does not support default encryption (asked for"
                + " aws:kms with key alias/reprise,");
        assertThat(warnings.get(2)).startsWith("S3 bucket reprise-cas: the store does not support lifecycle rule (asked for rule"
                + " 'reprise': to STANDARD_IA after 30 days, expiry after 365 days, objects under blobs/,");
        assertThat(ready.getStatus()).as("settings never make the bucket unready").isEqualTo(HealthCheckResponse.Status.UP);
        assertThat(ready.getData()).hasValueSatisfying(data -> assertThat(data)
                .containsEntry("bucket", "reprise-cas")
                .containsEntry("versioning", "unsupported")
                .containsEntry("encryption", "unsupported")
                .containsEntry("lifecycle", "unsupported"));

        guard.ensureBucket().await().atMost(WAIT);
        assertThat(applier.applyOnce().toCompletableFuture().get(30, TimeUnit.SECONDS)).isEqualTo(report);
        assertThat(store.requests()).as("once per start, however often readiness finds the bucket")
                .filteredOn(r -> !r.method().equals("HEAD")).hasSize(3);
        assertThat(warnings).as("logged once").hasSize(3);
    }

    @Test
    void aStoreThatHasThemGetsEachAndKeepsItsOtherLifecycleRules() throws Exception {
        StandInS3 store = store(request -> switch (request.method() + " " + request.subresource()) {
            case "GET lifecycle" -> Answer.xml("""
                    <?xml version="1.0" encoding="UTF-8"?>
                    <LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
                      <Rule><ID>abort-uploads</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>
                        <AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>
                      <Rule><ID>reprise</ID><Filter><Prefix>blobs/</Prefix></Filter><Status>Enabled</Status>
                        <Expiration><Days>10</Days></Expiration></Rule>
                    </LifecycleConfiguration>""");
            default -> Answer.ok();
        });
        BucketSettingsApplier applier = new BucketSettingsApplier(client(store), config(ALL));

        BucketSettingsReport report = applier.applyOnce().toCompletableFuture().get(30, TimeUnit.SECONDS);

        assertThat(report.outcomes().values()).extracting(BucketSettingsReport.Outcome::status).containsOnly(Status.APPLIED);
        assertThat(warnings).isEmpty();
        assertThat(infos).contains("S3 bucket reprise-cas: versioning set (Enabled)",
                "S3 bucket reprise-cas: default encryption set (aws:kms with key alias/reprise)",
                "S3 bucket reprise-cas: lifecycle rule set (rule 'reprise': to STANDARD_IA after 30 days, expiry after 365 days,"
                        + " objects under blobs/)");

        Document versioning = xml(store.body("PUT", "versioning"));
        assertThat(text(versioning, "/VersioningConfiguration/Status")).isEqualTo("Enabled");
        Document encryption = xml(store.body("PUT", "encryption"));
        assertThat(text(encryption, "//ApplyServerSideEncryptionByDefault/SSEAlgorithm")).isEqualTo("aws:kms");
        assertThat(text(encryption, "//ApplyServerSideEncryptionByDefault/KMSMasterKeyID")).isEqualTo("alias/reprise");

        Document lifecycle = xml(store.body("PUT", "lifecycle"));
        assertThat(texts(lifecycle, "/LifecycleConfiguration/Rule/ID")).as("the other rule kept, Reprise's replaced")
                .containsExactly("abort-uploads", "reprise");
        assertThat(text(lifecycle, "//Rule[ID='abort-uploads']/AbortIncompleteMultipartUpload/DaysAfterInitiation")).isEqualTo("2");
        assertThat(text(lifecycle, "//Rule[ID='reprise']/Status")).isEqualTo("Enabled");
        assertThat(text(lifecycle, "//Rule[ID='reprise']/Filter/Prefix")).isEqualTo("blobs/");
        assertThat(text(lifecycle, "//Rule[ID='reprise']/Transition/Days")).isEqualTo("30");
        assertThat(text(lifecycle, "//Rule[ID='reprise']/Transition/StorageClass")).isEqualTo("STANDARD_IA");
        assertThat(text(lifecycle, "//Rule[ID='reprise']/Expiration/Days")).isEqualTo("365");
    }

    @Test
    void aBucketWithoutLifecycleGetsReprisesRuleAlone() throws Exception {
        StandInS3 store = store(request -> request.method().equals("GET") && request.subresource().equals("lifecycle")
                ? Answer.error(404, "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist")
                : Answer.ok());
        BucketSettingsApplier applier = new BucketSettingsApplier(client(store), config(Map.of(
                "reprise.s3.bucket", "reprise-cas", "reprise.s3.lifecycle.expiry-days", "90")));

        BucketSettingsReport report = applier.applyOnce().toCompletableFuture().get(30, TimeUnit.SECONDS);

        assertThat(report.status(Setting.LIFECYCLE)).isEqualTo(Status.APPLIED);
        assertThat(report.status(Setting.VERSIONING)).isEqualTo(Status.NOT_CONFIGURED);
        Document lifecycle = xml(store.body("PUT", "lifecycle"));
        assertThat(texts(lifecycle, "/LifecycleConfiguration/Rule/ID")).containsExactly("reprise");
        assertThat(text(lifecycle, "//Rule/Expiration/Days")).isEqualTo("90");
        assertThat(texts(lifecycle, "//Rule/Transition")).isEmpty();
        assertThat(store.count("PUT", "versioning") + store.count("PUT", "encryption")).as("not configured, not touched").isZero();
    }

    @Test
    void aRefusedSettingIsAWarningWithTheCauseAndTheNextOnesAreStillApplied() throws Exception {
        StandInS3 store = store(request -> switch (request.method() + " " + request.subresource()) {
            case "PUT versioning" -> Answer.error(403, "AccessDenied", "Access Denied");
            // MinIO without a KMS
            case "PUT encryption" -> Answer.error(400, "InvalidArgument", "Server side encryption specified but KMS is not configured");
            case "GET lifecycle" -> Answer.error(404, "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist");
            default -> Answer.ok();
        });
        BucketSettingsApplier applier = new BucketSettingsApplier(client(store), config(ALL));

        BucketSettingsReport report = applier.applyOnce().toCompletableFuture().get(30, TimeUnit.SECONDS);

        assertThat(report.outcomes().get(Setting.VERSIONING)).isEqualTo(
                new BucketSettingsReport.Outcome(Status.FAILED, "AccessDenied (403): Access Denied"));
        assertThat(report.outcomes().get(Setting.ENCRYPTION)).isEqualTo(new BucketSettingsReport.Outcome(Status.FAILED,
                "InvalidArgument (400): Server side encryption specified but KMS is not configured"));
        assertThat(report.status(Setting.LIFECYCLE)).isEqualTo(Status.APPLIED);
        assertThat(warnings).containsExactly(
                "S3 bucket reprise-cas: could not set versioning (asked for Enabled: AccessDenied (403): Access Denied);"
                        + " the service carries on without it",
                "S3 bucket reprise-cas: could not set default encryption (asked for aws:kms with key alias/reprise: InvalidArgument"
                        + " (400): Server side encryption specified but KMS is not configured); the service carries on without it");
    }

    @Test
    void nothingConfiguredSendsNothing() throws Exception {
        StandInS3 store = store(request -> Answer.ok());
        S3AsyncClient s3 = client(store);
        BucketConfig config = config(Map.of("reprise.s3.bucket", "reprise-recordings"));
        BucketSettingsApplier applier = new BucketSettingsApplier(s3, config);
        BucketGuard guard = new BucketGuard(s3, config, applier);

        guard.ensureBucket().await().atMost(WAIT);
        BucketSettingsReport report = applier.applyOnce().toCompletableFuture().get(30, TimeUnit.SECONDS);
        HealthCheckResponse ready = new BucketReadinessCheck(guard, config, applier).call().await().atMost(WAIT);

        assertThat(report.outcomes()).isEmpty();
        assertThat(store.requests()).extracting(StandInS3.Request::method).containsOnly("HEAD");
        assertThat(ready.getData()).hasValueSatisfying(data -> assertThat(data).containsOnlyKeys("bucket"));
        assertThat(warnings).isEmpty();
        assertThat(infos).isEmpty();
    }

    private StandInS3 store(Function<StandInS3.Request, Answer> answers) throws Exception {
        StandInS3 store = StandInS3.start(answers);
        closeAfter.add(store);
        return store;
    }

    private S3AsyncClient client(StandInS3 store) {
        S3AsyncClient client = store.client();
        closeAfter.add(0, client);
        return client;
    }

    private static Document xml(String body) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        Document document = factory.newDocumentBuilder().parse(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8)));
        assertThat(document.getDocumentElement().getAttribute("xmlns")).as("S3's namespace").isEqualTo(S3_XMLNS);
        return document;
    }

    private static String text(Document document, String path) throws Exception {
        return XPathFactory.newInstance().newXPath().evaluate(path, document);
    }

    private static List<String> texts(Document document, String path) throws Exception {
        NodeList nodes = (NodeList) XPathFactory.newInstance().newXPath().evaluate(path, document, XPathConstants.NODESET);
        List<String> values = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            values.add(nodes.item(i).getTextContent());
        }
        return values;
    }
}
