// real-go: a real Go program for POSIX-X (issue 13, "real programs").
//
// Built by `cargo xtask` with Debian's golang-go (CGO_ENABLED=0: a static binary), installed as
// /bin/real-go, run by `cargo xtask test` on POSIX-X (posix-x/real-go) and natively on the host
// (linux/real-go). The Go runtime starts several threads before main (clone with CLONE_THREAD,
// futexes, sigaltstack, rt_sigaction, epoll for the network poller...), so reaching main at all
// already says a lot; each check below then prints `ok N - what` or `not ok N - what: why`,
// judged like the C tests of user/tests (status 0 and no `not ok` line).
//
// Every check runs under a deadline, so a lost wake-up shows as a `not ok` line with the check's
// name rather than as a silent hang of the whole program.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// What each check may take at most (QEMU under TCG on a busy machine is slow).
const deadline = 60 * time.Second

// busybox is in the POSIX-X image and on the host (cargo xtask installs busybox-static).
const busybox = "/bin/busybox"

var (
	number int
	failed int
)

func check(name string, f func() error) {
	number++
	done := make(chan error, 1)
	go func() { done <- f() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(deadline):
		err = fmt.Errorf("no answer within %v", deadline)
	}
	if err != nil {
		failed++
		fmt.Printf("not ok %d - %s: %v\n", number, name, err)
	} else {
		fmt.Printf("ok %d - %s\n", number, name)
	}
}

// A pipeline of goroutines, each passing numbers on to the next over unbuffered channels, and a
// fan-in of many producers into one buffered channel.
func goroutinesOverChannels() error {
	const stages, count = 50, 1000
	first := make(chan int)
	in := first
	for i := 0; i < stages; i++ {
		out := make(chan int)
		go func(in <-chan int, out chan<- int) {
			for v := range in {
				out <- v + 1
			}
			close(out)
		}(in, out)
		in = out
	}
	go func() {
		for i := 0; i < count; i++ {
			first <- i
		}
		close(first)
	}()
	sum, n := 0, 0
	for v := range in {
		sum += v
		n++
	}
	want := count*(count-1)/2 + count*stages
	if n != count || sum != want {
		return fmt.Errorf("pipeline: %d values summing to %d, want %d summing to %d", n, sum, count, want)
	}

	const producers, each = 100, 100
	results := make(chan int, 16)
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				results <- 1
			}
		}(p)
	}
	go func() { wg.Wait(); close(results) }()
	total := 0
	for v := range results {
		total += v
	}
	if total != producers*each {
		return fmt.Errorf("fan-in: %d values, want %d", total, producers*each)
	}
	return nil
}

// Goroutines locked to their OS threads while all of them wait for each other: the runtime must
// run them on distinct threads of one process (distinct gettid, one getpid).
func distinctThreads() error {
	const n = 4
	type ids struct{ pid, tid int }
	var arrived sync.WaitGroup
	arrived.Add(n)
	release := make(chan struct{})
	got := make(chan ids, n)
	for i := 0; i < n; i++ {
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			got <- ids{syscall.Getpid(), syscall.Gettid()}
			arrived.Done()
			<-release // all n stay on their threads until every one has reported
		}()
	}
	arrived.Wait()
	close(release)
	pid := os.Getpid()
	tids := map[int]bool{}
	for i := 0; i < n; i++ {
		id := <-got
		if id.pid != pid {
			return fmt.Errorf("getpid %d in a goroutine, %d in main", id.pid, pid)
		}
		tids[id.tid] = true
	}
	if len(tids) != n {
		return fmt.Errorf("%d locked goroutines on %d distinct threads", n, len(tids))
	}
	return nil
}

// Four Ps on however many CPUs there are: goroutines handed between OS threads that sleep and
// wake each other in futexes (the runtime's notesleep/notewakeup) while the pipeline runs.
func manyPs() error {
	old := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(old)
	for round := 0; round < 3; round++ {
		if err := goroutinesOverChannels(); err != nil {
			return fmt.Errorf("GOMAXPROCS 4, round %d: %v", round, err)
		}
	}
	return nil
}

// Asynchronous preemption: with one P, a goroutine spinning in a loop without calls (so without
// preemption points) must not keep the sleeping main goroutine from running again. The runtime's
// sysmon thread sends SIGURG with tgkill to the thread running the spinner; the handler, on the
// signal stack, rewrites the interrupted context so that the goroutine yields.
func asyncPreemption() error {
	old := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(old)
	var stop atomic.Bool
	const limit = 1 << 32 // tens of seconds without preemption, natively or under QEMU
	spun := make(chan uint64, 1)
	go func() {
		var i uint64
		for i = 0; i < limit && !stop.Load(); i++ {
		}
		spun <- i
	}()
	runtime.Gosched() // let the spinner start
	time.Sleep(20 * time.Millisecond)
	stop.Store(true)
	if i := <-spun; i >= limit {
		return fmt.Errorf("the spinner ran its %d iterations to the end: never preempted", i)
	}
	return nil
}

// time.Sleep and timers: they neither return early nor sleep for ever.
func sleeping() error {
	const nap = 50 * time.Millisecond
	start := time.Now()
	time.Sleep(nap)
	if took := time.Since(start); took < nap {
		return fmt.Errorf("time.Sleep(%v) returned after %v", nap, took)
	}
	// Many goroutines sleeping at once, woken by the runtime's timers.
	var wg sync.WaitGroup
	start = time.Now()
	for i := 1; i <= 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Duration(i) * time.Millisecond)
		}(i)
	}
	wg.Wait()
	if took := time.Since(start); took < 20*time.Millisecond {
		return fmt.Errorf("20 sleeps up to 20ms ended after %v", took)
	}
	select {
	case <-time.After(10 * time.Millisecond):
	case <-time.After(deadline / 2):
		return errors.New("time.After(10ms) lost to a later timer")
	}
	return nil
}

