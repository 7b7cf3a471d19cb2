package dev.reprise.gateway.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Optional;

/** Local (single-machine) mode: a development tenant and its token, and an operator token, for scripts and tests. */
@ConfigMapping(prefix = "reprise.local")
public interface LocalModeConfig {

    /** Create the development tenant and its read-write token at start. Off in production. */
    @WithDefault("false")
    boolean enabled();

    /** The token to use (REPRISE_TOKEN); when absent one is read from or generated into {@link #tokenFile()}. */
    Optional<String> token();

    /** Where the generated token is written (git-ignored), so scripts and tests can read it. */
    @WithDefault(".reprise/token")
    String tokenFile();

    /** The operator token to use (REPRISE_OPERATOR_TOKEN); when absent one is read from or generated into {@link #operatorTokenFile()}. */
    Optional<String> operatorToken();

    /** Where the generated operator token is written (git-ignored, mode 600); {@code ./reprise operator-token} prints it. */
    @WithDefault(".reprise/operator-token")
    String operatorTokenFile();

    /** Id of the development tenant. */
    @WithDefault("dev")
    String tenantId();
}
