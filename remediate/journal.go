package remediate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Record kinds in a journal.
const (
	KindHeader  = "header"  // first record: the plan being run
	KindIntent  = "intent"  // written before a step, and before each of its external calls
	KindOutcome = "outcome" // written after each call, and after the step
	KindNote    = "note"    // what the runner decided (reset after a lost secret, a rollback)
)

// Outcome statuses.
const (
	StatusDone        = "done"
	StatusAlreadyDone = "already-done" // found done when resuming
	StatusFailed      = "failed"
	StatusPaused      = "paused" // a wait that resume continues (grace, delete-after)
	StatusUndone      = "undone"
)

// Record is one line of a journal. It holds key ids, version ids and
// times, never a secret: the journal refuses to write a line holding any
// string it was told is secret.
type Record struct {
	Seq   int       `json:"seq"`
	Time  time.Time `json:"time"`
	Kind  string    `json:"kind"`
	Key   int       `json:"key,omitempty"`    // index in the plan's keys
	KeyID string    `json:"key_id,omitempty"` // for people reading the file
	Step  string    `json:"step,omitempty"`
	// Call, on an intent or outcome, names the one external call it is
	// about; without it the record is about the whole step.
	Call   string            `json:"call,omitempty"`
	Calls  []string          `json:"calls,omitempty"`
	Status string            `json:"status,omitempty"`
	Error  string            `json:"error,omitempty"`
	Facts  map[string]string `json:"facts,omitempty"`
	Note   string            `json:"note,omitempty"`
	Plan   *Plan             `json:"plan,omitempty"`
	Sum    string            `json:"sum"` // CRC-32 (IEEE) of the record with sum ""
}

// Journal appends records to a file, one JSON line each, fsynced.
type Journal struct {
	mu      sync.Mutex
	f       *os.File
	path    string
	seq     int
	secrets []string
}

// DefaultJournalPath is .keytrail/remediation/<UTC timestamp>.journal under dir.
func DefaultJournalPath(dir string, now time.Time) string {
	return filepath.Join(dir, ".keytrail", "remediation", now.UTC().Format("20060102T150405Z")+".journal")
}

// CreateDefaultJournal creates the journal at DefaultJournalPath, adding
// "-2", "-3"... when runs started within the same second.
func CreateDefaultJournal(dir string, now time.Time) (*Journal, error) {
	base := strings.TrimSuffix(DefaultJournalPath(dir, now), ".journal")
	path := base + ".journal"
	for n := 2; ; n++ {
		j, err := CreateJournal(path)
		if err == nil || !errors.Is(err, os.ErrExist) || n > 100 {
			return j, err
		}
		path = fmt.Sprintf("%s-%d.journal", base, n)
	}
}

// CreateJournal makes a new journal file (mode 0600, parents 0700); it
// refuses to overwrite one.
func CreateJournal(path string) (*Journal, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return &Journal{f: f, path: path}, nil
}

