//! Error kinds, codes, names and messages.

mod common;

use braincore::sys;
use braincore::{Brain, Embedder, Error, ErrorKind, Metric, Options, RecallOptions, RememberOptions, UpdateOptions};

fn assert_err(e: Error, code: i32, kind: ErrorKind, name: &str) {
    assert_eq!((e.code, e.kind, e.name), (code, kind, name), "{e}");
    assert!(!e.message.is_empty(), "{name} without a message");
}

fn vectors(dims: u32, metric: Metric) -> Brain {
    Brain::in_memory(&Options::new().dimensions(dims).metric(metric).embedder(Embedder::None)).unwrap()
}

#[test]
fn wrong_vector_length_is_a_vector_error_before_c() {
    let b = vectors(4, Metric::L2);
    let e = b.add(1, &[1.0, 2.0, 3.0]).unwrap_err();
    assert_err(e.clone(), sys::BRAIN_EDIM, ErrorKind::Vector, "BRAIN_EDIM");
    assert!(e.message.contains("3 components") && e.message.contains("4 dimensions"), "{}", e.message);
    assert_eq!(b.search(&[1.0; 5], 1).unwrap_err().code, sys::BRAIN_EDIM);
    assert_eq!(b.add_many(&[1, 2], &[1.0; 7]).unwrap_err().code, sys::BRAIN_EDIM);
    assert_eq!(b.add_many(&[1, 2, 3], &[1.0; 8]).unwrap_err().kind, ErrorKind::InvalidArgument);
    let t = Brain::new().unwrap();
    let e = t.remember_with("text", &RememberOptions { vector: Some(&[1.0; 3]), ..Default::default() }).unwrap_err();
    assert_eq!(e.code, sys::BRAIN_EDIM);
    assert_eq!(b.count() + t.count(), 0);
}

#[test]
fn nan_infinity_and_zero_vectors() {
    let b = vectors(3, Metric::L2);
    let e = b.add(1, &[1.0, f32::NAN, 0.0]).unwrap_err();
    assert_err(e.clone(), sys::BRAIN_ENONFINITE, ErrorKind::Vector, "BRAIN_ENONFINITE");
    assert!(e.message.contains('1'), "names the component: {}", e.message);
    assert_eq!(b.search(&[f32::INFINITY, 0.0, 0.0], 1).unwrap_err().code, sys::BRAIN_ENONFINITE);
    let c = vectors(3, Metric::Cosine);
    assert_err(c.add(1, &[0.0; 3]).unwrap_err(), sys::BRAIN_EZEROVEC, ErrorKind::Vector, "BRAIN_EZEROVEC");
}

#[test]
fn invalid_utf8_bytes_reach_c_and_get_eutf8() {
    let b = Brain::new().unwrap();
    let e = b.remember_bytes(b"caf\xc3 au lait", 0.5).unwrap_err();
    assert_err(e.clone(), sys::BRAIN_EUTF8, ErrorKind::Text, "BRAIN_EUTF8");
    assert!(e.message.contains('3'), "the offset of the bad byte: {}", e.message);
    // An embedded NUL is invalid text too, never an end where the text is cut.
    assert_eq!(b.remember_bytes(b"before\0after", 0.5).unwrap_err().code, sys::BRAIN_EUTF8);
    assert_eq!(b.remember("before\0after", 0.5).unwrap_err().code, sys::BRAIN_EUTF8);
    // Queries and keys go NUL-terminated: the binding refuses a NUL the same way.
    assert_eq!(b.recall("a\0b", 1).unwrap_err().code, sys::BRAIN_EUTF8);
    assert_eq!(b.key_id("k\0").unwrap_err().code, sys::BRAIN_EUTF8);
    assert_eq!(b.remember_many(&["fine text", "bad\0text"]).unwrap_err().code, sys::BRAIN_EUTF8);
    assert_eq!(b.count(), 0);
    assert_err(b.remember_bytes(b"", 0.5).unwrap_err(), sys::BRAIN_EEMPTY, ErrorKind::Text, "BRAIN_EEMPTY");
}

