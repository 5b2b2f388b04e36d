import { functionExecutor } from "tswren";
const fx = functionExecutor({ dataCleaner: false, config: { localhost_storage: { storage_root: "/tmp/tswren-prof" } } });
await fx.callAsync((x) => x, 0); await fx.getResult();
for (let r = 0; r < 3; r++) {
  const t0 = performance.now();
  const fs = await fx.map((x) => x, Array.from({ length: 1000 }, (_, i) => i));
  const t1 = performance.now();
  await fx.getResult(fs);
  const t2 = performance.now();
  const st = fs.map(f => f.stats);
  const med = (a) => a.sort((x,y)=>x-y)[a.length>>1];
  console.log({ submit: t1-t0, total: t2-t0, workerPerCall: med(st.map(s=>s.workerEndMs-s.workerStartMs)), funcToEnd: med(st.map(s=>s.workerEndMs-s.workerFuncEndMs)), endToHost: med(st.map(s=>s.hostStatusDoneMs-s.workerEndMs)) });
}
await fx.close();
