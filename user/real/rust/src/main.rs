//! real-rust: a real Rust program for POSIX-X (issue 13, "real programs").
//!
//! Built by `cargo xtask` (static glibc, see Cargo.toml), installed as /bin/real-rust, run by
//! `cargo xtask test` on POSIX-X (posix-x/real-rust) and natively on the host (linux/real-rust).
//! Each check prints `ok N - what` or `not ok N - what: why`, judged like the C tests of
//! user/tests (status 0 and no `not ok` line). Every check runs on its own thread under a
//! deadline, so a lost wake-up shows as a `not ok` line naming the check, not as a silent hang.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What each check may take at most (QEMU under TCG on a busy machine is slow).
const DEADLINE: Duration = Duration::from_secs(60);
/// busybox is in the POSIX-X image and on the host (cargo xtask installs busybox-static).
const BUSYBOX: &str = "/bin/busybox";

type Check = Result<(), String>;

struct Checks {
    number: usize,
    failed: usize,
}

impl Checks {
    fn run(&mut self, name: &str, f: fn() -> Check) {
        self.number += 1;
        let (tx, rx) = mpsc::channel();
        let spawned =
            thread::Builder::new().name(format!("check-{}", self.number)).spawn(move || {
                let _ = tx.send(f());
            });
        let result = match spawned {
            Err(e) => Err(format!("cannot start a thread for the check: {e}")),
            Ok(_) => match rx.recv_timeout(DEADLINE) {
                Ok(r) => r,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    Err(format!("no answer within {} s", DEADLINE.as_secs()))
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => Err("the check panicked".into()),
            },
        };
        match result {
            Ok(()) => println!("ok {} - {name}", self.number),
            Err(why) => {
                self.failed += 1;
                println!("not ok {} - {name}: {why}", self.number);
            }
        }
    }
}

