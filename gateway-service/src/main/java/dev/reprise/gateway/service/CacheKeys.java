package dev.reprise.gateway.service;

import dev.reprise.events.RepositoryUrl;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The build cache key: sha256 (lowercase hex) of a canonical form, a compact JSON object with
 * fields in this fixed order and no whitespace:
 *
 * <pre>{"v":2,"tenant":…,"repository":…,"commit":…,"tool":…,"toolVersion":…,"runnerVersion":…,"image":…,"command":…,"env":{…}}</pre>
 *
 * tenant is the requesting tenant's id: two tenants building the same commit get two keys, so
 * neither ever replaces, invalidates or counts reads of the other's recording (v1 had no tenant,
 * and a tenant's live build replaced another's entry of the same key). repository is {@link RepositoryUrl#normalized()}, commit the resolved 40-hex SHA (never a ref),
 * command the request's command or null for the tool's preset, env the request's variables sorted
 * by name. JSON escaping keeps values from running into each other. Changing this form changes
 * every key: bump {@code v} and say so in the release notes. CacheKeysTest pins it.
 */
public final class CacheKeys {

    /** The inputs of a key. */
    public record Inputs(String tenant, String repository, String commit, String tool, String toolVersion, String runnerVersion,
            String image, String command, Map<String, String> env) {
    }

    private static final ObjectMapper CANONICAL = new ObjectMapper()
            .disable(SerializationFeature.INDENT_OUTPUT);

    private CacheKeys() {
    }

    public static String canonicalForm(Inputs in) {
        Map<String, Object> form = new LinkedHashMap<>();
        form.put("v", 2);
        form.put("tenant", in.tenant());
        form.put("repository", in.repository());
        form.put("commit", in.commit());
        form.put("tool", in.tool());
        form.put("toolVersion", in.toolVersion());
        form.put("runnerVersion", in.runnerVersion());
        form.put("image", in.image());
        form.put("command", in.command());
        form.put("env", in.env() == null ? Map.of() : new TreeMap<>(in.env()));
        try {
            return CANONICAL.writeValueAsString(form);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("strings and maps always serialize", e);
        }
    }

    public static String key(Inputs in) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(canonicalForm(in).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
