//! No module of the library imports one above it: the layers `src/lib.rs` lists, read off
//! every `crate::<module>` path in the sources.

use std::collections::BTreeSet;
use std::path::Path;

/// `src/lib.rs`'s layers, from the top.
const LAYERS: [&str; 10] = [
    "lambda",
    "handler",
    "relay",
    "rejection",
    "config",
    "aws",
    "ports",
    "outbound",
    "inbound",
    "meaning",
];

fn sources(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The top-level modules `text` names as `crate::<module>`, or in `crate::{a, b::c}`.
fn imports(text: &str) -> BTreeSet<String> {
    let ident = |rest: &str| -> String {
        rest.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect()
    };
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c == ':' || c == '_' || c.is_ascii_alphanumeric()) {
            continue;
        }
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    _ if item_start && !c.is_whitespace() => {
                        found.insert(ident(&group[i..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            found.insert(ident(rest));
        }
    }
    found.remove("");
    found
}

#[test]
fn every_import_goes_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let rank = |module: &str| LAYERS.iter().position(|layer| *layer == module);
    let mut upward = Vec::new();
    let mut checked = 0;
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let module = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap()
            .trim_end_matches(".rs");
        let Some(own) = rank(module) else {
            assert!(
                ["lib", "main"].contains(&module),
                "{module} is in no layer: add it to src/lib.rs and LAYERS"
            );
            continue;
        };
        for imported in imports(&std::fs::read_to_string(file).unwrap()) {
            let theirs = rank(&imported)
                .unwrap_or_else(|| panic!("{}: crate::{imported} is in no layer", file.display()));
            checked += 1;
            if theirs < own {
                upward.push(format!("{} imports crate::{imported}", relative.display()));
            }
        }
    }
    assert!(checked > 30, "only {checked} imports read");
    assert!(upward.is_empty(), "imports up the layers: {upward:#?}");
}

#[test]
fn the_reader_finds_imports_and_only_imports() {
    let text = "use crate::relay::Relay;\nuse crate::{inbound, ports::publish};\n// not::crate::x\nfn f() { crate::meaning::classify(); }";
    assert_eq!(
        imports(text),
        ["inbound", "meaning", "ports", "relay"]
            .map(String::from)
            .into_iter()
            .collect()
    );
}
