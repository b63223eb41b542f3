//go:build amd64 && !purego

#include "textflag.h"

// Tail masks for AVX2 VMASKMOVPS: 8 all-ones dwords followed by 8 zero
// dwords. Loading 8 dwords at byte offset 4*(8-r) gives a mask whose first r
// lanes are set.
DATA masktab<>+0(SB)/8, $0xffffffffffffffff
DATA masktab<>+8(SB)/8, $0xffffffffffffffff
DATA masktab<>+16(SB)/8, $0xffffffffffffffff
DATA masktab<>+24(SB)/8, $0xffffffffffffffff
DATA masktab<>+32(SB)/8, $0
DATA masktab<>+40(SB)/8, $0
DATA masktab<>+48(SB)/8, $0
DATA masktab<>+56(SB)/8, $0
GLOBL masktab<>(SB), RODATA|NOPTR, $64

// func dotAVX512(a, b []float32) float32
TEXT ·dotAVX512(SB), NOSPLIT, $0-52
	MOVQ a_base+0(FP), SI
	MOVQ a_len+8(FP), CX
	MOVQ b_base+24(FP), DI
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	CMPQ CX, $64
	JLT  loop16

loop64:
	VMOVUPS     (SI), Z4
	VMOVUPS     64(SI), Z5
	VMOVUPS     128(SI), Z6
	VMOVUPS     192(SI), Z7
	VFMADD231PS (DI), Z4, Z0
	VFMADD231PS 64(DI), Z5, Z1
	VFMADD231PS 128(DI), Z6, Z2
	VFMADD231PS 192(DI), Z7, Z3
	ADDQ        $256, SI
	ADDQ        $256, DI
	SUBQ        $64, CX
	CMPQ        CX, $64
	JGE         loop64

loop16:
	CMPQ        CX, $16
	JLT         tail
	VMOVUPS     (SI), Z4
	VFMADD231PS (DI), Z4, Z0
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         loop16

tail:
	TESTQ       CX, CX
	JZ          reduce
	MOVL        $1, AX
	SHLL        CX, AX
	DECL        AX
	KMOVW       AX, K1
	VMOVUPS.Z   (SI), K1, Z4
	VMOVUPS.Z   (DI), K1, Z5
	VFMADD231PS Z5, Z4, Z1

reduce:
	VADDPS        Z1, Z0, Z0
	VADDPS        Z3, Z2, Z2
	VADDPS        Z2, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VHADDPS       X0, X0, X0
	VHADDPS       X0, X0, X0
	VZEROUPPER
	MOVSS         X0, ret+48(FP)
	RET

