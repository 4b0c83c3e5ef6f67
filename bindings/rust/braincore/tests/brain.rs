//! Behaviour of every Brain call.

mod common;

use braincore::{
    param_bounds, param_names, Brain, Direction, DocumentOptions, Embedder, ErrorKind, IndexKind, Metric, Options,
    RecallMode, RecallOptions, RememberOptions, SyncMode, UpdateOptions,
};

const FACTS: [&str; 6] = [
    "The Eiffel Tower is in Paris and was finished in 1889",
    "Cats sleep for most of the day",
    "Rust is a systems programming language focused on safety",
    "The Pacific is the largest ocean on Earth",
    "Bananas are rich in potassium",
    "Mount Everest is the highest mountain above sea level",
];

fn brain_with_facts() -> (Brain, Vec<u64>) {
    let b = Brain::new().unwrap();
    let ids = FACTS.iter().map(|t| b.remember(t, 0.5).unwrap()).collect();
    (b, ids)
}

fn vector_brain(dims: u32, metric: Metric) -> Brain {
    Brain::in_memory(&Options::new().dimensions(dims).metric(metric).embedder(Embedder::None)).unwrap()
}

#[test]
fn remember_returns_increasing_ids_and_count_follows() {
    let b = Brain::new().unwrap();
    assert_eq!(b.count(), 0);
    let a = b.remember("first memory here", 0.5).unwrap();
    let c = b.remember("second memory here", 0.9).unwrap();
    assert_eq!((a, c), (1, 2));
    assert_eq!(b.count(), 2);
    assert_eq!(b.dimensions(), 384);
}

#[test]
fn recall_finds_the_relevant_memory_first_with_its_fields() {
    let (b, ids) = brain_with_facts();
    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let got = b.recall("which ocean is the largest?", 3).unwrap();
    assert!(!got.is_empty() && got.len() <= 3);
    let top = &got[0];
    assert_eq!(top.id, ids[3]);
    assert_eq!(top.text, FACTS[3]);
    assert!(top.score > 0.0 && top.score <= 1.5, "score {}", top.score);
    assert_eq!(top.importance, 0.5);
    assert!(top.created > 1_600_000_000_000, "created is ms since the epoch");
    assert!(top.accessed >= before - 1000, "recall sets the access time to now");
    assert_eq!((&top.metadata, &top.key, &top.document), (&None, &None, &None));
    assert!(got.windows(2).all(|w| w[0].score >= w[1].score), "best first");
    assert_eq!(b.recall("mountain highest sea level", 1).unwrap()[0].id, ids[5]);
}

