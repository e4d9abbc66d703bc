package scanner

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Item is one unit of content a source hands to the engine: a file, a log,
// a git blob. Open is called once, by a worker, so sources never hold
// content in memory while items wait in the queue.
type Item struct {
	// Path is what reports show: repo-relative for directories and git.
	Path string
	// Size is the content length if known, else -1.
	Size int64
	Open func(ctx context.Context) (io.ReadCloser, error)
	// Provenance is attached to every finding from this item.
	Provenance *Provenance
	// Key, when set, identifies content for sources that deduplicate
	// (a git blob id); findings carry it back in ItemKey.
	Key string
	// SkipSniff scans the item even if it looks binary.
	SkipSniff bool
	// Delta, when set, describes the content as an edit of content
	// already scanned; Open may fill it in and the engine records on it
	// what it looked at again (see Delta).
	Delta *Delta
	// Rare says items like this one are few among the source's: a
	// worker lets go of a window buffer grown for it (see
	// Worker.TrimBuffer) rather than keep it for the next.
	Rare bool
}

// InMemory is implemented by an item's reader when its content is
// already in memory: the engine then scans it in place instead of reading
// a copy (ok false: read it as a stream). The engine does not keep or
// change the bytes.
type InMemory interface {
	Content() (data []byte, ok bool)
}

// Provenance is where in history an item came from.
type Provenance struct {
	Commit  string
	Author  string
	Email   string
	Date    time.Time
	Message string
}

// Source enumerates items. It calls emit for each and reports problems it
// can step past (an unreadable directory) through report, carrying on.
// Emit returns an error only when the scan is cancelled.
type Source interface {
	Name() string
	Items(ctx context.Context, emit func(Item) error, report func(error)) error
}

// Counter is implemented by sources that know how far their enumeration
// has got (git: commits walked of commits to walk), for progress with an
// ETA. It is called from another goroutine while the scan runs.
type Counter interface {
	Progress() (done, total int64, unit string)
}

// Finalizer is implemented by sources that post-process findings once all
// items are scanned, e.g. to attach git provenance to blob findings.
type Finalizer interface {
	Finalize(ctx context.Context, fs []Finding) ([]Finding, error)
}

// PathClassUser is implemented by sources that scan content once for
// every path it appears at (git blobs): Scanner.Run gives them the
// engine's PathClass before the first item, so that content met again
// at a path the engine treats otherwise (out of an allowlisted fixture
// directory, or from a docs file into a config file) is scanned there
// too.
type PathClassUser interface {
	UsePathClass(class func(path string) string)
}

// ScanError is a problem with one input that stopped it being scanned
// completely. The scan goes on; the exit code says something was missed.
type ScanError struct {
	Path string
	Err  error
}

func (e *ScanError) Error() string { return fmt.Sprintf("%s: %v", e.Path, e.Err) }
func (e *ScanError) Unwrap() error { return e.Err }
