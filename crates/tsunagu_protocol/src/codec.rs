//! MessagePack encode/decode with limits. Decoding never trusts a length the peer
//! declared: a shape pass walks the bytes first (no allocation, no recursion) and
//! rejects frames that are too big, too deep, claim more items than bytes remain,
//! carry trailing bytes or use MessagePack extensions; only then does rmp-serde
//! build the value, itself capped at [`MAX_DEPTH`].

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::limits::MAX_DEPTH;
use crate::messages::Validate;

/// Why bytes from a peer were refused. Every variant is a protocol violation.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// More bytes than the channel allows.
    #[error("message of {len} bytes is over the {limit}-byte limit")]
    TooLarge {
        /// Bytes received.
        len: usize,
        /// The channel's limit.
        limit: usize,
    },
    /// Not one well-formed MessagePack value within our limits.
    #[error("malformed MessagePack: {0}")]
    Malformed(&'static str),
    /// Well-formed MessagePack but not the message we expected.
    #[error("unexpected message shape: {0}")]
    Shape(String),
    /// The message decoded but breaks a content limit.
    #[error("field `{0}` is out of bounds")]
    OutOfBounds(&'static str),
}

impl DecodeError {
    /// The kind of error without its detail, for logs: a `Shape` error's text
    /// comes from the decoder and can carry the peer's own strings (names).
    pub fn kind(&self) -> &'static str {
        match self {
            DecodeError::TooLarge { .. } => "a message over the size limit",
            DecodeError::Malformed(_) => "malformed MessagePack",
            DecodeError::Shape(_) => "an unexpected message shape",
            DecodeError::OutOfBounds(_) => "a field out of bounds",
        }
    }
}

/// The protocol version a `Hello` frame claims, read without decoding the
/// rest: a client of another version may shape its `Hello` differently, and
/// still deserves `VersionMismatch` rather than a protocol violation.
pub fn hello_version(bytes: &[u8]) -> Option<u16> {
    let rest = bytes.strip_prefix(&[0x81, 0xa5, b'H', b'e', b'l', b'l', b'o'])?;
    let rest = match rest.first()? {
        0x90..=0x9f => &rest[1..],
        0xdc => rest.get(3..)?,
        0xdd => rest.get(5..)?,
        _ => return None,
    };
    match rest {
        [v @ 0x00..=0x7f, ..] => Some(u16::from(*v)),
        [0xcc, v, ..] => Some(u16::from(*v)),
        [0xcd, hi, lo, ..] => Some(u16::from_be_bytes([*hi, *lo])),
        _ => None,
    }
}

/// Why a message could not be encoded. Only our own bug can cause it.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// Serialisation failed.
    #[error("encode failed: {0}")]
    Serde(#[from] rmp_serde::encode::Error),
    /// The encoded message would not fit the channel.
    #[error("encoded message of {len} bytes is over the {limit}-byte limit")]
    TooLarge {
        /// Bytes produced.
        len: usize,
        /// The channel's limit.
        limit: usize,
    },
}

/// Encode `msg` as MessagePack (structs as arrays), refusing results over `limit`.
pub fn encode<T: Serialize>(msg: &T, limit: usize) -> Result<Vec<u8>, EncodeError> {
    let bytes = rmp_serde::to_vec(msg)?;
    if bytes.len() > limit {
        return Err(EncodeError::TooLarge { len: bytes.len(), limit });
    }
    Ok(bytes)
}

/// Decode one message from untrusted bytes. Never panics; allocation is bounded
/// by the input length.
pub fn decode<T: DeserializeOwned + Validate>(bytes: &[u8], limit: usize) -> Result<T, DecodeError> {
    if bytes.len() > limit {
        return Err(DecodeError::TooLarge { len: bytes.len(), limit });
    }
    check_shape(bytes)?;
    let mut de = rmp_serde::Deserializer::new(bytes);
    de.set_max_depth(MAX_DEPTH);
    let msg = T::deserialize(&mut de).map_err(|e| DecodeError::Shape(e.to_string()))?;
    msg.validate().map_err(DecodeError::OutOfBounds)?;
    Ok(msg)
}

/// Walk one MessagePack value iteratively and check the limits above.
pub fn check_shape(bytes: &[u8]) -> Result<(), DecodeError> {
    use DecodeError::Malformed;
    // Items still to read in each open container; the bottom entry is the one root value.
    let mut open: Vec<usize> = Vec::with_capacity(MAX_DEPTH + 1);
    open.push(1);
    let mut pos = 0usize;
    while let Some(top) = open.last_mut() {
        if *top == 0 {
            open.pop();
            continue;
        }
        *top -= 1;
        let marker = *bytes.get(pos).ok_or(Malformed("ends early"))?;
        pos += 1;
        let read_len = |pos: &mut usize, width: usize| -> Result<usize, DecodeError> {
            let end = pos.checked_add(width).ok_or(Malformed("length overflow"))?;
            let raw = bytes.get(*pos..end).ok_or(Malformed("ends inside a length"))?;
            *pos = end;
            Ok(raw.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b)))
        };
        // (payload bytes to skip, child items to open)
        let (skip, children) = match marker {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
            0x80..=0x8f => (0, usize::from(marker & 0x0f) * 2),
            0x90..=0x9f => (0, usize::from(marker & 0x0f)),
            0xa0..=0xbf => (usize::from(marker & 0x1f), 0),
            0xcc | 0xd0 => (1, 0),
            0xcd | 0xd1 => (2, 0),
            0xca | 0xce | 0xd2 => (4, 0),
            0xcb | 0xcf | 0xd3 => (8, 0),
            0xc4 | 0xd9 => (read_len(&mut pos, 1)?, 0),
            0xc5 | 0xda => (read_len(&mut pos, 2)?, 0),
            0xc6 | 0xdb => (read_len(&mut pos, 4)?, 0),
            0xdc => (0, read_len(&mut pos, 2)?),
            0xdd => (0, read_len(&mut pos, 4)?),
            0xde => (0, read_len(&mut pos, 2)?.saturating_mul(2)),
            0xdf => (0, read_len(&mut pos, 4)?.saturating_mul(2)),
            0xc1 => return Err(Malformed("reserved marker 0xc1")),
            0xc7..=0xc9 | 0xd4..=0xd8 => return Err(Malformed("extension types are not used")),
        };
        let remaining = bytes.len() - pos;
        if skip > remaining {
            return Err(Malformed("declared length is longer than the message"));
        }
        pos += skip;
        if children > 0 {
            // Every item takes at least one byte: a larger count is a lie.
            if children > bytes.len() - pos {
                return Err(Malformed("declared item count is larger than the message"));
            }
            // `open` holds the root's counter plus one per open container.
            if open.len() > MAX_DEPTH {
                return Err(Malformed("nested too deeply"));
            }
            open.push(children);
        }
    }
    if pos != bytes.len() {
        return Err(Malformed("trailing bytes after the message"));
    }
    Ok(())
}
