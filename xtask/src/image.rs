//! The initramfs (docs/HOST_INTERFACE.md §1 and §3).
//!
//! The image is first assembled as a [`Tree`] in memory (path -> node), so one base tree can be
//! written many times with a different batch file and overlays (one image per test boot).
//! Paths in the archive are relative (`bin/busybox`), parents come before children.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use crate::build::UserBuild;
use crate::util::{Context, Error, Result};
use crate::{busybox_ipc, deps};

/// Where the kernel looks for the batch file.
pub const BATCH_FILE: &str = "etc/posix-x/run";
/// Separates commands in the batch file.
pub const COMMAND_SEPARATOR: u8 = 0x1e;
/// Separates the arguments of one command.
pub const ARGUMENT_SEPARATOR: u8 = 0x1f;

#[derive(Debug, Clone)]
pub enum Node {
    Dir { perm: u32 },
    File { perm: u32, data: Arc<Vec<u8>> },
    Symlink { target: Vec<u8> },
}

/// A file system tree: relative path (bytes, no leading `/`) -> node.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    nodes: BTreeMap<Vec<u8>, Node>,
}

impl Tree {
    /// Adds (or replaces) `path`, creating missing parent directories (mode 0755). Replacing a
    /// directory by a non-directory drops what was below it.
    pub fn insert(&mut self, path: &str, node: Node) {
        self.insert_bytes(path.as_bytes(), node)
    }

    fn insert_bytes(&mut self, path: &[u8], node: Node) {
        let path = path.strip_prefix(b"/").unwrap_or(path);
        if path.is_empty() {
            return;
        }
        for (i, &b) in path.iter().enumerate() {
            if b == b'/' {
                let parent = &path[..i];
                match self.nodes.get(parent) {
                    Some(Node::Dir { .. }) => {}
                    _ => {
                        self.nodes.insert(parent.to_vec(), Node::Dir { perm: 0o755 });
                    }
                }
            }
        }
        if !matches!(node, Node::Dir { .. }) {
            let mut prefix = path.to_vec();
            prefix.push(b'/');
            self.nodes.retain(|k, _| !k.starts_with(&prefix));
        }
        self.nodes.insert(path.to_vec(), node);
    }

    pub fn dir(&mut self, path: &str, perm: u32) {
        self.insert(path, Node::Dir { perm });
    }

    pub fn file(&mut self, path: &str, perm: u32, data: Vec<u8>) {
        self.insert(path, Node::File { perm, data: Arc::new(data) });
    }

    pub fn symlink(&mut self, path: &str, target: &str) {
        self.insert(path, Node::Symlink { target: target.as_bytes().to_vec() });
    }

    #[cfg(test)]
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path.trim_start_matches('/').as_bytes())
    }

    /// Copies the tree at `dir` on the host over this one (regular files, directories and
    /// symlinks; other kinds are skipped with a warning).
    pub fn overlay(&mut self, dir: &Path) -> Result<()> {
        if !dir.is_dir() {
            return Err(Error::new(format!("--overlay {}: not a directory", dir.display())));
        }
        self.overlay_below(dir, b"")
    }

    fn overlay_below(&mut self, dir: &Path, prefix: &[u8]) -> Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .context(|| format!("reading {}", dir.display()))?
            .collect::<std::io::Result<_>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let host = entry.path();
            let mut path = prefix.to_vec();
            if !path.is_empty() {
                path.push(b'/');
            }
            path.extend_from_slice(entry.file_name().as_bytes());
            let meta = std::fs::symlink_metadata(&host)
                .context(|| format!("reading {}", host.display()))?;
            let perm = meta.permissions().mode() & 0o7777;
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&host)?;
                self.insert_bytes(
                    &path,
                    Node::Symlink { target: target.as_os_str().as_bytes().to_vec() },
                );
            } else if meta.is_dir() {
                self.insert_bytes(&path, Node::Dir { perm });
                self.overlay_below(&host, &path)?;
            } else if meta.is_file() {
                let data =
                    std::fs::read(&host).context(|| format!("reading {}", host.display()))?;
                self.insert_bytes(&path, Node::File { perm, data: Arc::new(data) });
            } else {
                eprintln!(
                    "xtask: warning: --overlay: skipping {} (not a file, directory or symlink)",
                    host.display()
                );
            }
        }
        Ok(())
    }

    /// The archive bytes.
    pub fn to_cpio(&self) -> Result<Vec<u8>> {
        let mut w = cpio::writer::Writer::new(Vec::new());
        for (path, node) in &self.nodes {
            match node {
                Node::Dir { perm } => w.entry(path, cpio::S_IFDIR | perm, 2, b"")?,
                Node::File { perm, data } => w.entry(path, cpio::S_IFREG | perm, 1, data)?,
                Node::Symlink { target } => w.entry(path, cpio::S_IFLNK | 0o777, 1, target)?,
            }
        }
        Ok(w.finish()?)
    }
}

