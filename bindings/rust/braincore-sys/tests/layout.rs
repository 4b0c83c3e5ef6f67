//! The hand-written structs against the C library.
//!
//! build.rs compiles no C, so the layout is checked two ways:
//! - sizes and offsets against constants printed by a tiny C program run by
//!   hand (below), and
//! - the library itself writing into the Rust structs: each struct is put in
//!   a buffer filled with 0xA5 and followed by a canary, the C init function
//!   fills it, and every field must read back its documented default while
//!   the canary stays intact (a C struct larger than ours would overwrite it;
//!   a smaller one would leave our last fields 0xA5).

use braincore_sys::*;
use std::ffi::CStr;
use std::mem::{align_of, size_of, MaybeUninit};
use std::os::raw::{c_char, c_int};

/// The offset of a field (std::mem::offset_of! needs Rust 1.77; Debian 12
/// has 1.63).
macro_rules! offset_of {
    ($t:ty, $f:ident) => {{
        let u = MaybeUninit::<$t>::uninit();
        let base = u.as_ptr();
        // SAFETY: addr_of! takes the field's address without reading it.
        let field = unsafe { std::ptr::addr_of!((*base).$f) };
        field as usize - base as usize
    }};
}

/// A NUL-terminated literal (c!("...") needs Rust 1.77).
macro_rules! c {
    ($s:literal) => {
        CStr::from_bytes_with_nul(concat!($s, "\0").as_bytes()).unwrap()
    };
}

/* Printed on x86_64 Linux (gcc 12, Debian 12) by:

   #include <stdio.h>
   #include <stddef.h>
   #include <braincore.h>
   #define P(T, f) printf("%s.%s %zu\n", #T, #f, offsetof(T, f))
   int main(void) {
       printf("brain_options %zu align %zu\n", sizeof(brain_options), _Alignof(brain_options));
       P(brain_options, max_memories); P(brain_options, model_path); ...
   }

   gcc -std=c11 -I include layout.c -L build/bind -lbraincore && ./a.out
*/
const C_OPTIONS_SIZE: usize = 72;
const C_OPTIONS_ALIGN: usize = 8;
const C_OPTIONS_OFFSETS: [(&str, usize); 13] = [
    ("version", 0),
    ("dimensions", 4),
    ("metric", 8),
    ("index", 12),
    ("embedder", 16),
    ("max_text_bytes", 20),
    ("max_memories", 24),
    ("index_name", 32),
    ("sync", 40),
    ("flags", 44),
    ("io", 48),
    ("background", 56),
    ("model_path", 64),
];
const C_STATS_SIZE: usize = 440;
const C_STATS_OFFSETS: [(&str, usize); 18] = [
    ("memories", 8),
    ("dimensions", 24),
    ("read_only", 40),
    ("index_bytes", 48),
    ("heap_bytes", 112),
    ("remember_count", 176),
    ("search_max_ns", 296),
    ("index_pending", 304),
    ("memory_budget", 344),
    ("memory_pressure", 352),
    ("circadian_cycles", 360),
    ("circadian_consolidated", 376),
    ("circadian_compacted", 384),
    ("circadian_slots_released", 392),
    ("meta_memories", 400),
    ("meta_bytes", 416),
    ("meta_postings_broken", 424),
    ("relations", 432),
];
const C_CHECK_REPORT_SIZE: usize = 80;
const C_CHECK_REPORT_OFFSETS: [(&str, usize); 2] = [("memories", 8), ("dropped_records", 72)];
const C_SPAN_SIZE: usize = 16;
const C_SPAN_OFFSETS: [(&str, usize); 2] = [("start", 0), ("len", 8)];

fn rust_options_offsets() -> Vec<(&'static str, usize)> {
    vec![
        ("version", offset_of!(brain_options, version)),
        ("dimensions", offset_of!(brain_options, dimensions)),
        ("metric", offset_of!(brain_options, metric)),
        ("index", offset_of!(brain_options, index)),
        ("embedder", offset_of!(brain_options, embedder)),
        ("max_text_bytes", offset_of!(brain_options, max_text_bytes)),
        ("max_memories", offset_of!(brain_options, max_memories)),
        ("index_name", offset_of!(brain_options, index_name)),
        ("sync", offset_of!(brain_options, sync)),
        ("flags", offset_of!(brain_options, flags)),
        ("io", offset_of!(brain_options, io)),
        ("background", offset_of!(brain_options, background)),
        ("model_path", offset_of!(brain_options, model_path)),
    ]
}

