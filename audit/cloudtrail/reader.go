package cloudtrail

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/sourcegraph/conc/pool"
)

// Input is one delivery file: a local file or an S3 object.
type Input struct {
	Name string // path or s3://bucket/key, used in errors
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// S3API is the part of the S3 client the reader uses.
type S3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Inputs expands a --cloudtrail argument: a file (read whatever its
// name), a directory tree (its .json and .gz files, CloudTrail-Digest
// skipped) or s3://bucket/prefix (listed through client).
func Inputs(ctx context.Context, spec string, client S3API) ([]Input, error) {
	if rest, ok := strings.CutPrefix(spec, "s3://"); ok {
		if client == nil {
			return nil, fmt.Errorf("%s: no S3 client", spec)
		}
		return s3Inputs(ctx, rest, client)
	}
	st, err := os.Stat(spec)
	if err != nil {
		return nil, fmt.Errorf("CloudTrail input %s: %w", spec, err)
	}
	if !st.IsDir() {
		return []Input{fileInput(spec)}, nil
	}
	var out []Input
	err = filepath.WalkDir(spec, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "CloudTrail-Digest" {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && trailName(d.Name()) {
			out = append(out, fileInput(p))
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("walking %s: %w", spec, err)
	}
	return out, nil
}

func trailName(name string) bool {
	return strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".json.gz") || strings.HasSuffix(name, ".gz")
}

func fileInput(p string) Input {
	return Input{Name: p, Open: func(context.Context) (io.ReadCloser, error) { return os.Open(p) }}
}

func s3Inputs(ctx context.Context, spec string, client S3API) ([]Input, error) {
	bucket, prefix, _ := strings.Cut(spec, "/")
	if bucket == "" {
		return nil, fmt.Errorf("s3://%s: no bucket", spec)
	}
	var out []Input
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("listing s3://%s: %w", spec, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.Contains("/"+key, "/CloudTrail-Digest/") || !trailName(key) {
				continue
			}
			out = append(out, Input{Name: "s3://" + bucket + "/" + key, Open: func(ctx context.Context) (io.ReadCloser, error) {
				g, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
				if err != nil {
					return nil, err
				}
				return g.Body, nil
			}})
		}
	}
	return out, nil
}

// Read reads every input for the tracker's keys, Workers at a time, and
// returns one error per input that could not be read in full (named; the
// records before the damage still count). When a session is learned in
// one file after another file was already read, that other file is read
// again for that session only.
func Read(ctx context.Context, t *Tracker, inputs []Input, workers int) []error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	cov := make([]*coverage, len(inputs))
	for i := range cov {
		cov[i] = newCoverage()
	}
	failed := make([]error, len(inputs))
	todo := make([]int, len(inputs))
	for i := range todo {
		todo[i] = i
	}
	var mu sync.Mutex
	for round := 0; len(todo) > 0 && ctx.Err() == nil; round++ {
		p := pool.New().WithMaxGoroutines(workers)
		for _, i := range todo {
			p.Go(func() {
				ps := t.newPass(cov[i])
				err := readInput(ctx, inputs[i], ps)
				ps.done(cov[i])
				if err != nil {
					mu.Lock()
					if failed[i] == nil {
						failed[i] = err
					}
					mu.Unlock()
				}
			})
		}
		p.Wait()
		todo = todo[:0]
		for i := range inputs {
			if t.pending(cov[i]) {
				todo = append(todo, i)
			}
		}
	}
	var errs []error
	for _, e := range failed {
		if e != nil {
			errs = append(errs, e)
		}
	}
	if ctx.Err() != nil {
		errs = append(errs, ctx.Err())
	}
	return errs
}

// readInput streams one file through the pass. Gzip is detected by its
// magic bytes, not the name.
func readInput(ctx context.Context, in Input, ps *pass) error {
	rc, err := in.Open(ctx)
	if err != nil {
		return fmt.Errorf("opening %s: %w", in.Name, err)
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 64<<10)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("reading %s: %w", in.Name, err)
		}
		defer gz.Close()
		r = gz
	}
	var bad []string
	badCount := 0
	err = Split(r, func(raw []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := ps.record(raw); err != nil {
			badCount++
			if len(bad) < 3 {
				bad = append(bad, err.Error())
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading %s: %w", in.Name, err)
	}
	if badCount > 0 {
		sort.Strings(bad)
		return fmt.Errorf("reading %s: %d record(s) could not be decoded: %s", in.Name, badCount, strings.Join(bad, "; "))
	}
	return nil
}
