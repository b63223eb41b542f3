// Package clip implements OpenAI's CLIP model (text and vision towers with
// their projections) in pure Go, loading Hugging Face transformers
// checkpoints (config.json + model.safetensors) and reproducing
// CLIPModel.get_text_features and CLIPModel.get_image_features.
//
// Tokenisation and image preprocessing live elsewhere: the model takes
// token ids (with the begin and end tokens) and preprocessed pixels
// ([3×H×W] channel-first, normalised float32).
package clip
