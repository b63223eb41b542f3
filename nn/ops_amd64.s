//go:build !purego

#include "textflag.h"

// Constants of the exponential (the same polynomial as expf in ops.go).
DATA expc<>+0(SB)/4, $0x42b0999a  // 88.3: upper clamp
DATA expc<>+4(SB)/4, $0xc2ae999a  // -87.3: lower clamp
DATA expc<>+8(SB)/4, $0x3fb8aa3b  // log2(e)
DATA expc<>+12(SB)/4, $0x3f318000 // c1 = ln 2 high part
DATA expc<>+16(SB)/4, $0xb95e8083 // c2 = ln 2 low part (negative)
DATA expc<>+20(SB)/4, $0x39506967 // p0
DATA expc<>+24(SB)/4, $0x3ab743ce // p1
DATA expc<>+28(SB)/4, $0x3c088908 // p2
DATA expc<>+32(SB)/4, $0x3d2aa9c1 // p3
DATA expc<>+36(SB)/4, $0x3e2aaaaa // p4
DATA expc<>+40(SB)/4, $0x3f000000 // p5 = 0.5
DATA expc<>+44(SB)/4, $0x3f800000 // 1
DATA expc<>+48(SB)/4, $0xbfd9db23 // -1.702
GLOBL expc<>(SB), RODATA|NOPTR, $52

// LOADC broadcasts the constants into Z10..Z22.
#define LOADC \
	VBROADCASTSS expc<>+0(SB), Z10 \
	VBROADCASTSS expc<>+4(SB), Z11 \
	VBROADCASTSS expc<>+8(SB), Z12 \
	VBROADCASTSS expc<>+12(SB), Z13 \
	VBROADCASTSS expc<>+16(SB), Z14 \
	VBROADCASTSS expc<>+20(SB), Z15 \
	VBROADCASTSS expc<>+24(SB), Z16 \
	VBROADCASTSS expc<>+28(SB), Z17 \
	VBROADCASTSS expc<>+32(SB), Z18 \
	VBROADCASTSS expc<>+36(SB), Z19 \
	VBROADCASTSS expc<>+40(SB), Z20 \
	VBROADCASTSS expc<>+44(SB), Z21 \
	VBROADCASTSS expc<>+48(SB), Z22

// EXP replaces the 16 floats of X by e^X, using T1 and T2.
//   x = clamp(x); n = round(x·log2e); r = x − n·c1 − n·c2
//   y = (((((p0·r+p1)·r+p2)·r+p3)·r+p4)·r+p5)·r² + r + 1; result y·2^n
#define EXP(X, T1, T2) \
	VMINPS Z10, X, X \
	VMAXPS Z11, X, X \
	VMULPS Z12, X, T1 \
	VRNDSCALEPS $0, T1, T1 \
	VFNMADD231PS Z13, T1, X \
	VFNMADD231PS Z14, T1, X \
	VMOVAPS Z15, T2 \
	VFMADD213PS Z16, X, T2 \
	VFMADD213PS Z17, X, T2 \
	VFMADD213PS Z18, X, T2 \
	VFMADD213PS Z19, X, T2 \
	VFMADD213PS Z20, X, T2 \
	VMULPS X, T2, T2 \
	VFMADD213PS X, X, T2 \
	VADDPS Z21, T2, T2 \
	VSCALEFPS T1, T2, X