// OpenJournal reads a journal and opens it to append; it refuses a
// journal with a bad record.
func OpenJournal(path string) (*Journal, []Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("journal %s: %w", path, err)
	}
	recs, err := ReadJournal(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("journal %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return &Journal{f: f, path: path, seq: len(recs)}, recs, nil
}

// OpenNewJournal creates the journal at path, or at the default path when
// path is empty.
func OpenNewJournal(path string, now time.Time) (*Journal, error) {
	if path == "" {
		return CreateDefaultJournal(".", now)
	}
	return CreateJournal(path)
}

// Path is the journal's file.
func (j *Journal) Path() string { return j.path }

// Forbid adds a secret the journal must never write.
func (j *Journal) Forbid(secret string) {
	if secret == "" {
		return
	}
	j.mu.Lock()
	j.secrets = append(j.secrets, secret)
	j.mu.Unlock()
}

// Append writes r (its Seq and Sum are set here) and fsyncs the file.
func (j *Journal) Append(r Record) (Record, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	r.Seq = j.seq + 1
	line, err := encodeRecord(&r)
	if err != nil {
		return r, fmt.Errorf("journal %s: %w", j.path, err)
	}
	for _, s := range j.secrets {
		if bytes.Contains(line, []byte(s)) {
			// A bug upstream; refuse rather than leak.
			return r, fmt.Errorf("journal %s: refusing to write record %d: it holds a secret", j.path, r.Seq)
		}
	}
	if _, err := j.f.Write(line); err != nil {
		return r, fmt.Errorf("journal %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return r, fmt.Errorf("journal %s: fsync: %w", j.path, err)
	}
	j.seq = r.Seq
	return r, nil
}

// Close closes the file.
func (j *Journal) Close() error { return j.f.Close() }

func encodeRecord(r *Record) ([]byte, error) {
	r.Sum = ""
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	r.Sum = fmt.Sprintf("%08x", crc32.ChecksumIEEE(b))
	b, err = json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// BadRecordError names the record of a journal that cannot be trusted.
type BadRecordError struct {
	Record int // 1-based line number, which is the record's seq
	Reason string
}

func (e *BadRecordError) Error() string {
	return fmt.Sprintf("record %d: %s; refusing to guess what happened after it (inspect the file; `remediate rollback` and `resume` need an intact journal)", e.Record, e.Reason)
}

// maxRecord bounds one line; a plan with hundreds of keys fits.
const maxRecord = 16 << 20

// ReadJournal reads every record and checks each one: complete line,
// valid JSON, checksum, sequence, a header first, kinds known.
func ReadJournal(r io.Reader) ([]Record, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var recs []Record
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		full := line
		if errors.Is(err, bufio.ErrBufferFull) {
			buf := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) && len(buf) <= maxRecord {
				line, err = br.ReadSlice('\n')
				buf = append(buf, line...)
			}
			if len(buf) > maxRecord {
				return nil, &BadRecordError{n, "longer than 16 MiB"}
			}
			full = buf
		}
		if err == io.EOF {
			if len(full) == 0 {
				if len(recs) == 0 {
					return nil, &BadRecordError{1, "the journal is empty"}
				}
				return recs, nil
			}
			return nil, &BadRecordError{n, "truncated (no end of line): the process stopped while writing it"}
		}
		if err != nil {
			return nil, fmt.Errorf("reading record %d: %w", n, err)
		}
		rec, berr := decodeRecord(full[:len(full)-1])
		if berr != "" {
			return nil, &BadRecordError{n, berr}
		}
		if rec.Seq != n {
			return nil, &BadRecordError{n, fmt.Sprintf("sequence number %d, want %d (a record is missing or repeated)", rec.Seq, n)}
		}
		if n == 1 && (rec.Kind != KindHeader || rec.Plan == nil) {
			return nil, &BadRecordError{n, "the first record must be the header holding the plan"}
		}
		if n > 1 && rec.Kind == KindHeader {
			return nil, &BadRecordError{n, "a second header"}
		}
		if rec.Kind != KindHeader && recs != nil && (rec.Key < 0 || rec.Key >= len(recs[0].Plan.Keys)) {
			return nil, &BadRecordError{n, fmt.Sprintf("key %d is not in the plan (%d keys)", rec.Key, len(recs[0].Plan.Keys))}
		}
		recs = append(recs, rec)
	}
}

func decodeRecord(line []byte) (Record, string) {
	var rec Record
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return rec, "not a journal record: " + err.Error()
	}
	if dec.More() {
		return rec, "not a journal record: data after the JSON object"
	}
	want := rec.Sum
	check := rec
	b, err := encodeRecord(&check)
	if err != nil {
		return rec, "not a journal record: " + err.Error()
	}
	if want != check.Sum || !bytes.Equal(bytes.TrimSuffix(b, []byte{'\n'}), line) {
		return rec, fmt.Sprintf("checksum mismatch (sum %q, content gives %q): the record was altered or corrupted", want, check.Sum)
	}
	switch rec.Kind {
	case KindHeader, KindIntent, KindOutcome, KindNote:
	default:
		return rec, fmt.Sprintf("unknown kind %q", rec.Kind)
	}
	if rec.Kind == KindIntent || rec.Kind == KindOutcome {
		if rec.Step == "" {
			return rec, rec.Kind + " without a step"
		}
	}
	if rec.Kind == KindOutcome {
		switch rec.Status {
		case StatusDone, StatusAlreadyDone, StatusFailed, StatusPaused, StatusUndone:
		default:
			return rec, fmt.Sprintf("unknown status %q", rec.Status)
		}
	}
	if rec.Call != "" && rec.Kind != KindIntent && rec.Kind != KindOutcome {
		return rec, rec.Kind + " naming a call"
	}
	if strings.ContainsAny(rec.Step, "\n") {
		return rec, "bad step name"
	}
	return rec, ""
}
