// Package cloudtrail reads CloudTrail records for the keys an audit
// follows: delivery files ({"Records":[...]}, plain or gzip) from files,
// directory trees and S3, and the LookupEvents API. Records are streamed
// one at a time, never a whole file, and only the records of a key of
// interest (or of a session minted from one) are decoded in full.
package cloudtrail

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/keytrail/keytrail/audit"
)

// Record is the part of a CloudTrail record the audit uses.
type Record struct {
	EventTime    time.Time
	EventSource  string
	EventName    string
	Region       string
	SourceIP     string
	UserAgent    string
	ErrorCode    string
	AccessKeyID  string // userIdentity.accessKeyId
	UserName     string
	ARN          string
	MintedKeyID  string // responseElements.credentials.accessKeyId of STS calls
	EventVersion string
}

type rawRecord struct {
	EventVersion string `json:"eventVersion"`
	EventTime    string `json:"eventTime"`
	EventSource  string `json:"eventSource"`
	EventName    string `json:"eventName"`
	AWSRegion    string `json:"awsRegion"`
	SourceIP     string `json:"sourceIPAddress"`
	UserAgent    string `json:"userAgent"`
	ErrorCode    string `json:"errorCode"`
	UserIdentity struct {
		AccessKeyID string `json:"accessKeyId"`
		UserName    string `json:"userName"`
		ARN         string `json:"arn"`
	} `json:"userIdentity"`
	ResponseElements json.RawMessage `json:"responseElements"`
}

// ParseRecord decodes one record. Unknown fields are ignored; only the
// major eventVersion matters and every version so far is 1.x.
func ParseRecord(b []byte) (Record, error) {
	var r rawRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, err
	}
	t, err := time.Parse(time.RFC3339, r.EventTime)
	if err != nil {
		return Record{}, fmt.Errorf("eventTime %q: %w", r.EventTime, err)
	}
	rec := Record{EventTime: t.UTC(), EventSource: r.EventSource, EventName: r.EventName, Region: r.AWSRegion,
		SourceIP: r.SourceIP, UserAgent: r.UserAgent, ErrorCode: r.ErrorCode, AccessKeyID: r.UserIdentity.AccessKeyID,
		UserName: r.UserIdentity.UserName, ARN: r.UserIdentity.ARN, EventVersion: r.EventVersion}
	if isMint(r.EventName) && len(r.ResponseElements) > 0 && r.ResponseElements[0] == '{' {
		var re struct {
			Credentials struct {
				AccessKeyID string `json:"accessKeyId"`
			} `json:"credentials"`
		}
		if json.Unmarshal(r.ResponseElements, &re) == nil {
			rec.MintedKeyID = re.Credentials.AccessKeyID
		}
	}
	return rec, nil
}

func isMint(name string) bool {
	switch name {
	case "GetSessionToken", "AssumeRole", "GetFederationToken", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity":
		return true
	}
	return false
}

// Event turns the record into the audit's event.
func (r Record) Event() audit.Event {
	return audit.Event{Time: r.EventTime, AccessKeyID: r.AccessKeyID, Name: r.EventName, Source: r.EventSource,
		Region: r.Region, SourceIP: r.SourceIP, UserAgent: r.UserAgent, ErrorCode: r.ErrorCode, Actor: r.ARN,
		MintedKeyID: r.MintedKeyID}
}

// errBadJSON is wrapped by every structural error of a delivery file.
var errBadJSON = errors.New("malformed CloudTrail JSON")

// Split streams a delivery file {"Records":[{...},...]} and calls fn with
// the raw bytes of each record (valid until fn returns). It checks the
// structure (balanced braces, strings, the envelope) but leaves decoding
// to ParseRecord, so records nobody wants cost a byte scan, not a decode.
// An error says where the file went wrong; the records passed to fn
// before it still stand.
func Split(r io.Reader, fn func(rec []byte) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	s := &splitter{br: br}
	if err := s.expect('{'); err != nil {
		return err
	}
	for first := true; ; first = false {
		c, err := s.nonSpace()
		if err != nil {
			return err
		}
		if c == '}' && first {
			return s.end()
		}
		if !first {
			if c == '}' {
				return s.end()
			}
			if c != ',' {
				return s.errorf("expected , or } after a top-level value, found %q", c)
			}
			if c, err = s.nonSpace(); err != nil {
				return err
			}
		}
		if c != '"' {
			return s.errorf("expected a key, found %q", c)
		}
		s.buf = s.buf[:0]
		if err := s.str(); err != nil {
			return err
		}
		key := string(s.buf[:len(s.buf)-1])
		if err := s.expect(':'); err != nil {
			return err
		}
		if key != "Records" {
			c, err := s.nonSpace()
			if err != nil {
				return err
			}
			s.buf = s.buf[:0]
			if err := s.value(c); err != nil {
				return err
			}
			continue
		}
		if err := s.records(fn); err != nil {
			return err
		}
	}
}

