// Package hnsw is Sight's approximate nearest-neighbour index: a
// Hierarchical Navigable Small World graph (Malkov & Yashunin) over unit
// float32 vectors compared by inner product (cosine similarity), keyed by
// the catalog's uint64 ids.
//
// # Algorithm
//
// The construction follows hnswlib: levels drawn with mult = 1/ln(M), M
// neighbours per node on upper levels and M0 = 2M on level 0, neighbour
// selection by hnswlib's heuristic (getNeighborsByHeuristic2) both for the
// new node and when an existing node's full list is pruned, a greedy
// descent through the upper levels and a beam search of width
// EfConstruction (insert) or ef (search) on the lower ones. Two departures
// from hnswlib: a search runs level 1 as a beam of width ef/16 (4 to 16;
// SearchOptions.UpperBeam) and starts level 0 from all of that beam, not
// from one greedy end point,
// which keeps queries from getting stuck in the wrong cluster; and a new
// node that every chosen neighbour prunes away is linked from the next
// candidates, so that nodes are rarely left unreachable. Nodes are
// numbered densely (uint32); vectors live in one contiguous []float32,
// level-0 lists in one flat []uint32 of fixed-size records, upper-level
// lists in one shared []uint32 addressed by a per-node offset, tombstones
// in a bitset, and the external ids in a []uint64 indexed through an
// open-addressing table of slots (about 5–11 bytes per id). Each search
// borrows a pooled context (generation-counter visited array, heaps and
// buffers), so a search allocates only its normalised query and result.
// Expanding a node first collects its unvisited neighbours, then computes
// all their distances in one call of a gather kernel (vec.DotGather,
// vec.DotU8I8Gather) that prefetches each next row while multiplying the
// current one; the list of the next candidate is prefetched as well.
//
// Concurrency is hnswlib's: neighbour lists are guarded by striped
// per-node mutexes, an RWMutex is taken exclusively only to grow the
// arrays (and by Compact and int8 training), so any number of Search
// calls run alongside Add. AddBatch inserts on all cores.
//
// Delete marks a tombstone: the node is still traversed (the graph stays
// connected) but never returned. Compact rebuilds every list that points
// at a tombstone with the heuristic over the surviving neighbours and the
// neighbours of the deleted ones, renumbers the nodes and frees the space.
//
// Filtered search (SearchOptions.Filter or Allow) estimates the number of
// admitted vectors (exactly for an allow-list, from a 512-node sample for
// a predicate). Below ExactBelow·Len() (default 3%), or when a scan is
// cheaper than a traversal (a² < 4·ef·Len()), it scans the admitted
// vectors exactly; otherwise it traverses all nodes, admitting only
// allowed ones to the result, until ef admitted nodes are found.
//
// With Quantization QuantInt8 each dimension is mapped to 8 bits
// (x ≈ lo + step·c, per-dimension min/max trained on the first TrainSize
// vectors). The query is folded into an int8 vector e = round(q·step/t) so
// that q·x ≈ Σq·lo + t·Σe·c, an exact uint8×int8 integer dot product
// (package vec). The graph is traversed with these distances and the ef
// candidates are re-ranked with the float32 vectors, which for an opened
// index are read from the memory-mapped snapshot instead of RAM (vectors
// added since the last snapshot stay in RAM until the next one). Stats
// reports the bytes per vector of each part; BENCHMARKS.md has measured
// figures against hnswlib.
//
// # Persistence and crash safety
//
// Open keeps an index in a directory holding three files:
//
//	graph.snap  the last snapshot (all nodes, lists, codes and vectors)
//	wal.log     the write-ahead log of operations since that snapshot
//	LOCK        an flock(2) lock against a second process
//
// Every Add, AddBatch and Delete appends its records to wal.log and
// returns only after an fsync that covers them (group commit: concurrent
// callers share fsyncs; a batch is one fsync). If a write or fsync fails,
// the log is truncated back to its last durable size and the operation
// returns an error wrapping ErrWAL without changing the index, so a record
// that was not acknowledged never reappears. A snapshot is written to
// graph.snap.tmp, fsynced, renamed over graph.snap and the directory
// fsynced; then a new empty log of the next generation replaces wal.log
// the same way. Snapshots happen on Snapshot, Compact, Close and in the
// background once the log exceeds Options.SnapshotBytes. Open loads the
// snapshot, replays the log if its generation matches (an older log is
// already contained in the snapshot and is discarded) and truncates a torn
// last record. A process killed at any point therefore reopens with every
// acknowledged operation.
//
// All integers are little-endian.
//
// wal.log: a 40-byte header, then records.
//
//	header  0 magic "SGHWAL01" | 8 version u32 = 1 | 12 dim u32 | 16 M u32
//	        20 quantization u32 | 24 generation u64 | 32 reserved u32
//	        36 CRC32C (Castagnoli) of bytes 0..35
//	record  length u32 (of the payload) | CRC32C u32 of the length field and
//	        the payload | payload
//	payload op u8 (1 add, 2 delete) | id u64 | add only: dim float32 (the
//	        normalised vector)
//
// A record that is invalid (bad length or CRC) and reaches the end of the
// file is a torn write and is cut off; an invalid record followed by more
// data is corruption.
//
// graph.snap: a 4096-byte header, then six sections, each 8-byte aligned,
// the vector section 4096-byte aligned so it can be memory-mapped.
//
//	header  0 magic "SGHSNAP1" | 8 version u32 = 1 | 12 dim u32 | 16 M u32
//	        20 efConstruction u32 | 24 quantization u32 | 28 node count n u32
//	        32 entry node u32 (0xFFFFFFFF if n = 0) | 36 max level u32
//	        40 log generation u64 | 48 quantiser trained u32
//	        64 section table: 6 × (offset u64, length u64, CRC32C u32, pad u32)
//	        208 CRC32C of bytes 0..207 | zero padding to 4096
//	ids     n × u64 external ids
//	nodes   n × (level u8, flags u8; flag 1 = tombstone)
//	links0  n fixed-size level-0 records of 1+2M u32: count, then neighbours
//	upper   for each node with level L > 0, in node order, L records of 1+M
//	        u32 (levels 1..L): count, then neighbours
//	quant   if trained: dim × f32 lo, dim × f32 step, n × dim u8 codes
//	vectors n × dim float32 unit vectors
//
// Open verifies the header and every section checksum and the structure
// (counts, neighbour ids and levels, unique live ids) before using a
// snapshot; any mismatch is an error wrapping ErrCorrupt that says to
// delete the directory or run `sight reindex`. Opening a 1M × 512 index
// reads about 2.3 GB sequentially (checksums and copies) rather than
// rebuilding the graph.
package hnsw
