//! The server's layering, as ARCHITECTURE.md states it, checked on the source itself:
//! - `app` (what commands do) imports neither `http` nor `gateway`, the transports over it;
//! - `gateway` does not import `http`;
//! - `live` (delivery on this node) imports none of `app`, `http` and `gateway`;
//! - the `use` graph between the crate's files has no cycle.
//!
//! Paths are read from `use` items and inline `crate::…`/`super::…` paths outside test modules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every source file of the crate, by module path (`crate::app::rooms`).
fn modules() -> BTreeMap<String, PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files
        .into_iter()
        .filter(|f| f.file_name().is_some_and(|n| n != "main.rs"))
        .map(|file| {
            let relative = file.strip_prefix(&src).unwrap().with_extension("");
            let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
                parts.pop();
            }
            let name = std::iter::once("crate".to_owned()).chain(parts).collect::<Vec<_>>().join("::");
            (name, file)
        })
        .collect()
}

/// The paths a piece of source names after `crate::`/`super::` (and its own child modules),
/// with `{a, b::c}` groups expanded.
fn paths(source: &str) -> Vec<String> {
    fn ident(chars: &[char], mut i: usize) -> (String, usize) {
        let start = i;
        while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '*') {
            i += 1;
        }
        (chars[start..i].iter().collect(), i)
    }
    /// Parses `a::b::{c, d::e}` from `i`; returns every full path and where it ended.
    fn path(chars: &[char], i: usize, prefix: &str) -> (Vec<String>, usize) {
        let (name, mut i) = ident(chars, i);
        let here = if prefix.is_empty() { name } else { format!("{prefix}::{name}") };
        if chars.get(i) == Some(&':') && chars.get(i + 1) == Some(&':') {
            i += 2;
            if chars.get(i) == Some(&'{') {
                i += 1;
                let mut all = Vec::new();
                loop {
                    while chars.get(i).is_some_and(|c| c.is_whitespace() || *c == ',') {
                        i += 1;
                    }
                    if chars.get(i).is_none_or(|c| *c == '}') {
                        return (all, i + 1);
                    }
                    let (found, next) = path(chars, i, &here);
                    all.extend(found);
                    // Skip `as name`.
                    i = next;
                    while chars.get(i).is_some_and(|c| *c != ',' && *c != '}') {
                        i += 1;
                    }
                }
            }
            return path(chars, i, &here);
        }
        (vec![here], i)
    }
    let chars: Vec<char> = source.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let rest: String = chars[i..chars.len().min(i + 7)].iter().collect();
        let boundary = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_' || chars[i - 1] == ':');
        if boundary && (rest.starts_with("crate::") || rest.starts_with("super::")) {
            let (all, next) = path(&chars, i, "");
            found.extend(all);
            i = next;
        } else {
            i += 1;
        }
    }
    found
}

/// The source outside `#[cfg(test)]` modules and comments.
fn code(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// Which module of `known` a path names: its longest known prefix.
fn resolve(path: &str, known: &BTreeMap<String, PathBuf>) -> Option<String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len()).rev().map(|n| parts[..n].join("::")).find(|p| known.contains_key(p))
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let known = modules();
    let mut edges = BTreeMap::new();
    for (module, file) in &known {
        let is_dir_module = file.file_name().is_some_and(|n| n == "mod.rs" || n == "lib.rs");
        let parent = module.rsplit_once("::").map_or("crate", |(p, _)| p);
        let source = code(file);
        let mut targets = BTreeSet::new();
        for path in paths(&source) {
            let absolute = match path.strip_prefix("super::") {
                Some(rest) => format!("{parent}::{rest}"),
                None => path,
            };
            if let Some(target) = resolve(&absolute, &known).filter(|t| t != module) {
                targets.insert(target);
            }
        }
        if is_dir_module {
            // `use child::Thing;` in a folder's mod.rs names its own child module.
            for line in source.lines().filter_map(|l| l.trim().strip_prefix("use ")) {
                let child = format!("{module}::{}", line.split("::").next().unwrap_or_default());
                if known.contains_key(&child) {
                    targets.insert(child);
                }
            }
        }
        edges.insert(module.clone(), targets);
    }
    edges
}

fn imports_of<'a>(
    edges: &'a BTreeMap<String, BTreeSet<String>>,
    layer: &str,
) -> impl Iterator<Item = (&'a String, &'a String)> {
    let inside = move |m: &str| m == layer || m.starts_with(&format!("{layer}::"));
    edges.iter().filter(move |(m, _)| inside(m)).flat_map(|(m, targets)| targets.iter().map(move |t| (m, t)))
}

fn within(module: &str, layer: &str) -> bool {
    module == layer || module.starts_with(&format!("{layer}::"))
}

#[test]
fn app_and_gateway_stay_off_the_http_layer() {
    let edges = graph();
    assert!(edges.contains_key("crate::app::rooms") && edges.contains_key("crate::gateway::session"));
    let mut wrong = Vec::new();
    for (layer, forbidden) in [
        ("crate::app", &["crate::http", "crate::gateway"][..]),
        ("crate::gateway", &["crate::http"][..]),
        ("crate::live", &["crate::app", "crate::http", "crate::gateway"][..]),
    ] {
        for (from, to) in imports_of(&edges, layer) {
            if forbidden.iter().any(|f| within(to, f)) {
                wrong.push(format!("{from} -> {to}"));
            }
        }
    }
    assert!(wrong.is_empty(), "imports across the layering:\n{}", wrong.join("\n"));
}

#[test]
fn the_import_graph_has_no_cycle() {
    let edges = graph();
    // Tarjan's strongly connected components; any with two or more files is a cycle.
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        cycles: Vec<Vec<&'a str>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.edges.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let low = self.low[v].min(self.low[w]);
                    self.low.insert(v, low);
                } else if self.on_stack.contains(w) {
                    let low = self.low[v].min(self.index[w]);
                    self.low.insert(v, low);
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.cycles.push(component);
                }
            }
        }
    }
    let mut walk = Walk {
        edges: &edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        cycles: Vec::new(),
    };
    for module in edges.keys() {
        if !walk.index.contains_key(module.as_str()) {
            walk.visit(module);
        }
    }
    let cycles: Vec<String> = walk.cycles.iter().map(|c| c.join(" <-> ")).collect();
    assert!(cycles.is_empty(), "files that import each other in a circle:\n{}", cycles.join("\n"));
}