#[test]
fn bad_json_is_a_metadata_error() {
    let b = Brain::new().unwrap();
    let opts = RememberOptions { metadata: Some(r#"{"kind": "note""#), ..Default::default() };
    let e = b.remember_with("text with broken metadata", &opts).unwrap_err();
    assert_err(e, sys::BRAIN_EJSON, ErrorKind::Metadata, "BRAIN_EJSON");
    let id = b.remember("a memory", 0.5).unwrap();
    assert_eq!(b.set_metadata(id, Some("[1,2]")).unwrap_err().code, sys::BRAIN_EJSON);
    assert_eq!(b.patch_metadata(id, "{\"a\":{\"nested\":1}}").unwrap_err().code, sys::BRAIN_EJSON);
    assert_eq!(b.set_metadata(id, Some("{\"a\":\"x\0\"}")).unwrap_err().code, sys::BRAIN_EJSON);
    b.set_metadata(id, Some(r#"{"n":1}"#)).unwrap();
    let other = RememberOptions { metadata: Some(r#"{"n":"one"}"#), ..Default::default() };
    let e = b.remember_with("another memory", &other).unwrap_err();
    assert_err(e, sys::BRAIN_ETYPE, ErrorKind::Metadata, "BRAIN_ETYPE");
    assert_eq!(b.count(), 1);
}

#[test]
fn bad_filter_is_a_metadata_error_with_the_position() {
    let b = Brain::new().unwrap();
    b.remember_with("x y", &RememberOptions { metadata: Some(r#"{"n":1}"#), ..Default::default() }).unwrap();
    let bad = RecallOptions { filter: Some("n >= "), ..Default::default() };
    let e = b.recall_with("x", &bad).unwrap_err();
    assert_err(e.clone(), sys::BRAIN_EFILTER, ErrorKind::Metadata, "BRAIN_EFILTER");
    assert!(e.message.contains("at byte"), "{}", e.message);
    assert_eq!(b.count_where("n = = 1").unwrap_err().code, sys::BRAIN_EFILTER);
    assert_eq!(b.forget_where("(n = 1").unwrap_err().code, sys::BRAIN_EFILTER);
    assert_eq!(b.count_where(r#"n CONTAINS "x""#).unwrap_err().code, sys::BRAIN_EFILTER, "type error at run time");
    assert_eq!(b.list(Some("n = 1\0"), None, 5).unwrap_err().code, sys::BRAIN_EFILTER, "a NUL is a syntax error");
}

#[test]
fn unknown_param_name_number_and_bad_value() {
    let b = Brain::new().unwrap();
    let e = b.set_param("hnsw_eff_search", 10).unwrap_err();
    assert_err(e.clone(), sys::BRAIN_EPARAM, ErrorKind::InvalidArgument, "BRAIN_EPARAM");
    assert!(e.message.contains("hnsw_eff_search"), "{}", e.message);
    assert_eq!(b.get_param("").unwrap_err().code, sys::BRAIN_EPARAM);
    assert_err(b.get_param(9999).unwrap_err(), sys::BRAIN_EPARAM, ErrorKind::InvalidArgument, "BRAIN_EPARAM");
    let e = b.set_param("think_max_memories", 65).unwrap_err();
    assert_err(e.clone(), sys::BRAIN_ERANGE, ErrorKind::InvalidArgument, "BRAIN_ERANGE");
    assert!(e.message.contains("64"), "gives the bounds: {}", e.message);
}

#[test]
fn not_found_everywhere() {
    let b = Brain::new().unwrap();
    let id = b.remember("the one memory", 0.5).unwrap();
    for e in [
        b.get(id + 1).unwrap_err(),
        b.forget(id + 1).unwrap_err(),
        b.key_id("nobody").unwrap_err(),
        b.forget_key("nobody").unwrap_err(),
        b.get_metadata(id + 1).unwrap_err(),
        b.set_metadata(id + 1, None).unwrap_err(),
        b.relate(id, id + 1, "knows", 1.0).unwrap_err(),
        b.neighbors(id + 1, None, braincore::Direction::Out).unwrap_err(),
        b.get_vector(id + 1).unwrap_err(),
        b.update(id + 1, &UpdateOptions { text: Some("new text"), ..Default::default() }).unwrap_err(),
    ] {
        assert_err(e, sys::BRAIN_ENOTFOUND, ErrorKind::NotFound, "BRAIN_ENOTFOUND");
    }
}

#[test]
fn other_families() {
    let b = vectors(2, Metric::L2);
    b.add(1, &[1.0, 1.0]).unwrap();
    assert_err(b.add(1, &[2.0, 2.0]).unwrap_err(), sys::BRAIN_EEXISTS, ErrorKind::Exists, "BRAIN_EEXISTS");
    assert_err(
        b.remember("no embedder", 0.5).unwrap_err(),
        sys::BRAIN_ENOEMBEDDER,
        ErrorKind::Embedder,
        "BRAIN_ENOEMBEDDER",
    );
    let full = Brain::in_memory(&Options::new().max_memories(1)).unwrap();
    full.remember("first and only", 0.5).unwrap();
    assert_err(full.remember("one too many", 0.5).unwrap_err(), sys::BRAIN_EFULL, ErrorKind::Capacity, "BRAIN_EFULL");
    let t = Brain::new().unwrap();
    assert_err(
        t.remember("importance too high", 2.0).unwrap_err(),
        sys::BRAIN_ERANGE,
        ErrorKind::InvalidArgument,
        "BRAIN_ERANGE",
    );
    assert_eq!(t.remember("importance NaN", f32::NAN).unwrap_err().code, sys::BRAIN_ERANGE);
    t.remember("something to recall", 0.5).unwrap();
    assert_eq!(t.recall("something", 0).unwrap_err().code, sys::BRAIN_ERANGE, "k = 0");
    assert_eq!(t.search(&[1.0; 384], 0).unwrap_err().code, sys::BRAIN_ERANGE);
    assert_eq!(t.relate(1, 1, "", 1.0).unwrap_err().code, sys::BRAIN_EINVAL, "empty verb");
    assert_eq!(t.relate(1, 1, "a\0b", 1.0).unwrap_err().code, sys::BRAIN_EINVAL, "verb with a NUL");
    assert_eq!(t.relate(1, 1, "self", f32::NAN).unwrap_err().kind, ErrorKind::Vector, "NaN weight: ENONFINITE");
    let e = Brain::in_memory(&Options::new().dimensions(70000)).unwrap_err();
    assert_err(e, sys::BRAIN_ERANGE, ErrorKind::InvalidArgument, "BRAIN_ERANGE");
}

#[test]
fn each_error_carries_its_own_message() {
    let b = Brain::new().unwrap();
    let first = b.get(42).unwrap_err();
    let second = b.remember_bytes(b"\xff", 0.5).unwrap_err();
    assert_ne!(first.message, second.message);
    assert!(first.message.contains("42"), "{}", first.message);
    assert_eq!(first.to_string(), format!("BRAIN_ENOTFOUND: {}", first.message));
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(first);
    assert!(boxed.to_string().starts_with("BRAIN_ENOTFOUND"));
}

#[test]
fn errors_are_read_on_the_failing_thread() {
    let b = Brain::new().unwrap();
    std::thread::scope(|s| {
        let t1 = s.spawn(|| (0..200).map(|i| b.get(1000 + i).unwrap_err().message).collect::<Vec<_>>());
        let t2 = s.spawn(|| (0..200).map(|_| b.remember_bytes(b"\xfe", 0.5).unwrap_err().code).collect::<Vec<_>>());
        for (i, m) in t1.join().unwrap().iter().enumerate() {
            assert!(m.contains(&(1000 + i).to_string()), "{m}");
        }
        assert!(t2.join().unwrap().iter().all(|&c| c == sys::BRAIN_EUTF8));
    });
}