fn rust_stats_offsets() -> Vec<(&'static str, usize)> {
    vec![
        ("memories", offset_of!(brain_stats, memories)),
        ("dimensions", offset_of!(brain_stats, dimensions)),
        ("read_only", offset_of!(brain_stats, read_only)),
        ("index_bytes", offset_of!(brain_stats, index_bytes)),
        ("heap_bytes", offset_of!(brain_stats, heap_bytes)),
        ("remember_count", offset_of!(brain_stats, remember_count)),
        ("search_max_ns", offset_of!(brain_stats, search_max_ns)),
        ("index_pending", offset_of!(brain_stats, index_pending)),
        ("memory_budget", offset_of!(brain_stats, memory_budget)),
        ("memory_pressure", offset_of!(brain_stats, memory_pressure)),
        ("circadian_cycles", offset_of!(brain_stats, circadian_cycles)),
        ("circadian_consolidated", offset_of!(brain_stats, circadian_consolidated)),
        ("circadian_compacted", offset_of!(brain_stats, circadian_compacted)),
        ("circadian_slots_released", offset_of!(brain_stats, circadian_slots_released)),
        ("meta_memories", offset_of!(brain_stats, meta_memories)),
        ("meta_bytes", offset_of!(brain_stats, meta_bytes)),
        ("meta_postings_broken", offset_of!(brain_stats, meta_postings_broken)),
        ("relations", offset_of!(brain_stats, relations)),
    ]
}

#[test]
fn sizes_and_offsets_match_the_c_compiler() {
    assert_eq!(size_of::<brain_options>(), C_OPTIONS_SIZE);
    assert_eq!(align_of::<brain_options>(), C_OPTIONS_ALIGN);
    assert_eq!(rust_options_offsets(), C_OPTIONS_OFFSETS.to_vec());
    assert_eq!(size_of::<brain_stats>(), C_STATS_SIZE);
    assert_eq!(rust_stats_offsets(), C_STATS_OFFSETS.to_vec());
    assert_eq!(size_of::<brain_check_report>(), C_CHECK_REPORT_SIZE);
    assert_eq!(
        vec![
            ("memories", offset_of!(brain_check_report, memories)),
            ("dropped_records", offset_of!(brain_check_report, dropped_records)),
        ],
        C_CHECK_REPORT_OFFSETS.to_vec()
    );
    assert_eq!(size_of::<brain_span>(), C_SPAN_SIZE);
    // struct brain_result (memory.h), printed the same way: sizeof 72,
    // text at 32, text_len at 40, document at 64, alignment 8
    assert_eq!(size_of::<brain_result>(), 72);
    assert_eq!(align_of::<brain_result>(), 8);
    assert_eq!(
        (offset_of!(brain_result, text), offset_of!(brain_result, text_len), offset_of!(brain_result, document)),
        (32, 40, 64)
    );
    assert_eq!(
        vec![("start", offset_of!(brain_span, start)), ("len", offset_of!(brain_span, len))],
        C_SPAN_OFFSETS.to_vec()
    );
}

const FILL: u8 = 0xA5;
const CANARY: usize = 64;

/// A T in a buffer of FILL bytes with CANARY more after it.
#[repr(C)]
struct Guarded<T> {
    value: MaybeUninit<T>,
    after: [u8; CANARY],
}

impl<T> Guarded<T> {
    fn new() -> Box<Self> {
        let mut g: Box<Self> = Box::new(Guarded { value: MaybeUninit::uninit(), after: [FILL; CANARY] });
        // SAFETY: writes size_of::<T>() bytes into the MaybeUninit<T> it owns.
        unsafe { std::ptr::write_bytes(g.value.as_mut_ptr().cast::<u8>(), FILL, size_of::<T>()) };
        g
    }
    fn canary_intact(&self) -> bool {
        self.after.iter().all(|&b| b == FILL)
    }
}

