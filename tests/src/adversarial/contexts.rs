//! The contexts a secret is shown in: wrapped across lines (terminal, `column`, `kubectl
//! describe`, table and box borders), behind per-line prefixes (timestamps, docker stream
//! headers, trace marks), with colour codes, `\r` redraws, invalid UTF-8 or NUL bytes around or
//! inside it, inside a very long line, or across a read-chunk boundary (placed by the corpus).
//! Each context only inserts bytes, tagged with the role the scorer needs: wrap junk inside a
//! secret is part of it, clean-up fodder is noise, the rest is text that must stay.

use super::kinds::Kind;
use super::rng::Rng;
use super::segs::{Role, Segs};

/// How a secret's lines are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Context {
    /// As the tool printed it.
    Plain,
    /// Hard-wrapped by a terminal at this many columns.
    Wrap(usize),
    /// `column`-style: the value continues on the next line, indented to its column.
    Column,
    /// `kubectl describe`: continued every 60 characters on lines indented by four spaces.
    Kubectl,
    /// A table cell continued on the next rows behind `| ` borders.
    Table,
    /// A box-drawing table (`│`) continued on the next rows.
    BoxDrawing,
    /// An RFC 3339 timestamp with a variable-length fraction before every line.
    Timestamp,
    /// Docker's multiplexed-stream header (8 bytes with NUL bytes) before every line.
    Docker,
    /// A `+ ` trace mark before every line.
    Trace,
    /// Colour codes around every line and around the secret.
    Ansi,
    /// Progress states redrawn with `\r` before the line.
    CarriageReturn,
    /// Invalid UTF-8 bytes right before and after the secret.
    InvalidUtf8,
    /// NUL bytes before and inside the secret.
    Nul,
    /// The line inside a line longer than 100 KB.
    LongLine,
    /// Across a 64 KiB (or 1 MiB) read-chunk boundary of the file.
    ChunkEdge,
}

impl Context {
    /// Every context, in report order.
    pub const ALL: [Context; 16] = [
        Context::Plain,
        Context::Wrap(80),
        Context::Wrap(120),
        Context::Column,
        Context::Kubectl,
        Context::Table,
        Context::BoxDrawing,
        Context::Timestamp,
        Context::Docker,
        Context::Trace,
        Context::Ansi,
        Context::CarriageReturn,
        Context::InvalidUtf8,
        Context::Nul,
        Context::LongLine,
        Context::ChunkEdge,
    ];

    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Context::Plain => "plain",
            Context::Wrap(80) => "wrap-80",
            Context::Wrap(_) => "wrap-120",
            Context::Column => "column",
            Context::Kubectl => "kubectl-describe",
            Context::Table => "table-border",
            Context::BoxDrawing => "box-drawing",
            Context::Timestamp => "prefix-timestamp",
            Context::Docker => "prefix-docker-mux",
            Context::Trace => "prefix-trace",
            Context::Ansi => "ansi",
            Context::CarriageReturn => "cr-redraw",
            Context::InvalidUtf8 => "invalid-utf8",
            Context::Nul => "nul-bytes",
            Context::LongLine => "long-line",
            Context::ChunkEdge => "chunk-edge",
        }
    }

    /// Whether the context breaks a value across lines.
    pub fn wraps(self) -> bool {
        matches!(
            self,
            Context::Wrap(_)
                | Context::Column
                | Context::Kubectl
                | Context::Table
                | Context::BoxDrawing
        )
    }

    /// Whether the corpus shows `kind` in this context. Wrapping is the promise for known
    /// values (in any encoding): an unknown secret broken across lines at an arbitrary point
    /// (a token, a base64 blob cut inside its `-----BEGIN` marker) is not recognisable as one.
    pub fn applies(self, kind: Kind) -> bool {
        !self.wraps() || kind == Kind::Known
    }
}

/// The lines joined into one text ending in a newline. The newline between two lines that are
/// nothing but secret (a key's body) is part of the secret.
pub fn join(lines: &[Segs]) -> Segs {
    let secret_only = |s: &Segs| !s.is_empty() && s.parts().iter().all(|(r, _)| *r == Role::Secret);
    let mut out = Segs::new();
    for (i, line) in lines.iter().enumerate() {
        out.extend(line);
        let role = match lines.get(i + 1) {
            Some(next) if secret_only(line) && secret_only(next) => Role::Secret,
            _ => Role::Text,
        };
        out.push(role, b"\n");
    }
    out
}

/// The span of the longest secret run of `line` (as offsets into it).
fn longest_secret(line: &Segs) -> Option<(usize, usize)> {
    let mut at = 0;
    let mut best: Option<(usize, usize)> = None;
    for (role, bytes) in line.parts() {
        if *role == Role::Secret && best.is_none_or(|(s, e)| e - s < bytes.len()) {
            best = Some((at, at + bytes.len()));
        }
        at += bytes.len();
    }
    best
}

