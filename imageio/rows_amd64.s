//go:build amd64 && !purego

#include "textflag.h"

// func addRowScaledAVX2(acc []int32, row []uint8, k int32)
TEXT ·addRowScaledAVX2(SB), NOSPLIT, $0-52
	MOVQ         acc_base+0(FP), DI
	MOVQ         acc_len+8(FP), CX
	MOVQ         row_base+24(FP), SI
	MOVL         k+48(FP), AX
	VMOVD        AX, X0
	VPBROADCASTD X0, Y0

loop:
	VPMOVZXBD (SI), Y1
	VPMOVZXBD 8(SI), Y2
	VPMULLD   Y0, Y1, Y1
	VPMULLD   Y0, Y2, Y2
	VPADDD    (DI), Y1, Y1
	VPADDD    32(DI), Y2, Y2
	VMOVDQU   Y1, (DI)
	VMOVDQU   Y2, 32(DI)
	ADDQ      $16, SI
	ADDQ      $64, DI
	SUBQ      $16, CX
	JNZ       loop
	VZEROUPPER
	RET

// func packRowAVX2(dst []uint8, acc []int32)
// dst[i] = clip8(acc[i]): acc>>22 saturated to 0..255.
TEXT ·packRowAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ acc_base+24(FP), SI

loop:
	VMOVDQU      (SI), Y1
	VMOVDQU      32(SI), Y2
	VPSRAD       $22, Y1, Y1
	VPSRAD       $22, Y2, Y2
	VPACKSSDW    Y2, Y1, Y1
	VPERMQ       $0xD8, Y1, Y1
	VEXTRACTI128 $1, Y1, X2
	VPACKUSWB    X2, X1, X1
	VMOVDQU      X1, (DI)
	ADDQ         $64, SI
	ADDQ         $16, DI
	SUBQ         $16, CX
	JNZ          loop
	VZEROUPPER
	RET

// func setRowScaledAVX2(acc []int32, row []uint8, k, bias int32)
TEXT ·setRowScaledAVX2(SB), NOSPLIT, $0-56
	MOVQ         acc_base+0(FP), DI
	MOVQ         acc_len+8(FP), CX
	MOVQ         row_base+24(FP), SI
	MOVL         k+48(FP), AX
	VMOVD        AX, X0
	VPBROADCASTD X0, Y0
	MOVL         bias+52(FP), AX
	VMOVD        AX, X3
	VPBROADCASTD X3, Y3

loop:
	VPMOVZXBD (SI), Y1
	VPMOVZXBD 8(SI), Y2
	VPMULLD   Y0, Y1, Y1
	VPMULLD   Y0, Y2, Y2
	VPADDD    Y3, Y1, Y1
	VPADDD    Y3, Y2, Y2
	VMOVDQU   Y1, (DI)
	VMOVDQU   Y2, 32(DI)
	ADDQ      $16, SI
	ADDQ      $64, DI
	SUBQ      $16, CX
	JNZ       loop
	VZEROUPPER
	RET
