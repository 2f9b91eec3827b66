package program

import (
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func TestApplyChangesOnlyWhatIsGiven(t *testing.T) {
	p := Defaults("t1")
	got, err := p.Apply(Input{SyncDiscountBps: ptr(1500)})
	if err != nil || got.SyncDiscountBps != 1500 || got.NeighborRadiusM != 500 || got.MaxDiscountBps != 2000 {
		t.Fatalf("%+v %v", got, err)
	}
	if p.SyncDiscountBps != 1000 {
		t.Fatal("Apply changed the original")
	}
}

func TestValidateNamesTheSetting(t *testing.T) {
	cases := map[string]Input{
		"neighbor_radius_m": {NeighborRadiusM: ptr(0)},
		"sync_discount_bps": {SyncDiscountBps: ptr(-1)},
		"max_discount_bps":  {MaxDiscountBps: ptr(500)}, // below the 10% sync discount
		"service_areas":     {ServiceAreas: ptr(`{"type":"LineString","coordinates":[[0,0],[1,1]]}`)},
	}
	for field, in := range cases {
		_, err := Defaults("t1").Apply(in)
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v", field, err)
		}
	}
}

func TestGrossMarginIsAShareOfRevenue(t *testing.T) {
	if p := Defaults("t1"); p.GrossMarginBps != 4000 {
		t.Fatalf("default margin %d, want 4000 (40%%)", p.GrossMarginBps)
	}
	for _, bps := range []int{0, 2500, 10000} {
		got, err := Defaults("t1").Apply(Input{GrossMarginBps: ptr(bps)})
		if err != nil || got.GrossMarginBps != bps {
			t.Errorf("%d: %+v %v", bps, got.GrossMarginBps, err)
		}
	}
	for _, bps := range []int{-1, 10001} {
		if _, err := Defaults("t1").Apply(Input{GrossMarginBps: ptr(bps)}); err == nil || !strings.Contains(err.Error(), "gross_margin_bps") {
			t.Errorf("%d: %v", bps, err)
		}
	}
}
