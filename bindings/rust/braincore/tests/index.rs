//! Index (hnswlib's shape) against a brute-force reference.

mod common;

use braincore::{sys, Brain, Embedder, ErrorKind, Index, IndexKind, Options, Space};
use common::{TempDir, XorShift};
use std::path::{Path, PathBuf};

const N: usize = 2000;
const DIM: usize = 32;
const QUERIES: usize = 100;
const K: usize = 10;

fn distance(space: Space, a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    match space {
        Space::L2 => a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum(),
        Space::Ip => 1.0 - dot,
        Space::Cosine => {
            let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
            let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
            1.0 - dot / (na * nb)
        }
    }
}

/// The exact k nearest labels of `q` among `data`'s rows.
fn brute_force(space: Space, data: &[f32], q: &[f32], k: usize) -> Vec<(u64, f32)> {
    let mut all: Vec<(u64, f32)> =
        data.chunks_exact(DIM).enumerate().map(|(i, row)| (i as u64, distance(space, q, row))).collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    all.truncate(k);
    all
}

fn check_space(space: Space) {
    let mut rng = XorShift::new(0x5eed + space.raw() as u64);
    let data = rng.vectors(N, DIM);
    let queries = rng.vectors(QUERIES, DIM);
    let mut index = Index::new(space, DIM);
    index.init_index(N, 16, 200, 100).unwrap();
    index.add_items(&data, None).unwrap();
    index.set_ef(200).unwrap();
    assert_eq!(index.current_count().unwrap(), N);
    assert_eq!(index.ef().unwrap(), 200);

    let (labels, dists) = index.knn_query(&queries, K).unwrap();
    assert_eq!((labels.len(), dists.len()), (QUERIES * K, QUERIES * K));
    let mut hits = 0;
    for (qi, q) in queries.chunks_exact(DIM).enumerate() {
        let truth = brute_force(space, &data, q, K);
        let got = &labels[qi * K..(qi + 1) * K];
        let got_d = &dists[qi * K..(qi + 1) * K];
        hits += truth.iter().filter(|(id, _)| got.contains(id)).count();
        for (&label, &d) in got.iter().zip(got_d) {
            let reference = distance(space, q, &data[label as usize * DIM..][..DIM]);
            assert!((d - reference).abs() < 1e-4, "{space}: label {label}: distance {d}, reference {reference}");
        }
        assert!(got_d.windows(2).all(|w| w[0] <= w[1]), "nearest first");
    }
    let recall = hits as f64 / (QUERIES * K) as f64;
    assert!(recall >= 0.99, "{space}: recall@10 {recall}");
}

#[test]
fn l2_matches_brute_force() {
    check_space(Space::L2);
}

#[test]
fn ip_matches_brute_force() {
    check_space(Space::Ip);
}

#[test]
fn cosine_matches_brute_force() {
    check_space(Space::Cosine);
}

fn small_index(space: Space) -> (Index, Vec<f32>) {
    let mut rng = XorShift::new(7);
    let data = rng.vectors(50, 8);
    let mut index = Index::new(space, 8);
    index.init_index(100, 16, 200, 100).unwrap();
    index.add_items(&data, None).unwrap();
    (index, data)
}

