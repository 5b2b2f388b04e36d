import { functionExecutor } from "tswren";
import v8 from "node:v8";
const fx = functionExecutor({ dataCleaner: false, config: { localhost_storage: { storage_root: "/tmp/tswren-prof" } } });
const items = Array.from({ length: 50000 }, (_, i) => i);
const fs = await fx.map((x) => x, items);
await fx.getResult(fs);
globalThis.keep = fs;
const file = v8.writeHeapSnapshot("/tmp/heap.heapsnapshot");
await fx.close();
