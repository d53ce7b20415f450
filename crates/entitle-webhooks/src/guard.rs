//! Where webhooks may be sent. By default only public addresses: a URL naming (or resolving to)
//! loopback, private, link-local or otherwise internal addresses is refused, so an integration
//! cannot be used to reach the server's own network. Tests and private deployments allow them
//! explicitly.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TargetPolicy {
    pub allow_private: bool,
}

/// True for addresses a webhook must not reach unless private targets are allowed.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

impl TargetPolicy {
    /// Checks a URL before sending: http(s) only, and no literal internal address.
    pub fn check_url(&self, url: &str) -> Result<url::Url, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("invalid webhook URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("webhook URLs must use http or https".into());
        }
        if !self.allow_private {
            let literal = match parsed.host() {
                Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
                Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
                Some(url::Host::Domain(name)) if name.eq_ignore_ascii_case("localhost") => {
                    return Err("webhook target is an internal address".into());
                }
                Some(url::Host::Domain(_)) => None,
                None => return Err("webhook URL has no host".into()),
            };
            if literal.is_some_and(is_internal) {
                return Err("webhook target is an internal address".into());
            }
        }
        Ok(parsed)
    }

    /// A resolver for the HTTP client that drops internal addresses (for names that resolve
    /// to them), unless private targets are allowed.
    pub fn resolver(&self) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver {
            allow_private: self.allow_private,
        })
    }
}

pub struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| allow_private || !is_internal(addr.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!("{host} resolves to no address a webhook may reach").into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn urls() {
        let strict = TargetPolicy::default();
        assert!(strict.check_url("http://127.0.0.1:9000/hook").is_err());
        assert!(strict.check_url("http://localhost/hook").is_err());
        assert!(strict.check_url("http://[::1]/hook").is_err());
        assert!(strict.check_url("ftp://example.com/hook").is_err());
        assert!(strict.check_url("https://example.com/hook").is_ok());
        let open = TargetPolicy {
            allow_private: true,
        };
        assert!(open.check_url("http://127.0.0.1:9000/hook").is_ok());
    }
}
