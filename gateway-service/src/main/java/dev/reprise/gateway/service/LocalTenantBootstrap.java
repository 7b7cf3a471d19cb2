package dev.reprise.gateway.service;

import dev.reprise.gateway.config.LocalModeConfig;
import dev.reprise.gateway.store.TenantStore;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * In local mode, makes sure the development tenant, its read-write token and an operator token
 * (the store-wide admin endpoints) exist before the gateway accepts requests. Each token comes
 * from its variable (REPRISE_TOKEN, REPRISE_OPERATOR_TOKEN), else from its file, else it is
 * generated and written to the file (mode 600). Tokens are never logged, only where they are.
 */
@ApplicationScoped
public class LocalTenantBootstrap {

    private static final Logger LOG = Logger.getLogger(LocalTenantBootstrap.class);
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);

    private final LocalModeConfig config;
    private final TenantStore tenants;

    public LocalTenantBootstrap(LocalModeConfig config, TenantStore tenants) {
        this.config = config;
        this.tenants = tenants;
    }

    void onStart(@Observes StartupEvent event) {
        if (!config.enabled()) {
            return;
        }
        String token = resolveToken(config.token(), config.tokenFile(), "Development token for tenant '" + config.tenantId() + "'",
                "./reprise token");
        String operator = resolveToken(config.operatorToken(), config.operatorTokenFile(), "Operator token", "./reprise operator-token");
        if (operator.equals(token)) {
            throw new IllegalStateException("the operator token must differ from the development token: set another REPRISE_OPERATOR_TOKEN"
                    + " or delete " + config.operatorTokenFile());
        }
        // The operator token belongs to the development tenant (every token has one); its scope is what makes it an operator's.
        tenants.ensureTenant(config.tenantId(), "Development")
                .chain(() -> tenants.ensureToken(config.tenantId(), ApiTokens.hash(token), "local", "read-write"))
                .chain(() -> tenants.ensureToken(config.tenantId(), ApiTokens.hash(operator), "local-operator", TokenAuthenticator.OPERATOR))
                .await().atMost(STARTUP_TIMEOUT);
    }

    /** The configured token, else the file's, else a new one written to the file. */
    static String resolveToken(Optional<String> configured, String tokenFile, String what, String printedBy) {
        if (configured.isPresent() && !configured.get().isBlank()) {
            return configured.get().strip();
        }
        Path file = Path.of(tokenFile);
        try {
            if (Files.isRegularFile(file)) {
                String stored = Files.readString(file, StandardCharsets.UTF_8).strip();
                if (ApiTokens.wellFormed(stored)) {
                    return stored;
                }
                LOG.warnf("Ignoring %s: it does not hold a Reprise token; writing a new one", file);
            }
            String token = ApiTokens.generate();
            writeAtomically(file, token + "\n");
            // Never the token itself: logs are collected and kept where secrets must not be.
            LOG.infof("%s written to %s (mode 600; %s prints it)", what, file.toAbsolutePath(), printedBy);
            return token;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write the token file " + file, e);
        }
    }

    private static void writeAtomically(Path file, String content) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".token", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
