package realserver

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "write fresh captures and their .scenarios files into ../testdata")

// gate is the three-state gate of the real-server suite: skip unless
// AUTHSIFT_TEST_REAL is set; with "required", a missing server fails.
func gate(t *testing.T) {
	t.Helper()
	switch os.Getenv("AUTHSIFT_TEST_REAL") {
	case "":
		t.Skip("real servers not asked for (AUTHSIFT_TEST_REAL=required, make test-real)")
	case "required", "1":
	default:
		t.Fatalf("AUTHSIFT_TEST_REAL=%q: want required", os.Getenv("AUTHSIFT_TEST_REAL"))
	}
}

// realDir is where .ci/real/install put the servers.
func realDir() string {
	if d := os.Getenv("AUTHSIFT_REAL_DIR"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "authsift-real")
}

// need returns the path of a file the install script puts in realDir, or
// fails the test naming the script.
func need(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join(realDir(), rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s missing (run .ci/real/install): %v", p, err)
	}
	return p
}

// Capture is one log a server writes, captured while the driver runs.
type Capture struct {
	Name   string   // short name for messages
	Path   string   // the file the server writes
	Out    string   // testdata path without extension (../testdata/<source>/real-...)
	Header []string // provenance: server, version, flags
}

// size is the capture's current length in bytes.
func (c *Capture) size() int64 {
	st, err := os.Stat(c.Path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// Want names, per capture, the failure classes a step causes (one entry per
// failure). A capture the step does not name expects no failure.
type Want map[*Capture][]string

type step struct {
	name string
	want Want
	end  map[*Capture]int64
}

// Recorder runs the driver's steps and remembers where each one's lines
// are in every capture.
type Recorder struct {
	t     *testing.T
	caps  []*Capture
	steps []step
}

// NewRecorder starts recording caps; everything they hold so far is the
// "startup" step.
func NewRecorder(t *testing.T, caps ...*Capture) *Recorder {
	r := &Recorder{t: t, caps: caps}
	r.settle()
	r.steps = append(r.steps, step{name: "startup", end: r.offsets()})
	return r
}

// settle waits until no capture has grown for 400 ms (or 20 s passed).
func (r *Recorder) settle() {
	deadline := time.Now().Add(20 * time.Second)
	last, still := r.offsets(), 0
	for still < 4 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		now := r.offsets()
		still++
		for c, n := range now {
			if n != last[c] {
				still = 0
			}
		}
		last = now
	}
}

func (r *Recorder) offsets() map[*Capture]int64 {
	m := make(map[*Capture]int64, len(r.caps))
	for _, c := range r.caps {
		m[c] = c.size()
	}
	return m
}

// Step runs do as the scenario name. The lines the captures gain until they
// settle belong to it; want says which failures they must show. An error of
// do fails the test: the scenario did not happen as the driver meant.
func (r *Recorder) Step(name string, want Want, do func() error) {
	r.t.Helper()
	if err := do(); err != nil {
		r.t.Errorf("scenario %s: %v", name, err)
	}
	r.settle()
	r.steps = append(r.steps, step{name: name, want: want, end: r.offsets()})
}

// Finish cuts every capture at its last step, maps the steps to line
// ranges, checks the capture against them and, with -update, writes it and
// its .scenarios file into testdata.
func (r *Recorder) Finish() {
	r.t.Helper()
	for _, c := range r.caps {
		data, err := os.ReadFile(c.Path)
		if err != nil {
			r.t.Fatal(err)
		}
		data = data[:min(int64(len(data)), r.steps[len(r.steps)-1].end[c])]
		if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
			data = data[:i+1]
		}
		var spans []span
		first := 1
		for _, s := range r.steps {
			end := min(s.end[c], int64(len(data)))
			last := bytes.Count(data[:end], []byte("\n"))
			if last < first {
				// No line of this capture: its expectations must be empty.
				if len(s.want[c]) > 0 {
					r.t.Errorf("%s: scenario %s left no line, expected %v", c.Name, s.name, s.want[c])
				}
				continue
			}
			spans = append(spans, span{first: first, last: last, name: s.name, want: s.want[c]})
			first = last + 1
		}
		right, expected := checkLog(r.t, c.Name, data, spans)
		r.t.Logf("%s: %d lines, %d scenarios, %d of %d expected failures classified right", c.Name, first-1, len(spans), right, expected)
		if *update {
			hdr := append(append([]string(nil), c.Header...), "captured "+time.Now().UTC().Format("2006-01-02")+" by ingest/realserver ("+r.t.Name()+")")
			if err := os.WriteFile(c.Out+".log", data, 0o644); err != nil {
				r.t.Fatal(err)
			}
			if err := os.WriteFile(c.Out+".scenarios", formatScenarios(hdr, spans), 0o644); err != nil {
				r.t.Fatal(err)
			}
		}
	}
}

// process is a server the suite started.
type process struct {
	cmd *exec.Cmd
	log string
}

// start runs name with args, env added to the suite's environment, its
// stdout and stderr appended to logPath; the test's cleanup stops it.
func start(t *testing.T, logPath string, env []string, name string, args ...string) *process {
	t.Helper()
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); f.Close(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return &process{cmd: cmd, log: logPath}
}

// waitHTTP polls url until it answers with a status below 500, the process
// exits, or timeout passes.
func waitHTTP(t *testing.T, p *process, url string, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return
			}
		}
		if p != nil && p.cmd.ProcessState != nil {
			t.Fatalf("%s exited: %s", p.cmd.Path, tail(p.log))
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s did not answer within %s: %v\n%s", url, timeout, err, tail(func() string {
				if p != nil {
					return p.log
				}
				return ""
			}()))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// tail returns the end of a log file for an error message.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return strings.TrimSpace(string(b))
}

// portFree fails the test when something already answers on a loopback
// port the suite means to use.
func portFree(t *testing.T, port int) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("port %d is already taken on 127.0.0.1", port)
	}
}

// execOutput runs a command and returns what it printed (stdout and stderr).
func execOutput(name string, args ...string) (string, error) {
	b, err := exec.Command(name, args...).CombinedOutput()
	return string(b), err
}
