//! The head of an [`Index`](crate::Index) file, the same in every binding
//! (docs/bindings.md, "Index files"):
//!
//! ```text
//! braincore-index 1\n
//! {"space": "l2", "dim": 8, "max_elements": 100, "M": 8, "ef_construction": 50, "ef": 33}\n
//! <the snapshot, as brain_save writes it>
//! ```
//!
//! No serde: the JSON line is written by hand and read back by a small,
//! strict parser for a flat object whose values are strings or integers.
//! No unsafe code.

use std::io::{self, BufRead, Read};

/// The first line of the file.
pub(crate) const MAGIC: &[u8] = b"braincore-index 1\n";

/// Longest JSON line read, its `\n` included (as the Python binding reads it).
pub(crate) const MAX_HEADER_LINE: usize = 64 * 1024;

/// What the JSON line holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub space: String,
    pub dim: usize,
    pub max_elements: usize,
    pub m: usize,
    pub ef_construction: usize,
    pub ef: usize,
}

impl Header {
    /// The two lines that start the file: the magic line and the JSON line.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(b"{\"space\": ");
        write_string(&mut out, &self.space);
        let line = format!(
            ", \"dim\": {}, \"max_elements\": {}, \"M\": {}, \"ef_construction\": {}, \"ef\": {}}}\n",
            self.dim, self.max_elements, self.m, self.ef_construction, self.ef
        );
        out.extend_from_slice(line.as_bytes());
        out
    }

    /// The header from the JSON line (without its `\n`): the six keys in
    /// any order, others ignored. The error says what is wrong.
    pub(crate) fn parse(line: &[u8]) -> Result<Header, String> {
        let text = std::str::from_utf8(line).map_err(|_| "the header is not UTF-8".to_string())?;
        let mut space = None;
        let mut ints: [Option<usize>; 5] = [None; 5];
        const INT_KEYS: [&str; 5] = ["dim", "max_elements", "M", "ef_construction", "ef"];
        for (key, value) in parse_flat_object(text)? {
            if key == "space" {
                if space.is_some() {
                    return Err("the key \"space\" appears twice".to_string());
                }
                match value {
                    Value::Str(s) => space = Some(s),
                    Value::Int(_) => return Err("\"space\" is not a string".to_string()),
                }
            } else if let Some(i) = INT_KEYS.iter().position(|&k| k == key) {
                if ints[i].is_some() {
                    return Err(format!("the key {key:?} appears twice"));
                }
                let n = match value {
                    Value::Int(n) => {
                        usize::try_from(n).map_err(|_| format!("{key:?} is negative or too large: {n}"))?
                    }
                    Value::Str(_) => return Err(format!("{key:?} is not an integer")),
                };
                ints[i] = Some(n);
            }
        }
        let space = space.ok_or_else(|| "no key \"space\"".to_string())?;
        let mut got = [0usize; 5];
        for (i, v) in ints.iter().enumerate() {
            got[i] = v.ok_or_else(|| format!("no key {:?}", INT_KEYS[i]))?;
        }
        Ok(Header { space, dim: got[0], max_elements: got[1], m: got[2], ef_construction: got[3], ef: got[4] })
    }
}

/// Why reading the head failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The reader failed (not the end of the file).
    Io(io::Error),
    /// Not a head this format writes: a wrong first line, a damaged or
    /// overlong JSON line, missing keys.
    Corrupt(String),
}

/// Reads the two lines, leaving `r` at the first byte of the snapshot.
pub(crate) fn read_header<R: BufRead>(r: &mut R) -> Result<Header, ReadError> {
    let mut magic = [0u8; MAGIC.len()];
    let mut got = 0;
    while got < magic.len() {
        match r.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ReadError::Io(e)),
        }
    }
    if magic[..got] != *MAGIC {
        return Err(ReadError::Corrupt("its first line is not \"braincore-index 1\"".to_string()));
    }
    let mut line = Vec::new();
    r.take(MAX_HEADER_LINE as u64).read_until(b'\n', &mut line).map_err(ReadError::Io)?;
    if line.last() != Some(&b'\n') {
        let why = if line.len() >= MAX_HEADER_LINE {
            format!("its header line is longer than {MAX_HEADER_LINE} bytes")
        } else {
            "it ends inside its header line".to_string()
        };
        return Err(ReadError::Corrupt(why));
    }
    line.pop();
    Header::parse(&line).map_err(|why| ReadError::Corrupt(format!("its header is damaged: {why}")))
}

/// A JSON string, quoted, with the escapes JSON requires.
fn write_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            c if (c as u32) < 0x20 => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out.push(b'"');
}

/// A value of the flat object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Str(String),
    Int(i64),
}

