//! Strict, bounded PDF object syntax (ISO 32000-1 §7.2–7.3, §7.5.1 indirect objects).
//!
//! This is the first brick of Signet's own revision-aware reader, which the validator (every
//! revision on its own, "the object at this xref offset is the object asked for", no silent
//! repair) and streaming signing of very large files need; lopdf merges revisions and repairs
//! leniently. It is not yet used by the signer.
//!
//! Strictness: duplicate dictionary keys, unbalanced strings, unknown keywords, nesting deeper
//! than [`Limits::max_depth`], streams whose data does not end in `endstream` at `/Length`, and
//! an object header that differs from the one requested are errors with the offset where they
//! occur. Output uses lopdf's object types.

use lopdf::{Dictionary, Object, ObjectId, Stream, StringFormat};
use thiserror::Error;

/// Bounds on what one parse may consume.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Deepest nesting of arrays and dictionaries.
    pub max_depth: usize,
    /// Longest string or name.
    pub max_string: usize,
    /// Most objects (array items, dictionary values) in one parse.
    pub max_items: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 100,
            max_string: 64 * 1024 * 1024,
            max_items: 1_000_000,
        }
    }
}

/// A syntax error and where it is.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("PDF syntax error at offset {offset}: {what}")]
pub struct SyntaxError {
    /// Byte offset in the input.
    pub offset: usize,
    /// What is wrong.
    pub what: String,
}

fn is_ws(b: u8) -> bool {
    matches!(b, 0 | b'\t' | b'\n' | 0x0c | b'\r' | b' ')
}

fn is_delim(b: u8) -> bool {
    matches!(b, b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%')
}

fn is_regular(b: u8) -> bool {
    !is_ws(b) && !is_delim(b)
}

/// A cursor over PDF bytes.
pub struct Parser<'a> {
    data: &'a [u8],
    pos: usize,
    limits: Limits,
    items: usize,
}

impl<'a> Parser<'a> {
    /// A parser at `pos`.
    pub fn new(data: &'a [u8], pos: usize) -> Self {
        Parser {
            data,
            pos,
            limits: Limits::default(),
            items: 0,
        }
    }

