//! Costs at scale, in process on `--demo large` (10,000 tasks, 200 services, 500 instances),
//! through the real update and render paths: frame render time by rows in the focused pane, the
//! update when a 10,000-task answer arrives, key-press-to-frame latency, and memory per task.
//! Run: `cargo bench --bench scale --profile dev` (or `--release`).
//!
//! With `-- huge` the same on `--demo huge` at 100,000 rows: the core cluster's tasks pane is
//! handed the whole region's 100,000 tasks (no pane lists more than one cluster, so this is the
//! worst a pane could hold), and the triage engine's evaluation over all of them is timed too.
//!
//! Times are the CPU time of the thread that updates and draws, as the UI loop's thread would
//! spend it (`testkit::thread_cpu_time`): figures that hold on a machine shared with builds.
//!
//! Frames are drawn into ratatui's TestBackend, as the runtime draws into the terminal: the
//! frame is built, diffed against the last one and the changes written (here, to memory).

use std::hint::black_box;
use std::time::{Duration, Instant};

use ecsmon::action::{Action, Effect};
use ecsmon::memory::{Counting, live_bytes};
use ecsmon::model::Snapshot;
use ecsmon::model::{Query, Task};
use ecsmon::testkit::{Harness, parse_keys, thread_cpu_time};
use ecsmon::ui;
use ecsmon::update::update;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// Live heap bytes counted, over the allocator the binary runs on (src/main.rs), so times and
/// sizes are the shipped console's.
#[global_allocator]
static ALLOCATOR: Counting<mimalloc::MiMalloc> = Counting(mimalloc::MiMalloc);

const WIDTH: u16 = 200;
const HEIGHT: u16 = 60;

/// Median and 95th percentile of `runs` timings of `f`, in this thread's CPU time: on a machine
/// shared with builds the wall clock also counts waiting for a core (work sent to other threads,
/// as the runtime sends it off the UI loop, is not in it either way).
fn time(runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = thread_cpu_time();
            f();
            thread_cpu_time().saturating_sub(t)
        })
        .collect();
    samples.sort();
    (samples[runs / 2], samples[runs * 95 / 100])
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

struct Bench {
    h: Harness,
    /// Rows the focused pane holds at full size.
    full: usize,
    /// Samples per measurement (fewer at 100,000 rows, where a dev build is slow).
    runs: usize,
    terminal: Terminal<TestBackend>,
    query: Query,
    all: Vec<Task>,
    seq: u64,
}

impl Bench {
    /// The fleet with `full` tasks in the focused pane: the large cluster's 10,000, or the
    /// huge region's 100,000.
    fn new(scenario: &str, full: usize) -> Bench {
        let t = Instant::now();
        let mut h = Harness::new(scenario, WIDTH, HEIGHT);
        println!(
            "\n--demo {scenario}: built and first frame's data loaded in {:.2?}",
            t.elapsed()
        );
        h.press(":tasks<enter>");
        let query = h.state.focused().pane.query();
        let mut all = h.state.fleet.tasks(&query).to_vec();
        if all.len() < full {
            all = region_tasks(&h);
        }
        assert_eq!(all.len(), full, "the tasks for the focused pane");
        Bench {
            h,
            full,
            runs: if full > 10_000 { 20 } else { 50 },
            terminal: Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap(),
            query,
            all,
            seq: 1 << 40,
        }
    }

    /// One action through `update`, as the runtime applies it: the effects it asks for (polls,
    /// metrics) would run as tasks of their own, not before the frame, so they are dropped.
    fn update(&mut self, action: Action) {
        black_box(update(&mut self.h.state, action, &self.h.keymap));
    }

    /// An answer of `tasks` to the focused pane's query, as a poller delivers it.
    fn arrive(&mut self, tasks: Vec<Task>) {
        let answer = Answer::of(tasks);
        self.arrive_ready(answer);
    }

    /// An answer made ready as the poller makes it (fingerprinted off the UI loop).
    fn arrive_ready(&mut self, answer: Answer) {
        self.seq += 1;
        let at = self.h.state.now;
        self.update(Action::Loaded {
            query: self.query.clone(),
            seq: self.seq,
            at,
            result: Ok(answer.0),
            fingerprint: answer.1,
        });
    }

    /// The turns after an answer in which the runtime reads a big table's cells ahead (each
    /// `Effect::ReadCells` is answered at once, keys first): the longest turn and how many.
    fn read_ahead(&mut self) -> (Duration, usize) {
        let mut turns = Vec::new();
        loop {
            let t = thread_cpu_time();
            let effects = update(&mut self.h.state, Action::CellsRead, &self.h.keymap);
            turns.push(thread_cpu_time().saturating_sub(t));
            if !effects.contains(&Effect::ReadCells) {
                break;
            }
        }
        (turns.iter().copied().max().unwrap_or_default(), turns.len())
    }

