package awsaudit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keytrail/keytrail/audit"
	"github.com/keytrail/keytrail/internal/fakes/awsfake"
)

func TestInventory(t *testing.T) {
	ctx := context.Background()
	f := awsfake.New(t)
	useFake(t, f)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return now.AddDate(0, 0, -d) }
	for _, u := range []struct {
		name, path string
		tags       map[string]string
	}{{"app", "/", nil}, {"prodapp", "/prod/", nil}, {"tagged", "/", map[string]string{"env": "prod"}}, {"twin", "/", nil}, {"idle", "/", nil}} {
		if err := f.CreateUser(ctx, u.name, u.path, u.tags); err != nil {
			t.Fatal(err)
		}
	}
	add := func(user, id string, age int, status string, used int) {
		f.AddAccessKey(user, id, day(age), status)
		if used >= 0 {
			f.SetKeyLastUsed(id, day(used), "s3", "us-east-1")
		}
	}
	add("app", "AKIAQYLPMN5HINVAPP01", 20, "Active", 1)      // fine
	add("app", "AKIAQYLPMN5HINVAPP02", 400, "Inactive", 300) // old but inactive: fine
	add("prodapp", "AKIAQYLPMN5HINVPRD01", 45, "Active", 1)  // over the /prod/ override (30)
	add("tagged", "AKIAQYLPMN5HINVTAG01", 25, "Active", 1)   // rotation due within warn_days of the tag override (30)
	add("twin", "AKIAQYLPMN5HINVTWN01", 10, "Active", 1)
	add("twin", "AKIAQYLPMN5HINVTWN02", 5, "Active", 2)
	add("idle", "AKIAQYLPMN5HINVIDL01", 200, "Active", 150) // over 90 and unused for 150 > 60
	add("idle", "AKIAQYLPMN5HINVIDL02", 10, "Active", -1)   // never used, young
	f.SetRootKeys(awsfake.RootKeys{Key1Active: true, Key1LastRotated: day(1000)})
	accts, err := Connect(ctx, ConnectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := audit.Policy{UnusedDays: 60, Overrides: []audit.PolicyOverride{{Path: "/prod/", MaxAgeDays: 30}, {Tag: "env=prod", MaxAgeDays: 30}}}
	keys, errs := Inventory(ctx, accts, p, now)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	got := map[string]string{}
	for _, k := range keys {
		name := k.KeyID
		if k.User == "<root_account>" {
			name = "root"
		}
		got[name] = strings.Join(k.Problems, ",") + "|" + strings.Join(k.Violations, ",")
	}
	want := map[string]string{
		"AKIAQYLPMN5HINVAPP01": "|",
		"AKIAQYLPMN5HINVAPP02": "|",
		"AKIAQYLPMN5HINVPRD01": "over-max-age|over-max-age",
		"AKIAQYLPMN5HINVTAG01": "rotation-due-soon|",
		"AKIAQYLPMN5HINVTWN01": "two-active-keys|two-active-keys",
		"AKIAQYLPMN5HINVTWN02": "two-active-keys|two-active-keys",
		"AKIAQYLPMN5HINVIDL01": "over-max-age,unused,two-active-keys|over-max-age,unused,two-active-keys",
		"AKIAQYLPMN5HINVIDL02": "never-used,two-active-keys|two-active-keys",
		"root":                 "over-max-age,never-used,unused,root-key|over-max-age,unused,root-key",
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %q, want %q", id, got[id], w)
		}
	}
	if len(keys) != len(want) {
		t.Errorf("%d keys, want %d", len(keys), len(want))
	}
	for _, k := range keys {
		if k.KeyID == "AKIAQYLPMN5HINVPRD01" && (k.MaxAgeDays != 30 || k.RotationDue == nil || !k.RotationDue.Equal(day(45).AddDate(0, 0, 30))) {
			t.Errorf("prod key: max %d due %v", k.MaxAgeDays, k.RotationDue)
		}
	}
}
