package dev.reprise.gateway.api;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.reprise.gateway.service.ApiTokens;
import dev.reprise.web.Problem;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import dev.reprise.gateway.config.RateLimitConfig;
import io.vertx.core.http.HttpServerRequest;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Requests per API token (or, without one, per client address), as token buckets: a steady rate
 * with a burst on top. Over it, 429 with Retry-After saying when the next request will be let in.
 * Buckets live in this instance (N gateways allow N times the rate); keyed by the token's sha256,
 * never the token. Runs before authentication, so a flood of bad tokens is limited too.
 */
@ApplicationScoped // a client proxy: filters are set up at static init, before runtime config exists
@Startup
public class RateLimits {

    private final RateLimitConfig config;
    private final Cache<String, Bucket> buckets = Caffeine.newBuilder()
            .maximumSize(100_000).expireAfterAccess(Duration.ofMinutes(10)).build();
    private final Counter limited;

    public RateLimits(RateLimitConfig config, MeterRegistry metrics) {
        this.config = config;
        this.limited = Counter.builder("reprise.gateway.rate.limited").description("Requests refused with 429")
                .register(metrics);
    }

    @ServerRequestFilter(preMatching = true)
    public Optional<Response> limit(HttpHeaders headers, HttpServerRequest request) {
        if (!config.enabled() || request.path().startsWith("/q/")) { // probes and scrapes are not API calls
            return Optional.empty();
        }
        String authorization = headers.getHeaderString(HttpHeaders.AUTHORIZATION);
        String key = authorization != null && authorization.length() > 7 && authorization.length() < 512
                ? "t:" + ApiTokens.hash(authorization.substring(7).strip())
                : "a:" + (request.remoteAddress() == null ? "unknown" : request.remoteAddress().hostAddress());
        ConsumptionProbe probe = buckets.get(key, k -> newBucket()).tryConsumeAndReturnRemaining(1);
        if (probe.isConsumed()) {
            return Optional.empty();
        }
        limited.increment();
        long retryAfter = Math.max(1, (probe.getNanosToWaitForRefill() + 999_999_999L) / 1_000_000_000L);
        return Optional.of(Problem.of(429, "rate-limited", "more than " + config.requests() + " requests per "
                        + config.period().toMillis() + " ms (burst " + config.burst() + ") from this "
                        + (key.startsWith("t:") ? "token" : "address") + "; retry after " + retryAfter + " s")
                .response(Map.of("Retry-After", Long.toString(retryAfter))));
    }

    private Bucket newBucket() {
        return Bucket.builder().addLimit(Bandwidth.builder().capacity(config.burst())
                .refillGreedy(config.requests(), config.period()).build()).build();
    }
}
