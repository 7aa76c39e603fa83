//! Prints the excerpt of one log at one budget, and its manifest: `show FILE BUDGET`.

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(budget)) = (args.next(), args.next()) else {
        eprintln!("usage: show FILE BUDGET");
        std::process::exit(2);
    };
    let raw = std::fs::read(&path).unwrap_or_default();
    let (clean, _) = exlogare_logclean::normalize_all(exlogare_logclean::Options::default(), &raw);
    match exlogare_excerpt::excerpt(&clean, budget.parse().unwrap_or(8192)) {
        Ok(e) => {
            print!("{}", e.text);
            for r in &e.manifest.ranges {
                eprintln!(
                    "{}-{} {} collapsed={} cut={}",
                    r.first,
                    r.last,
                    r.reason.name(),
                    r.collapsed_lines,
                    r.cut_bytes
                );
            }
        }
        Err(e) => eprintln!("{e}"),
    }
}