// func dot4AVX512(dst, q, base []float32)
// dst[r] = <q, base[r*n:(r+1)*n]> for r in 0..3, n = len(q).
TEXT ·dot4AVX512(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DX
	MOVQ q_base+24(FP), SI
	MOVQ q_len+32(FP), CX
	MOVQ base_base+48(FP), DI
	MOVQ CX, BX
	SHLQ $2, BX
	LEAQ (DI)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	XORQ AX, AX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	CMPQ CX, $32
	JLT  one16

loop32:
	VMOVUPS     (SI)(AX*1), Z8
	VMOVUPS     64(SI)(AX*1), Z9
	VFMADD231PS (DI)(AX*1), Z8, Z0
	VFMADD231PS 64(DI)(AX*1), Z9, Z4
	VFMADD231PS (R8)(AX*1), Z8, Z1
	VFMADD231PS 64(R8)(AX*1), Z9, Z5
	VFMADD231PS (R9)(AX*1), Z8, Z2
	VFMADD231PS 64(R9)(AX*1), Z9, Z6
	VFMADD231PS (R10)(AX*1), Z8, Z3
	VFMADD231PS 64(R10)(AX*1), Z9, Z7
	ADDQ        $128, AX
	SUBQ        $32, CX
	CMPQ        CX, $32
	JGE         loop32

one16:
	CMPQ        CX, $16
	JLT         tail
	VMOVUPS     (SI)(AX*1), Z8
	VFMADD231PS (DI)(AX*1), Z8, Z0
	VFMADD231PS (R8)(AX*1), Z8, Z1
	VFMADD231PS (R9)(AX*1), Z8, Z2
	VFMADD231PS (R10)(AX*1), Z8, Z3
	ADDQ        $64, AX
	SUBQ        $16, CX

tail:
	TESTQ       CX, CX
	JZ          reduce
	MOVL        $1, BX
	SHLL        CX, BX
	DECL        BX
	KMOVW       BX, K1
	VMOVUPS.Z   (SI)(AX*1), K1, Z8
	VMOVUPS.Z   (DI)(AX*1), K1, Z9
	VFMADD231PS Z9, Z8, Z4
	VMOVUPS.Z   (R8)(AX*1), K1, Z9
	VFMADD231PS Z9, Z8, Z5
	VMOVUPS.Z   (R9)(AX*1), K1, Z9
	VFMADD231PS Z9, Z8, Z6
	VMOVUPS.Z   (R10)(AX*1), K1, Z9
	VFMADD231PS Z9, Z8, Z7

reduce:
	VADDPS        Z4, Z0, Z0
	VADDPS        Z5, Z1, Z1
	VADDPS        Z6, Z2, Z2
	VADDPS        Z7, Z3, Z3
	VEXTRACTF64X4 $1, Z0, Y4
	VEXTRACTF64X4 $1, Z1, Y5
	VEXTRACTF64X4 $1, Z2, Y6
	VEXTRACTF64X4 $1, Z3, Y7
	VADDPS        Y4, Y0, Y0
	VADDPS        Y5, Y1, Y1
	VADDPS        Y6, Y2, Y2
	VADDPS        Y7, Y3, Y3
	VHADDPS       Y1, Y0, Y0
	VHADDPS       Y3, Y2, Y2
	VHADDPS       Y2, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VMOVUPS       X0, (DX)
	VZEROUPPER
	RET

// func scaleAVX512(v []float32, s float32)
TEXT ·scaleAVX512(SB), NOSPLIT, $0-28
	MOVQ         v_base+0(FP), SI
	MOVQ         v_len+8(FP), CX
	VBROADCASTSS s+24(FP), Z1

loop16:
	CMPQ    CX, $16
	JLT     tail
	VMULPS  (SI), Z1, Z2
	VMOVUPS Z2, (SI)
	ADDQ    $64, SI
	SUBQ    $16, CX
	JMP     loop16

tail:
	TESTQ     CX, CX
	JZ        done
	MOVL      $1, AX
	SHLL      CX, AX
	DECL      AX
	KMOVW     AX, K1
	VMOVUPS.Z (SI), K1, Z2
	VMULPS    Z2, Z1, Z2
	VMOVUPS   Z2, K1, (SI)

done:
	VZEROUPPER
	RET

// func dotAVX2(a, b []float32) float32
TEXT ·dotAVX2(SB), NOSPLIT, $0-52
	MOVQ a_base+0(FP), SI
	MOVQ a_len+8(FP), CX
	MOVQ b_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ CX, $32
	JLT  loop8

loop32:
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	CMPQ        CX, $32
	JGE         loop32

loop8:
	CMPQ        CX, $8
	JLT         tail
	VMOVUPS     (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         loop8

tail:
	TESTQ       CX, CX
	JZ          reduce
	LEAQ        masktab<>(SB), BX
	MOVQ        $8, AX
	SUBQ        CX, AX
	VMOVDQU     (BX)(AX*4), Y15
	VMASKMOVPS  (SI), Y15, Y4
	VMASKMOVPS  (DI), Y15, Y5
	VFMADD231PS Y5, Y4, Y1

reduce:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+48(FP)
	RET

// func dot4AVX2(dst, q, base []float32)
TEXT ·dot4AVX2(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DX
	MOVQ q_base+24(FP), SI
	MOVQ q_len+32(FP), CX
	MOVQ base_base+48(FP), DI
	MOVQ CX, BX
	SHLQ $2, BX
	LEAQ (DI)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	XORQ AX, AX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	CMPQ CX, $16
	JLT  one8

loop16:
	VMOVUPS     (SI)(AX*1), Y8
	VMOVUPS     32(SI)(AX*1), Y9
	VFMADD231PS (DI)(AX*1), Y8, Y0
	VFMADD231PS 32(DI)(AX*1), Y9, Y4
	VFMADD231PS (R8)(AX*1), Y8, Y1
	VFMADD231PS 32(R8)(AX*1), Y9, Y5
	VFMADD231PS (R9)(AX*1), Y8, Y2
	VFMADD231PS 32(R9)(AX*1), Y9, Y6
	VFMADD231PS (R10)(AX*1), Y8, Y3
	VFMADD231PS 32(R10)(AX*1), Y9, Y7
	ADDQ        $64, AX
	SUBQ        $16, CX
	CMPQ        CX, $16
	JGE         loop16

one8:
	CMPQ        CX, $8
	JLT         tail
	VMOVUPS     (SI)(AX*1), Y8
	VFMADD231PS (DI)(AX*1), Y8, Y0
	VFMADD231PS (R8)(AX*1), Y8, Y1
	VFMADD231PS (R9)(AX*1), Y8, Y2
	VFMADD231PS (R10)(AX*1), Y8, Y3
	ADDQ        $32, AX
	SUBQ        $8, CX

tail:
	TESTQ       CX, CX
	JZ          reduce
	LEAQ        masktab<>(SB), BX
	MOVQ        $8, R11
	SUBQ        CX, R11
	VMOVDQU     (BX)(R11*4), Y15
	VMASKMOVPS  (SI)(AX*1), Y15, Y8
	VMASKMOVPS  (DI)(AX*1), Y15, Y9
	VFMADD231PS Y9, Y8, Y4
	VMASKMOVPS  (R8)(AX*1), Y15, Y9
	VFMADD231PS Y9, Y8, Y5
	VMASKMOVPS  (R9)(AX*1), Y15, Y9
	VFMADD231PS Y9, Y8, Y6
	VMASKMOVPS  (R10)(AX*1), Y15, Y9
	VFMADD231PS Y9, Y8, Y7

reduce:
	VADDPS       Y4, Y0, Y0
	VADDPS       Y5, Y1, Y1
	VADDPS       Y6, Y2, Y2
	VADDPS       Y7, Y3, Y3
	VHADDPS      Y1, Y0, Y0
	VHADDPS      Y3, Y2, Y2
	VHADDPS      Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, (DX)
	VZEROUPPER
	RET

// func scaleAVX2(v []float32, s float32)
TEXT ·scaleAVX2(SB), NOSPLIT, $0-28
	MOVQ         v_base+0(FP), SI
	MOVQ         v_len+8(FP), CX
	VBROADCASTSS s+24(FP), Y1

loop8:
	CMPQ    CX, $8
	JLT     tail
	VMULPS  (SI), Y1, Y2
	VMOVUPS Y2, (SI)
	ADDQ    $32, SI
	SUBQ    $8, CX
	JMP     loop8

tail:
	TESTQ      CX, CX
	JZ         done
	LEAQ       masktab<>(SB), BX
	MOVQ       $8, AX
	SUBQ       CX, AX
	VMOVDQU    (BX)(AX*4), Y15
	VMASKMOVPS (SI), Y15, Y2
	VMULPS     Y2, Y1, Y2
	VMASKMOVPS Y2, Y15, (SI)

done:
	VZEROUPPER
	RET

// func dotU8I8VNNI(a []uint8, b []int8) int32
// VPDPBUSD multiplies unsigned bytes of a by signed bytes of b and adds
// groups of four products into int32 lanes without saturation: exact.
TEXT ·dotU8I8VNNI(SB), NOSPLIT, $0-52
	MOVQ   a_base+0(FP), SI
	MOVQ   a_len+8(FP), CX
	MOVQ   b_base+24(FP), DI
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	CMPQ   CX, $256
	JLT    loop64

loop256:
	VMOVDQU64 (SI), Z4
	VMOVDQU64 64(SI), Z5
	VMOVDQU64 128(SI), Z6
	VMOVDQU64 192(SI), Z7
	VPDPBUSD  (DI), Z4, Z0
	VPDPBUSD  64(DI), Z5, Z1
	VPDPBUSD  128(DI), Z6, Z2
	VPDPBUSD  192(DI), Z7, Z3
	ADDQ      $256, SI
	ADDQ      $256, DI
	SUBQ      $256, CX
	CMPQ      CX, $256
	JGE       loop256

loop64:
	CMPQ      CX, $64
	JLT       tail
	VMOVDQU64 (SI), Z4
	VPDPBUSD  (DI), Z4, Z0
	ADDQ      $64, SI
	ADDQ      $64, DI
	SUBQ      $64, CX
	JMP       loop64

tail:
	TESTQ      CX, CX
	JZ         reduce
	MOVQ       $1, AX
	SHLQ       CX, AX
	DECQ       AX
	KMOVQ      AX, K1
	VMOVDQU8.Z (SI), K1, Z4
	VMOVDQU8.Z (DI), K1, Z5
	VPDPBUSD   Z5, Z4, Z1

reduce:
	VPADDD        Z1, Z0, Z0
	VPADDD        Z3, Z2, Z2
	VPADDD        Z2, Z0, Z0
	VEXTRACTI64X4 $1, Z0, Y1
	VPADDD        Y1, Y0, Y0
	VEXTRACTI128  $1, Y0, X1
	VPADDD        X1, X0, X0
	VPSHUFD       $0x4e, X0, X1
	VPADDD        X1, X0, X0
	VPSHUFD       $0xb1, X0, X1
	VPADDD        X1, X0, X0
	VMOVD         X0, AX
	VZEROUPPER
	MOVL          AX, ret+48(FP)
	RET

// func dotU8I8AVX2(a []uint8, b []int8) int32
// Both operands are widened to 16 bits (zero- and sign-extension) and
// multiplied pairwise into int32 by VPMADDWD, which cannot saturate here.
TEXT ·dotU8I8AVX2(SB), NOSPLIT, $0-52
	MOVQ  a_base+0(FP), SI
	MOVQ  a_len+8(FP), CX
	MOVQ  b_base+24(FP), DI
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	CMPQ  CX, $32
	JLT   one16

loop32:
	VPMOVZXBW (SI), Y4
	VPMOVSXBW (DI), Y5
	VPMADDWD  Y5, Y4, Y4
	VPADDD    Y4, Y0, Y0
	VPMOVZXBW 16(SI), Y6
	VPMOVSXBW 16(DI), Y7
	VPMADDWD  Y7, Y6, Y6
	VPADDD    Y6, Y1, Y1
	ADDQ      $32, SI
	ADDQ      $32, DI
	SUBQ      $32, CX
	CMPQ      CX, $32
	JGE       loop32

one16:
	CMPQ      CX, $16
	JLT       reduce
	VPMOVZXBW (SI), Y4
	VPMOVSXBW (DI), Y5
	VPMADDWD  Y5, Y4, Y4
	VPADDD    Y4, Y0, Y0
	ADDQ      $16, SI
	ADDQ      $16, DI
	SUBQ      $16, CX

reduce:
	VPADDD       Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0xb1, X0, X1
	VPADDD       X1, X0, X0
	VMOVD        X0, AX
	VZEROUPPER
	TESTQ        CX, CX
	JZ           done

tail:
	MOVBLZX (SI), BX
	MOVBLSX (DI), DX
	IMULL   DX, BX
	ADDL    BX, AX
	INCQ    SI
	INCQ    DI
	DECQ    CX
	JNZ     tail

done:
	MOVL AX, ret+48(FP)
	RET

// func dotGatherAVX512(dst, q, base []float32, ids []uint32)
// dst[j] = <q, base[ids[j]*n:(ids[j]+1)*n]>, n = len(q). While a row is
// multiplied, the next listed row is prefetched one cache line per 64 bytes.
TEXT ·dotGatherAVX512(SB), NOSPLIT, $0-96
	MOVQ dst_base+0(FP), R10
	MOVQ q_base+24(FP), R11
	MOVQ q_len+32(FP), DX
	MOVQ base_base+48(FP), R12
	MOVQ ids_base+72(FP), R8
	MOVQ ids_len+80(FP), R9
	MOVQ DX, BX
	SHLQ $2, BX
	MOVL (R8), AX
	IMULQ BX, AX
	LEAQ (R12)(AX*1), DI

grow:
	MOVQ DI, R13
	CMPQ R9, $1
	JEQ  gstart
	MOVL 4(R8), AX
	IMULQ BX, AX
	LEAQ (R12)(AX*1), R13

gstart:
	MOVQ   R11, SI
	MOVQ   DX, CX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	CMPQ   CX, $64
	JLT    g16

g64:
	VMOVUPS     (SI), Z4
	VMOVUPS     64(SI), Z5
	VMOVUPS     128(SI), Z6
	VMOVUPS     192(SI), Z7
	VFMADD231PS (DI), Z4, Z0
	VFMADD231PS 64(DI), Z5, Z1
	VFMADD231PS 128(DI), Z6, Z2
	VFMADD231PS 192(DI), Z7, Z3
	PREFETCHT0  (R13)
	PREFETCHT0  64(R13)
	PREFETCHT0  128(R13)
	PREFETCHT0  192(R13)
	ADDQ        $256, SI
	ADDQ        $256, DI
	ADDQ        $256, R13
	SUBQ        $64, CX
	CMPQ        CX, $64
	JGE         g64

g16:
	CMPQ        CX, $16
	JLT         gtail
	VMOVUPS     (SI), Z4
	VFMADD231PS (DI), Z4, Z0
	PREFETCHT0  (R13)
	ADDQ        $64, SI
	ADDQ        $64, DI
	ADDQ        $64, R13
	SUBQ        $16, CX
	JMP         g16

gtail:
	TESTQ       CX, CX
	JZ          greduce
	MOVL        $1, AX
	SHLL        CX, AX
	DECL        AX
	KMOVW       AX, K1
	VMOVUPS.Z   (SI), K1, Z4
	VMOVUPS.Z   (DI), K1, Z5
	VFMADD231PS Z5, Z4, Z1

greduce:
	VADDPS        Z1, Z0, Z0
	VADDPS        Z3, Z2, Z2
	VADDPS        Z2, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VHADDPS       X0, X0, X0
	VHADDPS       X0, X0, X0
	MOVSS         X0, (R10)
	ADDQ          $4, R10
	ADDQ          $4, R8
	DECQ          R9
	JZ            gdone
	MOVL          (R8), AX
	IMULQ         BX, AX
	LEAQ          (R12)(AX*1), DI
	JMP           grow

gdone:
	VZEROUPPER
	RET

// func dotU8I8GatherVNNI(dst []int32, q []int8, base []uint8, ids []uint32)
// dst[j] = Σ base[ids[j]*n+i]·q[i], n = len(q), with VPDPBUSD as in
// dotU8I8VNNI and the next listed row prefetched as in dotGatherAVX512.
TEXT ·dotU8I8GatherVNNI(SB), NOSPLIT, $0-96
	MOVQ dst_base+0(FP), R10
	MOVQ q_base+24(FP), R11
	MOVQ q_len+32(FP), DX
	MOVQ base_base+48(FP), R12
	MOVQ ids_base+72(FP), R8
	MOVQ ids_len+80(FP), R9
	MOVL (R8), AX
	IMULQ DX, AX
	LEAQ (R12)(AX*1), DI

irow:
	MOVQ DI, R13
	CMPQ R9, $1
	JEQ  istart
	MOVL 4(R8), AX
	IMULQ DX, AX
	LEAQ (R12)(AX*1), R13

istart:
	MOVQ   R11, SI
	MOVQ   DX, CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	CMPQ   CX, $256
	JLT    i64

i256:
	VMOVDQU64  (DI), Z4
	VMOVDQU64  64(DI), Z5
	VMOVDQU64  128(DI), Z6
	VMOVDQU64  192(DI), Z7
	VPDPBUSD   (SI), Z4, Z0
	VPDPBUSD   64(SI), Z5, Z1
	VPDPBUSD   128(SI), Z6, Z2
	VPDPBUSD   192(SI), Z7, Z3
	PREFETCHT0 (R13)
	PREFETCHT0 64(R13)
	PREFETCHT0 128(R13)
	PREFETCHT0 192(R13)
	ADDQ       $256, SI
	ADDQ       $256, DI
	ADDQ       $256, R13
	SUBQ       $256, CX
	CMPQ       CX, $256
	JGE        i256

i64:
	CMPQ       CX, $64
	JLT        itail
	VMOVDQU64  (DI), Z4
	VPDPBUSD   (SI), Z4, Z0
	PREFETCHT0 (R13)
	ADDQ       $64, SI
	ADDQ       $64, DI
	ADDQ       $64, R13
	SUBQ       $64, CX
	JMP        i64

itail:
	TESTQ      CX, CX
	JZ         ireduce
	MOVQ       $1, AX
	SHLQ       CX, AX
	DECQ       AX
	KMOVQ      AX, K1
	VMOVDQU8.Z (DI), K1, Z4
	VMOVDQU8.Z (SI), K1, Z5
	VPDPBUSD   Z5, Z4, Z1

ireduce:
	VPADDD        Z1, Z0, Z0
	VPADDD        Z3, Z2, Z2
	VPADDD        Z2, Z0, Z0
	VEXTRACTI64X4 $1, Z0, Y1
	VPADDD        Y1, Y0, Y0
	VEXTRACTI128  $1, Y0, X1
	VPADDD        X1, X0, X0
	VPSHUFD       $0x4e, X0, X1
	VPADDD        X1, X0, X0
	VPSHUFD       $0xb1, X0, X1
	VPADDD        X1, X0, X0
	VMOVD         X0, AX
	MOVL          AX, (R10)
	ADDQ          $4, R10
	ADDQ          $4, R8
	DECQ          R9
	JZ            idone
	MOVL          (R8), AX
	IMULQ         DX, AX
	LEAQ          (R12)(AX*1), DI
	JMP           irow

idone:
	VZEROUPPER
	RET

// func prefetch(p *uint32, n int)
TEXT ·prefetch(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	LEAQ (SI)(CX*1), DI

pfloop:
	PREFETCHT0 (SI)
	ADDQ       $64, SI
	CMPQ       SI, DI
	JLT        pfloop
	RET