    /// Uses other limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The current offset.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn err<T>(&self, what: impl Into<String>) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            offset: self.pos,
            what: what.into(),
        })
    }

    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Skips whitespace and comments.
    pub fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            if is_ws(b) {
                self.pos += 1;
            } else if b == b'%' {
                while let Some(c) = self.peek() {
                    if c == b'\n' || c == b'\r' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    /// Reads a keyword or number token (regular characters) without consuming it.
    fn peek_token(&self) -> &'a [u8] {
        let start = self.pos;
        let mut end = start;
        while end < self.data.len() && is_regular(self.data[end]) {
            end += 1;
        }
        &self.data[start..end]
    }

    /// Consumes `kw` if it is the next token.
    pub fn eat_keyword(&mut self, kw: &[u8]) -> bool {
        self.skip_ws();
        if self.peek_token() == kw {
            self.pos += kw.len();
            true
        } else {
            false
        }
    }

    fn count(&mut self) -> Result<(), SyntaxError> {
        self.items += 1;
        if self.items > self.limits.max_items {
            return self.err("too many objects");
        }
        Ok(())
    }

    /// Parses one direct object (references `N G R` included).
    pub fn object(&mut self) -> Result<Object, SyntaxError> {
        self.object_at_depth(0)
    }

    fn object_at_depth(&mut self, depth: usize) -> Result<Object, SyntaxError> {
        if depth > self.limits.max_depth {
            return self.err(format!("nesting deeper than {}", self.limits.max_depth));
        }
        self.count()?;
        self.skip_ws();
        let Some(b) = self.peek() else {
            return self.err("unexpected end of data");
        };
        match b {
            b'/' => self.name().map(Object::Name),
            b'(' => self.literal_string(),
            b'<' if self.data.get(self.pos + 1) == Some(&b'<') => self.dictionary(depth).map(Object::Dictionary),
            b'<' => self.hex_string(),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    match self.peek() {
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Object::Array(items));
                        }
                        None => return self.err("unterminated array"),
                        _ => items.push(self.object_at_depth(depth + 1)?),
                    }
                }
            }
            b'0'..=b'9' | b'+' | b'-' | b'.' => self.number_or_reference(),
            _ => {
                let tok = self.peek_token();
                let obj = match tok {
                    b"true" => Object::Boolean(true),
                    b"false" => Object::Boolean(false),
                    b"null" => Object::Null,
                    b"" => return self.err(format!("unexpected character {:?}", b as char)),
                    other => return self.err(format!("unexpected keyword {:?}", String::from_utf8_lossy(other))),
                };
                self.pos += tok.len();
                Ok(obj)
            }
        }
    }

    fn name(&mut self) -> Result<Vec<u8>, SyntaxError> {
        self.pos += 1; // '/'
        // Fast path: no #xx escapes.
        let rest = &self.data[self.pos..];
        let end = rest.iter().position(|&b| !is_regular(b)).unwrap_or(rest.len());
        if !rest[..end].contains(&b'#') {
            if end > self.limits.max_string {
                return self.err("name too long");
            }
            self.pos += end;
            return Ok(rest[..end].to_vec());
        }
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            if !is_regular(b) {
                break;
            }
            if b == b'#' {
                let hex = self.data.get(self.pos + 1..self.pos + 3).ok_or(SyntaxError {
                    offset: self.pos,
                    what: "truncated #xx in a name".into(),
                })?;
                let v = std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match v {
                    Some(v) => out.push(v),
                    None => return self.err("invalid #xx escape in a name"),
                }
                self.pos += 3;
            } else {
                out.push(b);
                self.pos += 1;
            }
            if out.len() > self.limits.max_string {
                return self.err("name too long");
            }
        }
        Ok(out)
    }

    fn literal_string(&mut self) -> Result<Object, SyntaxError> {
        self.pos += 1; // '('
        let mut out = Vec::new();
        let mut depth = 1usize;
        loop {
            let Some(b) = self.peek() else {
                return self.err("unterminated string");
            };
            self.pos += 1;
            match b {
                b'(' => {
                    depth += 1;
                    out.push(b);
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(Object::String(out, StringFormat::Literal));
                    }
                    out.push(b);
                }
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return self.err("unterminated escape");
                    };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'(' | b')' | b'\\' => out.push(e),
                        b'\r' => {
                            if self.peek() == Some(b'\n') {
                                self.pos += 1;
                            }
                        }
                        b'\n' => {}
                        b'0'..=b'7' => {
                            let mut v = (e - b'0') as u32;
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + (d - b'0') as u32;
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push((v & 0xff) as u8);
                        }
                        other => out.push(other), // §7.3.4.2: the backslash is ignored
                    }
                }
                b'\r' => {
                    // End-of-line in a string reads as a single LF.
                    if self.peek() == Some(b'\n') {
                        self.pos += 1;
                    }
                    out.push(b'\n');
                }
                _ => out.push(b),
            }
            if out.len() > self.limits.max_string {
                return self.err("string too long");
            }
        }
    }

    fn hex_string(&mut self) -> Result<Object, SyntaxError> {
        self.pos += 1; // '<'
        // Fast path: an even run of hex digits up to '>' (signature /Contents are kilobytes).
        if let Some(len) = memchr::memchr(b'>', &self.data[self.pos..]) {
            let digits = &self.data[self.pos..self.pos + len];
            if digits.len().is_multiple_of(2)
                && digits.len() / 2 <= self.limits.max_string
                && let Some(bytes) = decode_hex(digits)
            {
                self.pos += len + 1;
                return Ok(Object::String(bytes, StringFormat::Hexadecimal));
            }
        }
        let mut out = Vec::new();
        let mut hi: Option<u8> = None;
        loop {
            let Some(b) = self.peek() else {
                return self.err("unterminated hex string");
            };
            self.pos += 1;
            let v = match b {
                b'>' => break,
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ if is_ws(b) => continue,
                _ => {
                    self.pos -= 1;
                    return self.err("invalid character in a hex string");
                }
            };
            match hi.take() {
                None => hi = Some(v),
                Some(h) => out.push(h << 4 | v),
            }
            if out.len() > self.limits.max_string {
                return self.err("string too long");
            }
        }
        if let Some(h) = hi {
            out.push(h << 4); // odd number of digits: the last one is followed by 0
        }
        Ok(Object::String(out, StringFormat::Hexadecimal))
    }

    fn dictionary(&mut self, depth: usize) -> Result<Dictionary, SyntaxError> {
        self.pos += 2; // '<<'
        let mut d = Dictionary::new();
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'>') if self.data.get(self.pos + 1) == Some(&b'>') => {
                    self.pos += 2;
                    return Ok(d);
                }
                Some(b'/') => {
                    let key_at = self.pos;
                    let key = self.name()?;
                    let key_end = self.pos;
                    let value = self.object_at_depth(depth + 1)?;
                    let before = d.len();
                    d.set(key, value);
                    if d.len() == before {
                        return Err(SyntaxError {
                            offset: key_at,
                            what: format!(
                                "duplicate key {} in a dictionary",
                                String::from_utf8_lossy(&self.data[key_at..key_end])
                            ),
                        });
                    }
                }
                None => return self.err("unterminated dictionary"),
                _ => return self.err("dictionary key must be a name"),
            }
        }
    }

    fn number_or_reference(&mut self) -> Result<Object, SyntaxError> {
        let tok = self.peek_token();
        let text = std::str::from_utf8(tok).map_err(|_| SyntaxError {
            offset: self.pos,
            what: "bad number".into(),
        })?;
        let start = self.pos;
        let is_int = !text.contains('.');
        if is_int {
            let v: i64 = parse_int(tok).ok_or_else(|| SyntaxError {
                offset: start,
                what: format!("bad number {text:?}"),
            })?;
            self.pos += tok.len();
            // A reference "N G R"?
            if v >= 0 {
                let save = self.pos;
                self.skip_ws();
                let gen_tok = self.peek_token();
                if !gen_tok.is_empty() && gen_tok.iter().all(|c| c.is_ascii_digit()) && gen_tok.len() <= 5 {
                    let generation = parse_int(gen_tok).unwrap_or(i64::MAX).min(u32::MAX as i64) as u32;
                    self.pos += gen_tok.len();
                    self.skip_ws();
                    if self.peek_token() == b"R" && generation <= u16::MAX as u32 && v <= u32::MAX as i64 {
                        self.pos += 1;
                        return Ok(Object::Reference((v as u32, generation as u16)));
                    }
                }
                self.pos = save;
            }
            Ok(Object::Integer(v))
        } else {
            let v: f64 = text.parse().map_err(|_| SyntaxError {
                offset: start,
                what: format!("bad number {text:?}"),
            })?;
            if !v.is_finite() {
                return self.err("number out of range");
            }
            self.pos += tok.len();
            Ok(Object::Real(v as f32))
        }
    }

    /// Parses `N G obj … endobj` at the cursor. `expected` (when given) must match the header
    /// (security.md item 20: an xref entry pointing at another object). A stream's /Length that
    /// is a reference is resolved through `length_of`.
    pub fn indirect_object(
        &mut self,
        expected: Option<ObjectId>,
        length_of: &dyn Fn(ObjectId) -> Option<i64>,
    ) -> Result<(ObjectId, Object), SyntaxError> {
        let (id, obj, span) = self.indirect_head(expected, length_of)?;
        let obj = match (obj, span) {
            (Object::Dictionary(dict), Some(span)) => {
                if span.start.checked_add(span.len).is_none_or(|end| end > self.data.len()) {
                    return self.err(format!("stream /Length {} runs past the end of the data", span.len));
                }
                let data = self.data[span.start..span.start + span.len].to_vec();
                self.pos = span.start + span.len;
                self.stream_end()?;
                Object::Stream(Stream::new(dict, data).with_compression(false))
            }
            (obj, _) => {
                self.object_end()?;
                obj
            }
        };
        Ok((id, obj))
    }

    /// Expects `endstream endobj` at the cursor (just after a stream's data).
    pub fn stream_end(&mut self) -> Result<(), SyntaxError> {
        if !self.eat_keyword(b"endstream") {
            return self.err("stream data does not end with 'endstream' at /Length");
        }
        self.object_end()
    }

    /// Expects `endobj` at the cursor.
    pub fn object_end(&mut self) -> Result<(), SyntaxError> {
        if !self.eat_keyword(b"endobj") {
            return self.err("object without 'endobj'");
        }
        Ok(())
    }

    /// Parses an indirect object's header and value; for a stream, stops at the first byte of
    /// its data and returns where the data is (offset in this input, /Length resolved). The
    /// cursor is then after the value (non-stream: before `endobj`) or at the data.
    pub fn indirect_head(
        &mut self,
        expected: Option<ObjectId>,
        length_of: &dyn Fn(ObjectId) -> Option<i64>,
    ) -> Result<(ObjectId, Object, Option<StreamSpan>), SyntaxError> {
        self.skip_ws();
        let header_at = self.pos;
        let bad_header = || SyntaxError {
            offset: header_at,
            what: "bad object header".into(),
        };
        let id = match self.number_or_reference()? {
            Object::Integer(n) if n >= 0 && n <= u32::MAX as i64 => {
                self.skip_ws();
                match self.number_or_reference()? {
                    Object::Integer(g) if (0..=u16::MAX as i64).contains(&g) => (n as u32, g as u16),
                    _ => return Err(bad_header()),
                }
            }
            _ => return Err(bad_header()),
        };
        if !self.eat_keyword(b"obj") {
            return Err(SyntaxError {
                offset: header_at,
                what: "object header without 'obj'".into(),
            });
        }
        if let Some(e) = expected
            && e != id
        {
            return Err(SyntaxError {
                offset: header_at,
                what: format!("expected object {} {} here, found {} {}", e.0, e.1, id.0, id.1),
            });
        }
        let obj = self.object()?;
        let Object::Dictionary(dict) = &obj else {
            return Ok((id, obj, None));
        };
        if !self.eat_keyword(b"stream") {
            return Ok((id, obj, None));
        }
        // "stream" must be followed by CRLF or LF (§7.3.8.1).
        match (self.peek(), self.data.get(self.pos + 1)) {
            (Some(b'\r'), Some(b'\n')) => self.pos += 2,
            (Some(b'\n'), _) => self.pos += 1,
            _ => return self.err("'stream' must be followed by an end-of-line"),
        }
        let len = match dict.get(b"Length") {
            Ok(Object::Integer(l)) => *l,
            Ok(Object::Reference(r)) => length_of(*r).ok_or(SyntaxError {
                offset: self.pos,
                what: "stream /Length cannot be resolved".into(),
            })?,
            _ => return self.err("stream without a valid /Length"),
        };
        let len = usize::try_from(len).map_err(|_| SyntaxError {
            offset: self.pos,
            what: format!("negative stream /Length {len}"),
        })?;
        Ok((id, obj, Some(StreamSpan { start: self.pos, len })))
    }
}