#[test]
fn explicit_ids_replacement_and_deletion() {
    let (index, data) = small_index(Space::L2);
    assert_eq!(index.get_ids_list().unwrap(), (0..50).collect::<Vec<u64>>());
    // New labels continue after the last; an existing label gets its vector replaced.
    let row = [9.0f32; 8];
    index.add_items(&row, None).unwrap();
    assert_eq!(index.get_items(&[50]).unwrap(), row);
    let new_vec = [0.25f32; 8];
    index.add_items(&[new_vec, [3.0; 8]].concat(), Some(&[7, 1000])).unwrap();
    assert_eq!(index.get_items(&[7, 1000]).unwrap(), [new_vec, [3.0; 8]].concat());
    assert_eq!(index.current_count().unwrap(), 52);
    // The same new label twice in one batch: the later row wins.
    index.add_items(&[[1.0f32; 8], [2.0; 8]].concat(), Some(&[2000, 2000])).unwrap();
    assert_eq!(index.get_items(&[2000]).unwrap(), [2.0; 8]);
    assert_eq!(index.current_count().unwrap(), 53);
    // Querying a stored row finds it at distance 0.
    let (l, d) = index.knn_query(&data[3 * 8..4 * 8], 1).unwrap();
    assert_eq!((l[0], d[0]), (3, 0.0));
    index.mark_deleted(3).unwrap();
    let (l, _) = index.knn_query(&data[3 * 8..4 * 8], 5).unwrap();
    assert!(!l.contains(&3));
    assert_eq!(index.current_count().unwrap(), 52);
    assert_eq!(index.get_items(&[3]).unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(index.mark_deleted(3).unwrap_err().kind, ErrorKind::NotFound);
}

#[test]
fn default_labels_never_land_on_a_point_the_index_has() {
    let mut index = Index::new(Space::L2, 2);
    index.init_index(40, 16, 200, 100).unwrap();
    index.add_items(&[0.0, 0.0, 1.0, 1.0, 2.0, 2.0], None).unwrap(); // labels 0, 1, 2
    index.mark_deleted(0).unwrap();
    index.add_items(&[3.0, 3.0], None).unwrap(); // label 3, not the count (2)
    assert_eq!(index.get_ids_list().unwrap(), [1, 2, 3]);
    assert_eq!(index.get_items(&[2, 3]).unwrap(), [2.0, 2.0, 3.0, 3.0], "label 2 keeps its vector");

    // The largest label, deleted, stays taken.
    index.mark_deleted(3).unwrap();
    index.add_items(&[4.0, 4.0], None).unwrap();
    assert_eq!(index.get_ids_list().unwrap(), [1, 2, 4]);

    // Explicit ids count, new or mixed with existing ones.
    index.add_items(&[10.0, 10.0], Some(&[10])).unwrap();
    index.add_items(&[5.0, 5.0], None).unwrap();
    index.add_items(&[1.5, 1.5, 12.0, 12.0], Some(&[1, 12])).unwrap();
    index.add_items(&[13.0, 13.0], None).unwrap();
    assert_eq!(index.get_ids_list().unwrap(), [1, 2, 4, 10, 11, 12, 13]);

    // A refused batch gives its labels back.
    let e = index.add_items(&[f32::NAN, 0.0], None).unwrap_err();
    assert_eq!(e.code, sys::BRAIN_ENONFINITE);
    index.add_items(&[14.0, 14.0], None).unwrap();
    assert_eq!(index.get_ids_list().unwrap().last(), Some(&14));

    // Adds on several threads get different labels.
    std::thread::scope(|s| {
        for t in 0..4 {
            let index = &index;
            s.spawn(move || index.add_items(&[t as f32, 0.5, t as f32, 0.75], None).unwrap());
        }
    });
    assert_eq!(index.get_ids_list().unwrap()[8..], (15..23).collect::<Vec<u64>>()[..]);

    // A point added through brain() with the next label is not overwritten.
    index.brain().unwrap().add(23, &[7.0, 7.0]).unwrap();
    assert_eq!(index.add_items(&[8.0, 8.0], None).unwrap_err().code, sys::BRAIN_EEXISTS);
    assert_eq!(index.get_items(&[23]).unwrap(), [7.0, 7.0]);

    // Up to u64::MAX - 1: u64::MAX is no id.
    index.add_items(&[9.0, 9.0], Some(&[u64::MAX - 2])).unwrap();
    index.add_items(&[9.5, 9.5], None).unwrap();
    assert_eq!(index.get_ids_list().unwrap().last(), Some(&(u64::MAX - 1)));
    let e = index.add_items(&[9.75, 9.75], None).unwrap_err();
    assert_eq!(e.code, sys::BRAIN_ERANGE);

    // max_elements 0 is refused (as in Python and Node); the index stays.
    assert_eq!(index.init_index(0, 16, 200, 100).unwrap_err().code, sys::BRAIN_EINVAL);
    // init_index starts again at 0.
    index.init_index(4, 16, 200, 100).unwrap();
    index.add_items(&[1.0, 0.0], None).unwrap();
    assert_eq!(index.get_ids_list().unwrap(), [0]);
}

#[test]
fn default_labels_after_a_save_and_load_follow_the_largest_label_in_the_file() {
    let dir = TempDir::new("labels");
    let path = dir.join("labels.bin");
    let mut index = Index::new(Space::L2, 2);
    index.init_index(20, 16, 200, 100).unwrap();
    index.add_items(&[0.0, 0.0, 1.0, 1.0, 2.0, 2.0], None).unwrap();
    index.mark_deleted(0).unwrap();
    index.save_index(&path).unwrap();

    let mut loaded = Index::new(Space::L2, 2);
    loaded.load_index(&path, 0).unwrap();
    loaded.add_items(&[3.0, 3.0], None).unwrap();
    assert_eq!(loaded.get_ids_list().unwrap(), [1, 2, 3]);
    assert_eq!(loaded.get_items(&[2]).unwrap(), [2.0, 2.0], "label 2 keeps its vector");
    loaded.mark_deleted(1).unwrap();
    loaded.add_items(&[4.0, 4.0], None).unwrap();
    assert_eq!(loaded.get_ids_list().unwrap(), [2, 3, 4]);

    // A load starts from the file's largest label (2), not this object's past.
    loaded.load_index(&path, 0).unwrap();
    loaded.add_items(&[5.0, 5.0], None).unwrap();
    assert_eq!(loaded.get_ids_list().unwrap(), [1, 2, 3]);
    assert_eq!(loaded.get_items(&[3]).unwrap(), [5.0, 5.0]);

    // More labels than one page of brain_list, and a large one.
    let mut big = Index::new(Space::L2, 2);
    big.init_index(5000, 8, 20, 100).unwrap();
    big.add_items(&XorShift::new(3).vectors(4500, 2), None).unwrap();
    big.add_items(&[9.0, 9.0], Some(&[1 << 40])).unwrap();
    big.save_index(&path).unwrap();
    loaded.load_index(&path, 0).unwrap();
    loaded.add_items(&[1.0, 2.0], None).unwrap();
    assert_eq!(loaded.get_items(&[(1 << 40) + 1]).unwrap(), [1.0, 2.0]);

    // An empty index: 0.
    let mut empty = Index::new(Space::L2, 2);
    empty.init_index(4, 16, 200, 100).unwrap();
    empty.save_index(&path).unwrap();
    loaded.load_index(&path, 0).unwrap();
    loaded.add_items(&[7.0, 7.0], None).unwrap();
    assert_eq!(loaded.get_ids_list().unwrap(), [0]);
}

#[test]
fn threads_give_the_same_answers_as_one() {
    let (mut index, _) = small_index(Space::Cosine);
    let queries = XorShift::new(99).vectors(33, 8);
    index.set_num_threads(1);
    let one = index.knn_query(&queries, 5).unwrap();
    index.set_num_threads(4);
    let four = index.knn_query(&queries, 5).unwrap();
    assert_eq!(one, four);
}

#[test]
fn shape_capacity_and_state_errors() {
    let index = Index::new(Space::L2, 8);
    assert_eq!(index.add_items(&[0.0; 8], None).unwrap_err().kind, ErrorKind::State);
    assert_eq!(index.max_elements(), 0);
    let mut bad = Index::new(Space::L2, 0);
    assert_eq!(bad.init_index(10, 16, 200, 100).unwrap_err().code, sys::BRAIN_ERANGE);

    let mut index = Index::new(Space::L2, 4);
    index.init_index(3, 16, 200, 100).unwrap();
    assert_eq!(index.max_elements(), 3);
    let e = index.add_items(&[0.0; 5], None).unwrap_err();
    assert_eq!((e.code, e.kind), (sys::BRAIN_EDIM, ErrorKind::Vector));
    assert_eq!(index.add_items(&[0.0; 8], Some(&[1])).unwrap_err().kind, ErrorKind::InvalidArgument);
    index.add_items(&[0.0; 8], None).unwrap();
    let e = index.knn_query(&[0.0; 4], 3).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidArgument, "k above the count: {e}");
    assert_eq!(index.knn_query(&[0.0; 4], 0).unwrap_err().code, sys::BRAIN_ERANGE);
    assert_eq!(index.knn_query(&[0.0; 3], 1).unwrap_err().code, sys::BRAIN_EDIM);
    assert_eq!(index.knn_query(&[], 1).unwrap(), (vec![], vec![]), "no rows, no results");
    let e = index.add_items(&[1.0; 8], None).unwrap_err();
    assert_eq!((e.code, e.kind), (sys::BRAIN_EFULL, ErrorKind::Capacity), "max_elements 3");
    assert_eq!(index.current_count().unwrap(), 2, "all or nothing");
    index.add_items(&[1.0; 4], None).unwrap();
    assert_eq!(index.get_ids_list().unwrap(), [0, 1, 2], "the refused batch gave its labels back");
    let nan = [f32::NAN, 0.0, 0.0, 0.0];
    assert_eq!(index.knn_query(&nan, 1).unwrap_err().kind, ErrorKind::Vector);
}

