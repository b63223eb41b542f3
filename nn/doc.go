// Package nn holds the small float32 kernel layer that Sight's CLIP model
// runs on: matrix products, layer normalisation, activations, softmax and
// multi-head attention.
//
// Every routine works on row-major float32 slices and writes into a buffer
// the caller provides, so a forward pass can reuse its memory. All matrix
// products with fixed weights go through [Linear], whose [Linear.Prepack]
// hook is the single place where a faster kernel can be substituted.
package nn
