package dev.reprise.events;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which variables a build request's {@code env} may not set: those that make shells, git, ssh, the
 * dynamic loader or a language runtime run code or read config of the caller's choosing before or
 * around the build (the runner's checkout and step wrappers run with the build's environment), and
 * those the runner sets itself. The gateway refuses them with a 400; the runner drops them again,
 * defensively, from anything it receives. Names are compared without regard to case.
 */
public final class BuildEnv {

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private record Rule(Set<String> names, List<String> prefixes, String reason) {

        boolean matches(String upper) {
            return names.contains(upper) || prefixes.stream().anyMatch(upper::startsWith);
        }
    }

    // MALLOC_* other than MALLOC_TRACE only tune glibc's allocator and load nothing (MALLOC_ARENA_MAX
    // is common in JVM builds): allowed. MALLOC_TRACE makes glibc write to a file the caller names, and
    // glibc itself drops it, GCONV_PATH (loads iconv modules) and GLIBC_TUNABLES for privileged programs.
    private static final List<Rule> RULES = List.of(
            new Rule(Set.of("GCONV_PATH", "GLIBC_TUNABLES", "MALLOC_TRACE"),
                    List.of("LD_"),
                    "variables that change how programs are loaded or started cannot be set: the dynamic loader would run"
                            + " code of the caller's choosing in every process, the runner's included"),
            new Rule(Set.of("BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND", "IFS", "CDPATH", "GLOBIGNORE",
                    "ZDOTDIR"), List.of("BASH_FUNC_"),
                    "variables that make a shell run code at start or change how it parses commands cannot be set;"
                            + " set shell options inside the build's command"),
            new Rule(Set.of("XDG_CONFIG_HOME"), List.of("GIT_"),
                    "variables that configure git cannot be set: they steer the checkout the runner makes before the build"
                            + " (commands it runs, hooks, config and repository paths)"),
            new Rule(Set.of(), List.of("SSH_"),
                    "ssh's variables cannot be set: they point ssh at programs to run and at agent sockets"),
            new Rule(Set.of("NODE_OPTIONS", "PYTHONSTARTUP", "PYTHONPATH", "PYTHONHOME", "PERL5OPT", "PERL5LIB", "PERLLIB",
                    "PERL5DB", "RUBYOPT", "RUBYLIB", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS"), List.of(),
                    "variables that make a language runtime (Node.js, Python, Perl, Ruby, the JVM) load code or options at"
                            + " start cannot be set: every such process around the build would pick them up; pass options"
                            + " in the build's command or its tool's own config (e.g. MAVEN_OPTS)"),
            new Rule(Set.of("PATH", "HOME", "TMPDIR"), List.of(),
                    "the runner sets this variable (the build's own workspace, HOME and /tmp); change it inside the"
                            + " build's command if the build needs another value"),
            new Rule(Set.of(), List.of("REPRISE_"),
                    "REPRISE_* variables are reserved for the platform; choose another name"));

    private BuildEnv() {
    }

    /**
     * Why a build may not set the variable {@code name}, as a sentence saying what to do instead;
     * empty when it may. A name that is not a plain variable name is refused too.
     */
    public static Optional<String> refusedReason(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            return Optional.of("is not a plain variable name (letters, digits and _, not starting with a digit)");
        }
        String upper = name.toUpperCase(Locale.ROOT);
        return RULES.stream().filter(rule -> rule.matches(upper)).findFirst().map(Rule::reason);
    }

    /** True when a build may set {@code name}. */
    public static boolean allowed(String name) {
        return refusedReason(name).isEmpty();
    }
}