#[test]
fn hnsw_parameters_reach_the_library() {
    let mut index = Index::new(Space::Ip, 4);
    index.init_index(10, 24, 77, 5).unwrap();
    let b = index.brain().unwrap();
    assert_eq!(b.get_param("hnsw_m").unwrap(), 24);
    assert_eq!(b.get_param("hnsw_ef_construction").unwrap(), 77);
    assert_eq!(b.get_param("hnsw_seed").unwrap(), 5);
    assert_eq!(b.stats().unwrap().metric, Some(Space::Ip));
}

#[test]
fn save_and_load_round_trip() {
    let dir = TempDir::new("index");
    let path = dir.join("vectors.bin");
    let mut rng = XorShift::new(42);
    let data = rng.vectors(500, 16);
    let queries = rng.vectors(20, 16);
    let mut index = Index::new(Space::Cosine, 16);
    index.init_index(1000, 12, 150, 100).unwrap();
    assert_eq!((index.m(), index.ef_construction()), (12, 150));
    let ids: Vec<u64> = (0..500).map(|i| 10 * i + 3).collect();
    index.add_items(&data, Some(&ids)).unwrap();
    index.set_ef(77).unwrap();
    let before = index.knn_query(&queries, 10).unwrap();
    index.save_index(&path).unwrap();
    assert!(path.exists() && !dir.join("vectors.bin.tmp").exists());

    // max_elements 0: the file's; M, ef_construction and ef come from the file.
    let mut loaded = Index::new(Space::Cosine, 16);
    assert_eq!((loaded.m(), loaded.ef_construction()), (16, 200), "hnswlib's defaults before init");
    loaded.set_num_threads(1);
    loaded.load_index(&path, 0).unwrap();
    assert_eq!(loaded.max_elements(), 1000);
    assert_eq!((loaded.m(), loaded.ef_construction()), (12, 150));
    assert_eq!(loaded.ef().unwrap(), 77);
    assert_eq!(loaded.brain().unwrap().get_param("hnsw_ef_search").unwrap(), 77);
    assert_eq!(loaded.current_count().unwrap(), 500);
    assert_eq!(loaded.get_ids_list().unwrap(), ids);
    assert_eq!(loaded.get_items(&ids[..5]).unwrap(), index.get_items(&ids[..5]).unwrap());
    assert_eq!(loaded.knn_query(&queries, 10).unwrap(), before);
    // New default labels continue after the largest loaded label.
    loaded.add_items(&[0.5; 16], None).unwrap();
    assert_eq!(loaded.current_count().unwrap(), 501);
    assert_eq!(loaded.get_ids_list().unwrap().last(), Some(&(10 * 499 + 4)));

    // A max_elements given wins over the file's, and is saved in turn.
    let mut bigger = Index::new(Space::Cosine, 16);
    bigger.load_index(&path, 2000).unwrap();
    assert_eq!(bigger.max_elements(), 2000);
    assert_eq!(bigger.knn_query(&queries, 10).unwrap(), before);
    let again = dir.join("again.bin");
    bigger.save_index(&again).unwrap();
    let mut third = Index::new(Space::Cosine, 16);
    third.load_index(&again, 0).unwrap();
    assert_eq!((third.max_elements(), third.m(), third.ef_construction(), third.ef().unwrap()), (2000, 12, 150, 77));

    let mut missing = Index::new(Space::Cosine, 16);
    assert_eq!(missing.load_index(dir.join("nope"), 0).unwrap_err().code, sys::BRAIN_EIO);
    let e = index.save_index(dir.join("no/such/dir/x.bin")).unwrap_err();
    assert_eq!(e.code, sys::BRAIN_EIO);
}