#[test]
fn options_init_fills_every_field_of_version_4_with_its_default() {
    let mut g = Guarded::<brain_options>::new();
    // SAFETY: the pointer is to a writable brain_options-sized buffer.
    let rc = unsafe { brain_options_init(g.value.as_mut_ptr(), BRAIN_OPTIONS_VERSION) };
    assert_eq!(rc, BRAIN_OK);
    assert!(g.canary_intact(), "brain_options_init wrote past the Rust struct");
    // SAFETY: initialised by brain_options_init (every field is plain data).
    let o = unsafe { g.value.assume_init_ref() };
    assert_eq!(o.version, 4);
    assert_eq!(o.dimensions, BRAIN_DEFAULT_DIMENSIONS);
    assert_eq!(o.metric, BRAIN_METRIC_COSINE);
    assert_eq!(o.index, BRAIN_INDEX_AUTO);
    assert_eq!(o.embedder, BRAIN_EMBEDDER_BUILTIN);
    assert_eq!(o.max_text_bytes, BRAIN_DEFAULT_MAX_TEXT_BYTES);
    assert_eq!(o.max_memories, BRAIN_MAX_MEMORIES_LIMIT);
    assert!(o.index_name.is_null());
    assert_eq!(o.sync, BRAIN_SYNC_FULL);
    assert_eq!(o.flags, 0);
    assert!(o.io.is_null());
    assert_eq!(o.background, BRAIN_BACKGROUND_THREADS);
    assert!(o.model_path.is_null(), "the last field of version 4");
}

#[test]
fn options_init_refuses_a_newer_version() {
    let mut g = Guarded::<brain_options>::new();
    // SAFETY: as above.
    let rc = unsafe { brain_options_init(g.value.as_mut_ptr(), BRAIN_OPTIONS_VERSION + 1) };
    assert_eq!(rc, BRAIN_EVERSION);
}

#[test]
fn stats_init_and_get_stats_write_the_fields_where_rust_reads_them() {
    let mut g = Guarded::<brain_stats>::new();
    // SAFETY: a writable brain_stats-sized buffer.
    let rc = unsafe { brain_stats_init(g.value.as_mut_ptr(), BRAIN_STATS_VERSION) };
    assert_eq!(rc, BRAIN_OK);
    assert!(g.canary_intact(), "brain_stats_init wrote past the Rust struct");
    // SAFETY: initialised by brain_stats_init.
    let s = unsafe { g.value.assume_init_ref() };
    assert_eq!(s.version, 7);
    assert_eq!((s.memories, s.dimensions, s.memory_pressure), (0, 0, 0));
    assert_eq!((s.meta_memories, s.meta_postings_broken, s.relations), (0, 0, 0), "version 7 fields");

    // Now a brain with known contents: 3 memories, 1 with metadata, 2 relations.
    let mut o = MaybeUninit::<brain_options>::uninit();
    let mut b: *mut brain_t = std::ptr::null_mut();
    // SAFETY: o is a valid brain_options after init; b receives the handle.
    unsafe {
        assert_eq!(brain_options_init(o.as_mut_ptr(), BRAIN_OPTIONS_VERSION), 0);
        let o = o.assume_init_mut();
        o.dimensions = 48;
        o.metric = BRAIN_METRIC_L2;
        assert_eq!(brain_open(std::ptr::null(), o, &mut b), 0);
    }
    let texts: [&CStr; 3] = [c!("the cat sat on the mat"), c!("dogs chase cats"), c!("a bird sang")];
    let mut ids = [0u64; 3];
    for (t, id) in texts.iter().zip(ids.iter_mut()) {
        // SAFETY: b is open, t NUL-terminated, id writable.
        let rc = unsafe { brain_remember_with(b, t.as_ptr(), 0.5, std::ptr::null(), id) };
        assert_eq!(rc, 0);
    }
    // SAFETY: b is open; strings NUL-terminated.
    unsafe {
        assert_eq!(brain_set_metadata(b, ids[0], c!("{\"kind\":\"pet\",\"n\":3}").as_ptr()), 0);
        assert_eq!(brain_relate(b, ids[0], ids[1], c!("likes").as_ptr(), 1.0), 0);
        assert_eq!(brain_relate(b, ids[1], ids[2], c!("likes").as_ptr(), 1.0), 0);
    }
    let mut g = Guarded::<brain_stats>::new();
    // SAFETY: buffer as above; b open.
    let s = unsafe {
        assert_eq!(brain_stats_init(g.value.as_mut_ptr(), BRAIN_STATS_VERSION), 0);
        assert_eq!(brain_get_stats(b, g.value.as_mut_ptr()), 0);
        g.value.assume_init_ref()
    };
    assert!(g.canary_intact());
    assert_eq!(s.version, 7);
    assert_eq!(s.memories, 3);
    assert_eq!(s.text_memories, 3);
    assert_eq!(s.dimensions, 48);
    assert_eq!(s.metric, BRAIN_METRIC_L2);
    assert_eq!((s.on_disk, s.read_only), (0, 0));
    assert_eq!(s.remember_count, 3);
    assert_eq!(s.memory_pressure, 0);
    assert_eq!(s.meta_memories, 1);
    assert_eq!(s.meta_fields, 2);
    assert_eq!(s.meta_postings_broken, 0);
    assert_eq!(s.relations, 2, "the last field of version 7");
    // SAFETY: b is open and not used afterwards.
    assert_eq!(unsafe { brain_close(b) }, 0);
}

