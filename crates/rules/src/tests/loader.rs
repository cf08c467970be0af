use super::schema;
use crate::{ErrorKind, RuleError, RuleSet, Severity};

fn load_err(text: &str) -> RuleError {
    match RuleSet::parse_str(text, "rules.toml") {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e,
    }
}

fn compile_err(text: &str) -> RuleError {
    let set = RuleSet::parse_str(text, "rules.toml").unwrap_or_else(|e| panic!("{e}"));
    set.compile(&schema()).unwrap_err()
}

#[test]
fn loads_all_fields_and_defaults() {
    let text = r#"
# netanom default rules
[[rule]]
name = "syn-scan"
when = "(tcpFlags & 0x0002) != 0 and pktsRcvd == 0"
description = "SYN without answer"
severity = "critical"
category = "scan"
enabled = true

[[rule]]
name = "web_1"
when = 'dstPortClass == "http"'

[[rule]]
name = "old"
when = """
tcpAnomaly > 4
  and pktsSnt <= 3"""
severity = "Low"
enabled = false
"#;
    let set = RuleSet::parse_str(text, "rules.toml").unwrap();
    let rules: Vec<_> = set.rules().collect();
    assert_eq!(rules.len(), 3);
    assert_eq!(rules[0].description.as_deref(), Some("SYN without answer"));
    assert_eq!(rules[0].severity, Severity::Critical);
    assert_eq!(rules[0].category.as_deref(), Some("scan"));
    assert_eq!((rules[1].severity, rules[1].enabled, rules[1].category.as_deref()), (Severity::Medium, true, None));
    assert_eq!(rules[2].when, "tcpAnomaly > 4\n  and pktsSnt <= 3");
    assert_eq!((rules[2].severity, rules[2].enabled), (Severity::Low, false));
    assert_eq!(set.compile(&schema()).unwrap().len(), 2);
    assert!(RuleSet::parse_str("", "empty.toml").unwrap().is_empty());
    assert!(RuleSet::parse_str("# only a comment\n", "c.toml").unwrap().is_empty());
}

#[test]
fn toml_syntax_error() {
    let e = load_err("[[rule]]\nname = \"a\nwhen = \"x\"\n");
    assert_eq!(e.kind(), ErrorKind::Toml);
    assert_eq!(e.position(), Some((2, 10)));
    assert!(e.to_string().starts_with("rules.toml:2:10: "), "{e}");

    let e = load_err("[[rule]]\nname = \"a\"\nwhen = \"x == 1\"\nseverity = high\n");
    assert_eq!((e.kind(), e.position()), (ErrorKind::Toml, Some((4, 12))));
}

#[test]
fn unknown_keys() {
    let e = load_err("[[rule]]\nname = \"a\"\nwhen = \"pktsSnt > 1\"\n  serverity = \"high\"\n");
    assert_eq!((e.kind(), e.position()), (ErrorKind::Toml, Some((4, 3))));
    assert!(e.message().contains("unknown field `serverity`"), "{e}");

    let e = load_err("[[rules]]\nname = \"a\"\n");
    assert_eq!((e.kind(), e.position()), (ErrorKind::Toml, Some((1, 3))));
}

#[test]
fn wrong_value_types() {
    let e = load_err("[[rule]]\nname = \"a\"\nwhen = \"x\"\nenabled = \"yes\"\n");
    assert_eq!((e.kind(), e.position()), (ErrorKind::Toml, Some((4, 11))));
    let e = load_err("[[rule]]\nname = \"a\"\nwhen = 4\n");
    assert_eq!((e.kind(), e.position()), (ErrorKind::Toml, Some((3, 8))));
}

#[test]
fn missing_fields() {
    let e = load_err("[[rule]]\nname = \"a\"\nwhen = \"pktsSnt > 1\"\n\n[[rule]]\nname = \"b\"\n");
    assert_eq!(e.kind(), ErrorKind::InvalidRule);
    assert_eq!(e.to_string(), "rules.toml:5:1: rule \"b\" is missing \"when\"");
    assert_eq!(e.rule(), Some("b"));

    let e = load_err("\n[[rule]]\nwhen = \"pktsSnt > 1\"\n");
    assert_eq!(e.to_string(), "rules.toml:2:1: rule is missing \"name\"");
}

#[test]
fn duplicate_and_invalid_names() {
    let text = "[[rule]]\nname = \"a\"\nwhen = \"1\"\n[[rule]]\nname   = \"a\"\nwhen = \"2\"\n";
    let e = load_err(text);
    assert_eq!(e.to_string(), "rules.toml:5:10: duplicate rule name \"a\" (first defined at 2:8)");

    let e = load_err("[[rule]]\nname = \"port scan\"\nwhen = \"1\"\n");
    assert_eq!((e.kind(), e.position()), (ErrorKind::InvalidRule, Some((2, 8))));
    assert!(e.message().starts_with("invalid rule name \"port scan\""));
}

