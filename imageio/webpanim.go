package imageio

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// isAnimatedWebP reports a VP8X header with the animation flag.
func isAnimatedWebP(b []byte) bool {
	return len(b) >= 21 && string(b[12:16]) == "VP8X" && b[20]&0x02 != 0
}

func u24(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 }

// webpCanvas returns the canvas size from the VP8X chunk.
func webpCanvas(b []byte) (int, int, error) {
	if len(b) < 30 || string(b[12:16]) != "VP8X" {
		return 0, 0, errors.New("webp: missing VP8X chunk")
	}
	return u24(b[24:]) + 1, u24(b[27:]) + 1, nil
}

// riffChunks calls fn for each chunk of a RIFF body until fn returns false.
func riffChunks(b []byte, fn func(id string, payload, whole []byte) bool) error {
	for i := 0; i < len(b); {
		if i+8 > len(b) {
			return errors.New("webp: truncated chunk header")
		}
		n := int64(binary.LittleEndian.Uint32(b[i+4:]))
		end := int64(i) + 8 + n
		if end > int64(len(b)) {
			return errors.New("webp: truncated chunk")
		}
		wend := min(end+end&1, int64(len(b)))
		if !fn(string(b[i:i+4]), b[i+8:end], b[i:wend]) {
			return nil
		}
		i = int(wend)
	}
	return nil
}

// decodeWebPFirstFrame renders the first frame of an animated WebP as
// libwebp's WebPAnimDecoder (used by Pillow) does: a canvas cleared to
// transparent black with the frame decoded at its offset; the ANIM
// background colour is ignored.
func decodeWebPFirstFrame(b []byte) (*RGB, error) {
	cw, ch, err := webpCanvas(b)
	if err != nil {
		return nil, err
	}
	var frame []byte
	if err := riffChunks(b[12:], func(id string, p, _ []byte) bool {
		if id == "ANMF" {
			frame = p
			return false
		}
		return true
	}); err != nil {
		return nil, err
	}
	if len(frame) < 16 {
		return nil, errors.New("webp: animation without a frame")
	}
	x, y := 2*u24(frame[0:]), 2*u24(frame[3:])
	fw, fh := u24(frame[6:])+1, u24(frame[9:])+1
	if x+fw > cw || y+fh > ch {
		return nil, fmt.Errorf("webp: frame %dx%d at (%d,%d) outside the %dx%d canvas", fw, fh, x, y, cw, ch)
	}
	// Rebuild the frame as a still WebP: [VP8X if alpha] [ALPH] VP8/VP8L.
	var body, alph []byte
	if err := riffChunks(frame[16:], func(id string, _, whole []byte) bool {
		switch id {
		case "ALPH":
			alph = whole
		case "VP8 ", "VP8L":
			body = whole
			return false
		}
		return true
	}); err != nil {
		return nil, err
	}
	if body == nil {
		return nil, errors.New("webp: frame without image data")
	}
	still := []byte("RIFF\x00\x00\x00\x00WEBP")
	if alph != nil && string(body[:4]) == "VP8 " {
		vp8x := make([]byte, 18)
		copy(vp8x, "VP8X")
		vp8x[4] = 10
		vp8x[8] = 0x10 // alpha
		vp8x[12], vp8x[13], vp8x[14] = byte(fw-1), byte((fw-1)>>8), byte((fw-1)>>16)
		vp8x[15], vp8x[16], vp8x[17] = byte(fh-1), byte((fh-1)>>8), byte((fh-1)>>16)
		still = append(still, vp8x...)
		still = append(still, alph...)
	}
	still = append(still, body...)
	binary.LittleEndian.PutUint32(still[4:], uint32(len(still)-8))
	m, err := decodeWebP(still)
	if err != nil {
		return nil, err
	}
	if m.Width != fw || m.Height != fh {
		return nil, fmt.Errorf("webp: frame is %dx%d, ANMF says %dx%d", m.Width, m.Height, fw, fh)
	}
	out := NewRGB(cw, ch)
	for r := 0; r < fh; r++ {
		copy(out.Pix[((y+r)*cw+x)*3:((y+r)*cw+x+fw)*3], m.Pix[r*fw*3:(r+1)*fw*3])
	}
	return out, nil
}
