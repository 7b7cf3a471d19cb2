package dev.reprise.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reprise.events.RepositoryUrl;
import dev.reprise.gateway.service.RepositoryHosts.Destination;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RepositoryHostsTest {

    /** A DNS that knows these names only, and records what it was asked. */
    private final List<String> asked = new ArrayList<>();
    private final Map<String, List<String>> dns = Map.of(
            "git.example.org", List.of("140.82.112.3", "2606:50c0:8000::153"),
            "internal.example.org", List.of("10.1.2.3"),
            "metadata.example.org", List.of("169.254.169.254"),
            "half.example.org", List.of("140.82.112.3", "127.0.0.1"),
            "v6.example.org", List.of("fd12:3456::1"),
            "mapped.example.org", List.of("::ffff:192.168.1.1"),
            "corp-mirror.example.org", List.of("10.20.1.5"));

    private final RepositoryHosts.Resolver resolver = host -> {
        asked.add(host);
        List<String> addresses = dns.get(host);
        if (addresses == null) {
            throw new UnknownHostException(host);
        }
        InetAddress[] result = new InetAddress[addresses.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = InetAddress.getByName(addresses.get(i));
        }
        return result;
    };

    private final RepositoryHosts production = new RepositoryHosts(false,
            new HostAllowList(List.of("git.corp.example", "10.20.0.0/16")), resolver);

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "https://10.0.0.8/org/app.git                 | host 10.0.0.8 is in 10.0.0.0/8 (RFC 1918 private)",
            "https://169.254.169.254/latest/meta-data     | 169.254.0.0/16 (link-local, cloud metadata)",
            "https://2130706433/org/app                   | host 2130706433 is in 127.0.0.0/8 (loopback)",
            "https://0x7f000001/org/app                   | 127.0.0.0/8",
            "https://0177.0.0.1/org/app                   | 127.0.0.0/8",
            "https://0/org/app                            | 0.0.0.0/8",
            "ssh://git@[::1]:2222/org/app                 | ::1/128 (loopback)",
            "https://[::ffff:169.254.169.254]/x           | 169.254.0.0/16",
            "https://[fd00:ec2::254]/x                    | fc00::/7 (unique local)",
            "https://100.100.100.200/x                    | 100.64.0.0/10 (carrier-grade NAT)",
            "https://172.20.0.1:8443/x                    | 172.16.0.0/12"
    })
    void aLiteralPrivateAddressIsRefusedWithoutAnyLookup(String url, String why) {
        RepositoryUrl repository = RepositoryUrl.parse(url.strip());
        for (Runnable check : List.<Runnable>of(() -> production.checkAddress(repository),
                () -> production.destination(repository))) {
            assertThatThrownBy(check::run).isInstanceOfSatisfying(InvalidRequestException.class,
                    e -> assertThat(e.field()).isEqualTo("repository"))
                    .hasMessageContaining(why.strip())
                    .hasMessageContaining("a private network")
                    .hasMessageContaining("REPRISE_PRIVATE_REPOSITORY_HOSTS");
        }
        assertThat(asked).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "https://internal.example.org/app   | internal.example.org resolves to 10.1.2.3, in 10.0.0.0/8",
            "ssh://git@metadata.example.org/app | metadata.example.org resolves to 169.254.169.254, in 169.254.0.0/16",
            "https://half.example.org/app       | half.example.org resolves to 127.0.0.1, in 127.0.0.0/8",
            "https://v6.example.org/app         | resolves to fd12:3456:0:0:0:0:0:1, in fc00::/7",
            "https://mapped.example.org/app     | resolves to 192.168.1.1, in 192.168.0.0/16"
    })
    void aNameIsRefusedWhenAnyOfItsAddressesIsPrivate(String url, String why) {
        RepositoryUrl repository = RepositoryUrl.parse(url.strip());
        production.checkAddress(repository); // names are never looked up on the request thread
        assertThat(asked).isEmpty();
        assertThatThrownBy(() -> production.destination(repository)).isInstanceOfSatisfying(InvalidRequestException.class,
                e -> assertThat(e.field()).isEqualTo("repository")).hasMessageContaining(why.strip())
                .hasMessageContaining("REPRISE_PRIVATE_REPOSITORY_HOSTS");
    }

    @Test
    void aPublicNameIsPinnedToTheAddressesThatWereChecked() throws Exception {
        Destination https = production.destination(RepositoryUrl.parse("https://git.example.org/org/app.git"));
        assertThat(https).isEqualTo(new Destination("https", "git.example.org", 443,
                List.of(InetAddress.getByName("140.82.112.3"), InetAddress.getByName("2606:50c0:8000::153"))));
        Destination ssh = production.destination(RepositoryUrl.parse("ssh://git@GIT.example.org:2222/org/app.git"));
        assertThat(ssh.scheme()).isEqualTo("ssh");
        assertThat(ssh.port()).isEqualTo(2222);
        assertThat(ssh.addresses()).hasSize(2);
        assertThat(production.destination(RepositoryUrl.parse("ssh://git@git.example.org/app")).port()).isEqualTo(22);
        assertThat(asked).containsExactly("git.example.org", "git.example.org", "git.example.org");
    }

    @Test
    void aPublicLiteralNeedsNoPinning() {
        assertThat(production.destination(RepositoryUrl.parse("https://140.82.112.3:8443/org/app")))
                .isEqualTo(new Destination("https", "140.82.112.3", 8443, List.of()));
        assertThat(asked).isEmpty();
    }

    @Test
    void anAllowListedNameIsTrustedWithoutLookupAndAnAllowListedBlockByAddress() throws Exception {
        assertThat(production.destination(RepositoryUrl.parse("https://GIT.corp.example/app")).addresses()).isEmpty();
        assertThat(asked).isEmpty();
        production.checkAddress(RepositoryUrl.parse("https://10.20.3.4/app"));
        assertThat(production.destination(RepositoryUrl.parse("https://10.20.3.4/app")).addresses()).isEmpty();
        // A name whose private address is in an allowed block: allowed, and pinned to it.
        assertThat(production.destination(RepositoryUrl.parse("https://corp-mirror.example.org/app")).addresses())
                .containsExactly(InetAddress.getByName("10.20.1.5"));
        // The rest of the private range is still refused.
        assertThatThrownBy(() -> production.checkAddress(RepositoryUrl.parse("https://10.21.0.1/app")))
                .hasMessageContaining("10.0.0.0/8");
    }

    @Test
    void anUnknownNameOrANumberThatIsNoAddressIsA400() {
        assertThatThrownBy(() -> production.destination(RepositoryUrl.parse("https://nowhere.example.org/app")))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("repository"))
                .hasMessageContaining("could not be resolved");
        assertThatThrownBy(() -> production.checkAddress(RepositoryUrl.parse("https://4294967296/app")))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("repository"))
                .hasMessageContaining("not a valid IPv4 address");
    }

    @Test
    void whereFileRepositoriesAreAllowedEveryHostIs() {
        RepositoryHosts local = new RepositoryHosts(true, new HostAllowList(List.of()), resolver);
        for (String url : List.of("https://127.0.0.1:3000/me/app", "https://internal.example.org/app", "ssh://git@[::1]/app")) {
            local.checkAddress(RepositoryUrl.parse(url));
            assertThat(local.destination(RepositoryUrl.parse(url)).addresses()).isEmpty();
        }
        assertThat(asked).isEmpty();
        assertThat(production.destination(RepositoryUrl.parse("file:///srv/git/app")).addresses()).isEmpty();
        production.checkAddress(RepositoryUrl.parse("file:///srv/git/app"));
    }
}
