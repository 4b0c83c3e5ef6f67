//! Index (hnswlib's shape) against a brute-force reference.

mod common;

use braincore::{sys, ErrorKind, Index, Space};
use common::{TempDir, XorShift};

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
    index.init_index(1000, 16, 200, 100).unwrap();
    let ids: Vec<u64> = (0..500).map(|i| 10 * i + 3).collect();
    index.add_items(&data, Some(&ids)).unwrap();
    index.set_ef(150).unwrap();
    let before = index.knn_query(&queries, 10).unwrap();
    index.save_index(&path).unwrap();
    assert!(path.exists() && !dir.join("vectors.bin.tmp").exists());

    let mut loaded = Index::new(Space::Cosine, 16);
    loaded.set_num_threads(1);
    loaded.load_index(&path, 0).unwrap();
    loaded.set_ef(150).unwrap();
    assert_eq!(loaded.current_count().unwrap(), 500);
    assert_eq!(loaded.get_ids_list().unwrap(), ids);
    assert_eq!(loaded.get_items(&ids[..5]).unwrap(), index.get_items(&ids[..5]).unwrap());
    assert_eq!(loaded.knn_query(&queries, 10).unwrap(), before);
    // New default labels continue after the loaded elements.
    loaded.add_items(&[0.5; 16], None).unwrap();
    assert_eq!(loaded.current_count().unwrap(), 501);

    let mut wrong = Index::new(Space::Cosine, 8);
    assert_eq!(wrong.load_index(&path, 0).unwrap_err().kind, ErrorKind::Storage, "EMISMATCH");
    let mut missing = Index::new(Space::Cosine, 16);
    assert_eq!(missing.load_index(dir.join("nope"), 0).unwrap_err().code, sys::BRAIN_EIO);
    let e = index.save_index(dir.join("no/such/dir/x.bin")).unwrap_err();
    assert_eq!(e.code, sys::BRAIN_EIO);
}
