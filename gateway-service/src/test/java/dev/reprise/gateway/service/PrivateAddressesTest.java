package dev.reprise.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet6Address;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PrivateAddressesTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "0.0.0.0         | 0.0.0.0/8 (this host, any-local)",
            "0.255.255.255   | 0.0.0.0/8",
            "10.0.0.0        | 10.0.0.0/8 (RFC 1918 private)",
            "10.255.255.255  | 10.0.0.0/8",
            "100.64.0.0      | 100.64.0.0/10 (carrier-grade NAT)",
            "100.100.100.200 | 100.64.0.0/10",
            "100.127.255.255 | 100.64.0.0/10",
            "127.0.0.1       | 127.0.0.0/8 (loopback)",
            "127.255.255.254 | 127.0.0.0/8",
            "169.254.169.254 | 169.254.0.0/16 (link-local, cloud metadata)",
            "169.254.0.1     | 169.254.0.0/16",
            "172.16.0.0      | 172.16.0.0/12 (RFC 1918 private)",
            "172.31.255.255  | 172.16.0.0/12",
            "192.168.0.1     | 192.168.0.0/16 (RFC 1918 private)",
            "224.0.0.1       | 224.0.0.0/4 (multicast)",
            "240.0.0.1       | 240.0.0.0/4 (reserved, broadcast)",
            "255.255.255.255 | 240.0.0.0/4",
            "::              | ::/128 (unspecified, any-local)",
            "::1             | ::1/128 (loopback)",
            "::127.0.0.1     | ::/96 (IPv4-compatible, deprecated)",
            "::8.8.8.8       | ::/96",
            "64:ff9b:1::a    | 64:ff9b:1::/48 (local-use NAT64)",
            "fc00::1         | fc00::/7 (unique local)",
            "fd00:ec2::254   | fc00::/7",
            "fdff:ffff::1    | fc00::/7",
            "fe80::1         | fe80::/10 (link-local)",
            "febf:ffff::1    | fe80::/10",
            "fec0::1         | fec0::/10 (site-local, deprecated)",
            "ff02::1         | ff00::/8 (multicast)",
            "64:ff9b::a9fe:a9fe | 169.254.0.0/16 (link-local, cloud metadata) through NAT64",
            "64:ff9b::7f00:1    | 127.0.0.0/8 (loopback) through NAT64",
            "2002:c0a8:0101::1  | 192.168.0.0/16 (RFC 1918 private) through 6to4",
            "2002:0a00:0001::   | 10.0.0.0/8 (RFC 1918 private) through 6to4"
    })
    void everyPrivateRangeIsNamed(String address, String range) throws Exception {
        assertThat(PrivateAddresses.privateRange(InetAddress.getByName(address.strip()))).hasValueSatisfying(
                why -> assertThat(why).startsWith(range.strip()));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "0:0:0:0:0:ffff:7f00:1 | 127.0.0.0/8 (loopback) as IPv4-mapped IPv6",
            "0:0:0:0:0:ffff:a9fe:a9fe | 169.254.0.0/16 (link-local, cloud metadata) as IPv4-mapped IPv6",
            "0:0:0:0:0:ffff:0a00:0001 | 10.0.0.0/8 (RFC 1918 private) as IPv4-mapped IPv6",
            "0:0:0:0:0:ffff:6440:0001 | 100.64.0.0/10 (carrier-grade NAT) as IPv4-mapped IPv6"
    })
    void ipv4MappedAddressesAreJudgedByTheirIpv4Address(String address, String range) throws Exception {
        // The JDK turns ::ffff:a.b.c.d into an Inet4Address when it parses one; raw bytes stay IPv6.
        byte[] bytes = InetAddress.getByName(address.strip()).getAddress();
        byte[] v6 = bytes.length == 16 ? bytes : mapped(bytes);
        assertThat(PrivateAddresses.privateRange(Inet6Address.getByAddress(null, v6, null))).hasValue(range.strip());
        assertThat(PrivateAddresses.privateRange(InetAddress.getByName(address.strip()))).isPresent();
    }

    @ParameterizedTest
    @ValueSource(strings = {"8.8.8.8", "1.1.1.1", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0",
            "126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0",
            "192.167.255.255", "192.169.0.0", "223.255.255.255", "2001:4860:4860::8888", "2606:4700::1111",
            "fbff:ffff::1", "fe7f::1", "64:ff9b::808:808", "2002:0808:0808::1"})
    void publicAddressesAreNot(String address) throws Exception {
        assertThat(PrivateAddresses.privateRange(InetAddress.getByName(address))).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "2130706433            | 127.0.0.1",
            "0x7f000001            | 127.0.0.1",
            "0X7F000001            | 127.0.0.1",
            "017700000001          | 127.0.0.1",
            "0177.0.0.1            | 127.0.0.1",
            "0177.0000.0.01        | 127.0.0.1",
            "0x7f.0.0.1            | 127.0.0.1",
            "0x7f.0x0.0x0.0x1      | 127.0.0.1",
            "127.1                 | 127.0.0.1",
            "127.0.1               | 127.0.0.1",
            "127.0.0.1.            | 127.0.0.1",
            "0                     | 0.0.0.0",
            "0xa9.0xfe.0xa9.0xfe   | 169.254.169.254",
            "169.254.43518         | 169.254.169.254",
            "2852039166            | 169.254.169.254",
            "012.0.0.1             | 10.0.0.1",
            "10.0.0.1              | 10.0.0.1",
            "8.8.8.8               | 8.8.8.8",
            "[::1]                 | 0:0:0:0:0:0:0:1",
            "[::ffff:127.0.0.1]    | 127.0.0.1",
            "[::ffff:7f00:1]       | 127.0.0.1",
            "[0:0:0:0:0:ffff:169.254.169.254] | 169.254.169.254",
            "[fe80::1%25eth0]      | fe80:0:0:0:0:0:0:1",
            "[fd00:ec2::254]       | fd00:ec2:0:0:0:0:0:254"
    })
    void literalAddressesAreReadAsCurlAndSshReadThem(String host, String address) {
        assertThat(PrivateAddresses.literal(host.strip())).hasValueSatisfying(
                a -> assertThat(a.getHostAddress()).isEqualTo(address.strip()));
    }

    @Test
    void everyNotationOfAPrivateAddressIsPrivate() {
        for (String host : new String[] {"2130706433", "0x7f000001", "017700000001", "0177.0.0.1", "127.1", "0",
                "0xa9.0xfe.0xa9.0xfe", "2852039166", "012.0.0.1", "[::ffff:127.0.0.1]", "[::1]", "[fe80::1%25eth0]"}) {
            assertThat(PrivateAddresses.literal(host).flatMap(PrivateAddresses::privateRange)).as(host).isPresent();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"github.com", "git.example.org", "GIT.Example.ORG.", "0x7f.example", "1e100.net",
            "127.0.0.1.nip.io", "deadbeef", "a1", "xn--bcher-kva.example"})
    void namesAreNotLiterals(String host) {
        assertThat(PrivateAddresses.literal(host)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"08.0.0.1", "0x", "0x.0.0.1", "1.2.3.4.5", "256.0.0.1", "1.2.3.256", "1.2.65536",
            "4294967296", "0x100000000", "099", "0000000000000000000000001", "[1.2.3.4]", "[::g]"})
    void numbersThatAreNoValidAddressAreRefusedNotGuessed(String host) {
        assertThatThrownBy(() -> PrivateAddresses.literal(host)).isInstanceOf(IllegalArgumentException.class);
    }

    private static byte[] mapped(byte[] v4) {
        byte[] v6 = new byte[16];
        v6[10] = (byte) 0xff;
        v6[11] = (byte) 0xff;
        System.arraycopy(v4, 0, v6, 12, 4);
        return v6;
    }
}
