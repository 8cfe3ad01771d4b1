//! The restore drill (issue 12 item 7), with the real binary: a seeded clinic is backed
//! up encrypted to a freshly generated age identity and restored into a fresh place,
//! where the patients and the audit log's head are the clinic's. Then what must be
//! refused is: a backup whose audit entry was altered, a damaged file, an encrypted
//! backup altered in transit, the wrong identity, and a restore over an existing
//! database without --force.

use age::secrecy::ExposeSecret;
use kat::storage::{self, Create, Location};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const KAT: &str = env!("CARGO_BIN_EXE_kat");

fn kat(args: &[&str], paths: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(KAT);
    cmd.args(args);
    for (flag, path) in paths {
        cmd.arg(flag).arg(path);
    }
    cmd.env_remove("KAT_DATABASE_URL").env_remove("KAT_DATA_DIR").output().expect("run kat")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Patients and the audit chain's head as the store keeps them (read directly: `kat
/// audit head` is itself audited, so it would move the head).
fn patients_and_head(db: &Path) -> (i64, (i64, String)) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = storage::open(&Location::Sqlite(db.to_path_buf()), Create::Never).await.expect("open");
        let mut tx = store.begin_read().await.unwrap();
        let patients = tx.count_patients().await.unwrap();
        let head = tx.audit_chain_head().await.unwrap().expect("a chained log");
        tx.commit().await.unwrap();
        store.close().await;
        (patients, head)
    })
}

