//! The server's identity: a self-signed certificate made once and kept
//! owner-only in the data directory, so invites (which pin its SHA-256) stay
//! valid across restarts.

use std::path::Path;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};

use super::QuicError;
use crate::private_files;

/// SHA-256 of a DER certificate: what invites carry.
pub fn fingerprint(cert: &[u8]) -> [u8; 32] {
    Sha256::digest(cert).into()
}

/// The server's certificate and key, made once and kept owner-only in
/// Tsunagu's own subdirectory of `data_dir`, so invites stay valid across
/// restarts. A key someone else owns, or others can read, is refused.
pub fn load_or_create_identity(data_dir: &Path) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), QuicError> {
    let dir = private_files::own_dir(data_dir)?;
    // Earlier versions kept the pair in `data_dir` itself: move it in, so
    // invites already sent stay valid (if it is still private to us).
    for name in [CERT_FILE, KEY_FILE] {
        if let Some(bytes) = private_files::read(data_dir, name)? {
            private_files::write(&dir, name, &bytes)?;
            std::fs::remove_file(data_dir.join(name))?;
        }
    }
    if let (Some(cert), Some(key)) = (private_files::read(&dir, CERT_FILE)?, private_files::read(&dir, KEY_FILE)?) {
        return Ok((CertificateDer::from(cert), PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key))));
    }
    let made = rcgen::generate_simple_self_signed(vec!["tsunagu".to_owned()]).map_err(|e| QuicError::Certificate(e.to_string()))?;
    let cert = made.cert.der().to_vec();
    let key = made.signing_key.serialize_der();
    private_files::write(&dir, KEY_FILE, &key)?;
    private_files::write(&dir, CERT_FILE, &cert)?;
    Ok((CertificateDer::from(cert), PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key))))
}

const CERT_FILE: &str = "server-cert.der";
const KEY_FILE: &str = "server-key.der";