    fn draw(&mut self) {
        let ctx = ui::Ctx {
            theme: &self.h.theme,
            keymap: &self.h.keymap,
        };
        let state = &self.h.state;
        self.terminal.draw(|f| ui::render(f, state, &ctx)).unwrap();
    }

    fn rows(&self) -> usize {
        self.h.state.focused().rows.len()
    }
}

/// An answer and its fingerprint, as a poller hands them to the UI loop.
struct Answer(Snapshot, Option<ecsmon::model::Fingerprint>);

impl Answer {
    fn of(tasks: Vec<Task>) -> Answer {
        let snapshot = Snapshot::Tasks(tasks);
        let fingerprint = snapshot.fingerprint();
        Answer(snapshot, fingerprint)
    }
}

/// Every running task of every cluster, straight from the source.
fn region_tasks(h: &Harness) -> Vec<Task> {
    use futures::executor::block_on;
    let clusters = block_on(h.source.clusters()).unwrap();
    clusters
        .iter()
        .flat_map(|c| {
            let scope = ecsmon::model::TaskScope::Cluster {
                cluster: c.name.clone(),
            };
            block_on(h.source.tasks(&scope, false)).unwrap()
        })
        .collect()
}

/// Every cluster's running tasks answered, as if a pane showed each cluster.
fn hold_every_cluster(b: &mut Bench) {
    use futures::executor::block_on;
    let clusters = block_on(b.h.source.clusters()).unwrap();
    for c in clusters {
        let scope = ecsmon::model::TaskScope::Cluster { cluster: c.name };
        let tasks = block_on(b.h.source.tasks(&scope, false)).unwrap();
        b.seq += 1;
        let at = b.h.state.now;
        b.update(Action::Loaded {
            fingerprint: None,
            query: Query::Tasks {
                scope,
                stopped: false,
            },
            seq: b.seq,
            at,
            result: Ok(Snapshot::Tasks(tasks)),
        });
    }
}

/// `10,000` for 10000.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn render_by_rows(b: &mut Bench) {
    println!("\nframe render, {WIDTH}×{HEIGHT}, tasks pane (median / p95 of 200 frames)");
    let full = b.full;
    for n in [10, 1_000, 10_000, 100_000]
        .into_iter()
        .filter(|&n| n <= full)
    {
        b.arrive(b.all[..n].to_vec());
        assert_eq!(b.rows(), n);
        for (label, keys) in [("top", "gj"), ("bottom", "G")] {
            b.h.press(keys);
            // Alternate two visible selections so every frame has something to change.
            let at = b.h.state.focused().selected;
            let mut flip = false;
            let (median, p95) = time(200, || {
                flip = !flip;
                b.h.state.focused_mut().selected = if flip { at.saturating_sub(1) } else { at };
                b.draw();
            });
            println!(
                "  {n:>6} rows, selection at the {label:<6}: {} / {}",
                ms(median),
                ms(p95)
            );
        }
        let (median, p95) = time(200, || b.draw());
        println!(
            "  {n:>6} rows, nothing changed:          {} / {}",
            ms(median),
            ms(p95)
        );
    }
    b.h.press("g");
}

fn update_per_arrival(b: &mut Bench) {
    let runs = b.runs.min(30);
    println!(
        "\nupdate when a {}-task answer arrives (median / p95 of {runs}; the copy and its fingerprint, \
         made by the poller off the loop, outside the timing)",
        thousands(b.full)
    );
    for (label, keys) in [
        ("no filter, natural order", ""),
        ("filter active", "/RUNNING<enter>"),
        ("filter and sort active", "o"),
    ] {
        b.h.press(keys);
        // The same rows again (a steady fleet), then rows that differ from the last answer's
        // (one task's health flips each time: the rows' derived cells are made again).
        for changed in [false, true] {
            let mut answers: Vec<Answer> = (0..runs)
                .map(|i| {
                    let mut tasks = b.all.clone();
                    if changed {
                        tasks[i % 7].health =
                            if i % 2 == 0 { "UNHEALTHY" } else { "HEALTHY" }.into();
                    }
                    Answer::of(tasks)
                })
                .collect();
            let (median, p95) = time(runs, || {
                let answer = answers.pop().unwrap();
                b.arrive_ready(answer);
            });
            let what = if changed {
                "rows changed"
            } else {
                "the same rows"
            };
            println!("  {label:<28} {what:<14} {} / {}", ms(median), ms(p95));
        }
    }
    b.h.press("/<c-u><enter>");
    // Back to the natural order: `o` cycles through the columns, then none.
    while b.h.state.focused().sort.column.is_some() {
        b.h.press("o");
    }
}

