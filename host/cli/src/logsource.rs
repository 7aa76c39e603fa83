//! Reading the log: a file (or standard input) read in blocks, cut at line boundaries, so
//! memory stays bounded whatever the log's size.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::mpsc;
use std::time::Instant;

/// Bytes read per block.
pub const BLOCK: usize = 64 << 10;

/// Why reading stopped before the end of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cut {
    /// `max-read-bytes` was reached.
    Bytes(u64),
    /// The share of the deadline given to reading was used up.
    Time,
}

/// A log read in chunks that end at a newline where one is near.
///
/// The file is read on a thread of its own, so that a read that never returns (a FIFO kept
/// open with nothing written, a terminal) cannot hold the run past the time given to reading:
/// `next_chunk` waits for the next block at most until `stop_at`, then the log counts as cut
/// there. The reading thread is left blocked; the process ends soon after.
pub struct LogReader {
    blocks: Option<mpsc::Receiver<io::Result<Vec<u8>>>>,
    carry: Vec<u8>,
    done: bool,
    /// Bytes read so far.
    pub bytes_read: u64,
    /// The most bytes to read.
    max_bytes: u64,
    /// When to stop waiting for more.
    stop_at: Option<Instant>,
    /// Why reading stopped early, if it did.
    pub cut: Option<Cut>,
}

impl LogReader {
    /// Opens `path`, or standard input for `-`.
    pub fn open(path: &Path) -> io::Result<LogReader> {
        let input: Box<dyn Read + Send> = if path.as_os_str() == "-" {
            Box::new(io::stdin())
        } else {
            let file = File::open(path)?;
            if file.metadata()?.is_dir() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "it is a directory",
                ));
            }
            Box::new(file)
        };
        Ok(LogReader::new(input))
    }

    /// Reads from any source.
    pub fn new(mut input: Box<dyn Read + Send>) -> LogReader {
        // Two blocks in flight: memory stays bounded whatever the source.
        let (tx, rx) = mpsc::sync_channel(2);
        let spawned = std::thread::Builder::new()
            .name("exlogare-read".into())
            .spawn(move || {
                loop {
                    let mut block = vec![0u8; BLOCK];
                    match input.read(&mut block) {
                        Ok(0) => break,
                        Ok(n) => {
                            block.truncate(n);
                            if tx.send(Ok(block)).is_err() {
                                break;
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            break;
                        }
                    }
                }
            });
        let mut reader = LogReader {
            blocks: Some(rx),
            carry: Vec::new(),
            done: false,
            bytes_read: 0,
            max_bytes: u64::MAX,
            stop_at: None,
            cut: None,
        };
        if let Err(e) = spawned {
            reader.blocks = None;
            reader.done = true;
            reader.carry = format!("[exlogare: the log could not be read: {e}]\n").into_bytes();
        }
        reader
    }

    /// Stops reading after `max_bytes` bytes, and waiting for more at `stop_at`.
    pub fn limit(mut self, max_bytes: u64, stop_at: Option<Instant>) -> LogReader {
        self.max_bytes = max_bytes;
        self.stop_at = stop_at;
        self
    }

    /// The next block, `None` at the end of the log or when a cap stops reading.
    fn next_block(&mut self) -> io::Result<Option<Vec<u8>>> {
        if self.bytes_read >= self.max_bytes {
            self.cut = Some(Cut::Bytes(self.max_bytes));
            return Ok(None);
        }
        // Checked before each block too: a log that grows as fast as it is read never makes
        // the wait below time out.
        if self.stop_at.is_some_and(|at| Instant::now() >= at) {
            self.cut = Some(Cut::Time);
            return Ok(None);
        }
        let Some(rx) = &self.blocks else {
            return Ok(None);
        };
        let got = match self.stop_at {
            Some(at) => match rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                Ok(got) => Some(got),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.cut = Some(Cut::Time);
                    return Ok(None);
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => None,
            },
            None => rx.recv().ok(),
        };
        match got {
            None => Ok(None),
            Some(Err(e)) => Err(e),
            Some(Ok(mut block)) => {
                let left = self.max_bytes - self.bytes_read;
                if block.len() as u64 > left {
                    block.truncate(left as usize);
                }
                self.bytes_read += block.len() as u64;
                Ok(Some(block))
            }
        }
    }

    /// The next chunk, ending at a newline unless a line is longer than a block; `None` at end.
    /// When a cap stopped reading, the last chunk ends with a marker line saying so.
    pub fn next_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        while !self.done {
            let Some(block) = self.next_block()? else {
                self.done = true;
                if let Some(cut) = &self.cut {
                    if !self.carry.is_empty() && !self.carry.ends_with(b"\n") {
                        self.carry.push(b'\n');
                    }
                    self.carry
                        .extend_from_slice(marker(cut, self.bytes_read).as_bytes());
                }
                break;
            };
            let mut chunk = std::mem::take(&mut self.carry);
            chunk.extend_from_slice(&block);
            match memrchr_newline(&chunk) {
                Some(pos) if pos + 1 < chunk.len() => {
                    self.carry = chunk.split_off(pos + 1);
                    return Ok(Some(chunk));
                }
                Some(_) => return Ok(Some(chunk)),
                None if chunk.len() >= BLOCK => return Ok(Some(chunk)),
                None => self.carry = chunk,
            }
        }
        if self.carry.is_empty() {
            Ok(None)
        } else {
            Ok(Some(std::mem::take(&mut self.carry)))
        }
    }
}