/// Hex digit values; 0xFF marks a non-digit.
const HEX: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Decodes an even run of hex digits (either case).
pub fn decode_hex(digits: &[u8]) -> Option<Vec<u8>> {
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() / 2);
    let mut bad = 0u8;
    for pair in digits.chunks_exact(2) {
        let (h, l) = (HEX[pair[0] as usize], HEX[pair[1] as usize]);
        bad |= (h | l) & 0xF0;
        out.push(h << 4 | (l & 0x0F));
    }
    (bad == 0).then_some(out)
}

/// Whether `digits` (hex, either case) encode exactly `bytes`, without decoding into memory.
pub fn hex_equals(digits: &[u8], bytes: &[u8]) -> bool {
    if digits.len() != 2 * bytes.len() {
        return false;
    }
    let mut diff = 0u8;
    for (pair, b) in digits.chunks_exact(2).zip(bytes) {
        let (h, l) = (HEX[pair[0] as usize], HEX[pair[1] as usize]);
        diff |= ((h | l) & 0xF0) | ((h << 4 | (l & 0x0F)) ^ b);
    }
    diff == 0
}

/// A decimal integer with an optional sign (no allocation; `None` on overflow or junk).
fn parse_int(tok: &[u8]) -> Option<i64> {
    let (neg, digits) = match tok.split_first()? {
        (b'-', rest) => (true, rest),
        (b'+', rest) => (false, rest),
        _ => (false, tok),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((d - b'0') as i64)?;
    }
    Some(if neg { -v } else { v })
}

