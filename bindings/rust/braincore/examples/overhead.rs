//! Per-call overhead of the Rust binding against the C library's own timing.
//!
//! The library times every successful call inside itself and reports the
//! median in `stats()` (recall_p50_ns, search_p50_ns; fixed buckets, within
//! 12.5%, never below). This example times the same calls from Rust
//! (`Instant` around each call: the binding's argument checks, C strings,
//! results conversion and allocation included) and prints both medians, the
//! Rust p99 and the ratio. Since the C figure is a bucket's upper edge, the
//! same calls are also timed through the raw C functions (braincore::sys):
//! each query is run by every variant, in an order that rotates from query
//! to query (the first to run a query warms the cache for the others), and
//! the difference of the medians is the binding's own cost.
//!
//!     cargo run --release --example overhead            # 10K memories, 100K vectors
//!     cargo run --release --example overhead -- quick   # 2K memories, 10K vectors

use braincore::{sys, Brain, Index, Space};
use std::ffi::CString;
use std::time::Instant;

const WORDS: &[&str] = &[
    "river", "mountain", "engine", "coffee", "invoice", "garden", "planet", "market", "violin", "harbor", "winter",
    "signal", "bridge", "forest", "laptop", "rocket", "castle", "doctor", "pencil", "island", "summer", "camera",
    "ticket", "butter", "silver", "window", "dragon", "museum", "letter", "anchor", "meeting", "billing", "holiday",
    "password", "kitchen", "library", "weather", "station", "battery", "concert",
];

/// xorshift64*: reproducible without a crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn word(&mut self) -> &'static str {
        WORDS[(self.next() % WORDS.len() as u64) as usize]
    }
    fn sentence(&mut self, n: usize) -> String {
        (0..n).map(|_| self.word()).collect::<Vec<_>>().join(" ")
    }
    fn f32(&mut self) -> f32 {
        ((self.next() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

/// Median and p99 of `samples` (ns).
fn percentiles(samples: &mut [u64]) -> (u64, u64) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.50), at(0.99))
}

fn report(what: &str, samples: &mut [u64], c_p50: u64, c_count: u64) {
    let (p50, p99) = percentiles(samples);
    println!(
        "{what:<34} rust p50 {:>9} ns  p99 {:>9} ns | C p50 {:>9} ns ({} calls) | ratio {:.3}  overhead ~{} ns",
        p50,
        p99,
        c_p50,
        c_count,
        p50 as f64 / c_p50 as f64,
        p50 as i64 - c_p50 as i64
    );
}

