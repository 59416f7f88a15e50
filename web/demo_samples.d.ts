// web/demo_samples.d.ts — the module web/build.ts embeds the samples as (esbuild plugin).
declare module 'wasmformer-demo:samples' {
  import type { DemoSample } from './samples.js';
  const samples: DemoSample[];
  export default samples;
}
