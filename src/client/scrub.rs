//! Keeping the API key out of error messages, even when a server or proxy echoes it back
//! transformed: upper-cased, with separators inserted (`-`, `_`, spaces, line breaks),
//! percent-, backslash- or HTML-escaped, cut into pieces, reversed, or encoded as hex or base64.
//!
//! The literal key is replaced first. Then the text and the key's secret part (what follows
//! `sk_live_` and its kin) are both *normalised*: ASCII letters and digits only, lower-cased,
//! `%XX`, `\uXXXX` and `&#NN;` escapes decoded, everything else dropped. Every stretch of text whose
//! normalised form holds [`RUN`] or more consecutive characters of the normalised secret is
//! redacted, from its first such character to its last (with the separators between them),
//! together with the key's prefix when it comes right before.
//!
//! A piece shorter than [`RUN`] is not caught: below that, ordinary text matches by chance.
//! The secret read backwards counts too. Runs of hex digits or base64 characters long enough to
//! hold [`RUN`] characters are decoded, and redacted whole when what they hold is an echo.
//!
//! One pass over the text with a window of a few characters, so a large error body costs
//! time in proportion to its size and no memory beyond the scrubbed copy.

use std::collections::VecDeque;
use std::ops::Range;

/// Shortest run of the secret's characters that counts as an echo of it.
pub const RUN: usize = 10;

/// Bits of one normalised character (`0-9a-z`) in a packed window: [`RUN`] of them fit a u64.
const BITS: usize = 6;

/// The kinds of key whose prefix is not secret.
const PREFIXES: [&str; 4] = ["sk_live_", "sk_test_", "rk_live_", "rk_test_"];

/// Keep only the key's kind (`sk_test_…`), which helps debugging and is not secret.
pub fn redacted(key: &str) -> String {
    format!("{}…", prefix(key))
}

fn prefix(key: &str) -> &'static str {
    PREFIXES
        .into_iter()
        .find(|p| key.starts_with(p))
        .unwrap_or("")
}

/// `s` with every echo of `key` (literal or transformed) replaced by `redacted(key)`.
pub fn scrub(s: &str, key: &str) -> String {
    if key.is_empty() {
        return s.to_owned();
    }
    let mask = redacted(key);
    let s = s.replace(key, &mask);
    let spans = merged(echoes(&s, key), encoded_echoes(&s, key));
    if spans.is_empty() {
        return s;
    }
    let mut out = String::with_capacity(s.len());
    let mut at = 0;
    for span in spans {
        out.push_str(&s[at..span.start]);
        out.push_str(&mask);
        at = span.end;
    }
    out.push_str(&s[at..]);
    out
}

/// The normalised form of `s` (letters and digits, lower-cased; escapes decoded).
fn normalised(s: &str) -> Vec<u8> {
    Normalise::new(s).map(|(c, _)| c).collect()
}

/// Byte ranges of `text` that echo the secret part of `key`, in order and disjoint.
fn echoes(text: &str, key: &str) -> Vec<Range<usize>> {
    let kind = normalised(prefix(key));
    let secret = normalised(&key[prefix(key).len()..]);
    if secret.is_empty() {
        return Vec::new();
    }
    // A secret shorter than a run must appear whole.
    let run = RUN.min(secret.len());
    let windows = windows_of(&secret, run);
    let mask = (1u64 << (BITS * run)) - 1;
    // The last `run` characters seen, packed.
    let mut window = 0u64;
    // The last characters seen: one window, and the prefix that may come before it.
    let mut recent: VecDeque<(u8, Range<usize>)> = VecDeque::with_capacity(run + kind.len() + 1);
    let mut spans: Vec<Range<usize>> = Vec::new();
    // The echo being extended: its byte range, and the index (in normalised characters) just
    // past its last character.
    let mut open: Option<(Range<usize>, usize)> = None;
    for (n, (c, bytes)) in Normalise::new(text).enumerate() {
        window = (window << BITS | symbol(c)) & mask;
        recent.push_back((c, bytes.clone()));
        if recent.len() > run + kind.len() {
            recent.pop_front();
        }
        if recent.len() < run {
            continue;
        }
        if windows.binary_search(&window).is_err() {
            continue;
        }
        let first = recent.len() - run;
        let starts_at = n + 1 - run;
        match &mut open {
            // Overlapping the open echo: the same echo, longer.
            Some((span, end)) if starts_at < *end => {
                span.end = bytes.end;
                *end = n + 1;
            }
            _ => {
                spans.extend(open.take().map(|(span, _)| span));
                let mut start = recent[first].1.start;
                let before = recent.range(..first).map(|(c, _)| *c);
                if !kind.is_empty() && first == kind.len() && before.eq(kind.iter().copied()) {
                    start = recent[0].1.start;
                }
                // Never reach back into the previous echo.
                if let Some(last) = spans.last() {
                    start = start.max(last.end);
                }
                open = Some((start..bytes.end, n + 1));
            }
        }
    }
    spans.extend(open.map(|(span, _)| span));
    spans
}