/// Breaks `line` at `breaks` (offsets), inserting `junk(i)` there; junk inside the secret
/// span is part of the secret.
fn break_at(
    line: &Segs,
    span: (usize, usize),
    breaks: &[usize],
    junk: impl Fn(usize) -> Vec<u8>,
) -> Segs {
    let inside: Vec<(usize, Vec<u8>)> = breaks
        .iter()
        .enumerate()
        .filter(|(_, b)| **b > span.0 && **b < span.1)
        .map(|(i, b)| (*b, junk(i)))
        .collect();
    let outside: Vec<(usize, Vec<u8>)> = breaks
        .iter()
        .enumerate()
        .filter(|(_, b)| **b <= span.0 || **b >= span.1)
        .map(|(i, b)| (*b, junk(i)))
        .collect();
    // Insert from the end so offsets stay valid across the two passes.
    let mut all: Vec<(usize, Role, Vec<u8>)> = inside
        .into_iter()
        .map(|(b, j)| (b, Role::Secret, j))
        .chain(outside.into_iter().map(|(b, j)| (b, Role::Text, j)))
        .collect();
    all.sort_by_key(|b| std::cmp::Reverse(b.0));
    let mut out = line.clone();
    for (b, role, j) in all {
        out = out.insert_as(role, &[(b, j)]);
    }
    out
}

/// Break offsets of a wrap every `width` bytes, one of which falls strictly inside `span`.
fn periodic(rng: &mut Rng, len: usize, span: (usize, usize), width: usize) -> Vec<usize> {
    let p = span.0 + 1 + rng.below(span.1 - span.0 - 1);
    let mut b: Vec<usize> = (0..)
        .map(|k| p % width + k * width)
        .take_while(|&x| x < len)
        .filter(|&x| x > 0)
        .collect();
    b.dedup();
    b
}

