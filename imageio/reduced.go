package imageio

// ReduceScale returns the DCT scale (1, 2, 4 or 8) DecodeReduced uses for a
// width x height JPEG when the caller needs a short side of minSide: the
// largest s that divides both width and height and leaves a short side of
// at least minSide, the rule of Pillow's Image.draft and of libvips'
// shrink-on-load. minSide <= 0 gives 1 (no reduction). A caller that wants
// more pixels than its final size (a margin against the reduction's
// blur) asks for a larger minSide.
//
// Divisibility matters: a reduced image of ceil(W/s) columns stands for
// ceil(W/s)*s source columns, so a later resize to a fixed size would
// stretch the content by up to (s-1)/W, enough to move a ViT's embedding
// more than the reduction itself (camera sizes are multiples of 8 or 16).
func ReduceScale(width, height, minSide int) int {
	if minSide <= 0 {
		return 1
	}
	short := min(width, height)
	for _, s := range []int{8, 4, 2} {
		if width%s == 0 && height%s == 0 && short/s >= minSide {
			return s
		}
	}
	return 1
}

// DecodeReduced decodes like Decode, for callers that need a short side of
// at least minSide pixels (CLIP preprocessing asks for a margin above its
// input size): a JPEG large enough is decoded at 1/2, 1/4 or 1/8 size in
// the DCT domain (libjpeg-turbo's scaled IDCTs, djpeg -scale 1/N), several
// times faster than a full decode, with the scale ReduceScale picks;
// orientation and conversion to RGB then follow Decode exactly. The
// returned image is W/s x H/s for the displayed size W x H, with Scale set
// to s, and Info still reports W x H. Other formats, small JPEGs and
// minSide <= 0 decode exactly as Decode does. The pixel limit applies to
// the original size.
func DecodeReduced(data []byte, lim Limits, minSide int) (*RGB, Info, error) {
	return decode(data, lim, minSide)
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
