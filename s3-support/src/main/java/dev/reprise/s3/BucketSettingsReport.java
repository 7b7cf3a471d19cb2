package dev.reprise.s3;

import java.util.Locale;
import java.util.Map;

/** What start-up did with each bucket setting. */
public record BucketSettingsReport(Map<Setting, Outcome> outcomes) {

    public BucketSettingsReport {
        outcomes = Map.copyOf(outcomes);
    }

    /** The settings a bucket gets at start. */
    public enum Setting {
        VERSIONING("versioning"), ENCRYPTION("default encryption"), LIFECYCLE("lifecycle rule");

        private final String description;

        Setting(String description) {
            this.description = description;
        }

        /** Words for logs ("default encryption"). */
        public String description() {
            return description;
        }

        /** The key in readiness data ("encryption"). */
        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Where a setting stands. */
    public enum Status {
        /** Not configured: the bucket keeps what it has. */
        NOT_CONFIGURED,
        /** Configured, not answered yet (the bucket is not there yet, or the request is on its way). */
        PENDING,
        APPLIED,
        /** The store answered that it does not implement it; the service runs without it. */
        UNSUPPORTED,
        /** The store refused it or did not answer; the service runs without it. */
        FAILED;

        /** The value in readiness data ("unsupported"). */
        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** A setting's status, with what was asked for (applied) or what the store answered (unsupported, failed). */
    public record Outcome(Status status, String detail) {
    }

    /** The status of {@code setting}. */
    public Status status(Setting setting) {
        Outcome outcome = outcomes.get(setting);
        return outcome == null ? Status.NOT_CONFIGURED : outcome.status();
    }
}
