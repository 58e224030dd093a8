//! Host unit tests over a small in-memory tree.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::string::{String, ToString};
use std::vec::Vec;

use crate::*;

enum Kind {
    Dir(BTreeMap<String, usize>),
    File,
    Link(String),
}

struct Entry {
    kind: Kind,
    searchable: bool,
    /// A filesystem mounted here: the walk lands on this node instead.
    mounted: Option<usize>,
    /// A magic link: following it lands on /a/b whatever its text.
    magic: bool,
}

#[derive(Clone)]
struct T {
    tree: Rc<Vec<Entry>>,
    id: usize,
}

#[derive(Debug, PartialEq, Eq)]
enum E {
    Walk(WalkError),
    NoEnt,
}

impl From<WalkError> for E {
    fn from(e: WalkError) -> E {
        E::Walk(e)
    }
}

impl Node for T {
    type Error = E;
    fn is_dir(&self) -> bool {
        matches!(self.tree[self.id].kind, Kind::Dir(_))
    }
    fn is_symlink(&self) -> bool {
        matches!(self.tree[self.id].kind, Kind::Link(_))
    }
    fn may_search(&self) -> bool {
        self.tree[self.id].searchable
    }
    fn lookup(&self, name: &str) -> Result<T, E> {
        match &self.tree[self.id].kind {
            Kind::Dir(m) => {
                m.get(name).map(|&id| T { tree: self.tree.clone(), id }).ok_or(E::NoEnt)
            }
            _ => unreachable!("the walk checks is_dir first"),
        }
    }
    fn readlink(&self) -> Result<String, E> {
        match &self.tree[self.id].kind {
            Kind::Link(t) => Ok(t.clone()),
            _ => unreachable!(),
        }
    }
    fn mounted(self) -> T {
        match self.tree[self.id].mounted {
            Some(id) => T { tree: self.tree, id },
            None => self,
        }
    }
    fn magic(&self) -> Option<Walk<T>> {
        if !self.tree[self.id].magic {
            return None;
        }
        let at = |id| T { tree: self.tree.clone(), id };
        Some(Walk::at_root(at(0)).child("a", at(1)).child("b", at(2)))
    }
}

/// Builds a tree node by node; node 0 is the root.
struct Builder {
    nodes: Vec<Entry>,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            nodes: std::vec![Entry {
                kind: Kind::Dir(BTreeMap::new()),
                searchable: true,
                mounted: None,
                magic: false
            }],
        }
    }

    fn add(&mut self, parent: usize, name: &str, kind: Kind) -> usize {
        let id = self.nodes.len();
        self.nodes.push(Entry { kind, searchable: true, mounted: None, magic: false });
        match &mut self.nodes[parent].kind {
            Kind::Dir(m) => {
                m.insert(name.to_string(), id);
            }
            _ => panic!("not a directory"),
        }
        id
    }

    fn dir(&mut self, parent: usize, name: &str) -> usize {
        self.add(parent, name, Kind::Dir(BTreeMap::new()))
    }

    fn done(self) -> Walk<T> {
        Walk::at_root(T { tree: Rc::new(self.nodes), id: 0 })
    }
}

/// /a/b/file, /a/link -> /a/b, /a/rel -> b/file, /a/dangling -> nowhere, /a/empty -> "",
/// /a/self -> self, /locked (not searchable) /locked/in, /mnt with a mounted root holding "inner".
fn sample() -> Walk<T> {
    let mut b = Builder::new();
    let a = b.dir(0, "a");
    let bb = b.dir(a, "b");
    b.add(bb, "file", Kind::File);
    b.add(a, "link", Kind::Link("/a/b".into()));
    b.add(a, "rel", Kind::Link("b/file".into()));
    b.add(a, "dangling", Kind::Link("nowhere".into()));
    b.add(a, "empty", Kind::Link(String::new()));
    b.add(a, "self", Kind::Link("self".into()));
    let locked = b.dir(0, "locked");
    b.dir(locked, "in");
    b.nodes[locked].searchable = false;
    let mnt = b.dir(0, "mnt");
    // The mounted filesystem's root is a directory outside the tree's namespace.
    let fsroot = b.nodes.len();
    b.nodes.push(Entry {
        kind: Kind::Dir(BTreeMap::new()),
        searchable: true,
        mounted: None,
        magic: false,
    });
    b.add(fsroot, "inner", Kind::File);
    b.nodes[mnt].mounted = Some(fsroot);
    b.done()
}

