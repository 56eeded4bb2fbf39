// Package pgserver gives the benchmarks a PostgreSQL server to create their databases on: one given
// by URL, or a throwaway cluster of their own.
package pgserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a PostgreSQL server a benchmark creates its databases on: one given by URL, or a
// throwaway cluster of its own.
type Server struct {
	adminURL string
	cmd      *exec.Cmd // nil for a server given by URL
	exited   chan struct{}
	dir      string
	durable  bool
	created  []string
}

// Describe says what the server is, for a report.
func (p *Server) Describe() string {
	switch {
	case p.cmd == nil:
		return "PostgreSQL given by URL"
	case p.durable:
		return "throwaway PostgreSQL cluster on the VM disk, fsync and synchronous_commit on (the defaults)"
	default:
		return "throwaway PostgreSQL cluster, fsync=off synchronous_commit=off"
	}
}

// Open uses adminURL, or starts a cluster in a temp dir when it is empty: durable keeps fsync and
// synchronous_commit on, as in production.
func Open(ctx context.Context, adminURL string, durable bool) (*Server, error) {
	if adminURL != "" {
		return &Server{adminURL: adminURL}, nil
	}
	bin, err := findPostgres()
	if err != nil {
		return nil, err
	}
	// Not under the working dir: as root, the postgres user must be able to reach it.
	dir, err := os.MkdirTemp("", "custody-bench-pg-")
	if err != nil {
		return nil, err
	}
	p := &Server{dir: dir, durable: durable, exited: make(chan struct{})}
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGQUIT}
	if os.Geteuid() == 0 {
		cred, err := postgresUser()
		if err != nil {
			return nil, err
		}
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
		attr.Credential = cred
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = attr
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"-D", data, "-k", dir, "-p", strconv.Itoa(port), "-h", "127.0.0.1", "-c", "max_connections=300"}
	if !durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	p.cmd = exec.Command(filepath.Join(bin, "postgres"), args...)
	p.cmd.SysProcAttr = attr
	logFile, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	p.adminURL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	deadline := time.Now().Add(time.Minute)
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, p.adminURL)
		cancel()
		if err == nil {
			_ = conn.Close(ctx)
			return p, nil
		}
		select {
		case <-p.exited:
			return nil, fmt.Errorf("postgres exited; log in %s", filepath.Join(dir, "postgres.log"))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Close()
			return nil, fmt.Errorf("postgres not ready: %w", err)
		}
	}
}

// NewDatabase creates an empty database and returns its URL.
func (p *Server) NewDatabase(ctx context.Context, name string) (string, error) {
	if err := p.exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	p.created = append(p.created, name)
	u, err := url.Parse(p.adminURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func (p *Server) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, p.adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// Close drops the databases made on a given server, or stops the throwaway cluster.
func (p *Server) Close() {
	if p.cmd == nil {
		for _, name := range p.created {
			_ = p.exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		}
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	os.RemoveAll(p.dir)
}

func findPostgres() (string, error) {
	if d := os.Getenv("CUSTODY_TEST_POSTGRES_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL not found: apt-get install -y postgresql-15, or pass -database-url")
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as the postgres user: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
