//! Files only this user may read: the server's key and room codes. Kept in a
//! directory of Tsunagu's own inside the data directory a person names, so we
//! never change the permissions of a directory that is not ours, and refused
//! when someone else owns them or others may read them.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The subdirectory of a data directory that Tsunagu owns.
pub const OWN_DIR: &str = "tsunagu-private";

/// Why a private file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PrivateFileError {
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The file or directory belongs to another user.
    #[error("{0} belongs to another user; Tsunagu will not use it")]
    NotOurs(PathBuf),
    /// Group or others may read or write it.
    #[error("{0} can be read by other users; make it private (chmod 600) or remove it")]
    NotPrivate(PathBuf),
}

/// `data_dir/tsunagu-private`, created owner-only (0700) if missing, checked
/// to be ours and private if present. Returns its path.
pub fn own_dir(data_dir: &Path) -> Result<PathBuf, PrivateFileError> {
    let dir = data_dir.join(OWN_DIR);
    if !dir.exists() {
        std::fs::create_dir_all(data_dir)?;
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(&dir)?;
    }
    check(&dir, &dir)?;
    Ok(dir)
}

/// Read a private file of `dir` (from [`own_dir`]), if it exists.
pub fn read(dir: &Path, name: &str) -> Result<Option<Vec<u8>>, PrivateFileError> {
    let path = dir.join(name);
    if !path.exists() {
        return Ok(None);
    }
    check(dir, &path)?;
    Ok(Some(std::fs::read(&path)?))
}

/// Write a private file (0600) of `dir` (from [`own_dir`]). A file that
/// already holds exactly `bytes` is left untouched, so a server restarted
/// with nothing new to keep writes nothing (its directory may be read-only).
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, PrivateFileError> {
    let path = dir.join(name);
    if read(dir, name)?.is_some_and(|kept| kept == bytes) {
        return Ok(path);
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(&path)?.write_all(bytes)?;
    check(dir, &path)?;
    Ok(path)
}

/// `path` must belong to whoever we are and be closed to group and others.
/// Who we are is read from a file we create (no unsafe call to getuid).
#[cfg(unix)]
fn check(dir: &Path, path: &Path) -> Result<(), PrivateFileError> {
    use std::os::unix::fs::MetadataExt;
    let probe = tempfile_in(dir)?;
    let me = std::fs::metadata(&probe).map(|m| m.uid());
    let _ = std::fs::remove_file(&probe);
    let meta = std::fs::metadata(path)?;
    if meta.uid() != me? {
        return Err(PrivateFileError::NotOurs(path.to_path_buf()));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(PrivateFileError::NotPrivate(path.to_path_buf()));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check(_dir: &Path, _path: &Path) -> Result<(), PrivateFileError> {
    Ok(())
}

#[cfg(unix)]
fn tempfile_in(dir: &Path) -> std::io::Result<PathBuf> {
    let path = dir.join(format!(".owner-probe-{}", std::process::id()));
    std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(&path)?;
    Ok(path)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn fresh(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tsunagu-private-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn the_given_directory_is_left_alone_and_ours_is_private() {
        let data = fresh("own");
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        let own = own_dir(&data).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o755, "the directory a person named was changed");
        assert_eq!(mode(&own), 0o700);
        let file = write(&own, "secret", b"x").unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(read(&own, "secret").unwrap(), Some(b"x".to_vec()));
        assert_eq!(read(&own, "missing").unwrap(), None);
    }

    #[test]
    fn a_file_others_can_read_is_refused() {
        let own = own_dir(&fresh("loose")).unwrap();
        let file = write(&own, "key", b"k").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(read(&own, "key"), Err(PrivateFileError::NotPrivate(_))));
        std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(matches!(own_dir(own.parent().unwrap()), Err(PrivateFileError::NotPrivate(_))));
    }

    #[test]
    fn the_same_bytes_are_not_written_again() {
        let own = own_dir(&fresh("same")).unwrap();
        let file = write(&own, "codes", b"abc").unwrap();
        let long_ago = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        std::fs::File::options().write(true).open(&file).unwrap().set_modified(long_ago).unwrap();
        write(&own, "codes", b"abc").unwrap();
        assert_eq!(std::fs::metadata(&file).unwrap().modified().unwrap(), long_ago, "unchanged bytes were written again");
        write(&own, "codes", b"abd").unwrap();
        assert_ne!(std::fs::metadata(&file).unwrap().modified().unwrap(), long_ago);
        assert_eq!(read(&own, "codes").unwrap(), Some(b"abd".to_vec()));
    }
}
