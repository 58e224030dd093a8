//! The kernel's module graph: which top-level module of `kernel/src` names which, read from the
//! source, checked against the layer order of docs/ARCHITECTURE.md ("dependencies point down").
//!
//! A module names another through a `crate::NAME` path (a `use`, a `crate::{...}` group, or a path
//! in an expression) or through a `#[macro_export]` macro called as `crate::NAME!`; comments are
//! ignored. Paths that climb out of a module with `super::` are not followed: the kernel names
//! other top-level modules with `crate::` only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::util::{Error, Result};

/// The kernel's top-level modules from the top layer down. A module may name only modules of
/// layers below its own (not those beside it): that makes the graph acyclic. `main.rs`, the
/// crate root, is above all of them and wires the layers together at boot.
pub const LAYERS: &[&[&str]] = &[
    &["syscall"],
    &["procfs"],
    &["process"],
    &["net", "ipc"],
    &["fs"],
    &["event"],
    &["task"],
    &["drivers"],
    &["mm"],
    &["log", "random", "cmdline"],
    &["arch"],
    &["sync", "error", "cap"],
];

/// The one edge up the layers: the boot entry (`arch::boot::kernel_entry`, the symbol the boot stub
/// calls) hands over to the crate root's `kernel_main`, as Linux's arch code calls `start_kernel`.
/// Declaring that entry in `main.rs` instead would need `#[no_mangle]`, which is unsafe code, and
/// reaching `kernel_main` through a symbol would hide the edge rather than remove it.
pub const BOOT_HANDOVER: (&str, &str) = ("arch", "kernel_main");

/// One reference of a module to another: where it is, for the report.
#[derive(Clone, Debug)]
pub struct Site {
    pub file: PathBuf,
    pub line: usize,
}

/// from → to → the places where `from` names `to`.
pub type Graph = BTreeMap<String, BTreeMap<String, Vec<Site>>>;

/// Reads every `.rs` file under `src` (the kernel's `src/`) into the module graph.
pub fn read(src: &Path) -> Result<Graph> {
    let mut files = Vec::new();
    collect_rs(src, &mut files)?;
    files.sort();
    let mut sources = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::new(format!("{}: {e}", path.display())))?;
        let rel = path.strip_prefix(src).unwrap_or(&path).to_path_buf();
        sources.push((rel, strip_comments(&text)));
    }
    Ok(graph_of(&sources))
}

/// The graph of already comment-stripped sources, keyed by their path under `src/`.
fn graph_of(sources: &[(PathBuf, String)]) -> Graph {
    // Exported macros live at the crate root: `crate::log!` is the `log` module's.
    let mut macros: BTreeMap<String, String> = BTreeMap::new();
    for (path, text) in sources {
        let Some(module) = top_module(path) else { continue };
        let mut exported = false;
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with("#[macro_export]") {
                exported = true;
            } else if let Some(rest) = line.strip_prefix("macro_rules!") {
                if exported {
                    macros.insert(ident_at(rest.trim_start()).to_string(), module.clone());
                }
                exported = false;
            }
        }
    }
    let mut graph = Graph::new();
    for (path, text) in sources {
        let Some(from) = top_module(path) else { continue };
        graph.entry(from.clone()).or_default();
        for (name, macro_call, offset) in crate_paths(text) {
            let to = match macros.get(name) {
                Some(m) if macro_call => m.clone(),
                _ => name.to_string(),
            };
            if to != from {
                let line = 1 + text[..offset].matches('\n').count();
                let sites = graph.entry(from.clone()).or_default().entry(to).or_default();
                sites.push(Site { file: path.clone(), line });
            }
        }
    }
    graph
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| Error::new(format!("{}: {e}", dir.display())))?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            collect_rs(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// The top-level module a file belongs to (`fs/tty/ldisc.rs` → `fs`); `None` for `main.rs`.
fn top_module(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "main").then(|| name.to_string())
}

