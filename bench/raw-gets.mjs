// Child process of bench/data.mjs: the raw baseline, N parallel ranged GETs that discard the
// bytes, run with the same V8 heap flags as a tswren local worker (so the baseline does not pay
// garbage-collection costs the workers are configured to avoid). Parameters arrive over IPC.
import { createStorageBackend } from "tswren/internal";

process.once("message", async ({ minio, parts, parallel }) => {
  const storage = await createStorageBackend("minio", minio);
  const queue = [...parts];
  let bytes = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: parallel }, async () => {
    for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
      const stream = await storage.getStream(p.bucket, p.key, { start: p.start, end: p.end - 1 });
      for await (const chunk of stream) bytes += chunk.length;
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  await storage.close();
  process.send({ seconds, bytes }, () => process.disconnect());
});
