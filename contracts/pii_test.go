package contracts

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func testProtector(t testing.TB) *Protector {
	t.Helper()
	p, err := NewProtector(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProtectorSealIsDeterministicAndOpens(t *testing.T) {
	p := testProtector(t)
	id := "11010519491231002X"
	s1, s2 := p.Seal(id), p.Seal(id)
	if s1 != s2 || !IsSealed(s1) || strings.Contains(s1, id) {
		t.Fatalf("seal %q / %q", s1, s2)
	}
	got, err := p.Open(s1)
	if err != nil || got != id {
		t.Fatalf("open = %q, %v", got, err)
	}
	tampered := s1[:len(s1)-2] + "AA"
	if _, err := p.Open(tampered); err == nil {
		t.Fatal("tampered seal opened")
	}
	if p.Pseudonym(id) == p.Pseudonym("440524188001010014") || len(p.Pseudonym(id)) != 32 {
		t.Fatal("pseudonyms collide or have the wrong length")
	}
	other, _ := NewProtector(bytes.Repeat([]byte("z"), 32))
	if other.Pseudonym(id) == p.Pseudonym(id) {
		t.Fatal("pseudonym does not depend on the secret")
	}
	if _, err := NewProtector([]byte("short")); err == nil {
		t.Fatal("short secret accepted")
	}
}

func TestProtectPerson(t *testing.T) {
	p := testProtector(t)
	id := "11010519491231002X"
	data, _ := json.Marshal(Person{IDNumber: id, Name: "张三", EmployerUSCC: "91350100M000100Y43", UIMonths: 40, Status: "contributing", Category: "enterprise"})
	e := Envelope{Type: TypePerson, ID: id, AsOf: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Data: data}
	out, key, err := p.Protect(e)
	if err != nil {
		t.Fatal(err)
	}
	if key != "person:"+p.Pseudonym(id) || out.ID != p.Pseudonym(id) {
		t.Fatalf("key %q id %q", key, out.ID)
	}
	if bytes.Contains(out.Data, []byte(id)) {
		t.Fatalf("raw id left in data: %s", out.Data)
	}
	var back Person
	if err := json.Unmarshal(out.Data, &back); err != nil {
		t.Fatal(err)
	}
	if raw, err := p.Open(back.IDNumber); err != nil || raw != id || back.EmployerUSCC != "91350100M000100Y43" {
		t.Fatalf("sealed person %+v (%v)", back, err)
	}
	again, _, _ := p.Protect(e)
	if !bytes.Equal(again.Data, out.Data) {
		t.Fatal("protect is not deterministic")
	}
}

func TestProtectEnterpriseUnchanged(t *testing.T) {
	p := testProtector(t)
	data, _ := json.Marshal(Employer{USCC: "91350100M000100Y43", Name: "x", RegionCode: "350100", Status: "active", EnrolledOn: "2010-01-01", Size: "small", IndustryCode: "C"})
	e := Envelope{Type: TypeEmployer, ID: "91350100M000100Y43", Data: data}
	out, key, err := p.Protect(e)
	if err != nil || key != "uscc:91350100M000100Y43" || !bytes.Equal(out.Data, data) {
		t.Fatalf("protect enterprise: %q %v", key, err)
	}
}

func TestSealBytes(t *testing.T) {
	p := testProtector(t)
	msg := []byte(`{"id_number":"11010519491231002X"}`)
	s, err := p.SealBytes(msg)
	if err != nil || bytes.Contains(s, []byte("11010519491231002X")) {
		t.Fatalf("seal bytes: %v", err)
	}
	back, err := p.OpenBytes(s)
	if err != nil || !bytes.Equal(back, msg) {
		t.Fatalf("open bytes: %v", err)
	}
	s[len(s)-1] ^= 1
	if _, err := p.OpenBytes(s); err == nil {
		t.Fatal("tampered payload opened")
	}
}

func TestMaskID(t *testing.T) {
	if got := MaskID("11010519491231002X"); got != "110105********002X" {
		t.Fatalf("mask = %q", got)
	}
}