/// Applies `ctx` to the lines of a secret and returns the text (each line ended).
pub fn apply(ctx: Context, lines: &[Segs], rng: &mut Rng) -> Segs {
    let mut lines = lines.to_vec();
    // The line a one-line context works on: the one holding the longest secret.
    let main = (0..lines.len())
        .max_by_key(|&i| longest_secret(&lines[i]).map_or(0, |(s, e)| e - s))
        .unwrap_or(0);
    let span = lines.get(main).and_then(longest_secret);
    match (ctx, span) {
        (Context::Wrap(w), Some(span)) if span.1 - span.0 >= 2 => {
            let line = &lines[main];
            let b = periodic(rng, line.len(), span, w);
            lines[main] = break_at(line, span, &b, |_| b"\n".to_vec());
        }
        (Context::Column, Some(span)) if span.1 - span.0 >= 2 => {
            let p = span.0 + 1 + rng.below(span.1 - span.0 - 1);
            let indent = span.0.min(40);
            lines[main] = break_at(&lines[main], span, &[p], |_| {
                let mut j = b"\n".to_vec();
                j.extend(std::iter::repeat_n(b' ', indent));
                j
            });
        }
        (Context::Kubectl, Some(span)) if span.1 - span.0 >= 2 => {
            let first = span.0 + 1 + rng.below((span.1 - span.0 - 1).min(60));
            let b: Vec<usize> = (0..)
                .map(|k| first + k * 60)
                .take_while(|&x| x < span.1)
                .collect();
            lines[main] = break_at(&lines[main], span, &b, |_| b"\n    ".to_vec());
        }
        (Context::Table | Context::BoxDrawing, Some(span)) if span.1 - span.0 >= 2 => {
            let bar = if ctx == Context::Table { "|" } else { "│" };
            let width = rng.range(24, 48);
            let line = &lines[main];
            let b = periodic(rng, line.len(), span, width);
            // Each row: `| <label> | <cell piece><pad> |`.
            let label_w = 10;
            let mut pieces_end = b.clone();
            pieces_end.push(line.len());
            let mut junk = Vec::new();
            let mut prev = 0;
            for &end in &pieces_end[..pieces_end.len() - 1] {
                let pad = width.saturating_sub(end - prev);
                junk.push(format!(
                    "{} {bar}\n{bar} {} {bar} ",
                    " ".repeat(pad),
                    " ".repeat(label_w)
                ));
                prev = end;
            }
            let mut row = Segs::of_text(format!("{bar} {:<label_w$} {bar} ", "value"));
            row.extend(&break_at(line, span, &b, |i| junk[i].clone().into_bytes()));
            let last = line.len() - prev;
            row.text(format!("{} {bar}", " ".repeat(width.saturating_sub(last))));
            lines[main] = row;
        }
        (Context::Timestamp, _) => {
            for (i, line) in lines.iter_mut().enumerate() {
                let n = rng.range(1, 9);
                let frac = rng.string(b"0123456789", n);
                let mut s = Segs::of_text(format!(
                    "2024-05-01T10:{:02}:{:02}.{frac}Z ",
                    i / 60 % 60,
                    i % 60
                ));
                s.extend(line);
                *line = s;
            }
        }
        (Context::Docker, _) => {
            for line in lines.iter_mut() {
                let mut s = Segs::new();
                s.noise([1u8, 0, 0, 0]);
                s.noise(u32::try_from(line.len() + 1).unwrap_or(0).to_be_bytes());
                s.extend(line);
                *line = s;
            }
        }
        (Context::Trace, _) => {
            for line in lines.iter_mut() {
                let mut s = Segs::of_text("+ ");
                s.extend(line);
                *line = s;
            }
        }
        (Context::Ansi, _) => {
            for (i, line) in lines.iter_mut().enumerate() {
                let mut inner = line.clone();
                if i == main
                    && let Some((s, e)) = span
                {
                    inner = inner
                        .insert_as(Role::Noise, &[(e, b"\x1b[22m".to_vec())])
                        .insert_as(Role::Noise, &[(s, b"\x1b[1m".to_vec())]);
                }
                let mut s = Segs::new();
                s.noise(format!("\x1b[{}m", 31 + rng.below(6)));
                s.extend(&inner);
                s.noise(b"\x1b[0m");
                *line = s;
            }
        }
        (Context::CarriageReturn, _) => {
            let mut s = Segs::new();
            s.noise(format!(
                "Progress {}%\rProgress {}%\r",
                rng.range(1, 40),
                rng.range(41, 99)
            ));
            s.extend(&lines[main]);
            lines[main] = s;
        }
        (Context::InvalidUtf8, Some((s, e))) => {
            lines[main] = lines[main]
                .insert_as(Role::Noise, &[(e, b"\xc3".to_vec())])
                .insert_as(Role::Noise, &[(s, b"\xff\xfe".to_vec())]);
        }
        (Context::Nul, Some((s, e))) => {
            let inside = if e - s >= 2 {
                s + 1 + rng.below(e - s - 1)
            } else {
                e
            };
            lines[main] = lines[main]
                .insert_as(Role::Noise, &[(inside, b"\0".to_vec())])
                .insert_as(Role::Noise, &[(s, b"\0\0".to_vec())]);
        }
        (Context::LongLine, _) => {
            let before = rng.range(60_000, 110_000);
            let after = rng.range(1_000, 50_000);
            let filler = |n: usize| "k=v ".repeat(n / 4);
            let mut s = Segs::of_text(filler(before));
            if lines.len() > 1 {
                // Several lines in one long line: JSON-escaped, as a logged JSON object holds them.
                let joined = join(&lines);
                let escaped =
                    joined.map(|_, b| String::from_utf8_lossy(b).replace('\n', "\\n").into_bytes());
                s.text("{\"private_key\": \"").extend(&escaped).text("\"}");
                s.text(format!(" {}", filler(after)));
                return join(&[s]);
            }
            s.extend(&lines[main]);
            s.text(format!(" {}", filler(after)));
            lines[main] = s;
        }
        _ => {}
    }
    join(&lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(secret: &str) -> Vec<Segs> {
        let mut s = Segs::of_text("key: ");
        s.secret(secret).text(" end");
        vec![s]
    }

    #[test]
    fn wrap_contexts_break_the_secret_and_keep_its_bytes() {
        let mut rng = Rng::new(1);
        let secret = "A".repeat(150);
        for ctx in [
            Context::Wrap(80),
            Context::Column,
            Context::Kubectl,
            Context::Table,
            Context::BoxDrawing,
        ] {
            let out = apply(ctx, &one(&secret), &mut rng);
            let text = String::from_utf8_lossy(&out.bytes()).to_string();
            assert!(text.lines().count() >= 2, "{ctx:?}: {text}");
            assert!(!text.contains(&secret), "{ctx:?} did not break the secret");
            let only_a: String = text.chars().filter(|&c| c == 'A').collect();
            assert_eq!(only_a.len(), 150, "{ctx:?}");
        }
    }

    #[test]
    fn prefix_contexts_prefix_every_line() {
        let mut rng = Rng::new(2);
        let lines = vec![Segs::of_text("a"), Segs::of_text("b")];
        let ts = apply(Context::Timestamp, &lines, &mut rng).bytes();
        assert_eq!(
            String::from_utf8_lossy(&ts)
                .matches("2024-05-01T10:")
                .count(),
            2
        );
        let docker = apply(Context::Docker, &lines, &mut rng).bytes();
        assert_eq!(&docker[..9], b"\x01\0\0\0\0\0\0\x02a");
    }
}
