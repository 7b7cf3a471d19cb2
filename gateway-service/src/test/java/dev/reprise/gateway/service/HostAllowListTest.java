package dev.reprise.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class HostAllowListTest {

    private final HostAllowList list = new HostAllowList(List.of(" git.corp.example ", "*.build.example", "10.20.0.0/16",
            "192.168.7.9", "100.64.0.0/10", "fd00:1::/32", "", "Mirror.Example."));

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "git.corp.example        | true",
            "GIT.Corp.Example.       | true",
            "mirror.example          | true",
            "a.build.example         | true",
            "x.y.build.example       | true",
            "build.example           | false",
            "evilbuild.example       | false",
            "evil.git.corp.example   | false",
            "git.corp.example.evil.com | false",
            "corp.example            | false"
    })
    void hostNamesAreAllowedExactlyOrUnderADomain(String host, boolean allowed) {
        assertThat(list.allowsName(host.strip())).isEqualTo(allowed);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "10.20.0.0        | true",
            "10.20.255.255    | true",
            "10.21.0.0        | false",
            "10.19.255.255    | false",
            "192.168.7.9      | true",
            "192.168.7.10     | false",
            "100.127.255.255  | true",
            "100.128.0.0      | false",
            "fd00:1:ffff::1   | true",
            "fd00:2::1        | false",
            "127.0.0.1        | false",
            "::1              | false"
    })
    void addressesAreAllowedByCidrBlock(String address, boolean allowed) throws Exception {
        assertThat(list.allowsAddress(InetAddress.getByName(address.strip()))).isEqualTo(allowed);
    }

    @Test
    void anEmptyListAllowsNothing() throws Exception {
        HostAllowList empty = new HostAllowList(List.of());
        assertThat(empty.isEmpty()).isTrue();
        assertThat(empty.allowsName("localhost")).isFalse();
        assertThat(empty.allowsAddress(InetAddress.getByName("10.0.0.1"))).isFalse();
        assertThat(new HostAllowList(List.of("0.0.0.0/0")).allowsAddress(InetAddress.getByName("10.0.0.1"))).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.0/33", "10.0.0", "010.0.0.1", "10.0.0.0/x", "fd00::/129", "::ffff:10.0.0.0/104",
            "git_corp", "*.", "*", "http://git.corp", "git.corp.example:443", "-x.example"})
    void aBadEntryStopsTheGatewayNamingIt(String entry) {
        assertThatThrownBy(() -> new HostAllowList(List.of("ok.example", entry)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'" + entry + "'");
    }
}