fn key_to_frame(b: &mut Bench) {
    let runs = b.runs;
    println!(
        "\nkey press to frame drawn, {} rows (update + render; median / p95 of {runs})",
        thousands(b.full)
    );
    b.arrive(b.all.clone());
    let (longest, turns) = b.read_ahead();
    println!(
        "  (after the answer: its cells read ahead in {turns} turns, the longest {})",
        ms(longest)
    );
    let keys: &[(&str, &str, &str)] = &[
        ("j / k (move)", "j", "k"),
        ("pgdn / pgup", "<pgdn>", "<pgup>"),
        ("G / g (last, first row)", "G", "g"),
        ("o (sort by the next column)", "o", "o"),
        ("a filter letter, then backspace", "/x", "<bs><esc>"),
        (
            "two letters (the second narrows), two backspaces",
            "/ax",
            "<bs><bs><esc>",
        ),
        ("d (describe) / esc", "d", "<esc>"),
    ];
    for (label, there, back) in keys {
        let (there, back) = (parse_keys(there), parse_keys(back));
        let (median, p95) = time(runs, || {
            for key in &there {
                b.update(Action::Key(*key));
            }
            b.draw();
            for key in &back {
                b.update(Action::Key(*key));
            }
            b.draw();
        });
        // Each sample is two presses and two frames.
        println!("  {label:<34} {} / {}", ms(median / 2), ms(p95 / 2));
    }
    while b.h.state.focused().sort.column.is_some() {
        b.h.press("o");
    }
}

/// What the clock costs: a tick a second later (update and the schedule after it: polls due,
/// metrics, logs, and the triage engine's fleet-wide look, which it takes once a tick).
fn per_tick(b: &mut Bench) {
    let runs = b.runs;
    println!(
        "\na tick, one second later each, {} tasks loaded (median / p95 of {runs})",
        thousands(b.full)
    );
    b.arrive(b.all.clone());
    let mut now = b.h.state.now;
    let (median, p95) = time(runs, || {
        now += chrono::TimeDelta::seconds(1);
        b.update(Action::Tick(now));
    });
    println!(
        "  update + schedule (effects not run)   {} / {}",
        ms(median),
        ms(p95)
    );
}

/// The UI loop's longest stall over a minute of the fleet moving: every action `update` applies
/// (ticks, poll answers, metrics, the engine's findings) timed one by one; the polls and the
/// engine's evaluations themselves run off the loop, as in the runtime.
fn longest_stall(b: &mut Bench) {
    println!(
        "\nthe UI loop's longest stall, a minute of the fleet moving, every task of the fleet held \
         (each cluster's answered as a pane's would be)"
    );
    b.arrive(b.all.clone());
    hold_every_cluster(b);
    b.h.longest_update = Default::default();
    for _ in 0..60 {
        b.h.advance(1);
        // The harness records every effect; the runtime drops a finished engine job (and the
        // shared series it held, which the next metrics answer would otherwise copy).
        b.h.effects.clear();
        b.draw();
    }
    let (worst, what) = &b.h.longest_update;
    println!("  longest update: {} ({what})", ms(*worst));
}

fn memory_per_task(b: &mut Bench) {
    println!("\nmemory per task (live heap bytes, counting allocator)");
    let before = live_bytes();
    let copy = black_box(b.all.clone());
    let model = live_bytes() - before;
    println!(
        "  the model alone: {} bytes a task ({:.1} MiB for {})",
        model / copy.len(),
        model as f64 / 1048576.0,
        thousands(copy.len())
    );
    drop(copy);
    let mut held = Vec::new();
    let sizes = [0, b.full / 10, b.full / 2, b.full];
    for n in sizes {
        b.arrive(b.all[..n].to_vec());
        b.draw();
        // Big answers are freed on a thread of their own: let it finish.
        std::thread::sleep(Duration::from_millis(500));
        held.push((n, live_bytes()));
    }
    let (n0, base) = held[0];
    for &(n, live) in &held[1..] {
        println!(
            "  console holding {n:>6} tasks in the focused pane: +{:.2} MiB over {n0}, {} bytes a task",
            (live - base) as f64 / 1048576.0,
            (live - base) / n
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; the one argument of ours is the scenario.
    let huge = std::env::args().any(|a| a == "huge");
    let mut b = if huge {
        Bench::new("huge", 100_000)
    } else {
        Bench::new("large", 10_000)
    };
    b.draw();
    // `SCALE_ONLY=stall` measures the stall alone (the rest takes minutes at 100,000 rows),
    // `SCALE_ONLY=keys`, the keys alone.
    match std::env::var("SCALE_ONLY").as_deref() {
        Ok("stall") => return longest_stall(&mut b),
        Ok("keys") => return key_to_frame(&mut b),
        _ => {}
    }
    render_by_rows(&mut b);
    update_per_arrival(&mut b);
    key_to_frame(&mut b);
    per_tick(&mut b);
    longest_stall(&mut b);
    memory_per_task(&mut b);
}
