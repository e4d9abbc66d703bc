package source

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/keytrail/keytrail/scanner"
)

// DefaultMaxDecompressed bounds what one compressed log may expand to.
const DefaultMaxDecompressed = 4 << 30

// Logs scans log files: plain text or JSON lines, gzip-compressed or not
// (detected by content, so rotated "app.log.2" gzip files work), and
// directories of them. .gitignore does not apply to logs.
type Logs struct {
	Paths []string
	// MaxDecompressed caps a gzip stream's output (gzip bomb guard).
	MaxDecompressed int64
}

// Name implements scanner.Source.
func (l *Logs) Name() string { return "logs" }

// Items implements scanner.Source.
func (l *Logs) Items(ctx context.Context, emit func(scanner.Item) error, report func(error)) error {
	limit := l.MaxDecompressed
	if limit <= 0 {
		limit = DefaultMaxDecompressed
	}
	for _, root := range l.Paths {
		if _, err := os.Stat(root); err != nil {
			report(&scanner.ScanError{Path: root, Err: cleanErr(err)})
			continue
		}
		err := walk(ctx, root, report, func(p string, de fs.DirEntry) error {
			if de.IsDir() || !de.Type().IsRegular() {
				return nil
			}
			return emit(logItem(p, limit))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func logItem(p string, limit int64) scanner.Item {
	return scanner.Item{
		Path: filepath.ToSlash(p),
		Size: -1, // compressed size says nothing about what is scanned
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			f, err := os.Open(p)
			if err != nil {
				return nil, cleanErr(err)
			}
			br := bufio.NewReaderSize(f, 64<<10)
			magic, _ := br.Peek(2)
			if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
				zr, err := gzip.NewReader(br)
				if err != nil {
					f.Close()
					return nil, fmt.Errorf("gzip: %w", err)
				}
				return &gzipReader{zr: zr, f: f, left: limit, limit: limit}, nil
			}
			return struct {
				io.Reader
				io.Closer
			}{br, f}, nil
		},
	}
}

// ErrDecompressedTooLarge reports a compressed input that expands past the
// limit; what was read up to the limit has been scanned.
var ErrDecompressedTooLarge = errors.New("decompressed size exceeds the limit (possible gzip bomb); rest not scanned")

type gzipReader struct {
	zr          *gzip.Reader
	f           *os.File
	left, limit int64
}

func (g *gzipReader) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, fmt.Errorf("%w (limit %d bytes)", ErrDecompressedTooLarge, g.limit)
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n, err := g.zr.Read(p)
	g.left -= int64(n)
	if err == io.ErrUnexpectedEOF {
		err = fmt.Errorf("gzip stream truncated: %w", err)
	} else if err != nil && err != io.EOF {
		err = fmt.Errorf("gzip: %w", err)
	}
	return n, err
}

func (g *gzipReader) Close() error {
	g.zr.Close()
	return g.f.Close()
}
