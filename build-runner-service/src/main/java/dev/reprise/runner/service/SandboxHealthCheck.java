package dev.reprise.runner.service;

import dev.reprise.runner.sandbox.Sandbox;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/**
 * Says on /q/health how contained this runner's builds are. Up either way (mode {@code on} never
 * starts without full containment; {@code auto} runs builds as contained as the node allows),
 * with {@code contained: false} and the gaps spelled out when anything is missing, so an operator
 * sees it without reading the log.
 */
@Liveness
@ApplicationScoped
public class SandboxHealthCheck implements HealthCheck {

    static final String NAME = "build sandbox";

    private final BuildRunner runner;

    public SandboxHealthCheck(BuildRunner runner) {
        this.runner = runner;
    }

    @Override
    public HealthCheckResponse call() {
        Sandbox.Isolation isolation = runner.isolation();
        var response = HealthCheckResponse.named(NAME).up()
                .withData("contained", isolation.complete())
                .withData("namespaces", isolation.namespaces())
                .withData("unprivileged", isolation.unprivileged())
                .withData("network", isolation.network())
                .withData("seccomp", isolation.seccomp())
                .withData("limits", isolation.limits());
        if (!isolation.complete()) {
            response = response.withData("missing", String.join("; ", isolation.gaps()));
        }
        return response.build();
    }
}
