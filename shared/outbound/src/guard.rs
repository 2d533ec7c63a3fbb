//! The SSRF guard: which addresses Hookline refuses to connect to, the operator's allowlist, and a DNS resolver that
//! drops forbidden addresses so the address checked is the address connected to (no DNS rebinding).

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Whether Hookline refuses to connect to `ip` by default: loopback (127/8, ::1), unspecified (0.0.0.0/8, ::),
/// RFC 1918 (10/8, 172.16/12, 192.168/16), CGNAT 100.64/10, link-local 169.254/16 (169.254.169.254 included) and
/// fe80::/10, multicast 224/4 and ff00::/8, broadcast/reserved 240/4, benchmarking 198.18/15, IETF 192.0.0/24,
/// documentation ranges (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20), IPv6 ULA fc00::/7 and
/// deprecated site-local fec0::/10, discard-only 100::/64, local-use NAT64 64:ff9b:1::/48, and the IPv4-mapped
/// (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) forms of forbidden v4
/// addresses (checked on the embedded v4).
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0 // "this network", 0.0.0.0/8
        || a == 10 // RFC 1918
        || a == 127 // loopback
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 169 && b == 254) // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b)) // RFC 1918
        || (a == 192 && b == 168) // RFC 1918
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18/15
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224 // multicast 224/4, reserved 240/4, broadcast
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if ip.is_unspecified() || ip.is_loopback() {
        return true;
    }
    // The IPv4-mapped ::ffff:a.b.c.d form.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_forbidden_v4(v4);
    }
    // The deprecated IPv4-compatible ::a.b.c.d form.
    if s[..6] == [0; 6] {
        return is_forbidden_v4(embedded_v4(s[6], s[7]));
    }
    // NAT64, well-known prefix 64:ff9b::/96.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_forbidden_v4(embedded_v4(s[6], s[7]));
    }
    // 6to4 2002::/16 carries the v4 address in bits 16..48.
    if s[0] == 0x2002 {
        return is_forbidden_v4(embedded_v4(s[1], s[2]));
    }
    (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
        || (s[0] & 0xff00) == 0xff00 // multicast ff00::/8
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation 2001:db8::/32
        || (s[0] == 0x3fff && (s[1] & 0xf000) == 0) // documentation 3fff::/20
        || s[..4] == [0x100, 0, 0, 0] // discard-only 100::/64
        || s[..3] == [0x64, 0xff9b, 0x1] // local-use NAT64 64:ff9b:1::/48
}

fn embedded_v4(high: u16, low: u16) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(high) << 16) | u32::from(low))
}

/// The operator's allowlist (CIDRs that are allowed even if forbidden, e.g. 127.0.0.0/8 for local development).
#[derive(Debug, Clone, Default)]
pub struct Allowlist(Vec<IpNet>);

