package cloudtrail

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/keytrail/keytrail/internal/ctxsleep"
)

// LookupAPI is the part of the CloudTrail client the lookup uses.
type LookupAPI interface {
	LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
}

// Lookup asks CloudTrail's LookupEvents for the tracked keys' events,
// one AccessKeyId at a time in every Region given, within CloudTrail's
// limit of 2 requests per second per Region (a token bucket per Region;
// the SDK's retryer backs off on ThrottlingException). Sessions minted
// by a key are looked up in turn.
type Lookup struct {
	Clients map[string]LookupAPI // by Region
	Start   time.Time            // zero: CloudTrail's 90 days
	End     time.Time            // zero: now
	Rate    float64              // requests per second per Region; 0 means 2
	// Sleep waits; tests replace it. nil means a context-aware sleep.
	Sleep func(ctx context.Context, d time.Duration) error
	Now   func() time.Time
}

// Read feeds every event found to the tracker's usages; each returned
// error names the Region and key whose lookup failed.
func (l *Lookup) Read(ctx context.Context, t *Tracker) []error {
	rate := l.Rate
	if rate <= 0 {
		rate = 2
	}
	now := l.Now
	if now == nil {
		now = time.Now
	}
	sleep := l.Sleep
	if sleep == nil {
		sleep = ctxsleep.Sleep
	}
	regions := make([]string, 0, len(l.Clients))
	for r := range l.Clients {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	ps := &pass{t: t, low: -1, high: math.MaxInt, exclude: map[string]bool{}, local: map[string]bool{}, key: []byte(`"accessKeyId"`)}
	done := map[string]bool{}
	// One budget per Region for the whole lookup, sessions included.
	buckets := map[string]*bucket{}
	for _, r := range regions {
		buckets[r] = &bucket{rate: rate, now: now, sleep: sleep}
	}
	var errs []error
	var mu sync.Mutex
	for {
		ids := t.idsNotIn(done)
		if len(ids) == 0 || ctx.Err() != nil {
			break
		}
		// Regions run side by side: each has its own budget.
		var wg sync.WaitGroup
		for _, region := range regions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := buckets[region]
				for _, id := range ids {
					if err := l.lookup(ctx, region, id, b, ps, &mu); err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		for _, id := range ids {
			done[id] = true
		}
	}
	return errs
}

func (l *Lookup) lookup(ctx context.Context, region, id string, b *bucket, ps *pass, mu *sync.Mutex) error {
	in := &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(id)}}}
	if !l.Start.IsZero() {
		in.StartTime = aws.Time(l.Start)
	}
	if !l.End.IsZero() {
		in.EndTime = aws.Time(l.End)
	}
	p := cloudtrail.NewLookupEventsPaginator(l.Clients[region], in)
	for p.HasMorePages() {
		if err := b.wait(ctx); err != nil {
			return err
		}
		out, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("CloudTrail LookupEvents for %s in %s: %w", id, region, err)
		}
		for _, e := range out.Events {
			rec, err := ParseRecord([]byte(aws.ToString(e.CloudTrailEvent)))
			if err != nil {
				return fmt.Errorf("CloudTrail LookupEvents for %s in %s: event %s: %w", id, region, aws.ToString(e.EventId), err)
			}
			mu.Lock()
			ps.add(rec)
			mu.Unlock()
		}
	}
	return nil
}

// idsNotIn lists the tracked ids (keys and learned sessions) not in done.
func (t *Tracker) idsNotIn(done map[string]bool) []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []string
	for id := range t.ids {
		if !done[id] {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// bucket is a token bucket of one token: calls are spaced 1/rate apart.
type bucket struct {
	rate  float64
	next  time.Time
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

func (b *bucket) wait(ctx context.Context) error {
	now := b.now()
	if b.next.After(now) {
		if err := b.sleep(ctx, b.next.Sub(now)); err != nil {
			return err
		}
		now = b.next
	}
	b.next = now.Add(time.Duration(float64(time.Second) / b.rate))
	return nil
}