/// The file's first two lines and the rest.
fn split_header(bytes: &[u8]) -> (&[u8], &[u8], &[u8]) {
    let first = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    let second = first + bytes[first..].iter().position(|&b| b == b'\n').unwrap() + 1;
    (&bytes[..first], &bytes[first..second], &bytes[second..])
}

#[test]
fn the_header_is_two_lines_then_the_snapshot() {
    let dir = TempDir::new("index-header");
    let path = dir.join("v.bin");
    let mut index = Index::new(Space::Ip, 6);
    index.init_index(40, 10, 60, 3).unwrap();
    index.add_items(&XorShift::new(5).vectors(30, 6), None).unwrap();
    index.set_ef(21).unwrap();
    index.save_index(&path).unwrap();

    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"braincore-index 1\n"));
    let (magic, json, snapshot) = split_header(&bytes);
    assert_eq!(magic, b"braincore-index 1\n");
    // The JSON line: the six keys, written as the Python binding writes them.
    assert_eq!(
        std::str::from_utf8(json).unwrap(),
        "{\"space\": \"ip\", \"dim\": 6, \"max_elements\": 40, \"M\": 10, \"ef_construction\": 60, \"ef\": 21}\n"
    );
    // The snapshot starts right after the second line.
    let opts = Options::new().dimensions(6).metric(Space::Ip).index(IndexKind::Hnsw).embedder(Embedder::None);
    let brain = Brain::load_from(&mut &snapshot[..], None, &opts).unwrap();
    assert_eq!(brain.count(), 30);
}

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata").join(name)
}

