//! Cheap fuzzing without external crates: random input must produce results or errors, never
//! panics, and errors must point inside the input.

use super::schema;
use crate::{parse_int_text, FiredRules, RowValues, Rule, RuleSet};

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const TOKENS: &[&str] = &[
    "tcpFlags",
    "pktsSnt",
    "avgL7PktSz",
    "dstPortClass",
    "tcpFlag",
    "and",
    "or",
    "not",
    "&&",
    "||",
    "!",
    "(",
    ")",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "&",
    "|",
    "^",
    "~",
    "-",
    "=",
    "0",
    "4",
    "0x8000000000000000",
    "0xfffffffffffffffff",
    "1400.5",
    "1e400",
    "\"http\"",
    "'tls'",
    "\"unterminated",
    "\\",
    "é",
    "$",
    " ",
    "\n",
    "99999999999999999999",
    "1.",
];

/// Compiles and evaluates whatever parses, checking error positions on the way.
fn exercise(when: &str, rng: &mut Rng, row: &mut RowValues, fired: &mut FiredRules) {
    let lines = when.split('\n').count() as u32;
    let check_pos = |e: &crate::RuleError| {
        if let Some((line, col)) = e.position() {
            assert!(line >= 1 && line <= lines && col >= 1, "{when:?}: {e}");
            let width = when.split('\n').nth(line as usize - 1).map_or(0, |l| l.chars().count()) as u32;
            assert!(col <= width + 1, "{when:?}: {e}");
        }
    };
    match RuleSet::from_rules(vec![Rule::new("f", when)]) {
        Err(e) => check_pos(&e),
        Ok(set) => match set.compile(&schema()) {
            Err(e) => check_pos(&e),
            Ok(compiled) => {
                row.clear();
                for &c in compiled.columns_used() {
                    match rng.below(4) {
                        0 => row.set_int(c, rng.next()),
                        1 => row.set_float(c, f64::from_bits(rng.next())),
                        2 => row.set_str(c, "http"),
                        _ => {}
                    }
                }
                compiled.evaluate(&*row, fired);
            }
        },
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut row, mut fired) = (RowValues::new(0), FiredRules::new());
    let alphabet = b"abcxyz_019xX .()&|^~!=<>\"'\\-\n\t";
    for _ in 0..4000 {
        let len = rng.below(40);
        let bytes: Vec<u8> = (0..len)
            .map(|_| if rng.below(4) == 0 { rng.next() as u8 } else { alphabet[rng.below(alphabet.len())] })
            .collect();
        let text = String::from_utf8_lossy(&bytes);
        exercise(&text, &mut rng, &mut row, &mut fired);
        let _ = parse_int_text(&text);
    }
}

#[test]
fn random_token_sequences_never_panic() {
    let mut rng = Rng(42);
    let (mut row, mut fired) = (RowValues::new(0), FiredRules::new());
    for _ in 0..5000 {
        let n = 1 + rng.below(15);
        let sep = if rng.below(3) == 0 { "" } else { " " };
        let text: Vec<&str> = (0..n).map(|_| rng.pick(TOKENS)).collect();
        exercise(&text.join(sep), &mut rng, &mut row, &mut fired);
    }
}

#[test]
fn random_rule_files_never_panic() {
    let mut rng = Rng(7);
    let base = "[[rule]]\nname = \"a\"\nwhen = \"\"\"\ntcpFlags & 0x2 \\\n and pktsSnt > 1\"\"\"\nseverity = 'high'\n\
                [[rule]]\nname = 'b'\nwhen = \"dstPortClass == \\\"http\\\" or avgL7PktSz > 1.5\"\n";
    let inserts = ["\"", "'", "\\", "\n", "=", "[", "]", "#", "é", "\\u00e9", "and", "(", " ", "x"];
    for _ in 0..3000 {
        let mut text = base.to_owned();
        for _ in 0..1 + rng.below(3) {
            let mut at = rng.below(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            if rng.below(2) == 0 {
                text.insert_str(at, rng.pick(&inserts));
            } else if at < text.len() {
                let end = (at + 1..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
                text.replace_range(at..end, "");
            }
        }
        if let Ok(set) = RuleSet::parse_str(&text, "fuzz.toml") {
            let _ = set.compile(&schema()).map_err(|e| e.to_string());
        }
    }
}
