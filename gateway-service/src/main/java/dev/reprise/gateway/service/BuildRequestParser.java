package dev.reprise.gateway.service;

import dev.reprise.events.BuildEnv;
import dev.reprise.events.RepositoryUrl;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.reprise.gateway.api.BuildRequestBody;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads and validates a build request strictly: unknown fields, wrong types and out-of-range
 * values are rejected with the field's name and what to send instead.
 */
@ApplicationScoped
public class BuildRequestParser {

    /** The validated request, with the defaults applied. */
    public record ValidRequest(RepositoryUrl repository, String ref, String tool, String command,
            Map<String, String> env, boolean fresh, Integer timeoutSeconds) {
    }

    public static final Set<String> TOOLS = Set.of("maven", "gradle", "npm", "make", "custom");
    static final int MAX_REF = 255;
    static final int MAX_COMMAND = 4096;
    static final int MAX_ENV_ENTRIES = 32;
    static final int MAX_ENV_VALUE = 4096;
    static final int MAX_ENV_TOTAL = 16384;
    static final int MAX_TIMEOUT_SECONDS = 86_400;
    private static final Pattern ENV_NAME = Pattern.compile("[A-Z_][A-Z0-9_]{0,127}");
    private static final Pattern REF = Pattern.compile("[A-Za-z0-9._/^{}~@+-]+");

    private final ObjectMapper strict;

    public BuildRequestParser(ObjectMapper mapper) {
        this.strict = mapper.copy()
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    }

    public ValidRequest parse(byte[] body) {
        if (body == null || body.length == 0) {
            throw new InvalidRequestException("body", "is empty; send a JSON object such as "
                    + "{\"repository\":\"https://github.com/org/app.git\",\"ref\":\"main\",\"tool\":\"maven\"}");
        }
        BuildRequestBody request;
        try {
            request = strict.readValue(body, BuildRequestBody.class);
        } catch (UnrecognizedPropertyException e) {
            throw new InvalidRequestException(e.getPropertyName(), "is not a field of a build request; known fields: "
                    + "repository, ref, tool, command, env, fresh, timeoutSeconds");
        } catch (JsonMappingException e) {
            String field = e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                    .collect(Collectors.joining("."));
            throw new InvalidRequestException(field.isEmpty() ? "body" : field,
                    field.isEmpty() ? "must be a JSON object" : "has the wrong type (" + e.getOriginalMessage() + ")");
        } catch (JsonProcessingException e) {
            throw new InvalidRequestException("body", "is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new InvalidRequestException("body", "could not be read");
        }
        if (request == null) {
            throw new InvalidRequestException("body", "must be a JSON object, not null");
        }
        return validate(request);
    }

    private ValidRequest validate(BuildRequestBody r) {
        RepositoryUrl repository = InvalidRequestException.repository(r.repository());
        String ref = r.ref() == null || r.ref().isBlank() ? "HEAD" : r.ref();
        if (ref.length() > MAX_REF || !REF.matcher(ref).matches() || ref.startsWith("-") || ref.contains("..")) {
            throw new InvalidRequestException("ref", "must be a branch, tag, HEAD or commit SHA of at most " + MAX_REF
                    + " characters (letters, digits, . _ / - only, not starting with -)");
        }
        if (r.tool() == null || !TOOLS.contains(r.tool())) {
            throw new InvalidRequestException("tool", (r.tool() == null ? "is required" : "'" + r.tool() + "' is unknown")
                    + "; one of " + TOOLS.stream().sorted().collect(Collectors.joining(", ")));
        }
        String command = r.command() == null || r.command().isBlank() ? null : r.command();
        if ("custom".equals(r.tool()) && command == null) {
            throw new InvalidRequestException("command", "is required when tool is custom");
        }
        if (command != null && (command.length() > MAX_COMMAND || command.indexOf('\0') >= 0)) {
            throw new InvalidRequestException("command", "must be at most " + MAX_COMMAND + " characters, without NUL");
        }
        Map<String, String> env = r.env() == null ? Map.of() : r.env();
        validateEnv(env);
        if (r.timeoutSeconds() != null && (r.timeoutSeconds() < 1 || r.timeoutSeconds() > MAX_TIMEOUT_SECONDS)) {
            throw new InvalidRequestException("timeoutSeconds", "must be between 1 and " + MAX_TIMEOUT_SECONDS);
        }
        return new ValidRequest(repository, ref, r.tool(), command, env, Boolean.TRUE.equals(r.fresh()), r.timeoutSeconds());
    }

    private static void validateEnv(Map<String, String> env) {
        if (env.size() > MAX_ENV_ENTRIES) {
            throw new InvalidRequestException("env", "has " + env.size() + " variables; at most " + MAX_ENV_ENTRIES);
        }
        int total = 0;
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (!ENV_NAME.matcher(e.getKey()).matches()) {
                throw new InvalidRequestException("env", "name '" + e.getKey()
                        + "' must match [A-Z_][A-Z0-9_]* (at most 128 characters)");
            }
            // The runner's checkout and step wrappers run with the build's environment.
            BuildEnv.refusedReason(e.getKey()).ifPresent(why -> {
                throw new InvalidRequestException("env." + e.getKey(), why);
            });
            if (e.getValue() == null || e.getValue().length() > MAX_ENV_VALUE || e.getValue().indexOf('\0') >= 0) {
                throw new InvalidRequestException("env", "value of " + e.getKey() + " must be a string of at most "
                        + MAX_ENV_VALUE + " characters, without NUL");
            }
            total += e.getKey().length() + e.getValue().getBytes(StandardCharsets.UTF_8).length;
        }
        if (total > MAX_ENV_TOTAL) {
            throw new InvalidRequestException("env", "is " + total + " bytes; at most " + MAX_ENV_TOTAL + " in all");
        }
    }
}
