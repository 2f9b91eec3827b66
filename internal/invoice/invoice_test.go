package invoice

import "testing"

func TestTotalsNeverGoBelowZero(t *testing.T) {
	cases := []struct {
		name                      string
		lines                     []Line
		subtotal, discount, total int64
	}{
		{"no lines", nil, 0, 0, 0},
		{"two services", []Line{{Kind: KindService, AmountCents: 4500}, {Kind: KindAddon, AmountCents: 1000}}, 5500, 0, 5500},
		{"sync discount", []Line{{Kind: KindService, AmountCents: 4500}, {Kind: KindSyncDiscount, AmountCents: -450}}, 4500, 450, 4050},
		{"credit larger than the bill", []Line{{Kind: KindService, AmountCents: 1000}, {Kind: KindCredit, AmountCents: -2500}}, 1000, 1000, 0},
	}
	for _, c := range cases {
		s, d, tot := Totals(c.lines)
		if s != c.subtotal || d != c.discount || tot != c.total {
			t.Errorf("%s: got %d/%d/%d, want %d/%d/%d", c.name, s, d, tot, c.subtotal, c.discount, c.total)
		}
		if tot < 0 || s-d != tot {
			t.Errorf("%s: subtotal − discount ≠ total or negative", c.name)
		}
	}
}

func TestInvoiceStatesOnlyMoveForward(t *testing.T) {
	allowed := map[[2]string]bool{
		{StatusDraft, StatusIssued}: true, {StatusDraft, StatusPaid}: true, {StatusDraft, StatusVoid}: true,
		{StatusIssued, StatusPaid}: true, {StatusIssued, StatusVoid}: true,
	}
	all := []string{StatusDraft, StatusIssued, StatusPaid, StatusVoid}
	for _, from := range all {
		for _, to := range all {
			want := from == to || allowed[[2]string{from, to}]
			if got := canMove(from, to); got != want {
				t.Errorf("%s → %s: %v, want %v", from, to, got, want)
			}
		}
	}
}
