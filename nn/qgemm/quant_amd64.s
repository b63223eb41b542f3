//go:build !purego

#include "textflag.h"

// func minMaxAVX512(x *float32, n int) (lo, hi float32)
// n is a positive multiple of 16.
TEXT ·minMaxAVX512(SB), NOSPLIT, $0-24
	MOVQ    x+0(FP), SI
	MOVQ    n+8(FP), CX
	SHRQ    $4, CX
	VMOVUPS (SI), Z0
	VMOVAPS Z0, Z1
	ADDQ    $64, SI
	DECQ    CX
	JZ      reduce

loop:
	VMOVUPS (SI), Z2
	VMINPS  Z2, Z0, Z0
	VMAXPS  Z2, Z1, Z1
	ADDQ    $64, SI
	DECQ    CX
	JNZ     loop

reduce:
	VEXTRACTF64X4 $1, Z0, Y2
	VMINPS        Y2, Y0, Y0
	VEXTRACTF128  $1, Y0, X2
	VMINPS        X2, X0, X0
	VPERMILPS     $0x4e, X0, X2
	VMINPS        X2, X0, X0
	VPERMILPS     $0xb1, X0, X2
	VMINPS        X2, X0, X0
	MOVSS         X0, lo+16(FP)
	VEXTRACTF64X4 $1, Z1, Y2
	VMAXPS        Y2, Y1, Y1
	VEXTRACTF128  $1, Y1, X2
	VMAXPS        X2, X1, X1
	VPERMILPS     $0x4e, X1, X2
	VMAXPS        X2, X1, X1
	VPERMILPS     $0xb1, X1, X2
	VMAXPS        X2, X1, X1
	MOVSS         X1, hi+20(FP)
	VZEROUPPER
	RET

// func quantizeAVX512(q *uint8, x *float32, n int, inv float32, z int32)
// q[i] = clamp(round(x[i]·inv) + z, 0, 255) for n (a multiple of 16) values.
TEXT ·quantizeAVX512(SB), NOSPLIT, $0-32
	MOVQ         q+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS inv+24(FP), Z3
	MOVL         z+28(FP), AX
	VPBROADCASTD AX, Z4
	VPXORD       Z5, Z5, Z5
	SHRQ         $4, CX
	JZ           done

qloop:
	VMULPS    (SI), Z3, Z0
	VCVTPS2DQ Z0, Z0
	VPADDD    Z4, Z0, Z0
	VPMAXSD   Z5, Z0, Z0
	VPMOVUSDB Z0, (DI)
	ADDQ      $64, SI
	ADDQ      $16, DI
	DECQ      CX
	JNZ       qloop

done:
	VZEROUPPER
	RET