/// Where a stream's data lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamSpan {
    /// First byte of the data.
    pub start: usize,
    /// /Length.
    pub len: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[u8]) -> Result<Object, SyntaxError> {
        Parser::new(s, 0).object()
    }

    #[test]
    fn scalars_names_and_references() {
        assert_eq!(parse(b"  42").unwrap(), Object::Integer(42));
        assert_eq!(parse(b"-7").unwrap(), Object::Integer(-7));
        assert_eq!(parse(b"+.5").unwrap(), Object::Real(0.5));
        assert_eq!(parse(b"true").unwrap(), Object::Boolean(true));
        assert_eq!(parse(b"null").unwrap(), Object::Null);
        assert_eq!(parse(b"/A#20B").unwrap(), Object::Name(b"A B".to_vec()));
        assert_eq!(parse(b"12 0 R").unwrap(), Object::Reference((12, 0)));
        let arr = parse(b"[1 2 3 0 R 4]").unwrap();
        assert_eq!(
            arr.as_array().unwrap(),
            &vec![
                Object::Integer(1),
                Object::Integer(2),
                Object::Reference((3, 0)),
                Object::Integer(4)
            ]
        );
    }

    #[test]
    fn strings_follow_the_escaping_rules() {
        let Object::String(s, _) = parse(b"(a(b)c\\)\\n\\101\\\n d)").unwrap() else {
            panic!()
        };
        assert_eq!(s, b"a(b)c)\nA d");
        let Object::String(h, _) = parse(b"<48 65 6C6C6F 7>").unwrap() else {
            panic!()
        };
        assert_eq!(h, b"Hellop");
        assert!(parse(b"(unbalanced").is_err());
        assert!(parse(b"<12G4>").is_err());
    }

    #[test]
    fn hex_runs_decode_by_table() {
        assert_eq!(decode_hex(b"00ff7A").unwrap(), vec![0, 255, 122]);
        assert!(decode_hex(b"0g").is_none());
        assert!(decode_hex(b"abc").is_none());
        assert!(hex_equals(b"00fF7a", &[0, 255, 122]));
        assert!(!hex_equals(b"00ff7b", &[0, 255, 122]));
        assert!(!hex_equals(b"0g", &[0]) && !hex_equals(b"00", &[0, 0]));
        let Object::String(s, StringFormat::Hexadecimal) = parse(b"<DEADbeef>").unwrap() else {
            panic!()
        };
        assert_eq!(s, vec![0xde, 0xad, 0xbe, 0xef]);
    }

    #[test]
    fn dictionaries_refuse_duplicate_keys() {
        let d = parse(b"<< /Type /Page /Kids [1 0 R] >>").unwrap();
        assert!(d.as_dict().unwrap().has(b"Kids"));
        let e = parse(b"<< /Contents 1 0 R /Contents 2 0 R >>").unwrap_err();
        assert!(e.what.contains("duplicate key /Contents"), "{e}");
    }

    #[test]
    fn nesting_is_bounded_without_stack_overflow() {
        let mut deep = vec![b'['; 100_000];
        deep.extend(vec![b']'; 100_000]);
        assert!(parse(&deep).unwrap_err().what.contains("nesting deeper"));
    }

    #[test]
    fn indirect_objects_and_streams() {
        let data = b"7 0 obj\n<< /Length 5 >>\nstream\nhello\nendstream\nendobj\n";
        let (id, obj) = Parser::new(data, 0).indirect_object(Some((7, 0)), &|_| None).unwrap();
        assert_eq!(id, (7, 0));
        assert_eq!(obj.as_stream().unwrap().content, b"hello");
        // The xref pointed at object 8 but object 7 is here (shadow-attack "hide" variant).
        assert!(
            Parser::new(data, 0)
                .indirect_object(Some((8, 0)), &|_| None)
                .unwrap_err()
                .what
                .contains("expected object 8 0")
        );
        // /Length lies.
        let bad = b"7 0 obj\n<< /Length 3 >>\nstream\nhello\nendstream\nendobj\n";
        assert!(Parser::new(bad, 0).indirect_object(None, &|_| None).is_err());
        // Indirect /Length.
        let ind = b"7 0 obj\n<< /Length 9 0 R >>\nstream\r\nhi\nendstream endobj";
        let (_, o) = Parser::new(ind, 0)
            .indirect_object(None, &|r| (r == (9, 0)).then_some(2))
            .unwrap();
        assert_eq!(o.as_stream().unwrap().content, b"hi");
    }

    #[test]
    fn truncated_inputs_are_errors() {
        for s in [&b""[..], b"<<", b"[1 2", b"/", b"<< /A", b"1 0 obj << >>"] {
            let r = Parser::new(s, 0).object();
            let r2 = Parser::new(s, 0).indirect_object(None, &|_| None);
            assert!(r.is_err() || r2.is_err(), "{:?}", String::from_utf8_lossy(s));
        }
    }
}