/// A new age identity in a key file as age-keygen writes it; its recipient.
fn new_identity(path: &Path) -> String {
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    std::fs::write(path, format!("# public key: {recipient}\n{}\n", identity.to_string().expose_secret())).unwrap();
    recipient
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn restore_drill() {
    let tmp = tempfile::tempdir().unwrap();
    let clinic = tmp.path().join("clinic");
    let db = clinic.join("kat.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = storage::open(&Location::Sqlite(db.clone()), Create::WhenSafe { init: true }).await.unwrap();
        kat::demo::seed(store.as_ref(), jiff::Timestamp::now(), &jiff::tz::TimeZone::UTC).await.expect("seed");
        store.close().await;
    });
    let (patients, head) = patients_and_head(&db);
    assert!(patients >= 5, "a seeded clinic: {patients}");

    // Backed up encrypted to a fresh identity: 0600, and no clinic data in clear.
    let key = tmp.path().join("backup.key");
    let recipient = new_identity(&key);
    let second_key = tmp.path().join("offsite.key");
    let second = new_identity(&second_key);
    let enc = tmp.path().join("clinic.kat.age");
    let out = kat(
        &["backup", "--encrypt-to", &recipient, "--encrypt-to", &second],
        &[("--to", &enc), ("--data-dir", &clinic)],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("encrypted backup written"), "{}", text(&out));
    let sealed = std::fs::read(&enc).unwrap();
    assert!(sealed.starts_with(b"age-encryption.org/v1\n"));
    assert!(!sealed.windows(15).any(|w| w == b"SQLite format 3"), "the database is not in clear");
    #[cfg(unix)]
    assert_eq!(mode(&enc), 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(&clinic).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(!leftovers.iter().any(|n| n.to_string_lossy().starts_with(".kat-backup-")), "{leftovers:?}");

    // Restored into a fresh place: the same patients, the log ends at the clinic's head.
    let fresh = tmp.path().join("restored");
    let out = kat(&["restore"], &[("--from", &enc), ("--identity", &key), ("--data-dir", &fresh)]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("integrity ok") && said.contains(&format!("{patients} patients")), "{said}");
    assert!(said.contains(&format!("head: entry {}, {}", head.0, head.1)), "the backup's head {head:?}: {said}");
    let restored = fresh.join("kat.db");
    let (restored_patients, restored_head) = patients_and_head(&restored);
    assert_eq!(restored_patients, patients);
    assert!(restored_head.0 > head.0, "the restore's own check and record follow the clinic's entries");
    #[cfg(unix)]
    {
        assert_eq!(mode(&fresh), 0o700);
        assert_eq!(mode(&restored), 0o600);
    }
    let out = kat(&["audit", "verify"], &[("--data-dir", &fresh)]);
    assert!(out.status.success(), "{}", text(&out));
    // Either recipient's identity decrypts it.
    let out =
        kat(&["restore"], &[("--from", &enc), ("--identity", &second_key), ("--data-dir", &tmp.path().join("r2"))]);
    assert!(out.status.success(), "{}", text(&out));

    // Over an existing database: refused, naming it, unless --force.
    let out = kat(&["restore"], &[("--from", &enc), ("--identity", &key), ("--data-dir", &fresh)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains(&format!("{} already exists", restored.display())), "{}", text(&out));
    let out = kat(&["restore", "--force"], &[("--from", &enc), ("--identity", &key), ("--data-dir", &fresh)]);
    assert!(out.status.success(), "{}", text(&out));

    // The wrong identity, and none at all.
    let stranger = tmp.path().join("stranger.key");
    new_identity(&stranger);
    let out = kat(&["restore"], &[("--from", &enc), ("--identity", &stranger), ("--data-dir", &tmp.path().join("x"))]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("none of the identities in") && text(&out).contains("stranger.key"), "{}", text(&out));
    let out = kat(&["restore"], &[("--from", &enc), ("--data-dir", &tmp.path().join("x"))]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("--identity"), "{}", text(&out));
    assert!(!tmp.path().join("x").join("kat.db").exists(), "nothing restored");

    // An encrypted backup altered after it was written.
    let altered = tmp.path().join("altered.age");
    let mut bytes = sealed.clone();
    let at = bytes.len() - 100;
    bytes[at] ^= 0x01;
    std::fs::write(&altered, &bytes).unwrap();
    let out = kat(&["restore"], &[("--from", &altered), ("--identity", &key), ("--data-dir", &tmp.path().join("y"))]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("decrypting") && text(&out).contains("altered.age"), "{}", text(&out));
    assert!(!tmp.path().join("y").join("kat.db").exists());

    // A plain backup whose newest audit entry was edited in the file (past the
    // append-only triggers): the chain walk names the entry.
    let plain = tmp.path().join("plain.db");
    let out = kat(&["backup"], &[("--to", &plain), ("--data-dir", &clinic)]);
    assert!(out.status.success(), "{}", text(&out));
    let (_, plain_head) = patients_and_head(&plain);
    let tampered = tmp.path().join("tampered.db");
    let mut bytes = std::fs::read(&plain).unwrap();
    let hash = plain_head.1.as_bytes();
    let mut flipped = 0;
    for i in 0..bytes.len() - hash.len() {
        if &bytes[i..i + hash.len()] == hash {
            bytes[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
            flipped += 1;
        }
    }
    assert!(flipped >= 1, "the head's hash is in the file");
    std::fs::write(&tampered, &bytes).unwrap();
    let out = kat(&["restore"], &[("--from", &tampered), ("--data-dir", &tmp.path().join("z"))]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("audit log broken") && said.contains(&format!("entry {}", plain_head.0)), "{said}");
    assert!(!tmp.path().join("z").join("kat.db").exists());
    let staged: Vec<_> = std::fs::read_dir(tmp.path().join("z")).unwrap().collect();
    assert!(staged.is_empty(), "the refused copy is removed: {staged:?}");

    // A damaged file: SQLite's integrity check finds it.
    let damaged = damage_an_index_entry(&plain, tmp.path());
    let out = kat(&["restore"], &[("--from", &damaged), ("--data-dir", &tmp.path().join("w"))]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("damaged.db is damaged: SQLite's integrity check found"), "{said}");
    assert!(said.contains("patients_name_key_idx"), "the index is named: {said}");
    assert!(!tmp.path().join("w").join("kat.db").exists());

    // Not a backup at all.
    let junk = tmp.path().join("notes.txt");
    std::fs::write(&junk, "shopping list").unwrap();
    let out = kat(&["restore"], &[("--from", &junk), ("--data-dir", &tmp.path().join("v"))]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("neither a kat backup"), "{}", text(&out));
}

/// A copy of the database `plain` in which one entry of the patients' name-key index
/// no longer says what its row says (a rotten sector): every table still reads, only
/// SQLite's integrity check sees it.
fn damage_an_index_entry(plain: &Path, dir: &Path) -> PathBuf {
    let mut bytes = std::fs::read(plain).unwrap();
    let page_size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65536,
        n => n as usize,
    };
    // A b-tree page's type is its first byte (after the 100-byte file header on page 1);
    // 0x0a is an index leaf.
    let page_type = |at: usize| {
        let page = at / page_size;
        bytes[page * page_size + if page == 0 { 100 } else { 0 }]
    };
    let name = b"marchetti"; // a demo patient's family-name key
    let at = (0..bytes.len() - name.len())
        .find(|&i| &bytes[i..i + name.len()] == name && page_type(i) == 0x0a)
        .expect("the family name in an index page");
    bytes[at] = b'n';
    let damaged = dir.join("damaged.db");
    std::fs::write(&damaged, &bytes).unwrap();
    damaged
}
