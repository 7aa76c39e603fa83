//! Assembling one log from every secret kind × every context, in real tool output, with the
//! known values as the job's variables. Plants in the chunk-edge context are placed so that
//! the secret straddles a 64 KiB multiple of the file (one of them 1 MiB), where a reader
//! cuts its chunks.

use super::contexts::{self, Context};
use super::kinds::{self, Form, Kind};
use super::rng::Rng;
use super::segs::{Role, Segs};
use super::tools;

/// One planted secret.
#[derive(Clone, Debug)]
pub struct Plant {
    /// What it is.
    pub kind: Kind,
    /// How it is shown.
    pub context: Context,
    /// The variant (encoding, template, key type), for reports.
    pub variant: String,
    /// The strings whose 8-byte windows (and their encodings) must not survive.
    pub needles: Vec<Vec<u8>>,
    /// Where it starts in the log.
    pub offset: usize,
}

/// A generated log and what the scorer needs to know about it.
pub struct Corpus {
    /// The log, each byte tagged with its role.
    pub log: Segs,
    /// Every planted secret.
    pub plants: Vec<Plant>,
    /// Must-keep tokens (each must be in the output as often as in the log).
    pub keep: Vec<String>,
    /// The job's variables holding the known values.
    pub env: Vec<(String, String)>,
}

/// The names the known values are configured under (all look secret to exlogare).
const KNOWN_NAMES: [&str; 6] = [
    "DB_PASSWORD",
    "DEPLOY_TOKEN",
    "API_KEY",
    "SIGNING_SECRET",
    "REGISTRY_PASSWORD",
    "VAULT_TOKEN",
];

/// One core per variant of `kind`, drawn fresh.
fn cores(rng: &mut Rng, kind: Kind, n: &mut usize) -> Vec<kinds::Core> {
    let mut next_name = || {
        *n += 1;
        format!("{}_{}", KNOWN_NAMES[*n % KNOWN_NAMES.len()], *n)
    };
    match kind {
        Kind::Known => Form::ALL
            .iter()
            .flat_map(|&form| {
                kinds::KNOWN_STYLES
                    .iter()
                    .map(|style| (form, *style))
                    .collect::<Vec<_>>()
            })
            .map(|(form, style)| kinds::known(rng, &next_name(), style, form))
            .collect(),
        Kind::PrivateKey => kinds::PEM_TYPES
            .iter()
            .flat_map(|t| {
                [None]
                    .into_iter()
                    .chain(kinds::PEM_B64_STYLES.iter().map(|s| Some(*s)))
                    .map(|style| (*t, style))
                    .collect::<Vec<_>>()
            })
            .map(|(t, style)| kinds::private_key(rng, t, style))
            .collect(),
        Kind::BasicAuth => (0..6).map(|_| kinds::basic_auth(rng)).collect(),
        Kind::NamedHex => (0..6).map(|_| kinds::named_hex(rng)).collect(),
        Kind::Password => (0..9).map(|_| kinds::password(rng)).collect(),
        Kind::Token => kinds::TOKEN_TYPES
            .iter()
            .map(|t| kinds::token(rng, t))
            .collect(),
    }
}

/// Filler lines of ordinary output, about `len` bytes, with their must-keep tokens.
fn filler(rng: &mut Rng, len: usize, keep: &mut Vec<String>) -> String {
    let mut s = String::new();
    while s.len() < len {
        let b = tools::block(rng);
        keep.extend(b.keep);
        s.push_str(&b.text);
    }
    s
}

