// Package safetensors reads and writes the Hugging Face safetensors format.
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of
// a JSON header, then a data buffer:
//
//	{"__metadata__": {"format": "pt"},
//	 "weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...}
//
// The data offsets of each tensor are relative to the start of the data
// buffer and its bytes are little-endian, row-major. Open memory-maps a file
// read-only and validates the whole header before returning, so that later
// accessors cannot fail on malformed offsets; Parse does the same for an
// in-memory buffer. Write and WriteFile produce files in the layout that the
// reference implementation produces: compact JSON with "__metadata__" first,
// tensors in name order, header padded with spaces to a multiple of 8 bytes.
package safetensors
