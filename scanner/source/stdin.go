package source

import (
	"context"
	"io"

	"github.com/keytrail/keytrail/scanner"
)

// Reader scans one stream, such as standard input.
type Reader struct {
	Label string
	R     io.Reader
}

// Name implements scanner.Source.
func (r *Reader) Name() string { return r.Label }

// Items implements scanner.Source.
func (r *Reader) Items(ctx context.Context, emit func(scanner.Item) error, report func(error)) error {
	return emit(scanner.Item{
		Path: r.Label,
		Size: -1,
		Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(r.R), nil },
	})
}