/// The parts of the image that do not depend on the run: busybox and its applets, the tests,
/// the programs, the standard directories and /etc files.
pub fn base_tree(user: &UserBuild) -> Result<Tree> {
    let mut tree = Tree::default();
    for dir in ["bin", "sbin", "usr/bin", "usr/sbin", "dev", "proc", "sys", "etc", "root"] {
        tree.dir(dir, 0o755);
    }
    tree.dir("tmp", 0o1777);

    // busybox and a link for each applet: `busybox --list-full` prints paths like usr/bin/seq.
    if !deps::busybox_is_static() {
        return Err(Error::new(deps::hint_busybox()));
    }
    let busybox = std::fs::read(deps::BUSYBOX).context(|| format!("reading {}", deps::BUSYBOX))?;
    tree.file("bin/busybox", 0o755, busybox);
    let list = Command::new(deps::BUSYBOX)
        .arg("--list-full")
        .output()
        .context(|| "running busybox --list-full")?;
    if !list.status.success() {
        return Err(Error::new("busybox --list-full failed"));
    }
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        let applet = applet.trim().trim_start_matches('/');
        if applet.is_empty() || applet == "bin/busybox" {
            continue;
        }
        tree.symlink(applet, "/bin/busybox");
    }

    // ipcs and ipcrm, which Debian's busybox-static lacks, from our own build of its source.
    match busybox_ipc::binary() {
        Ok(path) => {
            tree.file("bin/busybox-ipc", 0o755, read(&path)?);
            for applet in busybox_ipc::APPLETS {
                tree.symlink(&format!("usr/bin/{applet}"), "/bin/busybox-ipc");
            }
        }
        Err(e) => eprintln!("xtask: warning: no ipcs/ipcrm in the image: {e}"),
    }

    for (path, text) in ETC_FILES {
        tree.file(path, 0o644, text.as_bytes().to_vec());
    }

    tree.dir("tests", 0o755);
    for test in &user.guest_tests {
        if let Ok(path) = &test.path {
            tree.file(&format!("tests/{}", test.name), 0o755, read(path)?);
        }
    }
    tree.dir("examples", 0o755);
    for example in &user.guest_examples {
        if let Ok(path) = &example.path {
            tree.file(&format!("examples/{}", example.name), 0o755, read(path)?);
        }
    }
    for bench in &user.guest_bench.benchmarks {
        if let Ok(path) = &bench.path {
            tree.file(&format!("bench/{}", bench.name), 0o755, read(path)?);
        }
    }
    for tool in &user.guest_bench.tools {
        if let Ok(path) = &tool.path {
            tree.file(&format!("bench/tools/{}", tool.name), 0o755, read(path)?);
        }
    }
    for sweep in &user.guest_bench.sweeps {
        if let Ok(path) = &sweep.path {
            tree.file(&format!("bench/sweep/{}", sweep.name), 0o755, read(path)?);
        }
    }
    for program in &user.programs {
        if let Ok(path) = &program.path {
            tree.file(&format!("bin/{}", program.name), 0o755, read(path)?);
        }
    }
    Ok(tree)
}