/// The line that ends a log cut short, in the log that is sent.
fn marker(cut: &Cut, read: u64) -> String {
    match cut {
        Cut::Bytes(max) => format!(
            "[exlogare: the log was cut here: reading stopped at max-read-bytes ({max} bytes); the rest of the log was not read]\n"
        ),
        Cut::Time => format!(
            "[exlogare: the log was cut here: reading stopped after {read} bytes, at the share of the deadline given to reading; the rest of the log was not read]\n"
        ),
    }
}

fn memrchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().rposition(|&b| b == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(data: &[u8]) -> Vec<Vec<u8>> {
        let mut r = LogReader::new(Box::new(io::Cursor::new(data.to_vec())));
        let mut out = Vec::new();
        while let Some(c) = r.next_chunk().unwrap() {
            out.push(c);
        }
        assert_eq!(r.bytes_read, data.len() as u64);
        out
    }

    #[test]
    fn chunks_end_at_newlines_and_rejoin_to_the_input() {
        let mut data = Vec::new();
        for i in 0..50_000 {
            data.extend_from_slice(format!("line {i} of the log\n").as_bytes());
        }
        data.extend_from_slice(b"no newline at the end");
        let got = chunks(&data);
        assert!(got.len() > 1);
        for c in &got[..got.len() - 1] {
            assert_eq!(c.last(), Some(&b'\n'));
        }
        assert_eq!(got.concat(), data);
    }

    #[test]
    fn a_line_longer_than_a_block_is_cut() {
        let data = vec![b'x'; BLOCK * 3 + 10];
        let got = chunks(&data);
        assert!(got.iter().all(|c| c.len() <= BLOCK * 2));
        assert_eq!(got.concat(), data);
    }

    #[test]
    fn reading_stops_at_the_byte_cap_with_a_marker() {
        let data = b"line one\nline two\nline three\n".repeat(10_000);
        let mut r = LogReader::new(Box::new(io::Cursor::new(data))).limit(1000, None);
        let mut out = Vec::new();
        while let Some(c) = r.next_chunk().unwrap() {
            out.extend(c);
        }
        assert_eq!(r.bytes_read, 1000);
        assert_eq!(r.cut, Some(Cut::Bytes(1000)));
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with("the rest of the log was not read]\n"),
            "{text}"
        );
    }

    #[test]
    fn a_source_that_never_answers_is_cut_in_time() {
        struct Stuck;
        impl Read for Stuck {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                std::thread::sleep(std::time::Duration::from_secs(3600));
                Ok(0)
            }
        }
        let at = Instant::now() + std::time::Duration::from_millis(50);
        let mut r = LogReader::new(Box::new(Stuck)).limit(u64::MAX, Some(at));
        let chunk = r.next_chunk().unwrap().expect("the marker");
        assert!(String::from_utf8_lossy(&chunk).contains("share of the deadline"));
        assert_eq!(r.cut, Some(Cut::Time));
        assert!(r.next_chunk().unwrap().is_none());
    }
}
