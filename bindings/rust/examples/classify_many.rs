//! classify_many: classifies many commands through fastintent's async engine from Tokio, with
//! thousands of requests in flight, and prints completions per second.
//!
//!   cargo run --release --example classify_many -- MODEL TEXTS [--requests 100000]
//!       [--in-flight 4096] [--workers 2] [--max-batch 64] [--rounds 1]
//!
//! TEXTS is a JSON Lines file with a "text" field per line (e.g. CLINC150's test.jsonl) or a
//! plain text file, one command per line; its texts are repeated to make `--requests`. Each of
//! `--in-flight` tasks awaits `engine.predict(text)` in a loop, so that many requests are in
//! flight at any time; no task ever blocks a Tokio worker. `--rounds N` runs the whole batch N
//! times (after one untimed warm-up round of 10 %) and prints each round and the median.
//! bench.sh compares the median with bench/engine_bench's saturation on the same model.
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use fastintent::{Code, Engine, EngineOptions, Model};

struct Args {
    model: String,
    texts: String,
    requests: usize,
    in_flight: usize,
    workers: usize,
    max_batch: usize,
    rounds: usize,
    burst: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut a = Args {
        model: String::new(),
        texts: String::new(),
        requests: 100_000,
        in_flight: 4096,
        workers: 2,
        max_batch: 64,
        rounds: 1,
        burst: 64,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| -> Result<usize, String> {
            let v = it.next().ok_or(format!("{name} needs a value"))?;
            v.parse().map_err(|_| format!("{name}: not a number: {v}"))
        };
        match arg.as_str() {
            "--requests" => a.requests = value("--requests")?,
            "--in-flight" => a.in_flight = value("--in-flight")?.max(1),
            "--workers" => a.workers = value("--workers")?,
            "--max-batch" => a.max_batch = value("--max-batch")?,
            "--rounds" => a.rounds = value("--rounds")?.max(1),
            "--burst" => a.burst = value("--burst")?.max(1),
            s if s.starts_with("--") => return Err(format!("unknown flag {s}")),
            _ => positional.push(arg),
        }
    }
    match <[String; 2]>::try_from(positional) {
        Ok([model, texts]) => {
            a.model = model;
            a.texts = texts;
            Ok(a)
        }
        Err(_) => {
            Err("usage: classify_many MODEL TEXTS [--requests N] [--in-flight N] [--workers N] \
                       [--max-batch N] [--rounds N] [--burst N]"
                .into())
        }
    }
}

/// The "text" string of a JSON Lines record, unescaped; `None` when the line has none.
fn json_text(line: &str) -> Option<String> {
    let at = line.find("\"text\"")? + 6;
    let rest = line[at..].trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let mut cp = u32::from_str_radix(&hex, 16).ok()?;
                    if (0xD800..0xDC00).contains(&cp) {
                        // A surrogate pair: \uD83D\uDE00.
                        let low: String = chars.by_ref().skip(2).take(4).collect();
                        let low = u32::from_str_radix(&low, 16).ok()?;
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF);
                    }
                    out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                }
                other => out.push(other), // \" \\ \/
            },
            c => out.push(c),
        }
    }
    None
}

fn read_texts(path: &str) -> Result<Vec<String>, String> {
    let content = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let texts: Vec<String> = content
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            if l.trim_start().starts_with('{') {
                json_text(l).unwrap_or_default()
            } else {
                l.to_string()
            }
        })
        .filter(|t| !t.is_empty())
        .collect();
    if texts.is_empty() {
        return Err(format!("{path}: no texts"));
    }
    Ok(texts)
}

#[derive(Default)]
struct Counts {
    labelled: AtomicUsize,
    rejected: AtomicUsize,
    failed: AtomicUsize,
}

