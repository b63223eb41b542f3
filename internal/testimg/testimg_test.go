package testimg

import (
	"bytes"
	"image/jpeg"
	"testing"
)

func TestCameraJPEG(t *testing.T) {
	a, b := CameraJPEG(160, 120, 3), CameraJPEG(160, 120, 3)
	if !bytes.Equal(a, b) {
		t.Error("same seed, different bytes")
	}
	if bytes.Equal(a, CameraJPEG(160, 120, 4)) {
		t.Error("different seeds, same bytes")
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(a))
	if err != nil || cfg.Width != 160 || cfg.Height != 120 {
		t.Errorf("DecodeConfig: %+v, %v", cfg, err)
	}
}

func TestTexturedJPEG(t *testing.T) {
	a := TexturedJPEG(160, 120, 3)
	if !bytes.Equal(a, TexturedJPEG(160, 120, 3)) || bytes.Equal(a, TexturedJPEG(160, 120, 4)) {
		t.Error("not deterministic per seed")
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(a))
	if err != nil || cfg.Width != 160 || cfg.Height != 120 {
		t.Errorf("DecodeConfig: %+v, %v", cfg, err)
	}
}