/// The identifier at the start of `s`.
fn ident_at(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// The NAME of every `crate::NAME` in a source (not `$crate::`, not `foo_crate::`), whether it is
/// a macro call (`crate::NAME!`), and its byte offset; a group `crate::{a::x, b}` gives each of
/// its top-level names (`a`, `b`; `self` is the crate root and no module).
fn crate_paths(text: &str) -> Vec<(&str, bool, usize)> {
    let mut names = Vec::new();
    let mut start = 0;
    while let Some(i) = text[start..].find("crate::") {
        let at = start + i;
        let before = text[..at].chars().next_back();
        let standalone = !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
        let after = at + "crate::".len();
        start = after;
        if !standalone {
            continue;
        }
        let rest = &text[after..];
        if rest.starts_with('{') {
            // Each item of the group begins after `{` or after a `,` at depth 1.
            let mut depth = 0;
            let mut item_start = true;
            for (j, c) in rest.char_indices() {
                match c {
                    '{' => {
                        depth += 1;
                        item_start = depth == 1;
                        continue;
                    }
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => {
                        item_start = true;
                        continue;
                    }
                    c if c.is_whitespace() => continue,
                    _ => {}
                }
                if item_start && depth == 1 {
                    let name = ident_at(&rest[j..]);
                    if !name.is_empty() && name != "self" {
                        names.push((name, false, after + j));
                    }
                }
                item_start = false;
            }
            continue;
        }
        let name = ident_at(rest);
        if !name.is_empty() {
            names.push((name, rest[name.len()..].starts_with('!'), at));
        }
    }
    names
}

/// The source with `//` and `/* */` comments blanked out (newlines kept, so line numbers hold),
/// string and character literals left as they are.
pub fn strip_comments(src: &str) -> String {
    let chars: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !prev_is_ident(&chars, i)
        {
            // Raw string r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                match chars.get(j) {
                    None => break,
                    Some('"') if (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) => {
                        j += 1 + hashes;
                        break;
                    }
                    _ => j += 1,
                }
            }
            out.extend(&chars[i..j.min(chars.len())]);
            i = j;
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(chars.len());
            out.extend(&chars[i..end]);
            i = end;
        } else if c == '\'' {
            // A character literal ('x', '\n', '"'), else a lifetime or label ('a).
            let end = if next == Some('\\') {
                (i + 2..chars.len()).find(|&j| chars[j] == '\'').map(|j| j + 1)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 3)
            } else {
                None
            };
            let end = end.unwrap_or(i + 1).min(chars.len());
            out.extend(&chars[i..end]);
            i = end;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// The layer of a module (0 = top), if it has one.
fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// What is wrong with the graph: cycles, edges that do not point down, unplaced modules.
pub fn problems(graph: &Graph) -> Vec<String> {
    let mut problems = Vec::new();
    for cycle in cycles(graph) {
        problems.push(format!("cycle: {}", cycle.join(" → ")));
    }
    for (from, edges) in graph {
        let Some(from_layer) = layer(from) else {
            problems.push(format!(
                "module `{from}` has no place in the layer order (xtask/src/modgraph.rs LAYERS)"
            ));
            continue;
        };
        for (to, sites) in edges {
            let ok = layer(to).is_some_and(|to_layer| to_layer > from_layer)
                || (from.as_str(), to.as_str()) == BOOT_HANDOVER;
            if !ok {
                let site = &sites[0];
                problems.push(format!(
                    "`{from}` names `{to}`, which is not below it ({}:{}{})",
                    site.file.display(),
                    site.line,
                    if sites.len() > 1 {
                        format!(" and {} more", sites.len() - 1)
                    } else {
                        String::new()
                    }
                ));
            }
        }
    }
    problems
}

/// The strongly connected components with more than one module (Tarjan), each as a closed path
/// `a → b → ... → a` through its members.
pub fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        components: Vec<Vec<&'g str>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        let graph = s.graph;
        for w in graph.get(v).into_iter().flat_map(|e| e.keys()) {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w);
                if w == v {
                    break;
                }
            }
            s.components.push(component);
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    let mut cycles = Vec::new();
    for component in s.components.into_iter().filter(|c| c.len() > 1) {
        let members: BTreeSet<&str> = component.iter().copied().collect();
        cycles.push(path_through(graph, &members));
    }
    cycles
}

/// A closed walk from the smallest member that visits every member of a strongly connected
/// component (breadth-first shortest paths from one member to the next).
fn path_through(graph: &Graph, members: &BTreeSet<&str>) -> Vec<String> {
    let start = *members.iter().next().expect("non-empty component");
    let mut path = vec![start.to_string()];
    let mut at = start;
    let mut todo: Vec<&str> = members.iter().copied().filter(|&m| m != start).collect();
    todo.push(start);
    for target in todo {
        if target != start && path.iter().any(|p| p == target) {
            continue;
        }
        // Shortest path at → target inside the component.
        let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([at]);
        let mut found = false;
        while let Some(v) = queue.pop_front() {
            for w in graph.get(v).into_iter().flat_map(|e| e.keys()).map(String::as_str) {
                if !members.contains(w) || previous.contains_key(w) {
                    continue;
                }
                previous.insert(w, v);
                if w == target {
                    found = true;
                    break;
                }
                queue.push_back(w);
            }
            if found {
                break;
            }
        }
        let mut steps = vec![target];
        let mut v = target;
        while let Some(&p) = previous.get(v) {
            if p == at {
                break;
            }
            steps.push(p);
            v = p;
        }
        path.extend(steps.into_iter().rev().map(str::to_string));
        at = target;
    }
    path
}

