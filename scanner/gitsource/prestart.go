package gitsource

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"sync"
)

// A git process takes 10-20 ms to start on a VM where page faults are
// slow, and a history scan's walk starts two as soon as it has the commit
// graph: diff-tree, then the cat-file that streams blob contents. Both
// read their work from stdin, so Prefetch starts them while the rules
// load and rev-list runs, and the walk takes them ready. On gitleaks'
// history that moved the first blob scanned from ~40 ms after the graph
// arrived to ~10 ms.

// proc is a started git process with pipes to both ends.
type proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	stderr *bytes.Buffer
}

// kill ends a process nobody will read from.
func (p *proc) kill() {
	p.stdin.Close()
	p.cmd.Process.Kill()
	p.cmd.Wait()
}

// prestarted holds processes started ahead of use; each is taken once.
type prestarted struct {
	mu    sync.Mutex
	diff  *proc
	batch *proc
	done  chan struct{} // closed once both have started (or failed)
}

// diffTreeArgs are the walk's diff-tree arguments. --always prints every
// commit's header, even with no changes, so output and input stay in
// step.
var diffTreeArgs = []string{"diff-tree", "--stdin", "-r", "-c", "--root", "--no-renames", "--no-abbrev", "--raw", "-z", "--always"}

// startProc starts git with args and pipes to both ends; stderr is kept.
func (g *gitBin) startProc(ctx context.Context, args ...string) (*proc, error) {
	cmd := g.command(ctx, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("git %s: %w", args[0], err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("git %s: %w", args[0], err)
	}
	p := &proc{cmd: cmd, stdin: stdin, stdout: stdout, stderr: &bytes.Buffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting git %s: %w", args[0], err)
	}
	growPipe(stdout)
	return p, nil
}

// prestart starts the history walk's diff-tree and cat-file in the
// background; ctx bounds their lives as it would the walk's own.
func (g *gitBin) prestart(ctx context.Context) {
	ps := &prestarted{done: make(chan struct{})}
	g.mu.Lock()
	if g.pre != nil {
		g.mu.Unlock()
		return
	}
	g.pre = ps
	g.mu.Unlock()
	go func() {
		defer close(ps.done)
		d, _ := g.startProc(ctx, diffTreeArgs...)
		b, _ := g.startProc(ctx, "cat-file", "--batch")
		ps.mu.Lock()
		ps.diff, ps.batch = d, b
		ps.mu.Unlock()
	}()
}

// takePre returns a prestarted process (diff or batch), waiting for it to
// start; nil if none was prestarted, it failed, or it was taken.
func (g *gitBin) takePre(which func(*prestarted) **proc) *proc {
	g.mu.Lock()
	ps := g.pre
	g.mu.Unlock()
	if ps == nil {
		return nil
	}
	<-ps.done
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p := which(ps)
	out := *p
	*p = nil
	return out
}

func preDiff(ps *prestarted) **proc  { return &ps.diff }
func preBatch(ps *prestarted) **proc { return &ps.batch }

// dropPre ends prestarted processes nobody took.
func (g *gitBin) dropPre() {
	for _, which := range []func(*prestarted) **proc{preDiff, preBatch} {
		if p := g.takePre(which); p != nil {
			p.kill()
		}
	}
}