/// The /etc a user meets: root and nobody (as Debian names them), localhost for both IP
/// versions, and the usual services and protocols (Debian's entries for them), so that
/// getpwnam, getaddrinfo, getservbyname and getprotobyname answer as on a Linux system.
const ETC_FILES: [(&str, &str); 5] = [
    (
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    ),
    ("etc/group", "root:x:0:\nnogroup:x:65534:\n"),
    ("etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"),
    (
        "etc/services",
        "echo\t\t7/tcp\necho\t\t7/udp\ndiscard\t\t9/tcp\t\tsink null\ndiscard\t\t9/udp\t\tsink null\n\
daytime\t\t13/tcp\ndaytime\t\t13/udp\nftp-data\t20/tcp\nftp\t\t21/tcp\nssh\t\t22/tcp\n\
telnet\t\t23/tcp\nsmtp\t\t25/tcp\t\tmail\ntime\t\t37/tcp\t\ttimserver\ntime\t\t37/udp\t\ttimserver\n\
domain\t\t53/tcp\ndomain\t\t53/udp\nbootps\t\t67/udp\nbootpc\t\t68/udp\ntftp\t\t69/udp\n\
http\t\t80/tcp\t\twww\npop3\t\t110/tcp\t\tpop-3\nsunrpc\t\t111/tcp\t\tportmapper\n\
sunrpc\t\t111/udp\t\tportmapper\nntp\t\t123/udp\nimap2\t\t143/tcp\t\timap\nsnmp\t\t161/udp\n\
ldap\t\t389/tcp\nhttps\t\t443/tcp\nhttps\t\t443/udp\nsyslog\t\t514/udp\nsubmission\t587/tcp\n\
imaps\t\t993/tcp\npop3s\t\t995/tcp\nmysql\t\t3306/tcp\npostgresql\t5432/tcp\t\tpostgres\n\
x11\t\t6000/tcp\t\tx11-0\nhttp-alt\t8080/tcp\t\twebcache\n",
    ),
    (
        "etc/protocols",
        "ip\t0\tIP\nicmp\t1\tICMP\nigmp\t2\tIGMP\ntcp\t6\tTCP\nudp\t17\tUDP\n\
ipv6\t41\tIPv6\nipv6-route\t43\tIPv6-Route\nipv6-frag\t44\tIPv6-Frag\ngre\t47\tGRE\n\
esp\t50\tIPSEC-ESP\nah\t51\tIPSEC-AH\nipv6-icmp\t58\tIPv6-ICMP\nipv6-nonxt\t59\tIPv6-NoNxt\n\
ipv6-opts\t60\tIPv6-Opts\nsctp\t132\tSCTP\nudplite\t136\tUDPLite\nraw\t255\tRAW\n",
    ),
];

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).context(|| format!("reading {}", path.display()))
}

/// A batch: a list of commands, each a list of arguments (bytes).
pub type Batch = Vec<Vec<Vec<u8>>>;

/// The batch of the interactive shell.
pub fn interactive_batch() -> Batch {
    vec![vec![b"/bin/sh".to_vec()]]
}

/// A batch of one command given on our command line.
pub fn batch_of(command: &[OsString]) -> Batch {
    vec![command.iter().map(|a| a.as_bytes().to_vec()).collect()]
}

/// The contents of `/etc/posix-x/run`: commands separated by 0x1e, arguments by 0x1f.
pub fn encode_batch(batch: &Batch) -> Vec<u8> {
    let commands: Vec<Vec<u8>> = batch.iter().map(|args| args.join(&ARGUMENT_SEPARATOR)).collect();
    commands.join(&COMMAND_SEPARATOR)
}