#[test]
fn check_report_init_fills_version_1() {
    let mut g = Guarded::<brain_check_report>::new();
    // SAFETY: a writable buffer of the struct's size.
    let rc = unsafe { brain_check_report_init(g.value.as_mut_ptr(), BRAIN_CHECK_REPORT_VERSION) };
    assert_eq!(rc, 0);
    assert!(g.canary_intact());
    // SAFETY: initialised by the call.
    let r = unsafe { g.value.assume_init_ref() };
    assert_eq!(r.version, 1);
    assert_eq!((r.memories, r.wal_torn_bytes, r.dropped_records), (0, 0, 0));
}

#[test]
fn chunk_writes_spans_the_rust_struct_reads() {
    let text = "First sentence here. Second one follows! And a third?";
    let mut spans = [brain_span { start: usize::MAX, len: usize::MAX }; 8];
    let mut n = 0usize;
    // SAFETY: text has text.len() bytes; spans holds 8 entries.
    let rc =
        unsafe { brain_chunk(text.as_ptr().cast::<c_char>(), text.len(), 32, spans.as_mut_ptr(), spans.len(), &mut n) };
    assert_eq!(rc, 0);
    assert_eq!(n, 2);
    let parts: Vec<&str> = spans[..n].iter().map(|s| &text[s.start..s.start + s.len]).collect();
    assert_eq!(parts, ["First sentence here.", "Second one follows! And a third?"]);
    assert_eq!(spans[n], brain_span { start: usize::MAX, len: usize::MAX });
}

fn c_str(p: *const c_char) -> String {
    assert!(!p.is_null());
    // SAFETY: the library returns static NUL-terminated strings here.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
}

