package okta

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
)

// userPage returns a page of n users with full profiles and a few custom
// attributes, about 1.5 KB each, as Okta encodes them.
func userPage(b testing.TB, n int) []byte {
	b.Helper()
	page := []byte{'['}
	for i := range n {
		u := User{
			ID:     fmt.Sprintf("00u%017d", i),
			Status: StatusActive,
			Profile: UserProfile{
				Login: fmt.Sprintf("first.last%d@example.com", i), Email: fmt.Sprintf("first.last%d@example.com", i),
				FirstName: "First", LastName: fmt.Sprintf("Last%d", i), DisplayName: "First Last", Title: "Senior Engineer",
				Department: "Engineering", Division: "Platform", Organization: "Example Corp", CostCenter: "CC-1234",
				Manager: "manager@example.com", ManagerID: "00u00000000000000001", EmployeeNumber: fmt.Sprint(100000 + i),
				Custom: Attrs{{"githubUsername", fmt.Sprintf("gh-user-%d", i)}, {"location", "Berlin"}, {"teams", []any{"a", "b", "c"}}},
			},
		}
		if i > 0 {
			page = append(page, ',')
		}
		var err error
		if page, err = u.AppendJSON(page); err != nil {
			b.Fatal(err)
		}
	}
	return append(page, ']')
}

// BenchmarkDecodeUserPage decodes a page of 200 users as the listings do
// (decodePage: checks the body is an array and every user has an id and a
// login) and as encoding/json alone does: the checks must cost no
// allocation.
func BenchmarkDecodeUserPage(b *testing.B) {
	page := userPage(b, 200)
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for b.Loop() {
			var users []User
			if err := json.Unmarshal(page, &users); err != nil || len(users) != 200 {
				b.Fatal(err)
			}
		}
	})
	b.Run("decodePage", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		b.ReportAllocs()
		for b.Loop() {
			var users []User
			if err := decodePage(page, &users, checkUser, "users"); err != nil || len(users) != 200 {
				b.Fatal(err)
			}
		}
	})
}

func TestDecodePageAllocatesAsJSON(t *testing.T) {
	page := userPage(t, 200)
	plain := leastAllocs(20, func() {
		var users []User
		_ = json.Unmarshal(page, &users)
	})
	checked := leastAllocs(20, func() {
		var users []User
		_ = decodePage(page, &users, checkUser, "users")
	})
	if checked > plain {
		t.Errorf("decodePage makes %.0f allocations per page, json.Unmarshal %.0f: the checks allocate", checked, plain)
	}
}

// leastAllocs is testing.AllocsPerRun's average over runs calls of f, the
// least of five measurements. AllocsPerRun counts the whole process's
// allocations, so a goroutine left running by another test adds to a
// measurement and never takes from it: the least is f's own.
func leastAllocs(runs int, f func()) float64 {
	least := math.Inf(1)
	for range 5 {
		least = min(least, testing.AllocsPerRun(runs, f))
	}
	return least
}