/// The packed runs of `run` characters of `secret`, read forwards and backwards, sorted.
fn windows_of(secret: &[u8], run: usize) -> Vec<u64> {
    let backwards: Vec<u8> = secret.iter().rev().copied().collect();
    let mut windows: Vec<u64> = secret
        .windows(run)
        .chain(backwards.windows(run))
        .map(pack)
        .collect();
    windows.sort_unstable();
    windows
}

/// Whether the normalised `text` holds a run of the secret (forwards or backwards).
fn holds_echo(text: &[u8], secret: &[u8]) -> bool {
    let run = RUN.min(secret.len());
    let windows = windows_of(secret, run);
    text.windows(run)
        .any(|w| windows.binary_search(&pack(w)).is_ok())
}

/// Byte ranges of hex or base64 runs of `text` whose decoding echoes the secret of `key`.
fn encoded_echoes(text: &str, key: &str) -> Vec<Range<usize>> {
    let secret = normalised(&key[prefix(key).len()..]);
    if secret.is_empty() {
        return Vec::new();
    }
    let is_b64 = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_' | b'=');
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        if !is_b64(bytes[at]) {
            at += 1;
            continue;
        }
        let start = at;
        while at < bytes.len() && is_b64(bytes[at]) {
            at += 1;
        }
        let chunk = &bytes[start..at];
        // Two hex digits, or four base64 characters per three bytes, for each character.
        if chunk.len() < 2 * RUN.min(secret.len()) {
            continue;
        }
        let decoded = [unhex(chunk), unbase64(chunk)];
        let echo = decoded.iter().flatten().any(|d| {
            let text: Vec<u8> = d
                .iter()
                .filter(|c| c.is_ascii_alphanumeric())
                .map(u8::to_ascii_lowercase)
                .collect();
            holds_echo(&text, &secret)
        });
        if echo {
            out.push(start..at);
        }
    }
    out
}

fn unhex(chunk: &[u8]) -> Option<Vec<u8>> {
    if !chunk.len().is_multiple_of(2) || !chunk.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
    Some(
        chunk
            .chunks(2)
            .map(|p| digit(p[0]) << 4 | digit(p[1]))
            .collect(),
    )
}

