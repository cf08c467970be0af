//! Checks the promise that evaluation does not allocate once the row and bitset are warm. A
//! separate test binary, so the counting allocator sees only this test; it counts only the
//! allocations of the thread being measured (the test harness's own thread allocated now and
//! then while the test ran, which failed it once in CI).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use netanom_rules::{ColumnKind, ColumnSpec, FiredRules, RowValues, Rule, RuleSet};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set on the thread whose allocations are counted (const-initialised: reading it does not
    /// allocate).
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if COUNTED.with(Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn evaluation_does_not_allocate() {
    let schema = [
        ColumnSpec::new("tcpFlags", ColumnKind::Int),
        ColumnSpec::new("avgL7PktSz", ColumnKind::Float),
        ColumnSpec::new("dstPortClass", ColumnKind::Str),
        ColumnSpec::new("tcpAnomaly", ColumnKind::Int),
    ];
    let whens = [
        "tcpAnomaly > 4",
        "tcpFlags & 0xf800",
        "(tcpFlags & 0x0002) != 0 and not (dstPortClass == \"http\")",
        "avgL7PktSz > 1400.5 or tcpFlags ^ tcpAnomaly == 3",
        "~tcpFlags & 0x8000000000000000",
        "tcpAnomaly < 2.5",
    ];
    let rules = (0..90).map(|i| Rule::new(format!("r{i}"), whens[i % whens.len()])).collect();
    let compiled = RuleSet::from_rules(rules).unwrap().compile(&schema).unwrap();
    let mut row = RowValues::new(schema.len());
    let mut fired = FiredRules::new();
    let names = ["http", "dns", "a-rather-longer-class-name"];
    let fill = |row: &mut RowValues, i: u64| {
        row.clear();
        row.set_int(0, i);
        if i % 5 != 0 {
            row.set_float(1, i as f64 / 3.0);
        }
        row.set_str(2, names[(i % 3) as usize]);
        row.set_int(3, i % 9);
    };
    // Warm-up: sizes the bitset and the string buffer.
    for i in 0..3 {
        fill(&mut row, i);
        compiled.evaluate(&row, &mut fired);
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut total = 0;
    COUNTED.with(|c| c.set(true));
    for i in 0..100_000 {
        fill(&mut row, i);
        compiled.evaluate(&row, &mut fired);
        total += fired.iter().count() + compiled.fired(&fired).count();
    }
    COUNTED.with(|c| c.set(false));
    assert_eq!(ALLOCATIONS.load(Ordering::Relaxed) - before, 0);
    assert!(total > 0);
}
