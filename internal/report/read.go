package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/keytrail/keytrail/scanner"
)

// ReadFindings reads what `keytrail scan --format json` (an array) or
// `--format jsonl` (one object per line) wrote. Errors name the input
// and the line and column of the fault.
func ReadFindings(name string, r io.Reader) ([]scanner.Finding, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(data, []byte("\ufeff")), " \t\r\n")
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%s: empty, want the JSON of keytrail scan --format json", name)
	}
	off := int64(len(data) - len(trimmed))
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var fs []scanner.Finding
	switch trimmed[0] {
	case '[':
		if err := dec.Decode(&fs); err != nil {
			return nil, positioned(name, data, off, dec, err)
		}
		if dec.More() {
			return nil, positioned(name, data, off+dec.InputOffset(), nil, errors.New("unexpected data after the findings array"))
		}
	case '{':
		for dec.More() {
			var f scanner.Finding
			if err := dec.Decode(&f); err != nil {
				return nil, positioned(name, data, off, dec, err)
			}
			fs = append(fs, f)
		}
	default:
		return nil, positioned(name, data, off, nil, errors.New("want a JSON array of findings (keytrail scan --format json)"))
	}
	for i, f := range fs {
		if f.RuleID == "" {
			return nil, fmt.Errorf("%s: finding %d has no rule_id: not a keytrail findings file?", name, i+1)
		}
	}
	return fs, nil
}

// positioned names the file and the line:column of a decode error.
func positioned(name string, data []byte, base int64, dec *json.Decoder, err error) error {
	at := base
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		// Offset counts the bytes read, the offending one included.
		at += max(se.Offset-1, 0)
	case errors.As(err, &te):
		at += te.Offset
	case dec != nil:
		at += dec.InputOffset()
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		at = int64(len(data))
		err = errors.New("unexpected end of input (truncated file?)")
	}
	line, col := lineCol(data, at)
	return fmt.Errorf("%s:%d:%d: %v", name, line, col, err)
}

// lineCol turns a byte offset into a 1-based line and byte column.
func lineCol(data []byte, off int64) (int, int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return line, col
}