/// Many threads spawned and joined, each returning a value; thread names; distinct ids.
fn spawn_and_join() -> Check {
    let handles: Vec<_> = (0..64u64)
        .map(|i| {
            thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || {
                    let name = thread::current().name().map(str::to_string);
                    (i * i, name, thread::current().id())
                })
                .map_err(|e| format!("spawn {i}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let mut ids = std::collections::HashSet::new();
    for (i, h) in handles.into_iter().enumerate() {
        let (square, name, id) = h.join().map_err(|_| format!("thread {i} panicked"))?;
        if square != (i * i) as u64 || name.as_deref() != Some(format!("worker-{i}").as_str()) {
            return Err(format!("thread {i} returned {square}, named {name:?}"));
        }
        ids.insert(id);
    }
    if ids.len() != 64 {
        return Err(format!("64 threads, {} distinct ids", ids.len()));
    }
    Ok(())
}

/// A Mutex-protected counter incremented by 8 threads, 10,000 times each (futex contention).
fn mutex_counter() -> Check {
    const THREADS: usize = 8;
    const EACH: usize = 10_000;
    let counter = Arc::new(Mutex::new(0usize));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let counter = Arc::clone(&counter);
            thread::spawn(move || {
                for _ in 0..EACH {
                    *counter.lock().unwrap() += 1;
                    // Let the others in while the lock is contended.
                    thread::yield_now();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| "a thread panicked".to_string())?;
    }
    let total = *counter.lock().unwrap();
    if total != THREADS * EACH {
        return Err(format!("counter {total}, want {}", THREADS * EACH));
    }
    Ok(())
}

/// A bounded queue on a Mutex and two Condvars: producers and consumers that sleep when it is
/// full or empty, and a wait_timeout that times out.
fn condvar_queue() -> Check {
    struct Queue {
        items: Mutex<(Vec<u64>, bool)>,
        not_empty: Condvar,
        not_full: Condvar,
    }
    const CAPACITY: usize = 4;
    const PER_PRODUCER: u64 = 2_000;
    let q = Arc::new(Queue {
        items: Mutex::new((Vec::new(), false)),
        not_empty: Condvar::new(),
        not_full: Condvar::new(),
    });
    let producers: Vec<_> = (0..3u64)
        .map(|p| {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                for i in 0..PER_PRODUCER {
                    let mut g = q.items.lock().unwrap();
                    while g.0.len() == CAPACITY {
                        g = q.not_full.wait(g).unwrap();
                    }
                    g.0.push(p * PER_PRODUCER + i);
                    q.not_empty.notify_one();
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                let mut sum = 0u64;
                loop {
                    let mut g = q.items.lock().unwrap();
                    while g.0.is_empty() && !g.1 {
                        g = q.not_empty.wait(g).unwrap();
                    }
                    match g.0.pop() {
                        Some(v) => {
                            sum += v;
                            q.not_full.notify_one();
                        }
                        None => return sum, // empty and finished
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.join().map_err(|_| "a producer panicked".to_string())?;
    }
    {
        let mut g = q.items.lock().unwrap();
        g.1 = true;
        q.not_empty.notify_all();
    }
    let mut sum = 0;
    for c in consumers {
        sum += c.join().map_err(|_| "a consumer panicked".to_string())?;
    }
    let n = 3 * PER_PRODUCER;
    if sum != n * (n - 1) / 2 {
        return Err(format!("consumed sum {sum}, want {}", n * (n - 1) / 2));
    }

    let lock = Mutex::new(());
    let cv = Condvar::new();
    let start = Instant::now();
    let (_g, timeout) = cv.wait_timeout(lock.lock().unwrap(), Duration::from_millis(50)).unwrap();
    if !timeout.timed_out() || start.elapsed() < Duration::from_millis(50) {
        return Err(format!(
            "wait_timeout(50ms) with nobody to notify: timed_out {}, after {:?}",
            timeout.timed_out(),
            start.elapsed()
        ));
    }
    Ok(())
}

/// mpsc: many senders on one channel, a sync_channel(0) rendezvous, recv_timeout.
fn channels() -> Check {
    let (tx, rx) = mpsc::channel();
    for t in 0..10u64 {
        let tx = tx.clone();
        thread::spawn(move || {
            for i in 0..1000 {
                tx.send(t * 1000 + i).unwrap();
            }
        });
    }
    drop(tx);
    let got: Vec<u64> = rx.iter().collect();
    if got.len() != 10_000 || got.iter().sum::<u64>() != 10_000 * 9_999 / 2 {
        return Err(format!("{} messages from 10 senders, want 10000", got.len()));
    }

    let (tx, rx) = mpsc::sync_channel::<u32>(0);
    let echo = thread::spawn(move || rx.iter().map(|v| v * 2).sum::<u32>());
    for i in 0..500 {
        tx.send(i).map_err(|e| e.to_string())?;
    }
    drop(tx);
    let doubled = echo.join().map_err(|_| "the receiver panicked".to_string())?;
    if doubled != 2 * (500 * 499 / 2) {
        return Err(format!("rendezvous sum {doubled}"));
    }

    let (_tx, rx) = mpsc::channel::<()>();
    let start = Instant::now();
    if rx.recv_timeout(Duration::from_millis(30)).is_ok()
        || start.elapsed() < Duration::from_millis(30)
    {
        return Err(format!(
            "recv_timeout(30ms) on a silent channel ended after {:?}",
            start.elapsed()
        ));
    }
    Ok(())
}

/// A Barrier crossed in rounds by 6 threads: nobody is ahead of a round nobody finished.
fn barrier_rounds() -> Check {
    const THREADS: usize = 6;
    const ROUNDS: usize = 200;
    let barrier = Arc::new(Barrier::new(THREADS));
    let arrived = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (barrier, arrived) = (Arc::clone(&barrier), Arc::clone(&arrived));
            thread::spawn(move || -> Result<usize, String> {
                let mut leaders = 0;
                for round in 0..ROUNDS {
                    arrived.fetch_add(1, Ordering::SeqCst);
                    if barrier.wait().is_leader() {
                        leaders += 1;
                    }
                    let seen = arrived.load(Ordering::SeqCst);
                    if seen < (round + 1) * THREADS {
                        return Err(format!(
                            "round {round}: past the barrier with {seen} arrivals"
                        ));
                    }
                    barrier.wait();
                }
                Ok(leaders)
            })
        })
        .collect();
    let mut leaders = 0;
    for h in handles {
        leaders += h.join().map_err(|_| "a thread panicked".to_string())??;
    }
    if leaders != ROUNDS {
        return Err(format!("{leaders} leaders over {ROUNDS} rounds, want one a round"));
    }
    Ok(())
}

/// A TCP echo server on 127.0.0.1 (a thread per connection) and clients on other threads.
fn tcp_echo() -> Check {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    const CLIENTS: usize = 4;
    let server = thread::spawn(move || -> Result<(), String> {
        let mut workers = Vec::new();
        for _ in 0..CLIENTS {
            let (mut conn, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
            workers.push(thread::spawn(move || -> std::io::Result<()> {
                let mut buf = [0u8; 4096];
                loop {
                    let n = conn.read(&mut buf)?;
                    if n == 0 {
                        return Ok(());
                    }
                    conn.write_all(&buf[..n])?;
                }
            }));
        }
        for w in workers {
            w.join()
                .map_err(|_| "an echo thread panicked".to_string())?
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    });
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            thread::spawn(move || -> Result<(), String> {
                let mut s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
                s.set_nodelay(true).map_err(|e| e.to_string())?;
                let mut reader = BufReader::new(s.try_clone().map_err(|e| e.to_string())?);
                for i in 0..200 {
                    let line = format!("client {c} line {i} {}\n", "x".repeat(i));
                    s.write_all(line.as_bytes()).map_err(|e| format!("write: {e}"))?;
                    let mut back = String::new();
                    reader.read_line(&mut back).map_err(|e| format!("read: {e}"))?;
                    if back != line {
                        return Err(format!("sent {line:?}, got back {back:?}"));
                    }
                }
                s.shutdown(Shutdown::Write).map_err(|e| e.to_string())?;
                let mut rest = Vec::new();
                reader.read_to_end(&mut rest).map_err(|e| e.to_string())?;
                if !rest.is_empty() {
                    return Err(format!("{} bytes after shutdown", rest.len()));
                }
                Ok(())
            })
        })
        .collect();
    for c in clients {
        c.join().map_err(|_| "a client panicked".to_string())??;
    }
    server.join().map_err(|_| "the server panicked".to_string())?
}

/// std::process::Command with piped stdin, stdout and stderr, written and read from threads.
fn command_pipes() -> Check {
    let mut child = Command::new(BUSYBOX)
        .args(["tr", "a-z", "A-Z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawning {BUSYBOX} tr: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped");
    let writer = thread::spawn(move || -> std::io::Result<()> {
        for i in 0..2000 {
            writeln!(stdin, "line {i} from rust")?;
        }
        Ok(()) // dropping stdin closes it: tr sees the end
    });
    let mut out = String::new();
    child.stdout.take().expect("piped").read_to_string(&mut out).map_err(|e| e.to_string())?;
    writer.join().map_err(|_| "the writer panicked".to_string())?.map_err(|e| e.to_string())?;
    let status = child.wait().map_err(|e| e.to_string())?;
    let lines: Vec<&str> = out.lines().collect();
    if !status.success() || lines.len() != 2000 || lines[1999] != "LINE 1999 FROM RUST" {
        return Err(format!("tr: {status}, {} lines, last {:?}", lines.len(), lines.last()));
    }

    let output = Command::new(BUSYBOX)
        .args(["sh", "-c", "read x; echo \"out $x\"; echo err >&2; exit 5"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().expect("piped").write_all(b"hello\n")?;
            c.wait_with_output()
        })
        .map_err(|e| format!("sh: {e}"))?;
    if output.status.code() != Some(5)
        || output.stdout != b"out hello\n"
        || output.stderr != b"err\n"
    {
        return Err(format!(
            "sh: {}, stdout {:?}, stderr {:?}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(())
}

fn main() {
    println!("real-rust: pid {}", std::process::id());
    let mut checks = Checks { number: 0, failed: 0 };
    checks.run("std::thread: 64 named threads spawned and joined", spawn_and_join);
    checks.run("Mutex: 8 threads x 10,000 increments", mutex_counter);
    checks.run("Condvar: a bounded queue, 3 producers, 2 consumers; wait_timeout", condvar_queue);
    checks.run("mpsc: 10 senders, a rendezvous channel, recv_timeout", channels);
    checks.run("Barrier: 6 threads, 200 rounds", barrier_rounds);
    checks.run("std::net: TCP echo over 127.0.0.1 between threads", tcp_echo);
    checks.run("std::process::Command with piped stdin/stdout/stderr", command_pipes);
    println!("real-rust: {} checks, {} failed", checks.number, checks.failed);
    std::process::exit(if checks.failed == 0 { 0 } else { 1 });
}
