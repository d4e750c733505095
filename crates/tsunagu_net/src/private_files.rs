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
/// The write is atomic: a new file beside it (created fresh, so never
/// through a link someone left there), synced, then renamed over the old
/// one; a full disk leaves the old file whole.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, PrivateFileError> {
    let path = dir.join(name);
    if read(dir, name)?.is_some_and(|kept| kept == bytes) {
        return Ok(path);
    }
    // Unique to this write: two writers (threads or processes) never share one.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nth = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temporary = dir.join(format!(".{name}.new-{}-{nth}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&temporary, &path)) {
        let _ = std::fs::remove_file(&temporary);
        return Err(e.into());
    }
    // The rename itself is kept only once the directory is synced.
    if let Ok(dir_handle) = std::fs::File::open(dir) {
        let _ = dir_handle.sync_all();
    }
    check(dir, &path)?;
    Ok(path)
}

/// `path` must belong to whoever we are and be closed to group and others.
/// Who we are is read from the owner of `/proc/self` (no unsafe call to
/// getuid), so a read-only directory works; elsewhere from a file we create.
#[cfg(unix)]
fn check(dir: &Path, path: &Path) -> Result<(), PrivateFileError> {
    use std::os::unix::fs::MetadataExt;
    let me = our_uid(dir)?;
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() || meta.uid() != me {
        return Err(PrivateFileError::NotOurs(path.to_path_buf()));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(PrivateFileError::NotPrivate(path.to_path_buf()));
    }
    Ok(())
}

/// Who we are, without writing anything where `/proc` is (Linux): the owner
/// of `/proc/self`. Elsewhere, the owner of a file we create in `dir`.
#[cfg(unix)]
fn our_uid(dir: &Path) -> std::io::Result<u32> {
    use std::os::unix::fs::MetadataExt;
    if let Ok(proc_self) = std::fs::metadata("/proc/self") {
        return Ok(proc_self.uid());
    }
    let probe = tempfile_in(dir)?;
    let me = std::fs::metadata(&probe).map(|m| m.uid());
    let _ = std::fs::remove_file(&probe);
    me
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
#[allow(clippy::unwrap_used, reason = "a test that cannot unwrap has failed, and says where")]
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
    fn writes_replace_the_file_whole_and_never_follow_a_link() {
        let own = own_dir(&fresh("atomic")).unwrap();
        write(&own, "codes", b"first").unwrap();
        write(&own, "codes", b"second").unwrap();
        assert_eq!(read(&own, "codes").unwrap(), Some(b"second".to_vec()));
        let leftovers: Vec<_> =
            std::fs::read_dir(&own).unwrap().filter_map(Result::ok).filter(|e| e.file_name().to_string_lossy().contains(".new-")).collect();
        assert!(leftovers.is_empty(), "a temporary file was left behind");
        // A link planted where the file goes is replaced, not written through.
        let elsewhere = own.parent().unwrap().join("atomic-target");
        std::fs::write(&elsewhere, b"do not touch").unwrap();
        std::os::unix::fs::symlink(&elsewhere, own.join("invites")).unwrap();
        assert!(read(&own, "invites").is_err(), "a link was read as ours");
        let _ = std::fs::remove_file(own.join("invites"));
        write(&own, "invites", b"new").unwrap();
        assert_eq!(std::fs::read(&elsewhere).unwrap(), b"do not touch");
    }

    #[test]
    fn who_we_are_is_known_without_writing_anywhere() {
        // A directory nobody can write to (here: one that does not exist) is
        // no obstacle: a non-root server's read-only data directory works.
        assert!(our_uid(Path::new("/nonexistent/tsunagu-read-only")).is_ok());
    }

    #[test]
    fn a_read_only_directory_can_be_read() {
        let own = own_dir(&fresh("readonly")).unwrap();
        write(&own, "codes", b"kept").unwrap();
        std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o500)).unwrap();
        // As root the directory's mode does not bind; the read must not need a write either way.
        let read_back = read(&own, "codes");
        let same = write(&own, "codes", b"kept");
        std::fs::set_permissions(&own, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(read_back.unwrap(), Some(b"kept".to_vec()));
        assert!(same.is_ok(), "writing the same bytes into a read-only directory failed");
        let probes = std::fs::read_dir(&own).unwrap().filter_map(Result::ok).filter(|e| e.file_name().to_string_lossy().contains("probe")).count();
        assert_eq!(probes, 0);
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
