import { initBackend, tf } from "@tokenrl/core";
await initBackend({log:null});
function timeit(label, fn, flops, reps=5){ tf.dispose(fn()); let best=1e9; for(let r=0;r<reps;r++){const t0=performance.now(); const c=fn(); c.dataSync(); tf.dispose(c); best=Math.min(best,performance.now()-t0);} console.log(label.padEnd(50),(flops/best/1e6).toFixed(2),'GFLOP/s',best.toFixed(2),'ms'); return c=>c;}
for (const [G,M,K,N] of [[32,256,32,128],[32,256,128,32]]) {
  const a=tf.randomNormal([G,M,K]), b=tf.randomNormal([G,K,N]); const F=2*G*M*K*N;
  timeit(`slow batched ${[G,M,K,N]}`, ()=>tf.matMul(a,b), F);
  const dw = ()=>tf.tidy(()=>{
    const x = tf.reshape(tf.transpose(a,[1,2,0]),[M,1,K,G]);
    const f = tf.reshape(tf.transpose(b,[1,0,2]),[1,K,G,N]);
    const y = tf.depthwiseConv2d(x, f, 1, "valid");
    return tf.transpose(tf.reshape(y,[M,G,N]),[1,0,2]);
  });
  timeit(`depthwise`, dw, F);
  const d = tf.tidy(()=>tf.max(tf.abs(tf.sub(dw(), tf.matMul(a,b))))).dataSync()[0];
  console.log("max diff", d);
  tf.dispose([a,b]);
}