fn cpu() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn main() -> braincore::Result<()> {
    let quick = std::env::args().any(|a| a == "quick");
    let (memories, vectors, calls) = if quick { (2_000, 10_000, 500) } else { (10_000, 100_000, 2_000) };
    println!(
        "braincore {} | CPU: {} | {} threads available",
        braincore::version(),
        cpu(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut rng = Rng(0x0ddba11);

    // ---- recall at `memories` text memories (built-in embedder, 384-d) ----
    let brain = Brain::new()?;
    let t = Instant::now();
    for chunk in (0..memories).collect::<Vec<_>>().chunks(1000) {
        let texts: Vec<String> = chunk.iter().map(|i| format!("{} note {i}", rng.sentence(8))).collect();
        brain.remember_many(&texts)?;
    }
    println!("remembered {} memories in {:.1} s", brain.count(), t.elapsed().as_secs_f64());
    // Past HNSW_EXACT_BELOW the graph is built in the background; until then
    // recalls also scan its tail. Time the steady state.
    let t = Instant::now();
    while brain.stats()?.index_pending > 0 && t.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    println!("graph built {:.1} s later (index_pending {})", t.elapsed().as_secs_f64(), brain.stats()?.index_pending);
    let queries: Vec<String> = (0..calls).map(|_| rng.sentence(3)).collect();
    for q in queries.iter().take(100) {
        brain.recall(q, 10)?; // warm up
    }
    let (mut safe, mut raw) = (Vec::with_capacity(calls), Vec::with_capacity(calls));
    let mut returned = 0;
    for (i, q) in queries.iter().enumerate() {
        for v in 0..2 {
            let t = Instant::now();
            if (i + v) % 2 == 0 {
                returned += brain.recall(q, 10)?.len();
                safe.push(t.elapsed().as_nanos() as u64);
            } else {
                raw_recall(&brain, q);
                raw.push(t.elapsed().as_nanos() as u64);
            }
        }
    }
    let s = brain.stats()?;
    report(&format!("recall(k=10) at {memories} memories"), &mut safe, s.recall.p50_ns, s.recall.count);
    report("  raw brain_recall_mode + free", &mut raw, s.recall.p50_ns, s.recall.count);
    println!(
        "  binding cost: {} ns a recall ({:.1} memories returned, each converted to an owned Memory)",
        percentiles(&mut safe).0 as i64 - percentiles(&mut raw).0 as i64,
        returned as f64 / calls as f64
    );
    drop(brain);

    // ---- knn_query at `vectors` random 128-d vectors (HNSW, l2) ----
    const DIM: usize = 128;
    let mut index = Index::new(Space::L2, DIM);
    index.init_index(vectors, 16, 100, 100)?;
    let t = Instant::now();
    for _ in 0..vectors / 10_000 {
        let batch: Vec<f32> = (0..10_000 * DIM).map(|_| rng.f32()).collect();
        index.add_items(&batch, None)?;
    }
    println!(
        "added {} vectors ({DIM}-d, M 16, ef_construction 100) in {:.1} s",
        index.current_count()?,
        t.elapsed().as_secs_f64()
    );
    let queries: Vec<f32> = (0..calls * DIM).map(|_| rng.f32()).collect();
    index.set_num_threads(1);
    for q in queries.chunks_exact(DIM).take(100) {
        index.knn_query(q, 10)?; // warm up
    }
    let brain = index.brain()?;
    let (mut safe, mut into, mut raw) =
        (Vec::with_capacity(calls), Vec::with_capacity(calls), Vec::with_capacity(calls));
    let (mut ids, mut dists) = ([0u64; 10], [0f32; 10]);
    for (i, q) in queries.chunks_exact(DIM).enumerate() {
        for v in 0..3 {
            let t = Instant::now();
            match (i + v) % 3 {
                0 => {
                    let (labels, _) = index.knn_query(q, 10)?;
                    safe.push(t.elapsed().as_nanos() as u64);
                    assert_eq!(labels.len(), 10);
                }
                1 => {
                    brain.search_into(q, None, &mut ids, &mut dists)?;
                    into.push(t.elapsed().as_nanos() as u64);
                }
                _ => {
                    raw_search(brain, q, &mut ids, &mut dists);
                    raw.push(t.elapsed().as_nanos() as u64);
                }
            }
        }
    }
    let s = brain.stats()?;
    report(&format!("knn_query(1 row, k=10) at {vectors}"), &mut safe, s.search.p50_ns, s.search.count);
    report("  search_into, buffers reused", &mut into, s.search.p50_ns, s.search.count);
    report("  raw brain_search", &mut raw, s.search.p50_ns, s.search.count);
    println!(
        "  binding cost: knn_query {} ns, search_into {} ns a query",
        percentiles(&mut safe).0 as i64 - percentiles(&mut raw).0 as i64,
        percentiles(&mut into).0 as i64 - percentiles(&mut raw).0 as i64
    );
    Ok(())
}

/// brain_recall_mode straight through the C API (the baseline).
fn raw_recall(brain: &Brain, query: &str) {
    let q = CString::new(query).unwrap();
    let mut out = std::ptr::null_mut();
    // SAFETY: a live brain (borrowed), a NUL-terminated query, a valid out
    // pointer; the results object is freed right after.
    unsafe {
        let rc =
            sys::brain_recall_mode(brain.as_raw(), q.as_ptr(), 10, sys::BRAIN_SEMANTIC, std::ptr::null(), &mut out);
        assert_eq!(rc, 0);
        sys::brain_results_free(out);
    }
}

/// brain_search straight through the C API (the baseline).
fn raw_search(brain: &Brain, q: &[f32], ids: &mut [u64; 10], dists: &mut [f32; 10]) {
    let mut found = 0;
    // SAFETY: a live brain; q has the brain's 128 dimensions; both buffers hold k = 10.
    let rc =
        unsafe { sys::brain_search(brain.as_raw(), q.as_ptr(), 10, ids.as_mut_ptr(), dists.as_mut_ptr(), &mut found) };
    assert_eq!((rc, found), (0, 10));
}
