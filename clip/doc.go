// Package clip implements OpenAI's CLIP model (text and vision towers with
// their projections) in pure Go, loading Hugging Face transformers
// checkpoints (config.json + model.safetensors) and reproducing
// CLIPModel.get_text_features and CLIPModel.get_image_features.
//
// Tokenisation and image preprocessing live elsewhere: the model takes
// token ids (with the begin and end tokens) and preprocessed pixels
// ([3×H×W] channel-first, normalised float32).
//
// Inference is tuned for the CPU: the weights are packed once at load for
// the matrix kernels of package nn/gemm, a Model runs on its own pool of
// GOMAXPROCS workers, and per-call workspaces are reused, so repeated calls
// allocate only their results. The text tower runs only up to the batch's
// longest sequence, and the last layer of both towers computes only the
// pooled rows after attention. Model.SetPrecision opts into bfloat16 or
// int8 linear layers (see BENCHMARKS.md at the repository root for speed
// and accuracy); float32 is the default and matches the reference.
package clip
