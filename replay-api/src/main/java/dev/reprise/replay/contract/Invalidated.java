package dev.reprise.replay.contract;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * What an invalidation took out: {@code scope} key, repository or all; {@code value} the key, the normalized
 * repository URL or {@code *}; {@code removed} how many recordings.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Invalidated(String scope, String value, int removed) {
}
