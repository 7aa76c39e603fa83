//! The CiDiff bench: how often the labelled error lines of a real failed CI log are all in the
//! kept text, for tail-only and for the excerpt builder, at 8 KiB and 64 KiB.
//!
//! `cargo run --release -p exlogare-excerpt --example cidiff -- DATASET_DIR [-v]`
//!
//! Each case is one ground-truth file (`groundtruth`, `groundtruth2`) beside a `fail.log`; its
//! `E a-b` lines are the labelled error lines (1-based). The log is first cleaned as `exlogare`
//! cleans it (ANSI codes removed, `\r` redraws collapsed; this keeps the line numbers). Cases
//! without `E` lines are left out of the shares.
//!
//! Scoring, for the excerpt builder:
//! - *covered* (the headline figure): every labelled line is inside a range of the manifest.
//!   A range may hold lines shown once as a repeat (`[×N]`, alike but for numbers) or a long line
//!   whose start is kept and middle cut; those count as kept.
//! - *verbatim*: every labelled line's whole text appears in the excerpt text (stricter).
//!
//! Tail-only keeps the last B bytes, from the first line start in them; a line is kept when it
//! lies wholly inside.

use std::path::{Path, PathBuf};

use exlogare_logclean::{Options, normalize_all};

/// One labelled case.
struct Case {
    name: String,
    log: String,
    errors: Vec<u64>,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: cidiff DATASET_DIR [-v]");
        std::process::exit(2);
    };
    let verbose = args.any(|a| a == "-v");
    let mut cases = Vec::new();
    collect(Path::new(&dir), &mut cases);
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    let labelled: Vec<&Case> = cases.iter().filter(|c| !c.errors.is_empty()).collect();
    println!(
        "CiDiff: {} ground-truth cases, {} with labelled error (E) lines; shares are of those.",
        cases.len(),
        labelled.len()
    );
    println!(
        "covered = every E line inside a kept range of the manifest (a repeat shown once as [×N] or a long line cut in the middle counts as kept);"
    );
    println!(
        "verbatim = every E line's whole text is in the excerpt text; tail = last B bytes, whole lines only.\n"
    );
    println!("| budget | tail-only | excerpt (covered) | excerpt (verbatim) |");
    println!("|---|---|---|---|");
    for budget in [8usize << 10, 64 << 10] {
        let (mut tail, mut covered, mut verbatim) = (0, 0, 0);
        for case in &labelled {
            let t = tail_keeps(&case.log, budget, &case.errors);
            let e = match exlogare_excerpt::excerpt(case.log.as_bytes(), budget) {
                Ok(e) => e,
                Err(err) => {
                    eprintln!("{}: {err}", case.name);
                    continue;
                }
            };
            let c = case.errors.iter().all(|&n| {
                e.manifest
                    .ranges
                    .iter()
                    .any(|r| r.first <= n && n <= r.last)
            });
            let lines: Vec<&str> = case.log.split('\n').collect();
            let v = case.errors.iter().all(|&n| {
                let line = lines.get((n - 1) as usize).copied().unwrap_or("");
                e.text.contains(line.trim_end_matches('\r'))
            });
            tail += t as usize;
            covered += c as usize;
            verbatim += v as usize;
            if verbose && !c {
                let missed: Vec<u64> = case
                    .errors
                    .iter()
                    .copied()
                    .filter(|&n| {
                        !e.manifest
                            .ranges
                            .iter()
                            .any(|r| r.first <= n && n <= r.last)
                    })
                    .collect();
                eprintln!(
                    "{budget}: {} tail={t} covered={c} missed {} of {} E lines, first {:?}",
                    case.name,
                    missed.len(),
                    case.errors.len(),
                    &missed[..missed.len().min(5)]
                );
            }
        }
        let pct = |n: usize| 100.0 * n as f64 / labelled.len().max(1) as f64;
        println!(
            "| {} KiB | {:.1}% ({tail}) | {:.1}% ({covered}) | {:.1}% ({verbatim}) |",
            budget >> 10,
            pct(tail),
            pct(covered),
            pct(verbatim)
        );
    }
}

/// Finds every ground-truth file under `dir`.
fn collect(dir: &Path, cases: &mut Vec<Case>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let log_path = dir.join("fail.log");
    for path in paths {
        if path.is_dir() {
            collect(&path, cases);
            continue;
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.starts_with("groundtruth") {
            continue;
        }
        let (Ok(truth), Ok(raw)) = (std::fs::read_to_string(&path), std::fs::read(&log_path))
        else {
            continue;
        };
        let (clean, _) = normalize_all(Options::default(), &raw);
        let clean = String::from_utf8_lossy(&clean).into_owned();
        let raw_lines = raw.split(|&b| b == b'\n').count();
        let clean_lines = clean.split('\n').count();
        let log = if raw_lines == clean_lines {
            clean
        } else {
            eprintln!(
                "{}: the clean-up changed the line count; using the raw log",
                path.display()
            );
            String::from_utf8_lossy(&raw).into_owned()
        };
        // A label on the empty "line" after the last line end names no text: it is dropped.
        let total = log.lines().count() as u64;
        let mut errors = Vec::new();
        for line in truth.lines().skip(1) {
            let Some(spec) = line.trim().strip_prefix("E ") else {
                continue;
            };
            let (a, b) = spec.split_once('-').unwrap_or((spec, spec));
            if let (Ok(a), Ok(b)) = (a.trim().parse::<u64>(), b.trim().parse::<u64>()) {
                errors.extend((a..=b).filter(|&n| n >= 1 && n <= total));
            }
        }
        errors.sort_unstable();
        errors.dedup();
        cases.push(Case {
            name: path
                .strip_prefix(dir.parent().unwrap_or(dir))
                .unwrap_or(&path)
                .display()
                .to_string(),
            log,
            errors,
        });
    }
}

/// Whether keeping only the last `budget` bytes (whole lines) keeps every line in `errors`.
fn tail_keeps(log: &str, budget: usize, errors: &[u64]) -> bool {
    if log.len() <= budget {
        return true;
    }
    let cut = log.len() - budget;
    // The first whole line starts after the first line end at or after the cut.
    let start = match log.as_bytes()[cut..].iter().position(|&b| b == b'\n') {
        Some(p) => cut + p + 1,
        None => log.len(),
    };
    let first_kept = log.as_bytes()[..start]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
        + 1;
    errors.iter().all(|&n| n >= first_kept)
}