/// The graph as text, one module a line, from the top layer down.
pub fn render(graph: &Graph) -> String {
    let mut modules: Vec<&String> = graph.keys().collect();
    modules.sort_by_key(|m| (layer(m).unwrap_or(usize::MAX), m.as_str()));
    let width = modules.iter().map(|m| m.len()).max().unwrap_or(0);
    let mut out = String::new();
    for m in modules {
        let to: Vec<&str> = {
            let mut to: Vec<&String> = graph[m].keys().collect();
            to.sort_by_key(|t| (layer(t).unwrap_or(usize::MAX), t.as_str()));
            to.into_iter().map(String::as_str).collect()
        };
        out.push_str(&format!(
            "  {m:width$} → {}\n",
            if to.is_empty() { "-".to_string() } else { to.join(" ") }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(files: &[(&str, &str)]) -> Graph {
        let sources: Vec<(PathBuf, String)> =
            files.iter().map(|(p, t)| (PathBuf::from(p), strip_comments(t))).collect();
        graph_of(&sources)
    }

    fn edges(g: &Graph) -> Vec<String> {
        g.iter().flat_map(|(f, e)| e.keys().map(move |t| format!("{f}→{t}"))).collect()
    }

    #[test]
    fn reads_crate_paths_and_ignores_comments_and_strings_of_comments() {
        let g = graph(&[
            ("fs/file.rs", "use crate::mm::user::UserSlice; // crate::process\n/* crate::net */"),
            ("fs/mod.rs", "let s = \"// not a comment\"; let x = crate::task::current();"),
            ("fs/tty/ldisc.rs", "let q = '\"'; fn f() { crate::event::x(); } // crate::ipc"),
            ("mm/mod.rs", "/// doc: crate::fs\nuse crate::arch::x;\nlet c = crate::mm::y;"),
            ("main.rs", "use crate::syscall;"),
        ]);
        assert_eq!(edges(&g), ["fs→event", "fs→mm", "fs→task", "mm→arch"]);
    }

    #[test]
    fn grouped_paths_name_each_module() {
        let g = graph(&[(
            "syscall/io.rs",
            "use crate::{\n    fs::{file::OpenFile, inode::Inode},\n    mm::user::UserSlice,\n    self,\n};\nuse crate::{task};",
        )]);
        assert_eq!(edges(&g), ["syscall→fs", "syscall→mm", "syscall→task"]);
        let sites = &g["syscall"]["mm"];
        assert_eq!(sites[0].line, 3);
    }

    #[test]
    fn exported_macros_belong_to_their_module() {
        let g = graph(&[
            (
                "log.rs",
                "#[macro_export]\nmacro_rules! control {\n ($x:tt) => { $crate::log::w() };\n}",
            ),
            ("process/launcher.rs", "crate::control!(\"poweroff\");"),
        ]);
        assert_eq!(edges(&g), ["process→log"]);
    }

    #[test]
    fn raw_strings_and_lifetimes() {
        let s = strip_comments("fn f<'a>(x: &'a str) { r#\"// \"kept\"\"#; } // gone");
        assert_eq!(s, "fn f<'a>(x: &'a str) { r#\"// \"kept\"\"#; } ");
    }

    #[test]
    fn cycles_and_upward_edges_are_problems() {
        let g = graph(&[
            ("fs/file.rs", "use crate::process::signalfd::SignalFd;"),
            ("process/mod.rs", "use crate::fs::file::FileLike; use crate::syscall::dispatch;"),
            ("syscall/mod.rs", "use crate::process::Process;"),
        ]);
        let c = cycles(&g);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].first(), c[0].last());
        for m in ["fs", "process", "syscall"] {
            assert!(c[0].iter().any(|x| x == m), "{c:?}");
        }
        for step in c[0].windows(2) {
            assert!(g[&step[0]].contains_key(&step[1]), "{c:?}");
        }
        let p = problems(&g);
        assert!(p.iter().any(|p| p.starts_with("cycle: ")), "{p:?}");
        assert!(p.iter().any(|p| p.contains("`fs` names `process`")), "{p:?}");
        assert!(p.iter().any(|p| p.contains("`process` names `syscall`")), "{p:?}");
        assert_eq!(p.len(), 3, "{p:?}");
    }

    #[test]
    fn sideways_and_unknown_modules_are_problems() {
        let g = graph(&[("net/mod.rs", "use crate::ipc::x;"), ("gadget.rs", "use crate::mm::y;")]);
        let p = problems(&g);
        assert!(p.iter().any(|p| p.contains("`net` names `ipc`")), "{p:?}");
        assert!(p.iter().any(|p| p.contains("`gadget` has no place")), "{p:?}");
    }

    #[test]
    fn the_kernel_as_it_is() {
        let src = crate::util::repo_root().join("kernel/src");
        let g = read(&src).unwrap();
        assert!(g.contains_key("fs") && g.contains_key("syscall"));
        assert_eq!(problems(&g), Vec::<String>::new(), "\n{}", render(&g));
    }
}