/// Writes `tree` plus the batch file plus the overlays (in order, last wins) to `out`.
pub fn write(
    tree: &Tree,
    batch: &Batch,
    overlays: &[std::path::PathBuf],
    out: &Path,
) -> Result<()> {
    let mut tree = tree.clone();
    tree.file(BATCH_FILE, 0o644, encode_batch(batch));
    for dir in overlays {
        tree.overlay(dir)?;
    }
    let bytes = tree.to_cpio()?;
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).context(|| format!("creating {}", dir.display()))?;
    }
    // Write then rename, so a concurrent boot never sees half an image.
    let tmp = out.with_extension("cpio.tmp");
    std::fs::write(&tmp, bytes).context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, out).context(|| format!("writing {}", out.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_encoding() {
        let batch = vec![
            vec![b"/bin/segv".to_vec()],
            vec![b"echo".to_vec(), b"a\nb".to_vec(), b"".to_vec()],
        ];
        assert_eq!(encode_batch(&batch), b"/bin/segv\x1eecho\x1fa\nb\x1f");
        assert_eq!(encode_batch(&interactive_batch()), b"/bin/sh");
    }

    #[test]
    fn tree_creates_parents_and_sorts_them_first() {
        let mut t = Tree::default();
        t.file("etc/posix-x/run", 0o644, b"x".to_vec());
        t.symlink("/usr/bin/seq", "/bin/busybox");
        t.file("bin-x", 0o755, vec![]);
        t.dir("bin", 0o700);
        t.file("bin/a", 0o755, vec![]);
        let bytes = t.to_cpio().unwrap();
        let entries: Vec<_> = cpio::entries(&bytes).collect::<std::result::Result<_, _>>().unwrap();
        let names: Vec<&str> = entries.iter().map(|e| e.name_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "bin",
                "bin-x",
                "bin/a",
                "etc",
                "etc/posix-x",
                "etc/posix-x/run",
                "usr",
                "usr/bin",
                "usr/bin/seq"
            ]
        );
        assert_eq!(entries[0].mode, cpio::S_IFDIR | 0o700);
        assert!(entries[3].is_dir());
        assert_eq!(entries[8].data, b"/bin/busybox");
        assert!(entries[8].is_symlink());
    }

    #[test]
    fn replacing_a_dir_by_a_file_drops_its_children() {
        let mut t = Tree::default();
        t.file("a/b", 0o644, vec![]);
        t.file("a", 0o644, b"now a file".to_vec());
        assert!(t.get("a/b").is_none());
        assert!(matches!(t.get("a"), Some(Node::File { .. })));
        // And a file used as a directory becomes one.
        t.file("a/c", 0o644, vec![]);
        assert!(matches!(t.get("a"), Some(Node::Dir { .. })));
    }

    #[test]
    fn overlay_copies_files_dirs_and_links() {
        let dir = std::env::temp_dir().join(format!("xtask-overlay-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::fs::write(dir.join("etc/passwd"), "mine\n").unwrap();
        std::fs::write(dir.join("hello"), "hi").unwrap();
        std::fs::set_permissions(dir.join("hello"), std::fs::Permissions::from_mode(0o750))
            .unwrap();
        std::os::unix::fs::symlink("hello", dir.join("link")).unwrap();

        let mut t = Tree::default();
        t.file("etc/passwd", 0o644, b"root\n".to_vec());
        t.overlay(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();

        match t.get("etc/passwd") {
            Some(Node::File { data, .. }) => assert_eq!(data.as_slice(), b"mine\n"),
            other => panic!("{other:?}"),
        }
        match t.get("hello") {
            Some(Node::File { perm, .. }) => assert_eq!(*perm, 0o750),
            other => panic!("{other:?}"),
        }
        assert!(matches!(t.get("link"), Some(Node::Symlink { target }) if target == b"hello"));
    }
}
