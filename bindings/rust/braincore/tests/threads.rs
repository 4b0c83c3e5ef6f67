//! One Brain shared by several threads.

mod common;

use braincore::{Brain, Embedder, Index, Metric, Options, Space};
use std::sync::Arc;

const THREADS: usize = 4;
const PER_THREAD: usize = 150;

fn text(t: usize, i: usize) -> String {
    format!("thread {t} wrote memory {i} about topic{t}x{i}")
}

#[test]
fn four_threads_remember_and_recall_on_one_brain() {
    let brain = Brain::new().unwrap();
    let ids: Vec<Vec<u64>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let brain = &brain;
                s.spawn(move || {
                    let mut mine = Vec::new();
                    for i in 0..PER_THREAD {
                        let id = brain.remember(&text(t, i), 0.5).unwrap();
                        mine.push(id);
                        if i % 10 == 9 {
                            // Recall what this thread just wrote, while the others write.
                            let got = brain.recall(&format!("topic{t}x{i}"), 3).unwrap();
                            assert!(got.iter().any(|m| m.id == id), "thread {t}: {i} not recalled: {got:?}");
                        }
                    }
                    mine
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(brain.count(), (THREADS * PER_THREAD) as u64);
    let mut all: Vec<u64> = ids.iter().flatten().copied().collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), THREADS * PER_THREAD, "every id distinct");
    for (t, mine) in ids.iter().enumerate() {
        for (i, &id) in mine.iter().enumerate() {
            assert_eq!(brain.get(id).unwrap().text, text(t, i));
        }
    }
}

#[test]
fn a_brain_moves_between_threads_in_an_arc() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Brain>();
    assert_send_sync::<Index>();
    let brain =
        Arc::new(Brain::in_memory(&Options::new().dimensions(4).metric(Metric::L2).embedder(Embedder::None)).unwrap());
    let handles: Vec<_> = (0..THREADS as u64)
        .map(|t| {
            let brain = Arc::clone(&brain);
            std::thread::spawn(move || {
                for i in 0..100u64 {
                    brain.add(t * 1000 + i, &[t as f32, i as f32, 0.0, 1.0]).unwrap();
                    let hit = brain.search(&[t as f32, i as f32, 0.0, 1.0], 1).unwrap();
                    assert_eq!(hit[0], (t * 1000 + i, 0.0));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(brain.count(), 400);
    // The last owner drops it on whichever thread that is.
    std::thread::spawn(move || drop(brain)).join().unwrap();
}

#[test]
fn an_index_is_queried_and_fed_from_threads() {
    let mut index = Index::new(Space::L2, 8);
    index.init_index(1000, 16, 100, 1).unwrap();
    std::thread::scope(|s| {
        for t in 0..THREADS as u64 {
            let index = &index;
            s.spawn(move || {
                let rows: Vec<f32> = (0..50).flat_map(|i| [t as f32, i as f32, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]).collect();
                let ids: Vec<u64> = (0..50).map(|i| t * 100 + i).collect();
                index.add_items(&rows, Some(&ids)).unwrap();
                let (l, d) = index.knn_query(&rows[8 * 49..], 1).unwrap();
                assert_eq!((l[0], d[0]), (t * 100 + 49, 0.0));
            });
        }
    });
    assert_eq!(index.current_count().unwrap(), 200);
}
