import { functionExecutor } from "tswren";
const fx = functionExecutor({ runtimeMemory: 256, dataCleaner: false, config: { localhost_storage: { storage_root: "/tmp/tswren-prof" } } });
const fs = await fx.map((x) => { if (x !== 1) return x; const hog = []; for (;;) hog.push(new Array(1e6).fill(x)); }, [0, 1, 2], { timeout: 60 });
console.log(await fx.getResult(fs, { throwExcept: false }));
console.log(fs[1].error.message, fs[1].logs());
await fx.close();