/// Generates the corpus of `seed`.
pub fn generate(seed: u64) -> Corpus {
    let mut rng = Rng::new(seed);
    let mut log = Segs::new();
    let mut keep = Vec::new();
    let mut env = Vec::new();
    let mut plants = Vec::new();
    let pre = tools::preamble(&mut rng);
    keep.extend(pre.keep);
    log.text(pre.text);
    let mut names = 0;
    let mut edges = 0usize;
    for ctx in Context::ALL {
        for kind in Kind::ALL {
            let mut r = rng.fork(&format!("{}/{}", ctx.name(), kind.name()));
            // Long lines and chunk edges make big logs: every fifth variant there.
            let every = if matches!(ctx, Context::LongLine | Context::ChunkEdge) {
                5
            } else {
                1
            };
            for (i, core) in cores(&mut r, kind, &mut names).into_iter().enumerate() {
                if !ctx.applies(kind) || i % every != 0 {
                    continue;
                }
                if let Some((name, value)) = &core.known {
                    env.push((name.clone(), value.clone()));
                }
                let b = tools::block(&mut r);
                keep.extend(b.keep);
                log.text(b.text);
                let text = contexts::apply(ctx, &core.lines, &mut r);
                if ctx == Context::ChunkEdge {
                    // Pad so the middle of the secret lands on the next 64 KiB multiple (the
                    // first one past 1 MiB once the log is that long).
                    edges += 1;
                    let mid = text
                        .parts()
                        .iter()
                        .scan(0usize, |at, (role, b)| {
                            let start = *at;
                            *at += b.len();
                            Some((start, *role, b.len()))
                        })
                        .find(|(_, role, _)| *role == Role::Secret)
                        .map_or(0, |(start, _, len)| start + len / 2);
                    let unit = 64 * 1024;
                    let mut target = (log.len() + mid).div_ceil(unit) * unit;
                    if target - log.len() - mid < 300 {
                        target += unit;
                    }
                    if edges == 3 {
                        target = target.max(1 << 20);
                    }
                    let pad = target - log.len() - mid;
                    // Whole filler lines, then one line of exactly the rest.
                    let mut fill = filler(&mut r, pad.saturating_sub(200), &mut keep);
                    fill.truncate(fill.len().min(pad.saturating_sub(2)));
                    if let Some(nl) = fill.rfind('\n') {
                        fill.truncate(nl + 1);
                    }
                    let rest = pad - fill.len();
                    fill.push_str(&".".repeat(rest.saturating_sub(1)));
                    fill.push('\n');
                    if rest == 0 {
                        fill.pop();
                    }
                    log.text(&fill);
                }
                plants.push(Plant {
                    kind,
                    context: ctx,
                    variant: core.variant.clone(),
                    needles: core.needles.clone(),
                    offset: log.len(),
                });
                log.extend(&text);
                let after = tools::block(&mut r);
                keep.extend(after.keep);
                log.text(after.text);
            }
        }
    }
    log.text(
        "Cleaning up project directory and file based variables\nERROR: Job failed: exit code 1\n",
    );
    Corpus {
        log,
        plants,
        keep,
        env,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_corpus_and_plants_cover_every_pair() {
        let a = generate(5);
        let b = generate(5);
        assert_eq!(a.log.bytes(), b.log.bytes());
        assert_ne!(a.log.bytes(), generate(6).log.bytes());
        for ctx in Context::ALL {
            for kind in Kind::ALL {
                let n = a
                    .plants
                    .iter()
                    .filter(|p| p.kind == kind && p.context == ctx)
                    .count();
                if ctx.wraps() && kind != Kind::Known {
                    assert_eq!(n, 0);
                } else {
                    assert!(n > 0, "{ctx:?} × {kind:?}");
                }
            }
        }
    }

    #[test]
    fn chunk_edge_secrets_straddle_a_64k_multiple() {
        let c = generate(1);
        let bytes = c.log.bytes();
        let mut straddling = 0;
        for p in c.plants.iter().filter(|p| p.context == Context::ChunkEdge) {
            let needle = &p.needles[0];
            let at = p.offset
                + bytes[p.offset..]
                    .windows(needle.len().min(16))
                    .position(|w| w == &needle[..needle.len().min(16)])
                    .unwrap_or(0);
            let unit = 64 * 1024;
            if at / unit != (at + needle.len()) / unit {
                straddling += 1;
            }
        }
        assert!(
            straddling * 2
                >= c.plants
                    .iter()
                    .filter(|p| p.context == Context::ChunkEdge)
                    .count()
        );
        assert!(bytes.len() > 1 << 20);
    }
}
