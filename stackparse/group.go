package stackparse

import (
	"sort"
	"strconv"
)

// Group is a set of goroutines with the same state and the same stack
// (function, file and line of every frame, and the creator), whatever their
// argument words, IDs and wait times.
type Group struct {
	// Sample is the first goroutine of the group, as read.
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

	byKey  map[string]*Group
	order  []*Group
	keyBuf []byte
}

// Add puts g in its group.
func (gr *Grouper) Add(g *Goroutine) {
	if gr.byKey == nil {
		gr.byKey = make(map[string]*Group)
	}
	gr.keyBuf = appendStackKey(gr.keyBuf[:0], g)
	grp, ok := gr.byKey[string(gr.keyBuf)]
	if !ok {
		grp = &Group{Sample: g, MinWait: g.WaitMinutes, MaxWait: g.WaitMinutes}
		gr.byKey[string(gr.keyBuf)] = grp
		gr.order = append(gr.order, grp)
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
