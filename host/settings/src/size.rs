//! Byte sizes as people write them: `8MiB`, `512k`, `1048576`.

use std::fmt;

use crate::Error;

/// A number of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// Parses a size: a number with an optional unit (B, K/KB/KiB, M/MB/MiB, G/GB/GiB; all
    /// binary multiples), case-insensitive.
    pub fn parse(setting: &str, text: &str) -> Result<ByteSize, Error> {
        let invalid = || Error::Invalid {
            setting: setting.to_string(),
            value: text.to_string(),
            expected: "a size such as 8MiB, 512KiB or 1048576".to_string(),
        };
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let n: u64 = num.parse().map_err(|_| invalid())?;
        let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" | "kib" => 1 << 10,
            "m" | "mb" | "mib" => 1 << 20,
            "g" | "gb" | "gib" => 1 << 30,
            _ => return Err(invalid()),
        };
        n.checked_mul(mult).map(ByteSize).ok_or_else(invalid)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        if n >= 1 << 30 && n.is_multiple_of(1 << 30) {
            write!(f, "{}GiB", n >> 30)
        } else if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
            write!(f, "{}MiB", n >> 20)
        } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
            write!(f, "{}KiB", n >> 10)
        } else {
            write!(f, "{n}B")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(ByteSize::parse("x", "8MiB").unwrap(), ByteSize(8 << 20));
        assert_eq!(ByteSize::parse("x", "512k").unwrap(), ByteSize(512 << 10));
        assert_eq!(ByteSize::parse("x", " 100 ").unwrap(), ByteSize(100));
        assert_eq!(ByteSize::parse("x", "1GB").unwrap(), ByteSize(1 << 30));
        assert!(ByteSize::parse("x", "lots").is_err());
        assert!(ByteSize::parse("x", "99999999999999999999G").is_err());
        assert_eq!(ByteSize(8 << 20).to_string(), "8MiB");
    }
}