/// The members of a JSON object whose values are all strings or integers
/// (no fractions or exponents), in order, duplicates kept. Anything else
/// (nested values, `true`, `null`, numbers with a fraction, trailing text,
/// bad escapes, control characters in strings) is an error.
pub(crate) fn parse_flat_object(text: &str) -> Result<Vec<(String, Value)>, String> {
    let mut p = Parser { s: text.as_bytes(), at: 0 };
    p.ws();
    p.expect(b'{')?;
    let mut members = Vec::new();
    p.ws();
    if p.peek() == Some(b'}') {
        p.at += 1;
    } else {
        loop {
            p.ws();
            let key = p.string()?;
            p.ws();
            p.expect(b':')?;
            p.ws();
            let value = p.value()?;
            members.push((key, value));
            p.ws();
            match p.next() {
                Some(b',') => {}
                Some(b'}') => break,
                _ => return Err(p.error("',' or '}'")),
            }
        }
    }
    p.ws();
    if p.at != p.s.len() {
        return Err(format!("text after the object at byte {}", p.at));
    }
    Ok(members)
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.at += 1;
        Some(c)
    }

    fn error(&self, wanted: &str) -> String {
        match self.peek() {
            Some(c) => format!("expected {wanted} at byte {}, found {:?}", self.at, char::from(c)),
            None => format!("expected {wanted} at byte {}, found the end", self.at),
        }
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(&format!("{:?}", char::from(c))))
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some(b'"') => self.string().map(Value::Str),
            Some(b'-' | b'0'..=b'9') => self.integer().map(Value::Int),
            _ => Err(self.error("a string or an integer")),
        }
    }

    fn integer(&mut self) -> Result<i64, String> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                while matches!(self.peek(), Some(b'0'..=b'9')) {
                    self.at += 1;
                }
            }
            _ => return Err(self.error("a digit")),
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E' | b'0'..=b'9')) {
            return Err(format!("the number at byte {start} is not an integer"));
        }
        // The slice is ASCII digits with an optional '-'.
        let digits = std::str::from_utf8(&self.s[start..self.at]).unwrap_or("");
        digits.parse::<i64>().map_err(|_| format!("the integer at byte {start} is out of range"))
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let start = self.at;
            while matches!(self.peek(), Some(c) if c != b'"' && c != b'\\' && c >= 0x20) {
                self.at += 1;
            }
            // The text is UTF-8 and the run stops only at ASCII bytes, so
            // the run is whole characters.
            out.push_str(std::str::from_utf8(&self.s[start..self.at]).map_err(|e| e.to_string())?);
            match self.next() {
                Some(b'"') => return Ok(out),
                Some(b'\\') => {}
                Some(_) => {
                    self.at -= 1;
                    return Err(format!("a control character in a string at byte {}", self.at));
                }
                None => return Err("the text ends inside a string".to_string()),
            }
            let c = match self.next() {
                Some(b'"') => '"',
                Some(b'\\') => '\\',
                Some(b'/') => '/',
                Some(b'b') => '\u{8}',
                Some(b'f') => '\u{c}',
                Some(b'n') => '\n',
                Some(b'r') => '\r',
                Some(b't') => '\t',
                Some(b'u') => self.unicode_escape()?,
                Some(_) => return Err(format!("a bad escape in a string at byte {}", self.at - 2)),
                None => return Err("the text ends inside a string".to_string()),
            };
            out.push(c);
        }
    }

    /// The character of `\uXXXX` (the `\u` read), a surrogate pair whole.
    fn unicode_escape(&mut self) -> Result<char, String> {
        let at = self.at - 2;
        let high = self.hex4()?;
        let code = match high {
            0xD800..=0xDBFF => {
                if self.next() != Some(b'\\') || self.next() != Some(b'u') {
                    return Err(format!("an unpaired surrogate escape at byte {at}"));
                }
                let low = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(format!("an unpaired surrogate escape at byte {at}"));
                }
                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(format!("an unpaired surrogate escape at byte {at}")),
            c => c,
        };
        char::from_u32(code).ok_or_else(|| format!("a bad \\u escape at byte {at}"))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut v = 0;
        for _ in 0..4 {
            let d = self.peek().and_then(|c| char::from(c).to_digit(16));
            let d = d.ok_or_else(|| self.error("a hex digit"))?;
            self.at += 1;
            v = v * 16 + d;
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header { space: "l2".into(), dim: 8, max_elements: 100, m: 8, ef_construction: 50, ef: 33 }
    }

    #[test]
    fn writes_what_the_python_binding_writes() {
        let want = "braincore-index 1\n\
            {\"space\": \"l2\", \"dim\": 8, \"max_elements\": 100, \"M\": 8, \"ef_construction\": 50, \"ef\": 33}\n";
        assert_eq!(String::from_utf8(header().to_bytes()).unwrap(), want);
    }

    #[test]
    fn reads_back_what_it_writes_and_stops_at_the_snapshot() {
        let mut file = header().to_bytes();
        file.extend_from_slice(b"SNAPSHOT\n{\"not\": \"read\"}\n");
        let mut r = io::BufReader::with_capacity(7, &file[..]);
        assert_eq!(read_header(&mut r).unwrap(), header());
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"SNAPSHOT\n{\"not\": \"read\"}\n");
    }

    #[test]
    fn any_key_order_whitespace_and_unknown_keys() {
        let h = Header::parse(
            br#" { "ef":33,"M" : 8 ,"note":"x \" \\ \u00e9 \ud83d\ude00","ef_construction":50,
                "max_elements":100,"seed":-7,"dim":8,"space":"l2"} "#,
        )
        .unwrap();
        assert_eq!(h, header());
        let members = parse_flat_object(r#"{"a": "\u00e9\ud83d\ude00\n\/", "b": -0, "c": "é"}"#).unwrap();
        assert_eq!(
            members,
            [
                ("a".to_string(), Value::Str("é\u{1F600}\n/".to_string())),
                ("b".to_string(), Value::Int(0)),
                ("c".to_string(), Value::Str("é".to_string())),
            ]
        );
        assert_eq!(parse_flat_object("{}").unwrap(), []);
        assert_eq!(parse_flat_object(" { } ").unwrap(), []);
        let big = format!("{{\"n\": {}, \"m\": {}}}", i64::MAX, i64::MIN);
        assert_eq!(parse_flat_object(&big).unwrap()[1].1, Value::Int(i64::MIN));
    }

    #[test]
    fn refuses_malformed_json() {
        for bad in [
            "",
            " ",
            "[]",
            "\"x\"",
            "12",
            "{",
            "}",
            "{,}",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "{\"a\":1 \"b\":2}",
            "{\"a\":1}}",
            "{\"a\":1} x",
            "{\"a\":1}{}",
            "{a:1}",
            "{'a':1}",
            "{\"a\":01}",
            "{\"a\":-}",
            "{\"a\":+1}",
            "{\"a\":1.5}",
            "{\"a\":1.0}",
            "{\"a\":1e3}",
            "{\"a\":9223372036854775808}",
            "{\"a\":-9223372036854775809}",
            "{\"a\":true}",
            "{\"a\":null}",
            "{\"a\":[1]}",
            "{\"a\":{\"b\":1}}",
            "{\"a\":\"unterminated}",
            "{\"a\":\"tab\there\"}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"\\u12\"}",
            "{\"a\":\"\\u12g4\"}",
            "{\"a\":\"\\ud83d\"}",
            "{\"a\":\"\\ud83d\\u0041\"}",
            "{\"a\":\"\\ude00\"}",
            "{\"a\":1,\"b\"",
        ] {
            assert!(parse_flat_object(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn refuses_missing_repeated_or_mistyped_keys() {
        let full = r#""space": "l2", "dim": 8, "max_elements": 100, "M": 8, "ef_construction": 50, "ef": 33"#;
        assert!(Header::parse(format!("{{{full}}}").as_bytes()).is_ok());
        for key in ["space", "dim", "max_elements", "M", "ef_construction", "ef"] {
            let without: Vec<&str> = full.split(", ").filter(|m| !m.starts_with(&format!("\"{key}\""))).collect();
            let e = Header::parse(format!("{{{}}}", without.join(", ")).as_bytes()).unwrap_err();
            assert!(e.contains(key), "{e}");
        }
        for bad in [
            format!("{{{full}, \"dim\": 8}}"),
            format!("{{{full}, \"space\": \"l2\"}}"),
            format!("{{{}}}", full.replace("\"dim\": 8", "\"dim\": \"8\"")),
            format!("{{{}}}", full.replace("\"space\": \"l2\"", "\"space\": 2")),
            format!("{{{}}}", full.replace("\"ef\": 33", "\"ef\": -33")),
            format!("{{{}}}", full.replace("\"M\"", "\"m\"")),
        ] {
            assert!(Header::parse(bad.as_bytes()).is_err(), "accepted {bad}");
        }
        assert!(Header::parse(b"{\"space\": \"\xff\"}").unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn refuses_a_bad_first_line_or_header_line() {
        let corrupt = |bytes: &[u8]| match read_header(&mut &bytes[..]) {
            Err(ReadError::Corrupt(why)) => why,
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(bytes)),
        };
        let good = header().to_bytes();
        assert!(corrupt(b"").contains("first line"));
        assert!(corrupt(b"braincore-index").contains("first line"));
        assert!(corrupt(b"braincore-index 2\n{}\n").contains("first line"));
        assert!(corrupt(b"BRAINCORE-INDEX 1\n{}\n").contains("first line"));
        assert!(corrupt(&good[..MAGIC.len()]).contains("ends inside"));
        assert!(corrupt(&good[..good.len() - 1]).contains("ends inside"));
        assert!(corrupt(b"braincore-index 1\n{\"space\": \"l2\"\n").contains("damaged"));
        assert!(corrupt(b"braincore-index 1\nnot json\nmore\n").contains("damaged"));
        // The JSON line may be up to 64 KiB with its newline, no longer.
        let pad = |n: usize| {
            let mut v = MAGIC.to_vec();
            let body = r#"{"space": "l2", "dim": 8, "max_elements": 100, "M": 8, "ef_construction": 50, "ef": 33}"#;
            v.extend_from_slice(body.as_bytes());
            v.resize(MAGIC.len() + n - 1, b' ');
            v.extend_from_slice(b"\nsnapshot");
            v
        };
        assert_eq!(read_header(&mut &pad(MAX_HEADER_LINE)[..]).unwrap(), header());
        assert!(corrupt(&pad(MAX_HEADER_LINE + 1)).contains("longer than"));
    }
}