#[test]
fn reads_the_shared_index_file() {
    // bindings/testdata/index-l2-8d.bin, written by the Python binding (its README).
    let text = std::fs::read_to_string(testdata("index-l2-8d.vectors.txt")).unwrap();
    let rows: Vec<f32> = text.split_whitespace().map(|v| v.parse().unwrap()).collect();
    assert_eq!(rows.len(), 50 * 8);
    let mut index = Index::new(Space::L2, 8);
    index.set_num_threads(1);
    index.load_index(testdata("index-l2-8d.bin"), 0).unwrap();
    assert_eq!(index.max_elements(), 100);
    assert_eq!((index.m(), index.ef_construction(), index.ef().unwrap()), (8, 50, 33));
    assert_eq!(index.current_count().unwrap(), 50);
    assert_eq!(index.get_ids_list().unwrap(), (1000..1050).collect::<Vec<u64>>());
    let (labels, distances) = index.knn_query(&rows[..3 * 8], 3).unwrap();
    assert_eq!(labels, [1000, 1035, 1006, 1001, 1049, 1003, 1002, 1035, 1014]);
    for r in 0..3 {
        assert!(distances[r * 3].abs() < 1e-6, "row {r}: first distance {}", distances[r * 3]);
    }
    assert_eq!(index.get_items(&[1049]).unwrap(), &rows[49 * 8..]);
}

