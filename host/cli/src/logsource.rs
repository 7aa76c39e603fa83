//! Reading the log: a file (or standard input) read in blocks, cut at line boundaries, so
//! memory stays bounded whatever the log's size.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Bytes read per block.
pub const BLOCK: usize = 64 << 10;

/// A log read in chunks that end at a newline where one is near.
pub struct LogReader {
    input: Box<dyn Read>,
    carry: Vec<u8>,
    done: bool,
    /// Bytes read so far.
    pub bytes_read: u64,
}

impl LogReader {
    /// Opens `path`, or standard input for `-`.
    pub fn open(path: &Path) -> io::Result<LogReader> {
        let input: Box<dyn Read> = if path.as_os_str() == "-" {
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
    pub fn new(input: Box<dyn Read>) -> LogReader {
        LogReader {
            input,
            carry: Vec::new(),
            done: false,
            bytes_read: 0,
        }
    }

    /// The next chunk, ending at a newline unless a line is longer than a block; `None` at end.
    pub fn next_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        while !self.done {
            let mut block = vec![0u8; BLOCK];
            let n = match self.input.read(&mut block) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                self.done = true;
                break;
            }
            self.bytes_read += n as u64;
            block.truncate(n);
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
}