impl Counts {
    fn count(&self, answer: &fastintent::Result<fastintent::Prediction>) {
        let counter = match answer {
            Ok(p) if p.top().is_some() => &self.labelled,
            Ok(_) => &self.rejected,
            Err(_) => &self.failed,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Awaits one request, resubmitting it while the queue is full (only when more requests are in
/// flight than the engine's queue capacity).
async fn answer(
    engine: &Engine,
    text: &str,
    mut pending: fastintent::Pending,
) -> fastintent::Result<fastintent::Prediction> {
    loop {
        match pending.await {
            Err(e) if e.code() == Code::Overloaded => {
                tokio::task::yield_now().await;
                pending = engine.predict(text);
            }
            answer => return answer,
        }
    }
}

/// Classifies `requests` texts with `in_flight / burst` tasks. Each task submits `burst`
/// requests (submission is eager: `predict` queues the text and returns its future), then
/// awaits their answers in order, and repeats; so `in_flight` requests are in flight. With
/// `burst` = 1 each task awaits one request at a time.
async fn run(
    engine: &Arc<Engine>,
    texts: &Arc<Vec<String>>,
    requests: usize,
    in_flight: usize,
    burst: usize,
) -> (f64, Arc<Counts>) {
    let next = Arc::new(AtomicUsize::new(0));
    let counts = Arc::new(Counts::default());
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..(in_flight / burst).clamp(1, requests.max(1)) {
        let (engine, texts, next, counts) =
            (engine.clone(), texts.clone(), next.clone(), counts.clone());
        tasks.spawn(async move {
            let mut pending = Vec::with_capacity(burst);
            loop {
                let first = next.fetch_add(burst, Ordering::Relaxed);
                if first >= requests {
                    break;
                }
                for i in first..(first + burst).min(requests) {
                    let text = texts[i % texts.len()].as_str();
                    pending.push((text, engine.predict(text)));
                }
                // Last submitted first: the engine answers in queue order, so once the last one is
                // in, the others are too, and the task wakes once per burst instead of once per
                // answer (bench/engine_bench's submitters likewise wait for half their window).
                for (text, p) in pending.drain(..).rev() {
                    counts.count(&answer(&engine, text, p).await);
                }
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("a classify task panicked");
    }
    (requests as f64 / start.elapsed().as_secs_f64(), counts)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("classify_many: {e}");
            return ExitCode::from(2);
        }
    };
    let texts = match read_texts(&args.texts) {
        Ok(t) => Arc::new(t),
        Err(e) => {
            eprintln!("classify_many: {e}");
            return ExitCode::FAILURE;
        }
    };
    let model = match Model::load(&args.model) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("classify_many: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = EngineOptions {
        workers: args.workers,
        max_batch: args.max_batch,
        ..EngineOptions::default()
    };
    let engine = match Engine::new(&model, &options) {
        Ok(e) => Arc::new(e),
        Err(e) => {
            eprintln!("classify_many: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "classify_many: model {} ({} labels), {} texts, {} requests x {} rounds, {} in flight \
         (bursts of {}), {} engine workers, max_batch {}, {}",
        args.model,
        model.labels().len(),
        texts.len(),
        args.requests,
        args.rounds,
        args.in_flight,
        args.burst,
        args.workers,
        args.max_batch,
        fastintent::version()
    );
    if args.rounds > 1 {
        run(&engine, &texts, args.requests / 10, args.in_flight, args.burst).await;
        // warm-up
    }
    let mut rates = Vec::new();
    for round in 1..=args.rounds {
        let (rate, counts) = run(&engine, &texts, args.requests, args.in_flight, args.burst).await;
        println!(
            "  round {round}: {rate:.0} completions/s ({} labelled, {} rejected, {} failed)",
            counts.labelled.load(Ordering::Relaxed),
            counts.rejected.load(Ordering::Relaxed),
            counts.failed.load(Ordering::Relaxed)
        );
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    let stats = engine.stats().expect("stats of a live engine");
    println!(
        "  median: {:.0} completions/s (mean batch {:.1}, engine latency p50 {:?}, p99 {:?})",
        rates[rates.len() / 2],
        stats.mean_batch_size,
        stats.latency_p50,
        stats.latency_p99
    );
    ExitCode::SUCCESS
}
