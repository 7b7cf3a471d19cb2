package dev.reprise.gateway.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** Requests per API token: a steady rate ({@code requests} per {@code period}) plus a burst. */
@ConfigMapping(prefix = "reprise.rate-limit")
public interface RateLimitConfig {
    /** Off turns limiting off entirely. */
    @WithDefault("true")
    boolean enabled();

    /** Sustained requests per {@link #period()} per token. */
    @WithDefault("100")
    long requests();

    @WithDefault("1s")
    Duration period();

    /** How many requests a token may make at once above the steady rate. */
    @WithDefault("500")
    long burst();
}