// os/exec with pipes on stdin, stdout and stderr (fork/exec by clone(CLONE_VFORK|CLONE_VM) in
// Go's syscall package, pipe2, wait4).
func execWithPipes() error {
	cmd := exec.Command(busybox, "tr", "a-z", "A-Z")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s tr: %v", busybox, err)
	}
	go func() {
		w := bufio.NewWriter(stdin)
		for i := 0; i < 1000; i++ {
			fmt.Fprintf(w, "line %d from go\n", i)
		}
		w.Flush()
		stdin.Close()
	}()
	out, err := io.ReadAll(stdout)
	if err != nil {
		return fmt.Errorf("reading tr's stdout: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("tr: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 1000 || lines[0] != "LINE 0 FROM GO" || lines[999] != "LINE 999 FROM GO" {
		return fmt.Errorf("tr gave %d lines, first %q", len(lines), lines[0])
	}

	// Separate stdout and stderr, and the exit status.
	cmd = exec.Command(busybox, "sh", "-c", "echo out; echo err >&2; exit 3")
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		return fmt.Errorf("sh -c 'exit 3': %v, want exit status 3", err)
	}
	if so.String() != "out\n" || se.String() != "err\n" {
		return fmt.Errorf("sh gave stdout %q, stderr %q", so.String(), se.String())
	}
	return nil
}

// signal.Notify: a signal the process sends itself arrives on the channel (the runtime's signal
// handler runs on its alternate stack and wakes the signal-receiving goroutine).
func notify() error {
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2} {
		c := make(chan os.Signal, 1)
		signal.Notify(c, sig)
		if err := syscall.Kill(os.Getpid(), sig); err != nil {
			return fmt.Errorf("kill(getpid(), %v): %v", sig, err)
		}
		select {
		case got := <-c:
			if got != sig {
				return fmt.Errorf("sent %v, got %v", sig, got)
			}
		case <-time.After(deadline / 2):
			return fmt.Errorf("%v sent to itself never arrived", sig)
		}
		signal.Stop(c)
	}
	return nil
}

// An HTTP server in a goroutine of this process, on 127.0.0.1 (the network poller: epoll,
// non-blocking sockets, accept4). Returns its base URL and a function that stops it.
func startServer() (string, func() error, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.Query().Get("n"), body)
	})
	server := &http.Server{Handler: mux}
	served := make(chan error, 1)
	go func() { served <- server.Serve(ln) }()
	stop := func() error {
		if err := server.Close(); err != nil {
			return fmt.Errorf("closing the server: %v", err)
		}
		if err := <-served; err != http.ErrServerClosed {
			return fmt.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		return nil
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// One request to the echo handler: a GET for even i, a POST with a body for odd i.
func request(client *http.Client, base string, i int) error {
	var resp *http.Response
	var err error
	url := fmt.Sprintf("%s/echo?n=%d", base, i)
	want := fmt.Sprintf("GET %d ", i)
	if i%2 == 0 {
		resp, err = client.Get(url)
	} else {
		resp, err = client.Post(url, "text/plain", strings.NewReader(fmt.Sprintf("body-%d", i)))
		want = fmt.Sprintf("POST %d body-%d", i, i)
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || string(body) != want {
		return fmt.Errorf("request %d: %d %q, want 200 %q", i, resp.StatusCode, body, want)
	}
	return nil
}

// A server and a client in one process: requests one after another on a kept-alive connection,
// and a 404.
func httpSequential() error {
	base, stop, err := startServer()
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{}}
	for i := 0; i < 10; i++ {
		if err := request(client, base, i); err != nil {
			return err
		}
	}
	resp, err := client.Get(base + "/missing")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		return fmt.Errorf("GET /missing: %d, want 404", resp.StatusCode)
	}
	return stop()
}

// 20 clients at once, each on its own connection: 20 connections may be pending on the
// listener before the server goroutine accepts the first (Go listens with the backlog of
// /proc/sys/net/core/somaxconn, 4096 on Linux).
func httpConcurrent() error {
	base, stop, err := startServer()
	if err != nil {
		return err
	}
	const clients = 20
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		go func(i int) {
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			errs <- request(client, base, i)
		}(i)
	}
	for i := 0; i < clients; i++ {
		if err := <-errs; err != nil {
			return err
		}
	}
	return stop()
}

func main() {
	fmt.Printf("real-go: %s, GOMAXPROCS %d, pid %d\n", runtime.Version(), runtime.GOMAXPROCS(0), os.Getpid())
	check("goroutines over channels (a 50-stage pipeline, a 100-producer fan-in)", goroutinesOverChannels)
	check("goroutines locked to 4 distinct OS threads of one process", distinctThreads)
	check("GOMAXPROCS 4: the pipeline and fan-in three times over", manyPs)
	check("asynchronous preemption of a goroutine spinning without calls (SIGURG by tgkill)", asyncPreemption)
	check("time.Sleep and timers", sleeping)
	check("os/exec with stdin/stdout/stderr pipes (busybox tr, sh)", execWithPipes)
	check("signal.Notify receives SIGUSR1 and SIGUSR2 sent to itself", notify)
	check("net/http server and a client in one process over 127.0.0.1 (10 requests, a 404)", httpSequential)
	check("net/http server and 20 concurrent clients over 127.0.0.1", httpConcurrent)
	fmt.Printf("real-go: %d checks, %d failed\n", number, failed)
	if failed > 0 {
		os.Exit(1)
	}
}
