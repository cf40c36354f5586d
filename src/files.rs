//! Files ecsmon writes — the audit log, its own log, saved log panes, incident exports — hold
//! the account, the principal, application log lines and the operator's actions. So every one
//! of them is created here: readable by its owner only (`0600`, directories we create `0700`),
//! never opened through a symbolic link (`O_NOFOLLOW`: a link planted where a file is expected
//! cannot redirect the write), and a new file never replaces an existing one.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode of every file ecsmon creates.
pub const FILE_MODE: u32 = 0o600;
/// Mode of every directory ecsmon creates (those that exist are left alone).
pub const DIR_MODE: u32 = 0o700;
/// Saving under a taken name tries `name-2.ext` … up to this suffix, then gives up.
const MAX_SUFFIX: u32 = 1000;

/// Creates `dir` and its missing parents, each `0700`. Directories that exist keep their mode.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

/// The parent directory of `path` (when it names one), created as [`create_dir`] does.
pub fn create_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) => create_dir(dir),
        None => Ok(()),
    }
}

/// How a file that is appended to is opened: created `0600` when missing, never through a link.
/// Also what the rotating log writer opens each new file with.
pub fn append_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options
        .create(true)
        .append(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    options
}

/// Opens `path` for appending (the audit log, ecsmon's own log), creating it and its directory.
/// A file that exists with wider permissions (from an older ecsmon, or created by hand) is
/// narrowed to `0600`.
pub fn open_append(path: &Path) -> io::Result<File> {
    create_parent(path)?;
    let file = append_options()
        .open(path)
        .map_err(|e| link_error(path, e))?;
    narrow(&file)?;
    Ok(file)
}

/// ecsmon's own log is cut past this size…
pub const LOG_LIMIT: usize = 10 * 1024 * 1024;
/// …and this many cut ones are kept (`ecsmon.log.1` the newer, `ecsmon.log.2` the older).
pub const LOG_KEPT: usize = 2;

/// ecsmon's own log at `path`: appended to, private like [`open_append`], and rotated once it
/// passes [`LOG_LIMIT`] (whole lines: a record is never split), so a long session cannot fill
/// the disk.
pub fn rotating_log(
    path: &Path,
) -> io::Result<file_rotate::FileRotate<file_rotate::suffix::AppendCount>> {
    rotating(path, LOG_LIMIT)
}

fn rotating(
    path: &Path,
    limit: usize,
) -> io::Result<file_rotate::FileRotate<file_rotate::suffix::AppendCount>> {
    // Opened once here so that a link, a missing permission or a directory in the way is an
    // error now, not log lines silently lost later.
    drop(open_append(path)?);
    Ok(file_rotate::FileRotate::new(
        path,
        file_rotate::suffix::AppendCount::new(LOG_KEPT),
        file_rotate::ContentLimit::BytesSurpassed(limit),
        file_rotate::compression::Compression::None,
        Some(append_options()),
    ))
}

/// Writes `contents` to a new file at `path` or, when that name is taken, at the first free
/// `stem-2.ext`, `stem-3.ext`…; returns where it went. Never overwrites, never follows a link.
pub fn write_new(path: &Path, contents: &[u8]) -> io::Result<PathBuf> {
    create_parent(path)?;
    for n in 1..=MAX_SUFFIX {
        let candidate = if n == 1 {
            path.to_path_buf()
        } else {
            numbered(path, n)
        };
        match create_new(&candidate) {
            Ok(mut file) => {
                file.write_all(contents)?;
                return Ok(candidate);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!(
            "{} and {MAX_SUFFIX} numbered names after it exist",
            path.display()
        ),
    ))
}

/// A new `0600` file; fails with `AlreadyExists` when anything — a file, a link, even a
/// dangling one — has the name (`O_CREAT | O_EXCL` never follows a link).
fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// `dir/stem-n.ext` for `dir/stem.ext`.
fn numbered(path: &Path, n: u32) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    path.with_file_name(name)
}

/// Narrows an existing file to `0600` when it is readable or writable by others.
fn narrow(file: &File) -> io::Result<()> {
    let mode = file.metadata()?.permissions().mode();
    if mode & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
    }
    Ok(())
}

