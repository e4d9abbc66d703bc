// Command gencloudtrail writes a synthetic CloudTrail trail for the audit
// benchmark (scripts/bench-cloudtrail.sh): gzipped delivery files in the
// AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/ layout, about -mb
// megabytes uncompressed, from a fixed seed. Records are in CloudTrail's
// exact format; 2,000 access keys make the calls, 100 of them are the
// "leaked" keys whose ids are written to -keys (one
// aws_access_key_id = ... line each, for keytrail to find).
package main

import (
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"time"

	"github.com/keytrail/keytrail/internal/fakes/awsfake"
)

func main() {
	out := flag.String("out", ".bench/cloudtrail", "directory to write")
	keys := flag.String("keys", ".bench/cloudtrail-keys/keys.env", "file listing the leaked key ids")
	mb := flag.Int("mb", 1024, "uncompressed size in MB")
	perFile := flag.Int("file-mb", 8, "uncompressed MB per file")
	flag.Parse()
	if err := run(*out, *keys, *mb, *perFile); err != nil {
		fmt.Fprintln(os.Stderr, "gencloudtrail:", err)
		os.Exit(1)
	}
}

const b32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func keyID(r *rand.Rand, prefix string) string {
	b := []byte(prefix)
	for i := 0; i < 16; i++ {
		b = append(b, b32[r.Intn(32)])
	}
	return string(b)
}

func run(out, keysPath string, mb, perFile int) error {
	r := rand.New(rand.NewSource(20261202))
	all := make([]string, 2000)
	for i := range all {
		all[i] = keyID(r, "AKIA")
	}
	leaked := all[:100]
	if err := os.MkdirAll(filepath.Dir(keysPath), 0o755); err != nil {
		return err
	}
	kf, err := os.Create(keysPath)
	if err != nil {
		return err
	}
	for _, k := range leaked {
		fmt.Fprintf(kf, "aws_access_key_id = %s\n", k)
	}
	kf.Close()
	regions := []string{"us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2", "sa-east-1"}
	names := []struct{ src, name string }{{"s3.amazonaws.com", "GetObject"}, {"s3.amazonaws.com", "PutObject"}, {"ec2.amazonaws.com", "DescribeInstances"},
		{"sts.amazonaws.com", "GetCallerIdentity"}, {"lambda.amazonaws.com", "Invoke"}, {"dynamodb.amazonaws.com", "Query"}, {"kms.amazonaws.com", "Decrypt"}}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	total, file := 0, 0
	for total < mb<<20 {
		region := regions[file%len(regions)]
		t0 := start.Add(time.Duration(file) * 15 * time.Minute)
		path := filepath.Join(out, "AWSLogs", awsfake.AccountID, "CloudTrail", region, t0.Format("2006/01/02"),
			fmt.Sprintf("%s_CloudTrail_%s_%s_%04d.json.gz", awsfake.AccountID, region, t0.Format("20060102T1504Z"), file))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		gz, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
		cw := &counter{w: gz}
		cw.Write([]byte(`{"Records":[`))
		for n := 0; cw.n < perFile<<20; n++ {
			k := all[r.Intn(len(all))]
			nm := names[r.Intn(len(names))]
			ip := fmt.Sprintf("198.51.%d.%d", r.Intn(4), r.Intn(250))
			rec := awsfake.Use(fmt.Sprintf("user-%s", k[4:10]), k, t0.Add(time.Duration(r.Intn(900))*time.Second), nm.src, nm.name, region, ip,
				"aws-sdk-go-v2/1.30.0 os/linux lang/go#1.22 md/GOOS#linux md/GOARCH#amd64 api/"+nm.name)
			rec.RequestParameters = map[string]any{"bucketName": "data-" + k[10:14], "key": fmt.Sprintf("objects/%d/%d.parquet", r.Intn(1000), r.Intn(100000)), "Host": "data.s3.amazonaws.com"}
			rec.ResponseElements = nil
			if r.Intn(50) == 0 {
				rec.ErrorCode, rec.ErrorMessage = "AccessDenied", "User is not authorized to perform this action"
			}
			b, _ := json.Marshal(rec)
			if n > 0 {
				cw.Write([]byte{','})
			}
			cw.Write(b)
		}
		cw.Write([]byte("]}\n"))
		if err := gz.Close(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		total += cw.n
		file++
	}
	fmt.Printf("%d files, %d MB uncompressed, in %s; 100 leaked key ids in %s\n", file, total>>20, out, keysPath)
	return nil
}

type counter struct {
	w interface{ Write([]byte) (int, error) }
	n int
}

func (c *counter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += n
	return n, err
}
