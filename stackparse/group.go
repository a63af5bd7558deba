package stackparse

import (
	"sort"
	"strconv"
	"unsafe"
)

// Group is a set of goroutines with the same state and the same stack
// (function, file and line of every frame, and the creator), whatever their
// argument words, IDs and wait times.
type Group struct {
	// Sample is (a copy of) the first goroutine of the group.
	Sample *Goroutine
	// Count is how many goroutines the group holds (the sum of Count).
	Count int
	// IDs are the goroutine IDs, in input order, when the input has them.
	IDs []int64
	// MinWait and MaxWait are the least and most WaitMinutes seen.
	MinWait, MaxWait int
}

// Grouper groups goroutines as they are read, in memory proportional to the
// number of distinct stacks, not of goroutines.
type Grouper struct {
	// KeepIDs is how many IDs each group keeps (0: all of them).
	KeepIDs int

	byHash map[uint64][]*Group
	// byID finds the group of a stack by its fingerprint (stackID), with no
	// comparison: only groups created from a goroutine with that
	// fingerprint are entered, and their Sample keeps its strings alive.
	byID  map[uint64]*Group
	order []*Group
}

// Add puts g in its group and returns the group.
func (gr *Grouper) Add(g *Goroutine) *Group {
	if gr.byHash == nil {
		gr.byHash = make(map[uint64][]*Group)
		gr.byID = make(map[uint64]*Group)
	}
	id := stackID(g)
	grp := gr.byID[id]
	if grp == nil {
		grp = nil
		h := stackHash(g)
		for _, c := range gr.byHash[h] {
			if sameStack(c.Sample, g) {
				grp = c
				break
			}
		}
		if grp == nil {
			grp = &Group{Sample: g.Clone(), MinWait: g.WaitMinutes, MaxWait: g.WaitMinutes}
			gr.byHash[h] = append(gr.byHash[h], grp)
			gr.order = append(gr.order, grp)
			gr.byID[id] = grp
		}
	}
	grp.Count += g.Count
	if g.ID != 0 && (gr.KeepIDs == 0 || len(grp.IDs) < gr.KeepIDs) {
		grp.IDs = append(grp.IDs, g.ID)
	}
	if g.WaitMinutes < grp.MinWait {
		grp.MinWait = g.WaitMinutes
	}
	if g.WaitMinutes > grp.MaxWait {
		grp.MaxWait = g.WaitMinutes
	}
	return grp
}

// stackHash mixes the lengths, line numbers and a few bytes of each frame's
// names instead of hashing all their text: equal stacks always hash alike,
// and the rare unequal ones that collide are told apart by sameStack.
func stackHash(g *Goroutine) uint64 {
	h := uint64(len(g.State))*0x9e3779b97f4a7c15 ^ uint64(len(g.Frames))
	mix := func(v uint64) { h = (h ^ v) * 0x100000001b3 }
	sample := func(s string) {
		n := len(s)
		if n == 0 {
			mix(0)
			return
		}
		mix(uint64(n)<<24 | uint64(s[n-1])<<16 | uint64(s[n/2])<<8 | uint64(s[n*3/4]))
	}
	sample(g.State)
	for i := range g.Frames {
		f := &g.Frames[i]
		mix(uint64(len(f.Func))<<48 ^ uint64(len(f.File))<<32 ^ uint64(f.Line))
	}
	sample(g.CreatedBy.Func)
	mix(uint64(g.CreatedBy.Line))
	return h
}

// sameStack reports whether a Grouper puts a and b in one group.
func sameStack(a, b *Goroutine) bool {
	if a.State != b.State || len(a.Frames) != len(b.Frames) || !sameFrame(&a.CreatedBy, &b.CreatedBy) {
		return false
	}
	for i := range a.Frames {
		if !sameFrame(&a.Frames[i], &b.Frames[i]) {
			return false
		}
	}
	return true
}

func sameFrame(a, b *Frame) bool {
	return a.Line == b.Line && sameString(a.Func, b.Func) && sameString(a.File, b.File)
}

// sameString is a == b, answered without a call when both share their
// bytes, as the Reader's interned function and file names do.
func sameString(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	return len(a) == 0 || unsafe.StringData(a) == unsafe.StringData(b) || a == b
}

// Groups returns the groups, largest first (ties in input order).
func (gr *Grouper) Groups() []*Group {
	out := append([]*Group(nil), gr.order...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	return out
}

// GroupAll groups a slice of goroutines.
func GroupAll(gs []*Goroutine) []*Group {
	var gr Grouper
	for _, g := range gs {
		gr.Add(g)
	}
	return gr.Groups()
}

// StackKey returns a string that is equal for two goroutines exactly when a
// Grouper puts them in the same group.
func StackKey(g *Goroutine) string { return string(appendStackKey(nil, g)) }

func appendStackKey(b []byte, g *Goroutine) []byte {
	b = append(b, g.State...)
	for _, f := range g.Frames {
		b = append(b, 0)
		b = append(b, f.Func...)
		b = append(b, ' ')
		b = append(b, f.File...)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(f.Line), 10)
	}
	b = append(b, 1)
	b = append(b, g.CreatedBy.Func...)
	b = append(b, ' ')
	b = append(b, g.CreatedBy.File...)
	b = append(b, ':')
	return strconv.AppendInt(b, int64(g.CreatedBy.Line), 10)
}

// stackID fingerprints g's stack by the addresses of its name strings,
// which a Reader shares between equal names: cheap, and equal for equal
// stacks of one Reader. Names it did not share have their own addresses, so
// they can only make two equal stacks differ, never two different ones
// agree (but for a 64-bit collision).
func stackID(g *Goroutine) uint64 {
	h := uint64(len(g.Frames)) + 1
	mix := func(v uint64) {
		h ^= v
		h *= 0x9e3779b97f4a7c15
		h ^= h >> 29
	}
	addr := func(s string) uint64 {
		return uint64(uintptr(unsafe.Pointer(unsafe.StringData(s)))) ^ uint64(len(s))<<48
	}
	mix(addr(g.State))
	for i := range g.Frames {
		f := &g.Frames[i]
		mix(addr(f.Func))
		mix(addr(f.File)<<16 ^ uint64(f.Line))
	}
	mix(addr(g.CreatedBy.Func))
	mix(addr(g.CreatedBy.File)<<16 ^ uint64(g.CreatedBy.Line))
	return h
}