#[test]
fn constants_agree_with_the_library() {
    // SAFETY: plain calls with no pointer arguments.
    unsafe {
        assert_eq!(brain_version(), BRAIN_VERSION_NUMBER);
        assert_eq!(c_str(brain_version_string()), BRAIN_VERSION_STRING);
    }
    let errors: [(c_int, &str); 31] = [
        (BRAIN_EINVAL, "EINVAL"),
        (BRAIN_ENOMEM, "ENOMEM"),
        (BRAIN_ENULL, "ENULL"),
        (BRAIN_EEMPTY, "EEMPTY"),
        (BRAIN_EUTF8, "EUTF8"),
        (BRAIN_ETOOLONG, "ETOOLONG"),
        (BRAIN_EDIM, "EDIM"),
        (BRAIN_ENONFINITE, "ENONFINITE"),
        (BRAIN_EZEROVEC, "EZEROVEC"),
        (BRAIN_ERANGE, "ERANGE"),
        (BRAIN_ENOTFOUND, "ENOTFOUND"),
        (BRAIN_EEXISTS, "EEXISTS"),
        (BRAIN_EBUFSIZE, "EBUFSIZE"),
        (BRAIN_ENOEMBEDDER, "ENOEMBEDDER"),
        (BRAIN_EEMBEDDER, "EEMBEDDER"),
        (BRAIN_EGENERATOR, "EGENERATOR"),
        (BRAIN_EVERSION, "EVERSION"),
        (BRAIN_EPARAM, "EPARAM"),
        (BRAIN_EFULL, "EFULL"),
        (BRAIN_ENOTSUP, "ENOTSUP"),
        (BRAIN_ESTATE, "ESTATE"),
        (BRAIN_EBUSY, "EBUSY"),
        (BRAIN_EINTERNAL, "EINTERNAL"),
        (BRAIN_EIO, "EIO"),
        (BRAIN_ECORRUPT, "ECORRUPT"),
        (BRAIN_ENOSPC, "ENOSPC"),
        (BRAIN_EMISMATCH, "EMISMATCH"),
        (BRAIN_EREADONLY, "EREADONLY"),
        (BRAIN_EJSON, "EJSON"),
        (BRAIN_EFILTER, "EFILTER"),
        (BRAIN_ETYPE, "ETYPE"),
    ];
    for (code, name) in errors {
        // SAFETY: static strings.
        assert_eq!(c_str(unsafe { brain_error_name(code) }), name);
    }
    // SAFETY: static string.
    assert_eq!(c_str(unsafe { brain_error_name(BRAIN_ETYPE - 1) }), "UNKNOWN", "ETYPE is the last code");
    let params: [(c_int, &str); 32] = [
        (BRAIN_PARAM_SYNC_INTERVAL_MS, "SYNC_INTERVAL_MS"),
        (BRAIN_PARAM_CHECKPOINT_WAL_BYTES, "CHECKPOINT_WAL_BYTES"),
        (BRAIN_PARAM_THREADS, "THREADS"),
        (BRAIN_PARAM_TICK_MS, "TICK_MS"),
        (BRAIN_PARAM_INDEX_TAIL_MAX, "INDEX_TAIL_MAX"),
        (BRAIN_PARAM_INGEST_QUEUE, "INGEST_QUEUE"),
        (BRAIN_PARAM_INGEST_WAIT_MS, "INGEST_WAIT_MS"),
        (BRAIN_PARAM_MEMORY_BUDGET, "MEMORY_BUDGET"),
        (BRAIN_PARAM_CIRCADIAN_MS, "CIRCADIAN_MS"),
        (BRAIN_PARAM_FORGET_OVER, "FORGET_OVER"),
        (BRAIN_PARAM_FORGET_ON_PRESSURE, "FORGET_ON_PRESSURE"),
        (BRAIN_PARAM_MERGE_SIMILAR, "MERGE_SIMILAR"),
        (BRAIN_PARAM_WATCHDOG_MS, "WATCHDOG_MS"),
        (BRAIN_PARAM_COMPACT_FREE, "COMPACT_FREE"),
        (BRAIN_PARAM_BACKGROUND_NICE, "BACKGROUND_NICE"),
        (BRAIN_PARAM_RECALL_MIN_SCORE, "RECALL_MIN_SCORE"),
        (BRAIN_PARAM_RECALL_IMPORTANCE_WEIGHT, "RECALL_IMPORTANCE_WEIGHT"),
        (BRAIN_PARAM_DECAY_HALF_LIFE_H, "DECAY_HALF_LIFE_H"),
        (BRAIN_PARAM_HYBRID_KEYWORD_WEIGHT, "HYBRID_KEYWORD_WEIGHT"),
        (BRAIN_PARAM_THINK_MIN_SCORE, "THINK_MIN_SCORE"),
        (BRAIN_PARAM_THINK_MAX_MEMORIES, "THINK_MAX_MEMORIES"),
        (BRAIN_PARAM_THINK_CONTEXT_WEIGHT, "THINK_CONTEXT_WEIGHT"),
        (BRAIN_PARAM_WORKING_MEMORY_SIZE, "WORKING_MEMORY_SIZE"),
        (BRAIN_PARAM_THINK_RELATIVE_SCORE, "THINK_RELATIVE_SCORE"),
        (BRAIN_PARAM_CONSOLIDATE_WORKING, "CONSOLIDATE_WORKING"),
        (BRAIN_PARAM_HNSW_M, "HNSW_M"),
        (BRAIN_PARAM_HNSW_EF_CONSTRUCTION, "HNSW_EF_CONSTRUCTION"),
        (BRAIN_PARAM_HNSW_EF_SEARCH, "HNSW_EF_SEARCH"),
        (BRAIN_PARAM_HNSW_SQ8, "HNSW_SQ8"),
        (BRAIN_PARAM_HNSW_SEED, "HNSW_SEED"),
        (BRAIN_PARAM_HNSW_EXACT_BELOW, "HNSW_EXACT_BELOW"),
        (BRAIN_PARAM_HNSW_ELEMENT, "HNSW_ELEMENT"),
    ];
    for (p, name) in params {
        // SAFETY: static strings.
        assert_eq!(c_str(unsafe { brain_param_name(p) }), name);
    }
}