fn path_of(root: &Walk<T>, start: &Walk<T>, p: &str, follow: bool) -> Result<String, E> {
    resolve(root, start, p, follow).map(|w| w.path())
}

#[test]
fn absolute_and_relative_paths() {
    let r = sample();
    assert_eq!(path_of(&r, &r, "/a/b/file", true), Ok("/a/b/file".into()));
    let a = resolve(&r, &r, "/a", true).unwrap();
    assert_eq!(path_of(&r, &a, "b/file", true), Ok("/a/b/file".into()));
    assert_eq!(path_of(&r, &a, "/a", true), Ok("/a".into()));
    assert_eq!(path_of(&r, &r, "//a///b//", true), Ok("/a/b".into()));
}

#[test]
fn dot_and_dotdot_never_above_the_root() {
    let r = sample();
    assert_eq!(path_of(&r, &r, "/a/./b/../b/.", true), Ok("/a/b".into()));
    assert_eq!(path_of(&r, &r, "/../../a", true), Ok("/a".into()));
    assert_eq!(path_of(&r, &r, "..", true), Ok("/".into()));
    let w = resolve(&r, &r, "/", true).unwrap();
    assert_eq!(w.name(), "/");
}

#[test]
fn symlinks_are_followed_and_the_walk_names_the_target() {
    let r = sample();
    assert_eq!(path_of(&r, &r, "/a/link/file", true), Ok("/a/b/file".into()));
    assert_eq!(path_of(&r, &r, "/a/rel", true), Ok("/a/b/file".into()));
    // "..": from the link's target, not from where the link was.
    assert_eq!(path_of(&r, &r, "/a/link/..", true), Ok("/a".into()));
}

#[test]
fn last_symlink_kept_unless_followed_or_slashed() {
    let r = sample();
    let w = resolve(&r, &r, "/a/link", false).unwrap();
    assert!(w.node().is_symlink());
    assert_eq!(w.path(), "/a/link");
    assert_eq!(path_of(&r, &r, "/a/link/", false), Ok("/a/b".into()));
    assert_eq!(path_of(&r, &r, "/a/dangling", false), Ok("/a/dangling".into()));
    assert_eq!(path_of(&r, &r, "/a/dangling", true), Err(E::NoEnt));
}

#[test]
fn magic_links_lead_to_their_walk_not_their_text() {
    let mut b = Builder::new();
    let a = b.dir(0, "a");
    let bb = b.dir(a, "b");
    b.add(bb, "file", Kind::File);
    let m = b.add(0, "magic", Kind::Link("/nowhere (deleted)".into()));
    b.nodes[m].magic = true;
    let r = b.done();
    assert_eq!(path_of(&r, &r, "/magic", true), Ok("/a/b".into()));
    assert_eq!(path_of(&r, &r, "/magic/file", true), Ok("/a/b/file".into()));
    let w = resolve(&r, &r, "/magic", false).unwrap(); // not followed: the link itself
    assert_eq!(w.node().readlink(), Ok("/nowhere (deleted)".into()));
}

#[test]
fn trailing_slash_needs_a_directory() {
    let r = sample();
    assert_eq!(path_of(&r, &r, "/a/b/file/", true), Err(E::Walk(WalkError::NotDir)));
    assert_eq!(path_of(&r, &r, "/a/b/file/x", true), Err(E::Walk(WalkError::NotDir)));
}

