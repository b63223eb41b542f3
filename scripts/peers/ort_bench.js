// Times ONNX Runtime (CPU, 2 intra-op threads) on the ViT-B/32 image tower
// exported by vit_b32_onnx.py: median of 5 runs of ~0.4 s per batch size.
// Usage: node ort_bench.js vit-b32.onnx (after npm install --ignore-scripts
// onnxruntime-node@1.30.0; its install script only fetches GPU libraries).
const ort = require('onnxruntime-node');
(async () => {
  const s = await ort.InferenceSession.create(process.argv[2], {
    intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
  for (const b of [1, 8, 32]) {
    const data = new Float32Array(b * 3 * 224 * 224).map(() => Math.random() * 2 - 1);
    const feeds = { pixel_values: new ort.Tensor('float32', data, [b, 3, 224, 224]) };
    await s.run(feeds);
    const runs = [];
    for (let r = 0; r < 5; r++) {
      let n = 0; const t0 = process.hrtime.bigint();
      while (Number(process.hrtime.bigint() - t0) / 1e9 < 0.4 || n < 1) { await s.run(feeds); n++; }
      runs.push(Number(process.hrtime.bigint() - t0) / 1e6 / n);
    }
    runs.sort((a, c) => a - c);
    const ms = runs[2];
    console.log(JSON.stringify({ engine: 'onnxruntime', tower: 'image', batch: b, latency_ms: +ms.toFixed(2), per_second: +(b * 1000 / ms).toFixed(2) }));
  }
})();
