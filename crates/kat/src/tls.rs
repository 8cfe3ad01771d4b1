//! Built-in HTTPS (`kat serve --tls-cert FILE --tls-key FILE`): the certificate chain and
//! private key read from PEM files into a rustls server configuration (the ring
//! provider, TLS 1.2 and 1.3, HTTP/2 and HTTP/1.1 offered by ALPN). Every error names
//! the file it is about.

use anyhow::{Context, Result, anyhow, bail};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

/// The certificate chain (leaf first) in `cert`, the private key in `key`.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>> {
    let chain = read_chain(cert)?;
    let key_der = read_key(key)?;
    // The ring provider: it builds with the C compiler alone. rustls 0.23.48 deprecates it
    // for lacking post-quantum key exchange (X25519MLKEM768, aws-lc-rs only); the
    // classical suites it offers (TLS 1.3 and 1.2 ECDHE with AEAD) are the ones every
    // browser still speaks.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| {
            anyhow!("tls_key {} does not go with the certificate in tls_cert {}: {e}", key.display(), cert.display())
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let pem = std::fs::read(path).with_context(|| format!("tls_cert: cannot read {}", path.display()))?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("tls_cert: {} is not a PEM certificate chain: {e}", path.display()))?;
    if chain.is_empty() {
        bail!("tls_cert: {} holds no PEM certificate (a block beginning -----BEGIN CERTIFICATE-----)", path.display());
    }
    Ok(chain)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    let pem = std::fs::read(path).with_context(|| format!("tls_key: cannot read {}", path.display()))?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => anyhow!(
            "tls_key: {} holds no PEM private key (a block beginning -----BEGIN PRIVATE KEY-----, \
             -----BEGIN RSA PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----)",
            path.display()
        ),
        other => anyhow!("tls_key: {} is not a PEM private key: {other}", path.display()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_malformed_files_are_named() {
        let tmp = tempfile::tempdir().unwrap();
        let cert = tmp.path().join("cert.pem");
        let key = tmp.path().join("key.pem");
        let e = server_config(&cert, &key).unwrap_err();
        assert!(format!("{e:#}").contains(&format!("tls_cert: cannot read {}", cert.display())), "{e:#}");
        std::fs::write(&cert, "not a certificate\n").unwrap();
        let e = server_config(&cert, &key).unwrap_err();
        assert!(
            format!("{e:#}").contains("holds no PEM certificate") && format!("{e:#}").contains("cert.pem"),
            "{e:#}"
        );
        std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").unwrap();
        std::fs::write(&key, "nothing here").unwrap();
        let e = server_config(&cert, &key).unwrap_err();
        assert!(format!("{e:#}").contains("tls_key") && format!("{e:#}").contains("key.pem"), "{e:#}");
    }

    #[test]
    fn a_certificate_and_its_key_load_and_a_stranger_key_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let other = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let (cert, key, stranger) = (tmp.path().join("c.pem"), tmp.path().join("k.pem"), tmp.path().join("o.pem"));
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
        std::fs::write(&stranger, other.signing_key.serialize_pem()).unwrap();
        let config = server_config(&cert, &key).expect("a matching pair loads");
        assert_eq!(config.alpn_protocols, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
        let e = format!("{:#}", server_config(&cert, &stranger).unwrap_err());
        assert!(e.contains("o.pem") && e.contains("c.pem") && e.contains("does not go with"), "{e}");
    }
}