/// Standard or URL-safe base64, padded or not; what is not base64 decodes to None.
fn unbase64(chunk: &[u8]) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    };
    let body: Vec<u8> = chunk.iter().copied().take_while(|&c| c != b'=').collect();
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in body {
        acc = acc << 6 | value(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Two sorted lists of disjoint ranges as one, overlapping ones joined.
fn merged(a: Vec<Range<usize>>, b: Vec<Range<usize>>) -> Vec<Range<usize>> {
    let mut all: Vec<Range<usize>> = a.into_iter().chain(b).collect();
    all.sort_by_key(|r| r.start);
    let mut out: Vec<Range<usize>> = Vec::with_capacity(all.len());
    for r in all {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

fn symbol(c: u8) -> u64 {
    u64::from(if c.is_ascii_digit() {
        c - b'0'
    } else {
        c - b'a' + 10
    })
}

/// Normalised characters packed into one number, to compare windows of them cheaply.
fn pack(chars: &[u8]) -> u64 {
    chars.iter().fold(0, |w, &c| w << BITS | symbol(c))
}

/// The normalised characters of a text, each with the byte range it came from.
struct Normalise<'a> {
    s: &'a [u8],
    at: usize,
}

impl<'a> Normalise<'a> {
    fn new(s: &'a str) -> Normalise<'a> {
        Normalise {
            s: s.as_bytes(),
            at: 0,
        }
    }

    /// The character (if any) at `at`, and how many bytes it takes.
    fn decode(&self, at: usize) -> (Option<u8>, usize) {
        let rest = &self.s[at..];
        let hex = |digits: &[u8]| -> Option<u32> {
            let text = std::str::from_utf8(digits).ok()?;
            u32::from_str_radix(text, 16).ok()
        };
        let char_of = |code: u32| u8::try_from(code).ok().filter(u8::is_ascii_alphanumeric);
        match rest {
            // %41, as in a URL or a form body.
            [b'%', a, b, ..] if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => {
                (hex(&rest[1..3]).and_then(char_of), 3)
            }
            // \u0041, as in JSON text, and \n and the like, which separate.
            [b'\\', b'u', tail @ ..]
                if tail.len() >= 4 && tail[..4].iter().all(u8::is_ascii_hexdigit) =>
            {
                (hex(&tail[..4]).and_then(char_of), 6)
            }
            [b'\\', b'n' | b'r' | b't' | b'b' | b'f', ..] => (None, 2),
            // &#115; and &#x73;, as in HTML.
            [b'&', b'#', tail @ ..] => match entity(tail) {
                Some((code, len)) => (char_of(code), 2 + len),
                None => (None, 1),
            },
            [c, ..] if c.is_ascii_alphanumeric() => (Some(*c), 1),
            // Any other byte (punctuation, space, part of a non-ASCII character) separates.
            _ => (None, 1),
        }
    }
}

/// The code point and length (digits and `;`) of an HTML numeric entity's tail (after `&#`).
fn entity(tail: &[u8]) -> Option<(u32, usize)> {
    let (radix, digits) = match tail {
        [b'x' | b'X', rest @ ..] => (16, rest),
        _ => (10, tail),
    };
    let n = digits.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    if n == 0 || n > 7 || digits.get(n) != Some(&b';') {
        return None;
    }
    let code = u32::from_str_radix(std::str::from_utf8(&digits[..n]).ok()?, radix).ok()?;
    Some((code, n + 1 + usize::from(radix == 16)))
}

impl Iterator for Normalise<'_> {
    type Item = (u8, Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        while self.at < self.s.len() {
            let start = self.at;
            let (c, len) = self.decode(start);
            self.at += len;
            if let Some(c) = c {
                return Some((c.to_ascii_lowercase(), start..self.at));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk_test_51SecretKeyDoNotLeak";

    fn clean(s: &str) -> String {
        scrub(s, KEY)
    }

    #[test]
    fn the_literal_key_and_prefixless_keys() {
        assert_eq!(clean(&format!("Bearer {KEY}.")), "Bearer sk_test_….");
        assert_eq!(redacted("rk_live_abc"), "rk_live_…");
        assert_eq!(redacted("whsec_x"), "…");
        // Without a known prefix the whole key is the secret.
        assert_eq!(scrub("key=ABCDEFGHIJKLMNOP!", "abcdefghijklmnop"), "key=…!");
        assert_eq!(scrub("anything", ""), "anything");
    }

    #[test]
    fn other_case() {
        assert_eq!(
            clean("Bearer SK_TEST_51SECRETKEYDONOTLEAK here"),
            "Bearer sk_test_… here"
        );
        assert_eq!(clean("token 51secretkeydonotleak"), "token sk_test_…");
    }

    #[test]
    fn inserted_separators() {
        for echo in [
            "sk-test-51-Secret-Key-Do-Not-Leak",
            "s k _ t e s t _ 5 1 S e c r e t K e y D o N o t L e a k",
            "51_Secret_Key_Do_Not_Leak",
            "51Secret\r\nKeyDo\tNotLeak",
            "51SecretKeyDo\\nNotLeak",
            "51Secret%20Key%0ADoNotLeak",
            "51Secret…KeyDoNotLeak",
        ] {
            let out = clean(&format!("<{echo}>"));
            assert_eq!(out, "<sk_test_…>", "{echo}");
        }
    }

    #[test]
    fn escaped_keys() {
        assert_eq!(
            clean("Bearer%20sk_test_51SecretKeyDoNotLeak"),
            "Bearer%20sk_test_…"
        );
        // Every character percent-encoded, as a URL-encoder that escapes too much would.
        let encoded: String = KEY.bytes().map(|b| format!("%{b:02X}")).collect();
        assert_eq!(clean(&format!("q={encoded}&x=1")), "q=sk_test_…&x=1");
        let lower: String = KEY.bytes().map(|b| format!("%{b:02x}")).collect();
        assert_eq!(clean(&lower), "sk_test_…");
        let json: String = KEY.bytes().map(|b| format!("\\u{b:04x}")).collect();
        assert_eq!(
            clean(&format!(r#"{{"k":"{json}"}}"#)),
            r#"{"k":"sk_test_…"}"#
        );
    }

    #[test]
    fn a_key_cut_into_pieces() {
        // Halves on two lines, with other text between them.
        let out = clean("first half: sk_test_51SecretKe\nsecond half: yDoNotLeak\n");
        assert_eq!(out, "first half: sk_test_…\nsecond half: sk_test_…\n");
        // Pieces in reverse order.
        assert_eq!(clean("yDoNotLeak | 51SecretKe"), "sk_test_… | sk_test_…");
        // A piece shorter than a run stays: it cannot be told from chance.
        assert_eq!(clean("51SecretK"), "51SecretK");
    }

    #[test]
    fn nothing_else_is_touched() {
        for text in [
            "No such customer: 'cus_NffrFeUfNV2Hib' [request req_0123456789abcdef]",
            "Invalid API Key provided: sk_test_****Leak",
            "HTTP error 502 on GET /v1/customers?limit=100&starting_after=cus_1: Bad Gateway",
            "pi_3MtwBwLkdIwHu7ix28a3tqPa in_1NffrFeUfNV2Hib sub_1Secret prod_DoNotLeak",
            "",
            "日本語のテキスト, 100% fine; a\\nb",
            "sk_test_…",
        ] {
            assert_eq!(clean(text), text);
        }
        // Scrubbing twice changes nothing more.
        let once = clean(&format!("{KEY} 51SECRETKEYDONOTLEAK"));
        assert_eq!(clean(&once), once);
    }

    #[test]
    fn a_long_real_looking_key() {
        let key = "sk_live_51H8zQ2LkdIwHu7ixAbCdEfGhIjKlMnOpQrStUvWxYz0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ";
        let text = format!(
            "echo: {}",
            key.to_uppercase()
                .replace("SK_LIVE_", "")
                .replace("Z0", "Z-\n0")
        );
        assert_eq!(scrub(&text, key), "echo: sk_live_…");
        // A dozen characters of it in ordinary text are caught too.
        assert_eq!(scrub("id 9aBcDeFgHiJk!", key), "id sk_live_…!");
    }

    #[test]
    fn normalising() {
        assert_eq!(normalised("A-b_C %41%2d\\u0042\\n1"), b"abcab1");
        let spans: Vec<_> = Normalise::new("x%41\\u0062").map(|(_, r)| r).collect();
        assert_eq!(spans, [0..1, 1..4, 4..10]);
        // Broken escapes are plain text.
        assert_eq!(normalised("%4g\\u12"), b"4gu12");
    }

    #[test]
    fn encoded_and_reversed_echoes() {
        let html: String = KEY.bytes().map(|b| format!("&#{b};")).collect();
        let hex_html: String = KEY.bytes().map(|b| format!("&#x{b:x};")).collect();
        let hex: String = KEY.bytes().map(|b| format!("{b:02x}")).collect();
        let b64 = base64(KEY.as_bytes());
        let reversed: String = KEY.chars().rev().collect();
        for echo in [html, hex_html, hex, b64, reversed] {
            let out = clean(&format!("<p>key: {echo}</p>"));
            assert!(
                !normalised(&out).windows(10).any(|w| {
                    normalised("51SecretKeyDoNotLeak")
                        .windows(10)
                        .any(|s| s == w)
                }) && out.contains('…'),
                "{echo} -> {out}"
            );
        }
        // Ids and hashes that merely look encoded are left alone.
        for plain in [
            "req_8f14e45fceea167a5a36dedd4bea2543",
            "cus_Abc123Def456Ghi789",
            "dGhpcyBpcyBub3QgYSBrZXk=",
        ] {
            assert_eq!(clean(plain), plain);
        }
    }

    fn base64(bytes: &[u8]) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        bytes
            .chunks(3)
            .flat_map(|c| {
                let n = (c[0] as u32) << 16
                    | (*c.get(1).unwrap_or(&0) as u32) << 8
                    | *c.get(2).unwrap_or(&0) as u32;
                let k = c.len() + 1;
                (0..4).map(move |i| {
                    if i < k {
                        A[(n >> (18 - 6 * i) & 63) as usize] as char
                    } else {
                        '='
                    }
                })
            })
            .collect()
    }
}