type splitter struct {
	br  *bufio.Reader
	buf []byte
	off int64
}

func (s *splitter) errorf(format string, a ...any) error {
	return fmt.Errorf("%w at byte %d: %s", errBadJSON, s.off, fmt.Sprintf(format, a...))
}

func (s *splitter) byte() (byte, error) {
	c, err := s.br.ReadByte()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, s.errorf("unexpected end of file")
		}
		return 0, err
	}
	s.off++
	return c, nil
}

func (s *splitter) nonSpace() (byte, error) {
	for {
		c, err := s.byte()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c, nil
	}
}

func (s *splitter) expect(want byte) error {
	c, err := s.nonSpace()
	if err != nil {
		return err
	}
	if c != want {
		return s.errorf("expected %q, found %q", want, c)
	}
	return nil
}

// end accepts only whitespace after the envelope.
func (s *splitter) end() error {
	for {
		c, err := s.br.ReadByte()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		s.off++
		if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			return s.errorf("data after the end of the document")
		}
	}
}

func (s *splitter) records(fn func([]byte) error) error {
	if err := s.expect('['); err != nil {
		return err
	}
	for first := true; ; first = false {
		c, err := s.nonSpace()
		if err != nil {
			return err
		}
		if c == ']' {
			return nil
		}
		if !first {
			if c != ',' {
				return s.errorf("expected , or ] between records, found %q", c)
			}
			if c, err = s.nonSpace(); err != nil {
				return err
			}
		}
		if c != '{' {
			return s.errorf("a record is not an object (found %q)", c)
		}
		s.buf = append(s.buf[:0], '{')
		if err := s.nested('{'); err != nil {
			return err
		}
		if err := fn(s.buf); err != nil {
			return err
		}
	}
}

// nested copies an object's or array's bytes after its opening byte into
// s.buf, tracking nesting and strings. The hot loop takes runs of plain
// bytes at once.
func (s *splitter) nested(open byte) error {
	depth := 1
	for {
		chunk, err := s.br.Peek(1)
		if err != nil || len(chunk) == 0 {
			if errors.Is(err, io.EOF) {
				return s.errorf("unexpected end of file inside a record")
			}
			return err
		}
		n := s.br.Buffered()
		chunk, _ = s.br.Peek(n)
		i := bytes.IndexAny(chunk, "{}\"[]")
		if i < 0 {
			s.take(chunk)
			continue
		}
		c := chunk[i]
		s.take(chunk[:i+1])
		switch c {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				if (open == '{') != (c == '}') {
					return s.errorf("mismatched %q", c)
				}
				return nil
			}
		case '"':
			if err := s.str(); err != nil {
				return err
			}
		}
	}
}

// take moves b, which the reader has buffered, into s.buf.
func (s *splitter) take(b []byte) {
	s.buf = append(s.buf, b...)
	s.off += int64(len(b))
	_, _ = s.br.Discard(len(b))
}

// str copies the rest of a string (after its opening quote) into s.buf.
func (s *splitter) str() error {
	for {
		n := s.br.Buffered()
		if n == 0 {
			if _, err := s.br.Peek(1); err != nil {
				if errors.Is(err, io.EOF) {
					return s.errorf("unexpected end of file inside a string")
				}
				return err
			}
			n = s.br.Buffered()
		}
		chunk, _ := s.br.Peek(n)
		i := bytes.IndexAny(chunk, "\"\\\n")
		if i < 0 {
			s.take(chunk)
			continue
		}
		c := chunk[i]
		s.take(chunk[:i+1])
		switch c {
		case '"':
			return nil
		case '\n':
			return s.errorf("newline inside a string")
		case '\\':
			e, err := s.byte()
			if err != nil {
				return err
			}
			s.buf = append(s.buf, e)
		}
	}
}

// value skips any JSON value whose first byte is c (for top-level keys
// other than Records). Scalars are checked loosely.
func (s *splitter) value(c byte) error {
	switch c {
	case '{':
		return s.nested('{')
	case '[':
		return s.nested('[')
	case '"':
		return s.str()
	}
	for {
		p, err := s.br.Peek(1)
		if err != nil {
			return s.errorf("unexpected end of file in a value")
		}
		switch p[0] {
		case ',', '}', ' ', '\n', '\r', '\t':
			return nil
		}
		_, _ = s.br.Discard(1)
		s.off++
	}
}