#[test]
fn bad_severity() {
    let e = load_err("[[rule]]\nname = \"a\"\nwhen = \"1\"\nseverity = \"urgent\"\n");
    assert_eq!(
        e.to_string(),
        "rules.toml:4:12: invalid severity \"urgent\" in rule \"a\" (expected low, medium, high or critical)"
    );
}

#[test]
fn expression_errors_point_into_the_when_string() {
    // Basic string: column 8 is the opening quote, so offset n of the expression is column 9 + n.
    let e = load_err("[[rule]]\nname = \"a\"\n\n\nwhen = \"connSipDprt >= 50 and\"\n");
    assert_eq!(e.to_string(), "rules.toml:5:30: expected a value after \"and\"");
    assert_eq!(e.kind(), ErrorKind::Syntax);

    // Escapes before the error shift the position in the file, not in the decoded string.
    let e = load_err("[[rule]]\nname = \"a\"\nwhen = \"dstPortClass == \\\"http\\\" and (\"\n");
    assert_eq!((e.message(), e.position()), ("expected a value after \"(\"", Some((3, 39))));
    let e = load_err("[[rule]]\nname = \"a\"\nwhen = \"x == \\u0022\\u00e9\\\" $\"\n");
    assert_eq!(e.position(), Some((3, 29)));

    // Literal string.
    let e = load_err("[[rule]]\nname = \"a\"\nwhen = 'pktsSnt = 1'\n");
    assert_eq!(e.to_string(), "rules.toml:3:17: unexpected \"=\"; use \"==\" to compare");

    // Multi-line strings, including a line-ending backslash.
    let e = load_err("[[rule]]\nname = \"a\"\nwhen = \"\"\"\n  pktsSnt > 1 and\n  (tcpFlags & 2\n\"\"\"\n");
    assert_eq!(e.position(), Some((5, 3)));
    assert_eq!(e.message(), "unclosed \"(\"");
    let e = load_err("[[rule]]\nname = \"a\"\nwhen = \"\"\"pktsSnt > 1 \\\n     and and\"\"\"\n");
    assert_eq!(e.position(), Some((4, 10)));
    let e = load_err("[[rule]]\nname = \"a\"\nwhen = '''\npktsSnt >\n'''\n");
    assert_eq!(e.position(), Some((5, 1)));

    // Non-ASCII before the error counts as one column.
    let e = load_err("[[rule]]\nname = \"a\"\nwhen = \"hdrDesc == 'é' and\"\n");
    assert_eq!(e.position(), Some((3, 27)));

    // Empty expression.
    let e = load_err("[[rule]]\nname = \"a\"\nwhen = \"\"\n");
    assert_eq!((e.message(), e.position()), ("empty expression", Some((3, 9))));
}

#[test]
fn compile_errors_carry_file_positions() {
    let text = "[[rule]]\nname = \"xmas\"\nseverity = \"high\"\nwhen = \"tcpFlag & 0x29 == 0x29\"\n";
    let e = compile_err(text);
    assert_eq!(
        e.to_string(),
        "rules.toml:4:9: unknown column \"tcpFlag\" in rule \"xmas\" (did you mean \"tcpFlags\"?)"
    );
    assert_eq!((e.kind(), e.rule(), e.file()), (ErrorKind::UnknownColumn, Some("xmas"), Some("rules.toml")));

    let text = "[[rule]]\nname = \"t\"\nwhen = '''\npktsSnt > 1 and\n    dstPortClass >= \"a\"'''\n";
    let e = compile_err(text);
    assert_eq!(e.to_string(), "rules.toml:5:18: strings can only be compared with == or !=");
}

#[test]
fn user_file_extends_defaults() {
    let mut set = RuleSet::parse_str("[[rule]]\nname = \"a\"\nwhen = \"pktsSnt > 1\"\n", "defaults.toml").unwrap();
    let user = "[[rule]]\nname = \"a\"\nwhen = \"pktsSnt > 2\"\n[[rule]]\nname = \"b\"\nwhen = \"nope == 1\"\n";
    set.extend(RuleSet::parse_str(user, "user.toml").unwrap());
    assert_eq!(set.get("a").map(|r| r.when.as_str()), Some("pktsSnt > 2"));
    // Errors in merged rules still name the file they came from.
    assert!(set.compile(&schema()).unwrap_err().to_string().starts_with("user.toml:6:9: unknown column \"nope\""));
}

#[test]
fn reads_files() {
    let dir = std::env::temp_dir().join(format!("netanom-rules-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("r.toml");
    std::fs::write(&path, "[[rule]]\nname = \"a\"\nwhen = \"pktsSnt > 1\"\n").unwrap();
    assert_eq!(RuleSet::from_file(&path).unwrap().len(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
    let e = RuleSet::from_file(&path).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    assert!(e.to_string().contains("r.toml: cannot read rule file"), "{e}");
}