#[test]
fn recall_with_filter_and_modes() {
    let b = Brain::new().unwrap();
    let note = b
        .remember_with(
            "billing invoice overdue for March",
            &RememberOptions { metadata: Some(r#"{"kind":"note","n":1}"#), ..Default::default() },
        )
        .unwrap();
    let task = b
        .remember_with(
            "billing invoice to send in April",
            &RememberOptions { metadata: Some(r#"{"kind":"task","n":2}"#), ..Default::default() },
        )
        .unwrap();
    let only_tasks = RecallOptions { k: 5, filter: Some(r#"kind = "task""#), mode: RecallMode::Semantic };
    let got = b.recall_with("billing invoice", &only_tasks).unwrap();
    assert_eq!(got.iter().map(|m| m.id).collect::<Vec<_>>(), [task]);
    assert_eq!(got[0].metadata.as_deref(), Some(r#"{"kind":"task","n":2}"#));

    let kw = b.recall_with("March", &RecallOptions { mode: RecallMode::Keyword, ..Default::default() }).unwrap();
    assert_eq!(kw.iter().map(|m| m.id).collect::<Vec<_>>(), [note], "keyword mode finds the word only");
    let hy = b.recall_with("invoice March", &RecallOptions { mode: RecallMode::Hybrid, ..Default::default() }).unwrap();
    assert_eq!(hy[0].id, note);
    let n_ge_2 = b.recall_with("billing", &RecallOptions { filter: Some("n >= 2"), ..Default::default() }).unwrap();
    assert_eq!(n_ge_2.len(), 1);
}

#[test]
fn remember_bytes_takes_valid_utf8() {
    let b = Brain::new().unwrap();
    let id = b.remember_bytes("café au lait".as_bytes(), 0.5).unwrap();
    assert_eq!(b.get(id).unwrap().text, "café au lait");
}

#[test]
fn remember_with_a_vector_stores_that_vector() {
    let b = Brain::new().unwrap();
    let mut v = vec![0f32; 384];
    v[7] = 3.0;
    v[8] = 4.0;
    let id = b
        .remember_with(
            "a memory with my own vector",
            &RememberOptions { vector: Some(&v), importance: 0.7, ..Default::default() },
        )
        .unwrap();
    let stored = b.get_vector(id).unwrap();
    assert!((stored[7] - 0.6).abs() < 1e-2 && (stored[8] - 0.8).abs() < 1e-2, "cosine stores unit length");
    let m = b.get(id).unwrap();
    assert_eq!((m.text.as_str(), m.importance), ("a memory with my own vector", 0.7));
    assert_eq!(m.metadata, None);

    let id2 = b
        .remember_with(
            "vector and metadata",
            &RememberOptions { vector: Some(&v), metadata: Some(r#"{"src":"me"}"#), ..Default::default() },
        )
        .unwrap();
    assert_eq!(b.get(id2).unwrap().metadata.as_deref(), Some(r#"{"src":"me"}"#));

    // Metadata refused: nothing is stored (one change with the vector).
    let before = b.count();
    let e = b
        .remember_with(
            "vector and bad metadata",
            &RememberOptions { vector: Some(&v), metadata: Some("{nope"), ..Default::default() },
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Metadata);
    assert_eq!(b.count(), before);
}

#[test]
fn remember_many_and_with_metadata() {
    let b = Brain::new().unwrap();
    assert!(b.remember_many::<&str>(&[]).unwrap().is_empty());
    let ids = b.remember_many(&["one apple a day", "two pears at noon", "three plums tonight"]).unwrap();
    assert_eq!(ids, [1, 2, 3]);
    let owned: Vec<String> = vec!["four figs".into(), "five kiwis".into()];
    let ids = b.remember_many_with(&owned, 0.9, Some(&[r#"{"i":4}"#, r#"{"i":5}"#])).unwrap();
    assert_eq!(ids, [4, 5]);
    let m = b.get(5).unwrap();
    assert_eq!((m.text.as_str(), m.importance, m.metadata.as_deref()), ("five kiwis", 0.9, Some(r#"{"i":5}"#)));
    assert_eq!(b.count(), 5);
    let e = b.remember_many_with(&["x y z"], 0.5, Some(&[])).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
}

#[test]
fn upsert_key_id_and_forget_key() {
    let b = Brain::new().unwrap();
    let id = b.upsert("user:1:city", "Ana lives in Lisbon", &RememberOptions::default()).unwrap();
    let same = b
        .remember_with(
            "Ana lives in Porto",
            &RememberOptions { key: Some("user:1:city"), importance: 0.8, ..Default::default() },
        )
        .unwrap();
    assert_eq!(id, same, "one memory per key");
    assert_eq!(b.count(), 1);
    let m = b.get(id).unwrap();
    assert_eq!((m.text.as_str(), m.key.as_deref(), m.importance), ("Ana lives in Porto", Some("user:1:city"), 0.8));
    assert_eq!(b.key_id("user:1:city").unwrap(), id);
    // metadata read and written back carries the library's "@key" unchanged
    let meta = b.get_metadata(id).unwrap();
    assert_eq!(meta, r#"{"@key":"user:1:city"}"#);
    b.set_metadata(id, Some(&meta.replace('}', r#","kind":"city"}"#))).unwrap();
    assert_eq!(b.get_metadata(id).unwrap(), r#"{"@key":"user:1:city","kind":"city"}"#);
    let err = b.set_metadata(id, Some(r#"{"@key":"user:2:city"}"#)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Metadata);
    b.forget_key("user:1:city").unwrap();
    assert_eq!(b.count(), 0);
    assert_eq!(b.key_id("user:1:city").unwrap_err().kind, ErrorKind::NotFound);
}

#[test]
fn think_answers_from_memories() {
    let (b, ids) = brain_with_facts();
    let t = b.think("Where is the Eiffel Tower?").unwrap();
    assert!(t.answer.contains("Paris"), "answer: {}", t.answer);
    assert_eq!(t.memories.first().map(|m| m.id), Some(ids[0]));
    let t = b.think("zyxxy quorble fnord").unwrap();
    assert!(t.memories.is_empty(), "{:?}", t.memories);
    assert!(!t.answer.is_empty());
}

#[test]
fn get_forget_and_forget_where() {
    let b = Brain::new().unwrap();
    let a = b
        .remember_with("keep this one", &RememberOptions { metadata: Some(r#"{"tmp":false}"#), ..Default::default() })
        .unwrap();
    let c = b
        .remember_with("drop this one", &RememberOptions { metadata: Some(r#"{"tmp":true}"#), ..Default::default() })
        .unwrap();
    let d = b
        .remember_with("drop that too", &RememberOptions { metadata: Some(r#"{"tmp":true}"#), ..Default::default() })
        .unwrap();
    let m = b.get(a).unwrap();
    assert_eq!((m.id, m.score, m.text.as_str()), (a, 1.0, "keep this one"));
    b.forget(c).unwrap();
    assert_eq!(b.get(c).unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(b.forget_where("tmp = true").unwrap(), 1);
    assert_eq!(b.get(d).unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(b.count(), 1);
    assert_eq!(b.forget_where("tmp = true").unwrap(), 0);
}

#[test]
fn update_changes_text_importance_and_metadata_in_place() {
    let b = Brain::new().unwrap();
    let id = b.remember("the meeting is on Monday", 0.5).unwrap();
    let created = b.get(id).unwrap().created;
    b.update(id, &UpdateOptions { text: Some("the meeting moved to Friday"), ..Default::default() }).unwrap();
    b.update(id, &UpdateOptions { importance: Some(0.9), metadata: Some(r#"{"moved":true}"#), ..Default::default() })
        .unwrap();
    let m = b.get(id).unwrap();
    assert_eq!(m.text, "the meeting moved to Friday");
    assert_eq!(m.importance, 0.9);
    assert_eq!(m.metadata.as_deref(), Some(r#"{"moved":true}"#));
    assert_eq!(m.created, created);
    assert_eq!(b.recall("when is the meeting? Friday", 1).unwrap()[0].id, id);
    let e = b.update(999, &UpdateOptions { importance: Some(0.1), ..Default::default() }).unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotFound);
}

#[test]
fn metadata_get_set_patch() {
    let b = Brain::new().unwrap();
    let id = b.remember("a memory for metadata", 0.5).unwrap();
    assert_eq!(b.get_metadata(id).unwrap(), "{}");
    b.set_metadata(id, Some(r#"{"a":1,"b":"x","tags":["t1","t2"]}"#)).unwrap();
    assert_eq!(b.get_metadata(id).unwrap(), r#"{"a":1,"b":"x","tags":["t1","t2"]}"#);
    b.patch_metadata(id, r#"{"a":null,"c":2.5}"#).unwrap();
    assert_eq!(b.get_metadata(id).unwrap(), r#"{"b":"x","c":2.5,"tags":["t1","t2"]}"#);
    assert_eq!(b.count_where(r#"tags CONTAINS "t2""#).unwrap(), 1);
    // Longer than the first buffer (256 bytes): the call grows it.
    let long = format!(r#"{{"long":"{}"}}"#, "y".repeat(1000));
    b.set_metadata(id, Some(&long)).unwrap();
    assert_eq!(b.get_metadata(id).unwrap(), long);
    b.set_metadata(id, None).unwrap();
    assert_eq!(b.get_metadata(id).unwrap(), "{}");
    assert_eq!(b.get(id).unwrap().metadata, None);
}

#[test]
fn relations_neighbors_and_traverse() {
    let b = Brain::new().unwrap();
    let ana = b.remember("Ana is an engineer", 0.5).unwrap();
    let acme = b.remember("Acme builds rockets", 0.5).unwrap();
    let bob = b.remember("Bob is a designer", 0.5).unwrap();
    let moon = b.remember("The Moon orbits the Earth", 0.5).unwrap();
    b.relate(ana, acme, "works_at", 1.0).unwrap();
    b.relate(bob, acme, "works_at", 0.5).unwrap();
    b.relate(acme, moon, "flies_to", 2.0).unwrap();
    b.relate(ana, acme, "works_at", 0.75).unwrap(); // sets the weight

    let out = b.neighbors(ana, None, Direction::Out).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].from, out[0].to, out[0].verb.as_str(), out[0].weight, out[0].hops),
        (ana, acme, "works_at", 0.75, 1)
    );
    let staff: Vec<u64> = b.neighbors(acme, Some("works_at"), Direction::In).unwrap().iter().map(|e| e.from).collect();
    assert_eq!(staff, [ana, bob]);
    assert_eq!(b.neighbors(acme, None, Direction::Both).unwrap().len(), 3);

    let reach = b.traverse(ana, 2, None, Direction::Out).unwrap();
    assert_eq!(reach.iter().map(|e| (e.to, e.hops)).collect::<Vec<_>>(), [(acme, 1), (moon, 2)]);
    assert_eq!(b.traverse(ana, 1, None, Direction::Out).unwrap().len(), 1);
    let near = b.recall_near("rockets", 5, moon, 1, None).unwrap();
    assert!(near.iter().all(|m| m.id == moon || m.id == acme) && !near.is_empty());

    b.unrelate(ana, acme, Some("works_at")).unwrap();
    assert!(b.neighbors(ana, None, Direction::Out).unwrap().is_empty());
    assert_eq!(b.unrelate(ana, acme, None).unwrap_err().kind, ErrorKind::NotFound);
    b.unrelate(bob, acme, None).unwrap();
    assert_eq!(b.stats().unwrap().relations, 1);
}

#[test]
fn documents_are_cut_into_passages() {
    let b = Brain::new().unwrap();
    let text = "Password resets are done from the account page. \
                Click the link in the email within one hour. \
                Invoices are sent on the first day of each month. \
                Refunds take five business days to arrive.";
    let opts = DocumentOptions { max_bytes: 64, metadata: Some(r#"{"kind":"manual"}"#), ..Default::default() };
    let n = b.remember_document("handbook.md", text, &opts).unwrap();
    assert_eq!(n, 4);
    assert_eq!(b.count(), 4);
    let top = &b.recall("how long do refunds take?", 1).unwrap()[0];
    assert_eq!(top.text, "Refunds take five business days to arrive.");
    assert_eq!(top.document.as_deref(), Some("handbook.md"));
    assert_eq!(b.count_where(r#"kind = "manual""#).unwrap(), 4);
    // Remembering the key again replaces every passage at once.
    assert_eq!(b.remember_document("handbook.md", "Only one sentence now.", &DocumentOptions::default()).unwrap(), 1);
    assert_eq!(b.count(), 1);
    assert_eq!(b.forget_document("handbook.md").unwrap(), 1);
    assert_eq!(b.forget_document("handbook.md").unwrap(), 0);
    assert_eq!(b.count(), 0);
}

#[test]
fn remember_async_then_flush() {
    let b = Brain::new().unwrap();
    for i in 0..50 {
        b.remember_async(&format!("queued memory number {i}"), 0.5).unwrap();
    }
    b.flush().unwrap();
    assert_eq!(b.count(), 50);
    assert_eq!(b.recall("queued memory number 42", 1).unwrap()[0].text, "queued memory number 42");
    let v = vector_brain(4, Metric::L2);
    v.add_async(9, &[1.0, 2.0, 3.0, 4.0]).unwrap();
    v.flush().unwrap();
    assert_eq!(v.get_vector(9).unwrap(), [1.0, 2.0, 3.0, 4.0]);
}

#[test]
fn count_where_and_list_pages() {
    let b = Brain::new().unwrap();
    let texts: Vec<String> = (0..25).map(|i| format!("memory number {i} about things")).collect();
    let ids = b.remember_many(&texts).unwrap();
    for &id in &ids[..10] {
        b.set_metadata(id, Some(r#"{"even":true}"#)).unwrap();
    }
    assert_eq!(b.count(), 25);
    assert_eq!(b.count_where("even = true").unwrap(), 10);
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = b.list(None, after, 7).unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 7);
        after = page.last().map(|m| m.id);
        seen.extend(page.into_iter().map(|m| m.id));
    }
    assert_eq!(seen, ids);
    let filtered = b.list(Some("even = true"), Some(ids[3]), 100).unwrap();
    assert_eq!(filtered.iter().map(|m| m.id).collect::<Vec<_>>(), ids[4..10]);
    assert_eq!(filtered[0].text, "memory number 4 about things");
}

#[test]
fn vectors_add_search_get_update() {
    let b = vector_brain(3, Metric::L2);
    b.add(10, &[0.0, 0.0, 0.0]).unwrap();
    b.add_with(20, &[1.0, 0.0, 0.0], Some(r#"{"side":"x"}"#)).unwrap();
    b.add_many(&[30, 40], &[0.0, 2.0, 0.0, 0.0, 0.0, 3.0]).unwrap();
    assert_eq!(b.count(), 4);
    let hits = b.search(&[0.9, 0.0, 0.0], 2).unwrap();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].0, 20);
    assert!((hits[0].1 - 0.01).abs() < 1e-6, "squared L2: {}", hits[0].1);
    assert_eq!(hits[1].0, 10);
    assert!((hits[1].1 - 0.81).abs() < 1e-6);
    assert_eq!(b.search(&[0.0; 3], 100).unwrap().len(), 4, "k above the count: all of them");
    assert_eq!(b.search_where(&[0.0; 3], 4, Some(r#"side = "x""#)).unwrap(), [(20, 1.0)]);
    assert_eq!(b.get_vector(30).unwrap(), [0.0, 2.0, 0.0]);
    b.update_vector(30, &[5.0, 5.0, 5.0]).unwrap();
    assert_eq!(b.get_vector(30).unwrap(), [5.0, 5.0, 5.0]);
    b.forget(10).unwrap();
    assert_eq!(b.search(&[0.0; 3], 1).unwrap()[0].0, 20);
    let mut ids = [0u64; 2];
    let mut d = [0f32; 2];
    assert_eq!(b.search_into(&[0.0, 0.0, 3.0], None, &mut ids, &mut d).unwrap(), 2);
    assert_eq!((ids[0], d[0]), (40, 0.0));
}

#[test]
fn search_batch_answers_each_query_as_search_does() {
    let dims = 8usize;
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    for kind in [IndexKind::Flat, IndexKind::Hnsw] {
        let b = Brain::in_memory(
            &Options::new().dimensions(dims as u32).metric(Metric::Cosine).index(kind).embedder(Embedder::None),
        )
        .unwrap();
        let n = 2500usize;
        let rows: Vec<f32> = (0..n * dims).map(|_| rnd()).collect();
        let ids: Vec<u64> = (1..=n as u64).collect();
        b.add_many(&ids, &rows).unwrap();
        b.set_param("threads", 3).unwrap();
        let queries: Vec<f32> = (0..40 * dims).map(|_| rnd()).collect();
        let got = b.search_batch(&queries, 5).unwrap();
        assert_eq!(got.len(), 40);
        for (i, q) in queries.chunks(dims).enumerate() {
            assert_eq!(got[i], b.search(q, 5).unwrap(), "query {i}");
        }
        assert!(b.search_batch(&[], 5).unwrap().is_empty());
        let mut bad = queries.clone();
        bad[7 * dims + 2] = f32::NAN;
        let e = b.search_batch(&bad, 5).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Vector);
        assert!(e.message.contains("query 7"), "{}", e.message);
        assert_eq!(b.search_batch(&queries[..dims + 1], 5).unwrap_err().kind, ErrorKind::Vector);
        assert_eq!(b.search_batch(&queries, 0).unwrap_err().kind, ErrorKind::InvalidArgument);
    }
    let small = vector_brain(2, Metric::L2);
    small.add_many(&[7, 8], &[0.0, 0.0, 1.0, 1.0]).unwrap();
    let got = small.search_batch(&[0.0, 0.1, 1.0, 0.9], 4).unwrap();
    assert_eq!(got.iter().map(|r| r.iter().map(|p| p.0).collect::<Vec<_>>()).collect::<Vec<_>>(), [[7, 8], [8, 7]]);
}

#[test]
fn recall_vector_returns_text_memories() {
    let b = Brain::in_memory(&Options::new().dimensions(4).embedder(Embedder::None)).unwrap();
    let a = b
        .remember_with("north", &RememberOptions { vector: Some(&[0.0, 1.0, 0.0, 0.0]), ..Default::default() })
        .unwrap();
    let _ = b
        .remember_with("east", &RememberOptions { vector: Some(&[1.0, 0.0, 0.0, 0.0]), ..Default::default() })
        .unwrap();
    let got = b.recall_vector(&[0.1, 1.0, 0.0, 0.0], 1, None).unwrap();
    assert_eq!((got[0].id, got[0].text.as_str()), (a, "north"));
    assert!(got[0].score > 0.9);
}

#[test]
fn stats_and_health_describe_the_brain() {
    let (b, _) = brain_with_facts();
    b.recall("ocean", 2).unwrap();
    let s = b.stats().unwrap();
    assert_eq!((s.memories, s.text_memories, s.dimensions), (6, 6, 384));
    assert_eq!((s.metric, s.on_disk, s.read_only), (Some(Metric::Cosine), false, false));
    assert_eq!(s.remember.count, 6);
    assert_eq!(s.recall.count, 1);
    assert!(s.recall.p50_ns > 0 && s.recall.p50_ns <= s.recall.max_ns);
    assert!(s.heap_bytes > 0 && s.heap_peak_bytes >= s.heap_bytes);
    let h = b.health().unwrap();
    assert!(h.starts_with('{') && h.ends_with('}'), "{h}");
    assert!(h.contains("\"memories\":6"), "{h}");
    assert!(h.contains("\"latency_ns\""), "{h}");
}

#[test]
fn params_by_name_number_and_options() {
    let b = Brain::new().unwrap();
    b.set_param("hnsw_ef_search", 123).unwrap();
    assert_eq!(b.get_param("HNSW_EF_SEARCH").unwrap(), 123);
    assert_eq!(b.get_param("BRAIN_PARAM_HNSW_EF_SEARCH").unwrap(), 123);
    assert_eq!(b.get_param(braincore::sys::BRAIN_PARAM_HNSW_EF_SEARCH).unwrap(), 123);
    b.set_param(String::from("Think_Max_Memories"), 5).unwrap();
    assert_eq!(b.get_param(201).unwrap(), 5);
    assert_eq!(param_bounds("think_max_memories").unwrap(), (1, 64, 3));
    assert!(param_names().contains(&("RECALL_MIN_SCORE", 100)));
    assert_eq!(param_names().len(), 32);

    let o = Brain::in_memory(&Options::new().dimensions(16).param("recall_importance_weight", 0)).unwrap();
    assert_eq!(o.get_param("recall_importance_weight").unwrap(), 0);
    assert_eq!(o.dimensions(), 16);
    let e = Brain::in_memory(&Options::new().param("no_such_knob", 1)).unwrap_err();
    assert_eq!(e.code, braincore::sys::BRAIN_EPARAM);
}

#[test]
fn options_enums_parse_their_names() {
    assert_eq!("cosine".parse::<Metric>().unwrap(), Metric::Cosine);
    assert_eq!("L2".parse::<Metric>().unwrap(), Metric::L2);
    assert_eq!("ip".parse::<Metric>().unwrap(), Metric::Ip);
    assert_eq!("hnsw".parse::<IndexKind>().unwrap(), IndexKind::Hnsw);
    assert_eq!("none".parse::<Embedder>().unwrap(), Embedder::None);
    assert_eq!("normal".parse::<SyncMode>().unwrap(), SyncMode::Normal);
    assert_eq!("hybrid".parse::<RecallMode>().unwrap(), RecallMode::Hybrid);
    assert_eq!("both".parse::<Direction>().unwrap(), Direction::Both);
    let e = "euclid".parse::<Metric>().unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(e.message.contains("cosine, l2, ip"), "{}", e.message);
    assert_eq!(Metric::Ip.to_string(), "ip");
    for (m, raw) in [(Metric::Cosine, 0), (Metric::L2, 1), (Metric::Ip, 2)] {
        assert_eq!(m.raw(), raw);
        assert_eq!(Metric::from_raw(raw), Some(m));
    }
    assert_eq!(Metric::from_raw(7), None);
}

#[test]
fn the_options_reach_the_library() {
    let b = Brain::in_memory(
        &Options::new()
            .dimensions(8)
            .metric(Metric::Ip)
            .index(IndexKind::Flat)
            .embedder(Embedder::None)
            .max_memories(2)
            .max_text_bytes(10),
    )
    .unwrap();
    let s = b.stats().unwrap();
    assert_eq!((s.dimensions, s.metric), (8, Some(Metric::Ip)));
    let v = [0.5f32; 8];
    b.add(1, &v).unwrap();
    b.add(2, &v).unwrap();
    assert_eq!(b.add(3, &v).unwrap_err().kind, ErrorKind::Capacity, "max_memories 2");
    let t = Brain::in_memory(&Options::new().max_text_bytes(10)).unwrap();
    assert_eq!(t.remember("eleven byte", 0.5).unwrap_err().code, braincore::sys::BRAIN_ETOOLONG);
    t.remember("ten bytes!", 0.5).unwrap();
}

#[test]
fn close_returns_ok_and_version_is_the_library_s() {
    let (b, _) = brain_with_facts();
    b.close().unwrap();
    assert_eq!(braincore::version(), "0.1.0");
}

#[test]
fn save_to_and_load_from_a_buffer() {
    let (b, ids) = brain_with_facts();
    let mut buf = Vec::new();
    b.save_to(&mut buf).unwrap();
    assert!(buf.len() > 100);
    let c = Brain::load_from(&mut buf.as_slice(), None, &Options::new()).unwrap();
    assert_eq!(c.count(), 6);
    assert_eq!(c.get(ids[2]).unwrap().text, FACTS[2]);
    assert_eq!(c.recall("largest ocean", 1).unwrap()[0].id, ids[3]);
    // A cut stream is an error of the stream (EIO), not a crash.
    let e = Brain::load_from(&mut &buf[..buf.len() / 2], None, &Options::new()).unwrap_err();
    assert_eq!(e.kind, braincore::ErrorKind::Storage, "{e}");
}

#[test]
fn results_objects_are_always_freed() {
    let (b, ids) = brain_with_facts();
    for _ in 0..20 {
        b.recall("ocean", 3).unwrap();
        b.think("Where is the Eiffel Tower?").unwrap();
        b.get(ids[0]).unwrap();
        b.list(None, None, 10).unwrap();
        b.neighbors(ids[0], None, Direction::Both).unwrap();
        b.get(999).unwrap_err();
        b.recall_with("x", &RecallOptions { filter: Some("n = "), ..Default::default() }).unwrap_err();
    }
    let s = b.stats().unwrap();
    assert_eq!(s.heap_results_bytes, 0, "results objects alive: {s:?}");
    let kept = b.recall("ocean", 3).unwrap();
    assert_eq!(b.stats().unwrap().heap_results_bytes, 0, "converted and freed before returning");
    assert!(!kept.is_empty());
}