impl Allowlist {
    /// Parses comma- or space-separated CIDRs or bare IP addresses (`"127.0.0.0/8, ::1"`); empty text is an empty
    /// allowlist. The error names the first bad entry.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| {
                        format!(
                            "invalid allowlist entry {entry:?}: expected a CIDR such as 10.0.0.0/8 or an IP address"
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// The allowed networks.
    pub fn nets(&self) -> &[IpNet] {
        &self.0
    }

    /// Whether nothing is allowed beyond the default.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` lies in one of the allowed networks (an IPv4-mapped v6 address is also checked as its v4).
    pub fn allows(&self, ip: IpAddr) -> bool {
        let mapped = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        self.0.iter().any(|net| net.contains(&ip) || mapped.is_some_and(|v4| net.contains(&v4)))
    }
}

impl From<Vec<IpNet>> for Allowlist {
    fn from(nets: Vec<IpNet>) -> Self {
        Self(nets)
    }
}

/// Whether a connection to `ip` may be made.
pub fn permitted(ip: IpAddr, allowlist: &Allowlist) -> bool {
    !is_forbidden(ip) || allowlist.allows(ip)
}

/// Why a target is refused: the SSRF guard's verdict, or a URL that is not http/https. Its
/// message starts with `refused:`; the sender recognises it by its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The URL does not parse.
    InvalidUrl(String),
    /// The scheme is neither http nor https.
    Scheme(String),
    /// The URL has no host.
    NoHost,
    /// The host is a forbidden IP literal.
    Address(IpAddr),
    /// The host is a name that resolves only to forbidden addresses.
    Name {
        /// The name.
        host: String,
        /// What it resolved to.
        addresses: Vec<IpAddr>,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl(error) => write!(f, "refused: invalid URL ({error})"),
            Self::Scheme(scheme) => write!(f, "refused: scheme {scheme:?} is not http or https"),
            Self::NoHost => f.write_str("refused: the URL has no host"),
            Self::Address(ip) => write!(f, "refused: address {ip} is forbidden"),
            Self::Name { host, addresses } => {
                write!(f, "refused: {host} resolves only to forbidden addresses (")?;
                for (i, ip) in addresses.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{ip}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl std::error::Error for Refusal {}

/// A reqwest DNS resolver that resolves with tokio and drops every forbidden address; if none is left it fails with a
/// [`Refusal::Name`], which the sender finds in the error's sources and classifies as Refused. DNS rebinding cannot
/// pass: the addresses checked are the addresses connected to.
#[derive(Debug, Clone, Default)]
pub struct GuardedResolver {
    allowlist: Arc<Allowlist>,
}

impl GuardedResolver {
    /// A resolver permitting forbidden addresses only if `allowlist` allows them.
    pub fn new(allowlist: Allowlist) -> Self {
        Self { allowlist: Arc::new(allowlist) }
    }

    /// Resolves `host` and keeps the permitted addresses (port 0: the connector sets the URL's port).
    pub async fn resolve_host(&self, host: &str) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host, 0)).await?.collect();
        if resolved.is_empty() {
            return Err(format!("{host} resolves to no address").into());
        }
        let (kept, dropped): (Vec<SocketAddr>, Vec<SocketAddr>) =
            resolved.into_iter().partition(|addr| permitted(addr.ip(), &self.allowlist));
        if kept.is_empty() {
            let mut addresses: Vec<IpAddr> = dropped.iter().map(SocketAddr::ip).collect();
            addresses.dedup();
            return Err(Box::new(Refusal::Name { host: host.to_owned(), addresses }));
        }
        if !dropped.is_empty() {
            tracing::debug!(host, dropped = dropped.len(), "forbidden addresses dropped from resolution");
        }
        Ok(kept)
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = this.resolve_host(&host).await?;
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip literal")
    }

    fn assert_range(inside: &[&str], outside: &[&str]) {
        for addr in inside {
            assert!(is_forbidden(ip(addr)), "{addr} should be forbidden");
        }
        for addr in outside {
            assert!(!is_forbidden(ip(addr)), "{addr} should be allowed");
        }
    }

    #[test]
    fn when_loopback_should_be_forbidden() {
        assert_range(&["127.0.0.1", "127.255.255.255", "::1"], &["128.0.0.0", "126.255.255.255", "::1:0:0:1"]);
    }

    #[test]
    fn when_unspecified_or_this_network_should_be_forbidden() {
        assert_range(&["0.0.0.0", "0.255.255.255", "::"], &["1.0.0.0"]);
    }

    #[test]
    fn when_rfc1918_should_be_forbidden() {
        assert_range(&["10.0.0.1", "10.255.255.255"], &["9.255.255.255", "11.0.0.0"]);
        assert_range(&["172.16.0.0", "172.31.255.255"], &["172.15.255.255", "172.32.0.0"]);
        assert_range(&["192.168.0.1", "192.168.255.255"], &["192.167.255.255", "192.169.0.0"]);
    }

    #[test]
    fn when_cgnat_should_be_forbidden() {
        assert_range(&["100.64.0.0", "100.127.255.255"], &["100.63.255.255", "100.128.0.0"]);
    }

    #[test]
    fn when_link_local_or_metadata_should_be_forbidden() {
        assert_range(&["169.254.169.254", "169.254.0.0"], &["169.253.255.255", "169.255.0.0"]);
        assert_range(&["fe80::1", "febf:ffff::1"], &["fe7f:ffff::1"]);
    }

    #[test]
    fn when_multicast_reserved_or_broadcast_should_be_forbidden() {
        assert_range(&["224.0.0.1", "239.255.255.255", "240.0.0.1", "255.255.255.255"], &["223.255.255.255"]);
        assert_range(&["ff02::1", "ff00::"], &["fe00::1"]);
    }

    #[test]
    fn when_benchmarking_or_ietf_should_be_forbidden() {
        assert_range(&["198.18.0.1", "198.19.255.255"], &["198.17.255.255", "198.20.0.0"]);
        assert_range(&["192.0.0.8", "192.0.0.255"], &["192.0.1.0", "191.255.255.255"]);
    }

