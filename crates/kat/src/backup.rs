//! The files of `kat backup` and `kat restore`: encrypting a backup to age recipients
//! (the age format, X25519 `age1…` recipients), telling an encrypted backup from a plain
//! SQLite file, and decrypting one with an identity file. Every file written here is its
//! owner's alone (0600 on Unix). The database side (the copy, the checks) is in
//! `commands`.

use anyhow::{Context, Result, anyhow, bail};
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::Path;

/// The first bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
/// The first line of a binary age file.
const AGE_MAGIC: &[u8] = b"age-encryption.org/";
/// The first line of an ASCII-armored age file.
const AGE_ARMOR_MAGIC: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";

/// The recipients of `--encrypt-to`, parsed; a value that is not an age X25519 recipient
/// is named.
pub fn parse_recipients(values: &[String]) -> Result<Vec<age::x25519::Recipient>> {
    values
        .iter()
        .map(|v| {
            v.trim().parse::<age::x25519::Recipient>().map_err(|e| {
                anyhow!("--encrypt-to `{v}`: not an age X25519 recipient (age1…, as age-keygen prints): {e}")
            })
        })
        .collect()
}

/// Creates `path` for writing, new and readable by its owner only (0600 on Unix).
pub fn create_private_file(path: &Path) -> Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).with_context(|| format!("creating {}", path.display()))
}

/// Encrypts the file `plain` to `recipients` into the new file `to` (0600), synced to
/// disk. A partly written `to` is removed on failure.
pub fn encrypt_file(plain: &Path, to: &Path, recipients: &[age::x25519::Recipient]) -> Result<()> {
    let result = (|| -> Result<()> {
        let encryptor = age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .context("preparing the encryption")?;
        let out = create_private_file(to)?;
        let mut input = File::open(plain).with_context(|| format!("reading {}", plain.display()))?;
        let mut writer = encryptor.wrap_output(std::io::BufWriter::new(out))?;
        std::io::copy(&mut input, &mut writer)?;
        let out = writer.finish()?.into_inner().map_err(|e| e.into_error())?;
        out.sync_all()?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(to);
        return Err(e.context(format!("writing the encrypted backup {}", to.display())));
    }
    Ok(())
}

/// What a backup file is, judged by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupKind {
    /// A plain SQLite database (`kat backup` without `--encrypt-to`).
    Sqlite,
    /// An age-encrypted file (`--encrypt-to`).
    Age,
    /// An ASCII-armored age file (`age -a`).
    AgeArmored,
}

/// Reads the first bytes of `path` to tell what it holds; anything else is refused,
/// named.
pub fn kind_of(path: &Path) -> Result<BackupKind> {
    let mut head = [0u8; 64];
    let mut f = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut n = 0;
    while n < head.len() {
        let got = f.read(&mut head[n..]).with_context(|| format!("reading {}", path.display()))?;
        if got == 0 {
            break;
        }
        n += got;
    }
    let head = &head[..n];
    if head.starts_with(SQLITE_MAGIC) {
        Ok(BackupKind::Sqlite)
    } else if head.starts_with(AGE_MAGIC) {
        Ok(BackupKind::Age)
    } else if head.starts_with(AGE_ARMOR_MAGIC) {
        Ok(BackupKind::AgeArmored)
    } else {
        bail!("{} is neither a kat backup (a SQLite database) nor an age-encrypted file", path.display())
    }
}

/// Whether a file begins like a SQLite database.
pub fn is_sqlite(path: &Path) -> Result<bool> {
    Ok(matches!(kind_of(path), Ok(BackupKind::Sqlite)))
}

/// Decrypts the age file `from` with the identities in `identity` (an age identity file,
/// `AGE-SECRET-KEY-1…` lines as age-keygen writes) into the new file `to` (0600), synced.
/// A wrong identity, or a file altered or cut short, is refused naming the file.
pub fn decrypt_file(from: &Path, identity: &Path, to: &Path) -> Result<()> {
    let identities = age::IdentityFile::from_file(identity.display().to_string())
        .with_context(|| format!("--identity: cannot read {}", identity.display()))?
        .into_identities()
        .map_err(|e| anyhow!("--identity: {} holds no usable age identity: {e}", identity.display()))?;
    if identities.is_empty() {
        bail!("--identity: {} holds no age identity (AGE-SECRET-KEY-1…)", identity.display());
    }
    let input = BufReader::new(File::open(from).with_context(|| format!("reading {}", from.display()))?);
    let input = age::armor::ArmoredReader::new(input);
    let decryptor =
        age::Decryptor::new(input).map_err(|e| anyhow!("{} is not a readable age file: {e}", from.display()))?;
    if decryptor.is_scrypt() {
        bail!("{} is encrypted with a passphrase; kat restore takes an identity file (--identity)", from.display());
    }
    let mut reader =
        decryptor.decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity)).map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => anyhow!(
                "none of the identities in {} can decrypt {}: it was encrypted to other recipients",
                identity.display(),
                from.display()
            ),
            other => anyhow!("decrypting {}: {other}", from.display()),
        })?;
    let result = (|| -> Result<()> {
        let mut out = create_private_file(to)?;
        std::io::copy(&mut reader, &mut out).map_err(|e| {
            anyhow!("decrypting {}: {e} (the file was altered or cut short after it was written)", from.display())
        })?;
        out.flush()?;
        out.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(to);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::ExposeSecret;

    #[test]
    fn a_file_encrypted_to_a_recipient_decrypts_with_its_identity_only() {
        let tmp = tempfile::tempdir().unwrap();
        let plain = tmp.path().join("plain");
        std::fs::write(&plain, b"SQLite format 3\0and the rest").unwrap();
        let me = age::x25519::Identity::generate();
        let key = tmp.path().join("me.key");
        std::fs::write(&key, format!("{}\n", me.to_string().expose_secret())).unwrap();
        let recipients = parse_recipients(&[me.to_public().to_string()]).unwrap();
        let enc = tmp.path().join("backup.age");
        encrypt_file(&plain, &enc, &recipients).unwrap();
        assert_eq!(kind_of(&enc).unwrap(), BackupKind::Age);
        assert!(!std::fs::read(&enc).unwrap().windows(6).any(|w| w == b"SQLite"), "the content is not in clear");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&enc).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let out = tmp.path().join("out");
        decrypt_file(&enc, &key, &out).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&plain).unwrap());
        assert!(is_sqlite(&out).unwrap());

        let stranger = tmp.path().join("stranger.key");
        std::fs::write(&stranger, format!("{}\n", age::x25519::Identity::generate().to_string().expose_secret()))
            .unwrap();
        let e = format!("{:#}", decrypt_file(&enc, &stranger, &tmp.path().join("out2")).unwrap_err());
        assert!(e.contains("none of the identities in") && e.contains("stranger.key"), "{e}");
        assert!(!tmp.path().join("out2").exists());

        let e = format!("{:#}", parse_recipients(&["age1nope".into()]).unwrap_err());
        assert!(e.contains("--encrypt-to `age1nope`"), "{e}");
        std::fs::write(tmp.path().join("junk"), b"hello").unwrap();
        assert!(format!("{:#}", kind_of(&tmp.path().join("junk")).unwrap_err()).contains("neither"));
    }
}