#[test]
fn refuses_files_in_another_format_or_of_another_shape() {
    let dir = TempDir::new("index-bad");
    let good = std::fs::read(testdata("index-l2-8d.bin")).unwrap();
    let (_, json, snapshot) = split_header(&good);
    let json = std::str::from_utf8(json).unwrap().trim_end();
    let write = |name: &str, parts: &[&[u8]]| {
        let path = dir.join(name);
        std::fs::write(&path, parts.concat()).unwrap();
        path
    };
    let mut index = Index::new(Space::L2, 8);
    index.init_index(10, 16, 200, 100).unwrap();
    index.add_items(&[1.0; 8], Some(&[77])).unwrap();
    let mut load = |path: &Path| index.load_index(path, 0);

    let m = b"braincore-index 1\n";
    let corrupt: Vec<(&str, PathBuf)> = vec![
        ("empty", write("empty.bin", &[])),
        ("bad magic", write("magic.bin", &[b"braincore-index 2\n", json.as_bytes(), b"\n", snapshot])),
        ("no magic", write("raw.bin", &[snapshot])),
        ("only the magic", write("short.bin", &[m])),
        ("cut in the json", write("cut.bin", &[m, &json.as_bytes()[..20]])),
        ("not json", write("json.bin", &[m, b"{\"space\": \"l2\", \"dim\": 8,,}\n", snapshot])),
        ("not an object", write("array.bin", &[m, b"[1, 2]\n", snapshot])),
        ("over 64 KiB", write("long.bin", &[m, json.as_bytes(), &vec![b' '; 64 * 1024], b"\n", snapshot])),
        ("no ef", write("no-ef.bin", &[m, json.replace(", \"ef\": 33", "").as_bytes(), b"\n", snapshot])),
        ("no space", write("no-space.bin", &[m, json.replace("\"space\": \"l2\", ", "").as_bytes(), b"\n", snapshot])),
        (
            "a string dim",
            write("dim.bin", &[m, json.replace("\"dim\": 8", "\"dim\": \"8\"").as_bytes(), b"\n", snapshot]),
        ),
    ];
    for (what, path) in &corrupt {
        let e = load(path).unwrap_err();
        assert_eq!((e.code, e.kind), (sys::BRAIN_ECORRUPT, ErrorKind::Storage), "{what}: {e}");
        assert!(e.message.contains(&path.display().to_string()), "{what}: the message names the file: {e}");
    }

    // Any key order, unknown keys and whitespace are fine.
    let shuffled = "{\"ef\": 33, \"comment\": \"from elsewhere\", \"M\": 8, \"ef_construction\": 50, \
                    \"max_elements\": 100, \"dim\": 8, \"space\": \"l2\", \"seed\": 7}";
    load(&write("shuffled.bin", &[m, shuffled.as_bytes(), b"\n", snapshot])).unwrap();
    assert_eq!(index.current_count().unwrap(), 50);
    assert_eq!((index.max_elements(), index.m(), index.ef().unwrap()), (100, 8, 33));

    // The space or dim of another index: InvalidArgument, nothing changed.
    let ip = write("ip.bin", &[m, json.replace("\"l2\"", "\"ip\"").as_bytes(), b"\n", snapshot]);
    let e = index.load_index(&ip, 0).unwrap_err();
    assert_eq!((e.code, e.kind), (sys::BRAIN_EINVAL, ErrorKind::InvalidArgument), "{e}");
    let mut wide = Index::new(Space::L2, 16);
    let e = wide.load_index(testdata("index-l2-8d.bin"), 0).unwrap_err();
    assert_eq!((e.code, e.kind), (sys::BRAIN_EINVAL, ErrorKind::InvalidArgument), "{e}");
    let mut cosine = Index::new(Space::Cosine, 8);
    assert_eq!(cosine.load_index(testdata("index-l2-8d.bin"), 0).unwrap_err().code, sys::BRAIN_EINVAL);

    // A snapshot cut short: the library's error.
    let cut = write("cut-snapshot.bin", &[m, json.as_bytes(), b"\n", &snapshot[..snapshot.len() / 2]]);
    let e = index.load_index(&cut, 0).unwrap_err();
    assert!(e.code == sys::BRAIN_EIO || e.code == sys::BRAIN_ECORRUPT, "{e}");

    // Failed loads left the index as it was.
    assert_eq!(index.current_count().unwrap(), 50);
    assert_eq!((index.max_elements(), index.m(), index.ef_construction(), index.ef().unwrap()), (100, 8, 50, 33));
}
