//! The server's identity: a self-signed certificate made once and kept
//! owner-only in the data directory, so invites (which pin its SHA-256) stay
//! valid across restarts.

use std::path::Path;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};

use super::QuicError;

/// SHA-256 of a DER certificate: what invites carry.
pub fn fingerprint(cert: &[u8]) -> [u8; 32] {
    Sha256::digest(cert).into()
}

/// The server's certificate and key, made once and kept in `data_dir` with
/// owner-only permissions, so invites stay valid across restarts.
pub fn load_or_create_identity(data_dir: &Path) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), QuicError> {
    let cert_path = data_dir.join("server-cert.der");
    let key_path = data_dir.join("server-key.der");
    if cert_path.is_file() && key_path.is_file() {
        let cert = std::fs::read(&cert_path)?;
        let key = std::fs::read(&key_path)?;
        return Ok((CertificateDer::from(cert), PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key))));
    }
    let made = rcgen::generate_simple_self_signed(vec!["tsunagu".to_owned()]).map_err(|e| QuicError::Certificate(e.to_string()))?;
    let cert = made.cert.der().to_vec();
    let key = made.signing_key.serialize_der();
    create_private_dir(data_dir)?;
    write_private(&key_path, &key)?;
    write_private(&cert_path, &cert)?;
    Ok((CertificateDer::from(cert), PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key))))
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

