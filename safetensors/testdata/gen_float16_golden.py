# Generates testdata/float16_golden.bin with NumPy (reference float16 rounding).
import numpy as np, struct
rng=np.random.default_rng(7)
vals=[]
vals+=[int(x) for x in rng.integers(0,2**32,1500,dtype=np.uint64)]
e=rng.integers(95,150,1500); m=rng.integers(0,2**23,1500); s=rng.integers(0,2,1500)
vals+=[int(s[i])<<31|int(e[i])<<23|int(m[i]) for i in range(1500)]
for ex in [100,101,102,103,110,112,113,114,127,140,142,143]:
    for mm in [0x1000,0x3000,0x0fff,0x1001,0x2fff,0x3001,0x7fffff,0x7ff000,0x7fefff,0x400000,0x401000,0x403000,0]:
        vals.append(ex<<23|mm); vals.append(1<<31|ex<<23|mm)
vals+=[0,0x80000000,0x7f800000,0xff800000,0x3f800000,0x477fe000,0x477ff000,0x477fefff,0x33800000,0x33000000,0x33000001,0x387fc000,0x38800000]
f32=np.array(vals,dtype=np.uint64).astype(np.uint32).view(np.float32)
f32=f32[~np.isnan(f32)]
with np.errstate(all='ignore'):
    f16=f32.astype(np.float16).view(np.uint16)
with open('testdata/float16_golden.bin','wb') as fh:
    for a,b in zip(f32.view(np.uint32),f16):
        fh.write(struct.pack('<IH',int(a),int(b)))
print(len(f32))
for x in [1.0,5.960464477539063e-08,65504.0,-2.0,0.1,1/3.,6.103515625e-05,6.097555160522461e-05,65520.0, 2.9802322387695312e-08]:
    print(repr(x), hex(np.array([x],np.float32).astype(np.float16).view(np.uint16)[0]))
for h in [0x0001,0x03ff,0x0400,0x3555,0x7bff,0xfc00,0x8001,0x3c01]:
    print(hex(h), repr(float(np.array([h],np.uint16).view(np.float16).astype(np.float32)[0])), hex(np.array([h],np.uint16).view(np.float16).astype(np.float32).view(np.uint32)[0]))