/// `O_NOFOLLOW` on a link fails with `ELOOP`, whose text ("too many levels of symbolic
/// links") does not say what happened: say it.
fn link_error(path: &Path, e: io::Error) -> io::Error {
    if e.raw_os_error() == Some(libc::ELOOP) {
        io::Error::other(format!(
            "{} is a symbolic link: ecsmon does not write through one",
            path.display()
        ))
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path).unwrap().mode() & 0o777
    }

    #[test]
    fn new_files_are_private_and_never_replace_one_that_exists() {
        let dir = crate::config::tests::temp_dir("files-new").join("a/b");
        let path = dir.join("saved.log");
        assert_eq!(write_new(&path, b"one").unwrap(), path);
        assert_eq!(mode(&path), FILE_MODE);
        assert_eq!(mode(&dir), DIR_MODE, "created directories are 0700");
        assert_eq!(mode(dir.parent().unwrap()), DIR_MODE);
        // The name is taken: a numbered one, the first file untouched.
        assert_eq!(write_new(&path, b"two").unwrap(), dir.join("saved-2.log"));
        assert_eq!(write_new(&path, b"three").unwrap(), dir.join("saved-3.log"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one");
        assert_eq!(
            std::fs::read_to_string(dir.join("saved-2.log")).unwrap(),
            "two"
        );
        let bare = dir.join("noext");
        write_new(&bare, b"x").unwrap();
        assert_eq!(write_new(&bare, b"y").unwrap(), dir.join("noext-2"));
    }

    #[test]
    fn a_link_where_a_file_is_saved_is_never_followed() {
        let dir = crate::config::tests::temp_dir("files-link");
        let target = dir.join("victim");
        std::fs::write(&target, "precious").unwrap();
        let link = dir.join("export.md");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        // Saving takes another name; the link's target is untouched.
        assert_eq!(
            write_new(&link, b"snapshot").unwrap(),
            dir.join("export-2.md")
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        // A dangling link is a taken name too: nothing is created at its target.
        let dangling = dir.join("dangling.log");
        std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).unwrap();
        assert_eq!(
            write_new(&dangling, b"x").unwrap(),
            dir.join("dangling-2.log")
        );
        assert!(!dir.join("nowhere").exists());
        // Appending through a link is refused, and says why.
        let err = open_append(&link).unwrap_err();
        assert!(err.to_string().contains("is a symbolic link"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
    }

    #[test]
    fn the_log_is_cut_past_its_limit_and_two_old_ones_are_kept_private() {
        let dir = crate::config::tests::temp_dir("files-rotate");
        let path = dir.join("logs/ecsmon.log");
        let mut log = rotating(&path, 100).unwrap();
        for i in 0..10 {
            // 60 bytes a record, one write each as the log's writer thread makes them.
            log.write_all(format!("{i:059}\n").as_bytes()).unwrap();
        }
        log.flush().unwrap();
        let names = |n: &str| dir.join("logs").join(n);
        let mut files: Vec<String> = std::fs::read_dir(dir.join("logs"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(files, ["ecsmon.log", "ecsmon.log.1", "ecsmon.log.2"]);
        for name in &files {
            assert_eq!(mode(&names(name)), FILE_MODE, "{name}");
            let text = std::fs::read_to_string(names(name)).unwrap();
            assert!(text.len() <= 100 + 60, "{name} holds {} bytes", text.len());
            assert!(text.lines().all(|l| l.len() == 59), "whole records: {text}");
        }
        // The newest records are in the live file, the oldest went.
        let live = std::fs::read_to_string(&path).unwrap();
        assert!(live.ends_with(&format!("{:059}\n", 9)), "{live}");
        let all: String = files
            .iter()
            .map(|n| std::fs::read_to_string(names(n)).unwrap())
            .collect();
        assert!(
            !all.contains(&format!("{:059}", 0)),
            "the oldest records are dropped"
        );
    }

    #[test]
    fn the_log_is_never_written_through_a_link() {
        let dir = crate::config::tests::temp_dir("files-log-link");
        let target = dir.join("victim");
        std::fs::write(&target, "precious").unwrap();
        let link = dir.join("ecsmon.log");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = rotating_log(&link).err().expect("refused");
        assert!(err.to_string().contains("is a symbolic link"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
    }

    #[test]
    fn appended_files_are_created_private_and_narrowed_when_wider() {
        let dir = crate::config::tests::temp_dir("files-append");
        let path = dir.join("state/audit.jsonl");
        open_append(&path).unwrap().write_all(b"a\n").unwrap();
        assert_eq!(mode(&path), FILE_MODE);
        assert_eq!(mode(&dir.join("state")), DIR_MODE);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        open_append(&path).unwrap().write_all(b"b\n").unwrap();
        assert_eq!(mode(&path), FILE_MODE);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a\nb\n");
    }
}