// func quickGELUAVX512(x *float32, n int)
// x[i] = x[i] / (1 + e^(−1.702·x[i])) for n (a multiple of 32) floats.
TEXT ·quickGELUAVX512(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	LOADC
	SHRQ $5, CX
	JZ   done

loop:
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMULPS  Z22, Z0, Z2
	VMULPS  Z22, Z1, Z3
	EXP(Z2, Z4, Z5)
	EXP(Z3, Z6, Z7)
	VADDPS  Z21, Z2, Z2
	VADDPS  Z21, Z3, Z3
	VDIVPS  Z2, Z0, Z0
	VDIVPS  Z3, Z1, Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ    $128, DI
	DECQ    CX
	JNZ     loop

done:
	VZEROUPPER
	RET

DATA smc<>+0(SB)/4, $0xff800000 // -Inf
DATA smc<>+4(SB)/4, $0x3f800000 // 1
GLOBL smc<>(SB), RODATA|NOPTR, $8

// func softmaxAVX512(x *float32, n int, scale float32)
// x = softmax(scale·x) for n ≥ 1 floats: e^((x−max)·scale) / Σ.
// The last partial vector is handled under the mask K1.
TEXT ·softmaxAVX512(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS scale+16(FP), Z8
	LOADC
	MOVQ         CX, AX
	ANDQ         $15, AX
	MOVL         $1, BX
	SHLXL        AX, BX, BX
	DECL         BX
	KMOVW        BX, K1            // tail mask (empty if n%16 == 0)
	SHRQ         $4, CX            // full vectors
	MOVQ         AX, R8            // tail length

	// max
	VBROADCASTSS smc<>+0(SB), Z0
	MOVQ         DI, SI
	MOVQ         CX, DX
	TESTQ        DX, DX
	JZ           maxtail

maxloop:
	VMAXPS (SI), Z0, Z0
	ADDQ   $64, SI
	DECQ   DX
	JNZ    maxloop

maxtail:
	TESTQ         R8, R8
	JZ            maxred
	VMAXPS        (SI), Z0, K1, Z0

maxred:
	VEXTRACTF64X4 $1, Z0, Y1
	VMAXPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VMAXPS        X1, X0, X0
	VPERMILPS     $0x4e, X0, X1
	VMAXPS        X1, X0, X0
	VPERMILPS     $0xb1, X0, X1
	VMAXPS        X1, X0, X0
	VBROADCASTSS  X0, Z9

	// exponentials and their sum
	VPXORD Z7, Z7, Z7
	MOVQ   DI, SI
	MOVQ   CX, DX
	TESTQ  DX, DX
	JZ     exptail

exploop:
	VMOVUPS (SI), Z0
	VSUBPS  Z9, Z0, Z0
	VMULPS  Z8, Z0, Z0
	EXP(Z0, Z4, Z5)
	VMOVUPS Z0, (SI)
	VADDPS  Z0, Z7, Z7
	ADDQ    $64, SI
	DECQ    DX
	JNZ     exploop

exptail:
	TESTQ     R8, R8
	JZ        sumred
	VMOVUPS.Z (SI), K1, Z0
	VSUBPS    Z9, Z0, Z0
	VMULPS    Z8, Z0, Z0
	EXP(Z0, Z4, Z5)
	VMOVUPS   Z0, K1, (SI)
	VADDPS    Z0, Z7, K1, Z7

sumred:
	VEXTRACTF64X4 $1, Z7, Y1
	VADDPS        Y1, Y7, Y7
	VEXTRACTF128  $1, Y7, X1
	VADDPS        X1, X7, X7
	VPERMILPS     $0x4e, X7, X1
	VADDPS        X1, X7, X7
	VPERMILPS     $0xb1, X7, X1
	VADDPS        X1, X7, X7
	VMOVSS        smc<>+4(SB), X6
	VDIVSS        X7, X6, X6
	VBROADCASTSS  X6, Z6

	// normalise
	MOVQ  DI, SI
	MOVQ  CX, DX
	TESTQ DX, DX
	JZ    normtail

normloop:
	VMULPS  (SI), Z6, Z0
	VMOVUPS Z0, (SI)
	ADDQ    $64, SI
	DECQ    DX
	JNZ     normloop

normtail:
	TESTQ     R8, R8
	JZ        smdone
	VMULPS.Z  (SI), Z6, K1, Z0
	VMOVUPS   Z0, K1, (SI)

smdone:
	VZEROUPPER
	RET

// func layerNormAVX512(dst, x, res, gain, bias *float32, dim int, eps float32)
// One row of LayerNorm: if res is not nil, x += res first; then
// dst = (x−mean)/sqrt(var+eps)·gain + bias with mean and variance summed
// in float64. dim is a positive multiple of 16.
TEXT ·layerNormAVX512(SB), NOSPLIT, $0-52
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ res+16(FP), R8
	MOVQ gain+24(FP), R9
	MOVQ bias+32(FP), R10
	MOVQ dim+40(FP), CX

	// pass 1: (x += res) and Σx
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	XORQ   AX, AX

sumloop:
	VMOVUPS       (SI)(AX*4), Z2
	TESTQ         R8, R8
	JZ            noadd
	VADDPS        (R8)(AX*4), Z2, Z2
	VMOVUPS       Z2, (SI)(AX*4)

noadd:
	VCVTPS2PD     Y2, Z3
	VEXTRACTF64X4 $1, Z2, Y4
	VCVTPS2PD     Y4, Z4
	VADDPD        Z3, Z0, Z0
	VADDPD        Z4, Z1, Z1
	ADDQ          $16, AX
	CMPQ          AX, CX
	JLT           sumloop

	VADDPD        Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPD        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPD        X1, X0, X0
	VPERMILPD     $1, X0, X1
	VADDSD        X1, X0, X0
	VCVTSI2SDQ    CX, X5, X5
	VDIVSD        X5, X0, X6     // mean
	VBROADCASTSD  X6, Z6

	// pass 2: Σ(x−mean)²
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	XORQ   AX, AX

varloop:
	VMOVUPS       (SI)(AX*4), Z2
	VCVTPS2PD     Y2, Z3
	VEXTRACTF64X4 $1, Z2, Y4
	VCVTPS2PD     Y4, Z4
	VSUBPD        Z6, Z3, Z3
	VSUBPD        Z6, Z4, Z4
	VFMADD231PD   Z3, Z3, Z0
	VFMADD231PD   Z4, Z4, Z1
	ADDQ          $16, AX
	CMPQ          AX, CX
	JLT           varloop

	VADDPD        Z1, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPD        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPD        X1, X0, X0
	VPERMILPD     $1, X0, X1
	VADDSD        X1, X0, X0
	VDIVSD        X5, X0, X0     // variance
	VCVTSS2SD     eps+48(FP), X1, X1
	VADDSD        X1, X0, X0
	VSQRTSD       X0, X0, X0
	MOVQ          $0x3ff0000000000000, BX
	VMOVQ         BX, X1
	VDIVSD        X0, X1, X0     // 1/sqrt(var+eps)
	VCVTSD2SS     X0, X0, X0
	VBROADCASTSS  X0, Z7         // inv (float32)
	VCVTSD2SS     X6, X6, X6
	VBROADCASTSS  X6, Z6         // mean (float32)

	// pass 3: dst = (x−mean)·inv·gain + bias
	XORQ AX, AX

normloop:
	VMOVUPS (SI)(AX*4), Z2
	VSUBPS  Z6, Z2, Z2
	VMULPS  Z7, Z2, Z2
	VMULPS  (R9)(AX*4), Z2, Z2
	VADDPS  (R10)(AX*4), Z2, Z2
	VMOVUPS Z2, (DI)(AX*4)
	ADDQ    $16, AX
	CMPQ    AX, CX
	JLT     normloop

	VZEROUPPER
	RET

// Constants of GELU through erfc (Numerical Recipes' erfcc, fractional
// error below 1.2e-7): erfc(z) ≈ t·e^(−z²−1.26551223+P(t)), t = 1/(1+z/2).
DATA gelc<>+0(SB)/4, $0x7fffffff  // |x| mask
DATA gelc<>+4(SB)/4, $0x3f3504f3  // 1/√2
DATA gelc<>+8(SB)/4, $0x3f000000  // 0.5
DATA gelc<>+12(SB)/4, $0xbfa1fc4e // -1.26551223
DATA gelc<>+16(SB)/4, $0x3e2ef945 // c8 (highest)
DATA gelc<>+20(SB)/4, $0xbf527892 // c7
DATA gelc<>+24(SB)/4, $0x3fbe87b0 // c6
DATA gelc<>+28(SB)/4, $0xbf914e5d // c5
DATA gelc<>+32(SB)/4, $0x3e8ec7cc // c4
DATA gelc<>+36(SB)/4, $0xbe3ec24c // c3
DATA gelc<>+40(SB)/4, $0x3dc636c9 // c2
DATA gelc<>+44(SB)/4, $0x3ebf88fb // c1
DATA gelc<>+48(SB)/4, $0x3f8000c7 // c0
GLOBL gelc<>(SB), RODATA|NOPTR, $52

// func geluAVX512(x *float32, n int)
// x[i] = x[i]·Φ(x[i]) = x/2·erfc(−x/√2) for n (a multiple of 16) floats.
TEXT ·geluAVX512(SB), NOSPLIT, $0-16
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), CX
	LOADC
	VBROADCASTSS gelc<>+0(SB), Z23
	VBROADCASTSS gelc<>+4(SB), Z24
	VBROADCASTSS gelc<>+8(SB), Z25
	VBROADCASTSS gelc<>+12(SB), Z26
	VPXORD       Z9, Z9, Z9
	SHRQ         $4, CX
	JZ           geludone

geluloop:
	VMOVUPS      (DI), Z0
	VPANDD       Z23, Z0, Z1          // |x|
	VMULPS       Z24, Z1, Z1          // z = |x|/√2
	VMOVAPS      Z25, Z2
	VFMADD213PS  Z21, Z1, Z2          // 1 + z/2
	VDIVPS       Z2, Z21, Z2          // t
	VBROADCASTSS gelc<>+16(SB), Z3
	VBROADCASTSS gelc<>+20(SB), Z4
	VFMADD213PS  Z4, Z2, Z3
	VBROADCASTSS gelc<>+24(SB), Z4
	VFMADD213PS  Z4, Z2, Z3
	VBROADCASTSS gelc<>+28(SB), Z4
	VFMADD213PS  Z4, Z2, Z3
	VBROADCASTSS gelc<>+32(SB), Z4
	VFMADD213PS  Z4, Z2, Z3
	VBROADCASTSS gelc<>+36(SB), Z4
	VFMADD213PS  Z4, Z2, Z3
	VBROADCASTSS gelc<>+40(SB), Z4
	VFMADD213PS  Z4, Z2, Z3
	VBROADCASTSS gelc<>+44(SB), Z4
	VFMADD213PS  Z4, Z2, Z3
	VBROADCASTSS gelc<>+48(SB), Z4
	VFMADD213PS  Z4, Z2, Z3
	VMULPS       Z2, Z3, Z3           // t·P(t)
	VMULPS       Z1, Z1, Z5
	VSUBPS       Z5, Z3, Z3
	VADDPS       Z26, Z3, Z3          // −z² − 1.26551223 + t·P(t)
	EXP(Z3, Z6, Z7)
	VMULPS       Z2, Z3, Z3           // erfc(z)
	VMULPS       Z25, Z3, Z3          // g = erfc(z)/2 = Φ(−|x|)
	VCMPPS       $0x1d, Z9, Z0, K1    // x ≥ 0
	VSUBPS       Z3, Z21, K1, Z3      // Φ(x): 1 − g where x ≥ 0
	VMULPS       Z3, Z0, Z0
	VMOVUPS      Z0, (DI)
	ADDQ         $64, DI
	DECQ         CX
	JNZ          geluloop

geludone:
	VZEROUPPER
	RET