#[test]
fn loops_and_empty_targets() {
    let r = sample();
    assert_eq!(path_of(&r, &r, "/a/self", true), Err(E::Walk(WalkError::Loop)));
    assert_eq!(path_of(&r, &r, "/a/self", false), Ok("/a/self".into()));
    assert_eq!(path_of(&r, &r, "/a/empty", true), Err(E::Walk(WalkError::NotFound)));
    assert_eq!(path_of(&r, &r, "", true), Err(E::Walk(WalkError::NotFound)));
}

#[test]
fn forty_links_resolve_and_forty_one_do_not() {
    let mut b = Builder::new();
    b.add(0, "target", Kind::File);
    // l0 -> target, l1 -> l0, ..., l40 -> l39
    b.add(0, "l0", Kind::Link("target".into()));
    for i in 1..=40 {
        b.add(0, &std::format!("l{i}"), Kind::Link(std::format!("l{}", i - 1)));
    }
    let r = b.done();
    assert_eq!(path_of(&r, &r, "/l39", true), Ok("/target".into()));
    assert_eq!(path_of(&r, &r, "/l40", true), Err(E::Walk(WalkError::Loop)));
}

#[test]
fn search_permission_and_length_limits() {
    let r = sample();
    assert_eq!(path_of(&r, &r, "/locked/in", true), Err(E::Walk(WalkError::Access)));
    // The locked directory itself can be reached; only passing through it needs search.
    assert_eq!(path_of(&r, &r, "/locked", true), Ok("/locked".into()));
    let long_name = "n".repeat(NAME_MAX + 1);
    assert_eq!(
        path_of(&r, &r, &std::format!("/a/{long_name}"), true),
        Err(E::Walk(WalkError::NameTooLong))
    );
    assert_eq!(path_of(&r, &r, &"n".repeat(NAME_MAX), true), Err(E::NoEnt));
    let long_path = "/a".repeat(PATH_MAX / 2);
    assert_eq!(path_of(&r, &r, &long_path, true), Err(E::Walk(WalkError::NameTooLong)));
}

#[test]
fn mount_points_are_crossed_both_ways() {
    let r = sample();
    assert_eq!(path_of(&r, &r, "/mnt/inner", true), Ok("/mnt/inner".into()));
    let m = resolve(&r, &r, "/mnt", true).unwrap();
    assert!(m.node().lookup("inner").is_ok());
    assert_eq!(path_of(&r, &m, "../a", true), Ok("/a".into()));
}

#[test]
fn parent_and_final_name() {
    let r = sample();
    let (p, n) = resolve_parent(&r, &r, "/a/b/new").unwrap();
    assert_eq!((p.path().as_str(), n.as_str()), ("/a/b", "new"));
    let (p, n) = resolve_parent(&r, &r, "/a/b/").unwrap();
    assert_eq!((p.path().as_str(), n.as_str()), ("/a", "b"));
    let a = resolve(&r, &r, "/a", true).unwrap();
    let (p, n) = resolve_parent(&r, &a, "name").unwrap();
    assert_eq!((p.path().as_str(), n.as_str()), ("/a", "name"));
    let (p, n) = resolve_parent(&r, &a, "/").unwrap();
    assert_eq!((p.path().as_str(), n.as_str()), ("/", "."));
    // The parent is walked with symlinks followed.
    let (p, _) = resolve_parent(&r, &r, "/a/link/x").unwrap();
    assert_eq!(p.path(), "/a/b");
    assert_eq!(resolve_parent(&r, &r, "/a/b/file/x").err(), Some(E::Walk(WalkError::NotDir)));
    assert_eq!(resolve_parent(&r, &r, "/nope/x").err(), Some(E::NoEnt));
    assert_eq!(
        resolve_parent(&r, &r, &std::format!("/a/{}", "n".repeat(256))).err(),
        Some(E::Walk(WalkError::NameTooLong))
    );
}
