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
import org.jboss.logging.Logger;

/**
 * In local mode, makes sure the development tenant and its read-write token exist before the
 * gateway accepts requests. The token comes from REPRISE_TOKEN, else from the token file, else it
 * is generated, written to the file (mode 600) and printed this once.
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
        String token = resolveToken();
        tenants.ensureTenant(config.tenantId(), "Development")
                .chain(() -> tenants.ensureToken(config.tenantId(), ApiTokens.hash(token), "local", "read-write"))
                .await().atMost(STARTUP_TIMEOUT);
    }

    String resolveToken() {
        if (config.token().isPresent() && !config.token().get().isBlank()) {
            return config.token().get().strip();
        }
        Path file = Path.of(config.tokenFile());
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
            LOG.infof("Development token for tenant '%s' written to %s (mode 600; ./reprise token prints it)", config.tenantId(),
                    file.toAbsolutePath());
            return token;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write the development token file " + file, e);
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
