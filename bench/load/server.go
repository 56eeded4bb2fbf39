package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is a custodyd process on loopback.
type server struct {
	cmd    *exec.Cmd
	url    string
	token  string
	exited chan struct{}
	log    string // path of its log
}

var servingLine = regexp.MustCompile(`"msg":"custodyd serving","addr":"([^"]+)"`)

// startServer starts custodyd on a free loopback port and reads its address and bootstrap token.
func startServer(bin, dataDir string, args ...string) (*server, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	logPath := filepath.Join(filepath.Dir(dataDir), "custodyd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append([]string{"--data-dir", dataDir, "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dataDir}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start custodyd: %w", err)
	}
	s := &server{cmd: cmd, exited: make(chan struct{}), log: logPath}
	tokens := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, tok, ok := strings.Cut(sc.Text(), "keep it safe): "); ok {
				tokens <- strings.TrimSpace(tok)
			}
		}
	}()
	addrs := make(chan string, 1)
	go func() {
		defer logFile.Close()
		// The log goes to a file; the serving line is picked out on the way.
		sc := bufio.NewScanner(io.TeeReader(stderr, logFile))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if m := servingLine.FindStringSubmatch(sc.Text()); m != nil {
				addrs <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stderr) // a line too long for the scanner: keep the pipe flowing
	}()
	go func() { _ = cmd.Wait(); close(s.exited) }()
	select {
	case addr := <-addrs:
		s.url = "http://" + addr
	case <-s.exited:
		return nil, fmt.Errorf("custodyd exited before serving; log in %s", logPath)
	case <-time.After(time.Minute):
		s.stop()
		return nil, fmt.Errorf("custodyd did not serve within a minute; log in %s", logPath)
	}
	select {
	case s.token = <-tokens:
	case <-time.After(10 * time.Second):
		s.stop()
		return nil, fmt.Errorf("custodyd printed no bootstrap token")
	}
	return s, nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stop shuts custodyd down gracefully.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(time.Minute):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// usage is what the kernel says about a process at one moment.
type usage struct {
	rssKiB, hwmKiB int64         // resident set now, and its peak so far
	cpu            time.Duration // user + system time so far
}

// usage reads /proc/PID/status and /proc/PID/stat.
func (s *server) usage() (usage, error) {
	return procUsage(s.pid())
}

func procUsage(pid int) (usage, error) {
	var u usage
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, fmt.Errorf("read process status: %w", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(fields[0], 10, 64)
		switch k {
		case "VmRSS":
			u.rssKiB = n
		case "VmHWM":
			u.hwmKiB = n
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, fmt.Errorf("read process stat: %w", err)
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	rest := string(stat)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return u, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64) // field 14 of the whole line
	stime, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	const clockTicks = 100                      // USER_HZ on Linux
	u.cpu = time.Duration(utime+stime) * time.Second / clockTicks
	return u, nil
}

// startGenProfile records a Go CPU profile of this process, the load generator, into name (go tool
// pprof), until stop is called.
func startGenProfile(name string) (stop func() error, err error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("profile the load generator: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("profile the load generator: %w", err)
		}
		return nil
	}, nil
}

// startPerf records a call-graph profile of pid until the returned stop is called.
func startPerf(pid int, out string) (func() error, error) {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, err
	}
	cmd := exec.Command("perf", "record", "-F", "499", "-g", "-p", strconv.Itoa(pid), "-o", out)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("perf record: %w", err)
	}
	return func() error {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		fmt.Fprintf(os.Stderr, "# profile: perf report -i %s\n", out)
		return nil
	}, nil
}

// machineBusy is the CPU time all cores spent not idle since boot, from /proc/stat.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("read /proc/stat: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var busy int64
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i == 3 || i == 4 || i == 7 { // idle, iowait, steal (another VM's time)
			continue
		}
		if i >= 8 { // guest time is already in user
			break
		}
		busy += n
	}
	return time.Duration(busy) * time.Second / 100, nil
}