    #[test]
    fn when_documentation_should_be_forbidden() {
        assert_range(&["192.0.2.1"], &["192.0.3.0"]);
        assert_range(&["198.51.100.7"], &["198.51.101.0", "198.51.99.255"]);
        assert_range(&["203.0.113.9"], &["203.0.114.0", "203.0.112.255"]);
        assert_range(&["2001:db8::1", "2001:db8:ffff::1"], &["2001:db9::1", "2001:db7::1"]);
        assert_range(&["3fff::1", "3fff:fff:ffff::1"], &["3ffe:ffff::1", "3fff:1000::1"]);
    }

    #[test]
    fn when_unique_local_or_site_local_should_be_forbidden() {
        assert_range(&["fc00::1", "fdff:ffff::1"], &["fbff:ffff::1"]);
        assert_range(&["fec0::1", "feff::1"], &[]);
    }

    #[test]
    fn when_ipv4_mapped_should_check_the_embedded_v4() {
        assert_range(&["::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1"], &["::ffff:8.8.8.8"]);
    }

    #[test]
    fn when_ipv4_compatible_should_check_the_embedded_v4() {
        assert_range(&["::127.0.0.1", "::10.1.2.3"], &["::8.8.8.8"]);
    }

    #[test]
    fn when_nat64_should_check_the_embedded_v4() {
        assert_range(&["64:ff9b::127.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::1"], &["64:ff9b::8.8.8.8"]);
    }

    #[test]
    fn when_6to4_should_check_the_embedded_v4() {
        // 2002:7f00:0001:: embeds 127.0.0.1; 2002:0808:0808:: embeds 8.8.8.8.
        assert_range(&["2002:7f00:1::1", "2002:a9fe:a9fe::"], &["2002:808:808::1"]);
    }

    #[test]
    fn when_discard_only_should_be_forbidden() {
        assert_range(&["100::1"], &["100:0:0:1::1"]);
    }

    #[test]
    fn when_public_should_be_allowed() {
        assert_range(&[], &["8.8.8.8", "1.1.1.1", "2606:4700::1111", "2a00:1450:4001:800::200e", "52.95.110.1"]);
    }

    #[test]
    fn when_allowlist_parsed_should_accept_cidrs_and_bare_ips_separated_by_commas_or_spaces() {
        let allowlist = Allowlist::parse(" 127.0.0.0/8, 10.1.2.3  fd00::/8,::1 ").expect("valid");
        assert_eq!(allowlist.nets().len(), 4);
        assert!(allowlist.allows(ip("127.3.4.5")));
        assert!(allowlist.allows(ip("10.1.2.3")));
        assert!(!allowlist.allows(ip("10.1.2.4")));
        assert!(allowlist.allows(ip("fd12::1")));
        assert!(allowlist.allows(ip("::1")));
        assert!(allowlist.allows(ip("::ffff:127.0.0.1")));
        assert!(Allowlist::parse("").expect("empty").is_empty());
    }

    #[test]
    fn when_allowlist_entry_bad_should_name_it() {
        let error = Allowlist::parse("127.0.0.0/8, localhost").expect_err("bad entry");
        assert!(error.contains("\"localhost\""), "{error}");
        let error = Allowlist::parse("10.0.0.0/33").expect_err("bad prefix");
        assert!(error.contains("\"10.0.0.0/33\""), "{error}");
        let error = Allowlist::parse("10.0.0.256").expect_err("bad octet");
        assert!(error.contains("\"10.0.0.256\""), "{error}");
    }

    #[test]
    fn when_allowlisted_should_be_permitted_even_if_forbidden() {
        let allowlist = Allowlist::parse("127.0.0.0/8").expect("valid");
        assert!(permitted(ip("127.0.0.1"), &allowlist));
        assert!(!permitted(ip("::1"), &allowlist));
        assert!(!permitted(ip("10.0.0.1"), &allowlist));
        assert!(permitted(ip("8.8.8.8"), &Allowlist::default()));
        assert!(!permitted(ip("127.0.0.1"), &Allowlist::default()));
    }

    #[tokio::test]
    async fn when_name_resolves_only_to_forbidden_addresses_should_refuse() {
        let error = GuardedResolver::default().resolve_host("localhost").await.expect_err("refused");
        assert!(
            matches!(error.downcast_ref::<Refusal>(), Some(Refusal::Name { host, addresses }) if host == "localhost" && !addresses.is_empty()),
            "{error}"
        );
    }

    #[tokio::test]
    async fn when_allowlisted_should_keep_only_the_permitted_addresses() {
        let resolver = GuardedResolver::new(Allowlist::parse("127.0.0.0/8").expect("valid"));
        let addrs = resolver.resolve_host("localhost").await.expect("resolves");
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|addr| addr.ip().is_loopback() && addr.is_ipv4()), "{addrs:?}");
    }
}
