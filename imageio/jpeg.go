package imageio

import (
	"errors"
	"fmt"

	"github.com/sightsearch/sight/imageio/jpeg"
)

// decodeJPEG decodes with the libjpeg-turbo-exact decoder (Pillow's JPEG
// pixels; CMYK/YCCK already converted the way Pillow converts them), at
// 1/scale size in the DCT domain (scale 1, 2, 4 or 8).
func decodeJPEG(data []byte, maxPixels int64, scale int) (*RGB, error) {
	m, err := jpeg.DecodeBytes(data, &jpeg.Options{MaxPixels: maxPixels, Scale: scale})
	if err != nil {
		if errors.Is(err, jpeg.ErrUnsupported) {
			return nil, fmt.Errorf("%v: %w", err, ErrUnsupported)
		}
		return nil, fmt.Errorf("%v: %w", err, ErrNotImage)
	}
	n := m.Width * m.Height
	switch {
	case m.Components == 3 && len(m.Pix) >= 3*n:
		return &RGB{Width: m.Width, Height: m.Height, Pix: m.Pix[:3*n]}, nil
	case m.Components == 1 && len(m.Pix) >= n:
		out := NewRGB(m.Width, m.Height)
		for i, v := range m.Pix[:n] {
			out.Pix[3*i], out.Pix[3*i+1], out.Pix[3*i+2] = v, v, v
		}
		return out, nil
	}
	return nil, fmt.Errorf("jpeg: %d components, %d bytes for %dx%d: %w", m.Components, len(m.Pix), m.Width, m.Height, ErrUnsupported)
}
