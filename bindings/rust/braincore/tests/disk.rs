//! On-disk brains: reopen, read-only, durability calls, backups.

mod common;

use braincore::{sys, Brain, ErrorKind, Options, RememberOptions, SyncMode};
use common::TempDir;

#[test]
fn a_reopened_brain_keeps_its_memories() {
    let dir = TempDir::new("reopen");
    let path = dir.join("brain");
    let (a, b) = {
        let brain = Brain::open(&path, &Options::new()).unwrap();
        let a = brain
            .remember_with(
                "Lisbon is the capital of Portugal",
                &RememberOptions { metadata: Some(r#"{"kind":"geo"}"#), ..Default::default() },
            )
            .unwrap();
        let b = brain.upsert("fav", "My favourite colour is green", &RememberOptions::default()).unwrap();
        brain.relate(a, b, "mentions", 0.5).unwrap();
        let s = brain.stats().unwrap();
        assert!(s.on_disk && !s.read_only);
        assert_eq!(s.sync, Some(SyncMode::Full));
        brain.close().unwrap();
        (a, b)
    };
    let brain = Brain::open(&path, &Options::new().create(false)).unwrap();
    assert_eq!(brain.count(), 2);
    assert_eq!(brain.get(a).unwrap().text, "Lisbon is the capital of Portugal");
    assert_eq!(brain.get_metadata(a).unwrap(), r#"{"kind":"geo"}"#);
    assert_eq!(brain.key_id("fav").unwrap(), b);
    assert_eq!(brain.recall("capital of Portugal", 1).unwrap()[0].id, a);
    assert_eq!(brain.neighbors(a, None, braincore::Direction::Out).unwrap()[0].to, b);
    // A new memory after reopening gets the next id.
    assert_eq!(brain.remember("a third memory", 0.5).unwrap(), b + 1);
}

#[test]
fn drop_closes_and_keeps_changes_and_checkpoint_sync_work() {
    let dir = TempDir::new("drop");
    let path = dir.join("b");
    {
        let brain = Brain::open(&path, &Options::new().sync(SyncMode::Off)).unwrap();
        for i in 0..20 {
            brain.remember(&format!("memory {i} for the checkpoint"), 0.5).unwrap();
        }
        let before = brain.stats().unwrap();
        brain.sync().unwrap();
        assert_eq!(brain.stats().unwrap().durable_lsn, before.last_lsn, "sync made every change durable");
        brain.checkpoint().unwrap();
        let after = brain.stats().unwrap();
        assert_eq!(after.checkpoints, before.checkpoints + 1);
        assert_eq!(after.checkpoint_lsn, after.last_lsn);
        assert!(after.generation > before.generation);
        brain.tick().unwrap();
    } // dropped, not closed
    let brain = Brain::open(&path, &Options::new()).unwrap();
    assert_eq!(brain.count(), 20);
}

#[test]
fn read_only_busy_missing_and_mismatch() {
    let dir = TempDir::new("modes");
    let path = dir.join("b");
    let writer = Brain::open(&path, &Options::new().dimensions(64)).unwrap();
    writer.remember("written before the readers came", 0.5).unwrap();
    let e = Brain::open(&path, &Options::new().dimensions(64)).unwrap_err();
    assert_eq!((e.code, e.kind), (sys::BRAIN_EBUSY, ErrorKind::State), "{e}");
    writer.close().unwrap();

    let reader = Brain::open(&path, &Options::new().dimensions(64).read_only(true)).unwrap();
    assert!(reader.stats().unwrap().read_only);
    assert_eq!(reader.count(), 1);
    assert_eq!(reader.recall("readers", 1).unwrap().len(), 1);
    let e = reader.remember("refused", 0.5).unwrap_err();
    assert_eq!((e.code, e.kind, e.name), (sys::BRAIN_EREADONLY, ErrorKind::State, "BRAIN_EREADONLY"));
    drop(reader);

    let e = Brain::open(&path, &Options::new().dimensions(32)).unwrap_err();
    assert_eq!((e.code, e.kind), (sys::BRAIN_EMISMATCH, ErrorKind::Storage));
    assert!(e.message.contains("64") && e.message.contains("32"), "names both values: {}", e.message);

    let e = Brain::open(dir.join("missing"), &Options::new().create(false)).unwrap_err();
    assert_eq!((e.code, e.kind), (sys::BRAIN_ENOTFOUND, ErrorKind::NotFound));
    assert!(!dir.join("missing").exists());
}

#[test]
fn backup_makes_a_brain_that_opens() {
    let dir = TempDir::new("backup");
    let brain = Brain::new().unwrap();
    let ids = brain.remember_many(&["alpha one", "beta two", "gamma three"]).unwrap();
    brain.backup(dir.join("copy")).unwrap();
    let e = brain.backup(dir.join("copy")).unwrap_err();
    assert_eq!(e.code, sys::BRAIN_EEXISTS);
    let copy = Brain::open(dir.join("copy"), &Options::new().create(false)).unwrap();
    assert_eq!(copy.count(), 3);
    assert_eq!(copy.get(ids[1]).unwrap().text, "beta two");
}

#[test]
fn load_from_a_snapshot_into_a_directory() {
    let dir = TempDir::new("load");
    let brain = Brain::new().unwrap();
    brain.remember("snapshotted memory", 0.5).unwrap();
    let mut buf = Vec::new();
    brain.save_to(&mut buf).unwrap();
    let path = dir.join("loaded");
    drop(Brain::load_from(&mut buf.as_slice(), Some(&path), &Options::new()).unwrap());
    let again = Brain::open(&path, &Options::new()).unwrap();
    assert_eq!(again.recall("snapshotted", 1).unwrap()[0].text, "snapshotted memory");
    drop(again);
    let e = Brain::load_from(&mut buf.as_slice(), Some(&path), &Options::new()).unwrap_err();
    assert_eq!((e.code, e.kind), (sys::BRAIN_EEXISTS, ErrorKind::Exists), "{e}");
}
